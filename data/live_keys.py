"""Every Redis key, stream and pub/sub channel of the live store, and the control messages, named once.

The web app, the consumer and its clinical step meet only here: a key spelt differently in two places would
leave a screen silently without data. docs/live-data.md describes what each holds.
"""

from __future__ import annotations

import orjson

CONTROL_CHANNEL = "pantau:control"
"""The web app tells the consumer's clinical step that something of a bed changed (limits, an observation, an
acknowledged alarm, its admission or monitor)."""


def control_message(kind: str, bed_code: str, **fields: str | int) -> str:
    """A message on ``CONTROL_CHANNEL``: ``kind`` is ``"limits"`` (a bed's alarm limits changed), ``"obs"`` (a
    nurse recorded an observation), ``"ack"`` (an alarm was acknowledged; ``fields`` say which, by whom, where
    and when), ``"adt"`` (the bed's stay or monitor changed: admitted, transferred, discharged, paired, the
    patient's SpO2 scale chosen) or ``"wards"`` (a ward was saved: its kind picks the beds' alarm profile and
    whether NEWS2 scores them; no bed)."""
    return orjson.dumps({"t": kind, "bed": bed_code, **fields}).decode()


def latest(bed_code: str) -> str:
    """The bed's newest numerics."""
    return f"pantau:latest:{bed_code}"


def vitals_stream(bed_code: str) -> str:
    """The bed's recent numerics (a capped stream the screens read on connect)."""
    return f"pantau:vitals:{bed_code}"


def audio_pause(bed_code: str) -> str:
    """Until when the bed's alarm sound is paused, and by whom."""
    return f"pantau:pause:{bed_code}"


def ward_alarms(ward_code: str) -> str:
    """The ward's active alarms, one field per bed."""
    return f"pantau:alarms:{ward_code}"


def ward_channel(ward_code: str) -> str:
    """Everything a ward's screens draw: ticks, alarms, device status, NEWS2, audio pauses, limit changes."""
    return f"pantau:ward:{ward_code}"


def alarm_state(bed_code: str) -> str:
    """The alarm engine's state of a bed, so a restarted consumer resumes it."""
    return f"pantau:alarmstate:{bed_code}"


def alarm_journal(site_id: int | None) -> str:
    """Alarm transitions waiting to be stored while the database is away (``None``: every site)."""
    return f"pantau:alarmjournal:{site_id if site_id is not None else 'all'}"


def consumer_snapshot(client_id: str) -> str:
    """A consumer's counters as JSON, rewritten every few seconds for an operator to read (the app does not)."""
    return f"pantau:consumer:{client_id}"


def queue_channel(site_id: int) -> str:
    """Queue events of a site for the TV boards and counters."""
    return f"pantau:queue:{site_id}"


def clinical_partition(partition: int) -> str:
    """Samples and status updates of the beds hashed to ``partition``, appended by the consumers once stored,
    read in order by the clinical evaluator that holds the partition's lease (docs/live-data.md)."""
    return f"pantau:clinical:{partition}"


def clinical_lease(partition: int) -> str:
    """Which clinical evaluator owns ``partition`` (a counted set of one member, expiring unless renewed)."""
    return f"pantau:clinical:lease:{partition}"


def clinical_offset(partition: int) -> str:
    """The last entry of ``partition`` whose clinical effects are stored (field ``id``): a new owner resumes after
    it."""
    return f"pantau:clinical:offset:{partition}"


CLINICAL_EVALUATORS = "pantau:clinical:evaluators"
"""The running clinical evaluators (a counted set, each member expiring unless renewed): each takes its fair share
of the partitions."""

SHARED_CONSUMERS = "pantau:consumers:shared"
"""The consumers subscribed to the MQTT shared subscription (a counted set of their client ids, each expiring unless
renewed): one that stops leaves the share only while another stays in it (:mod:`bridge.consumer.share`)."""

CLINICAL_FEEDERS = "pantau:clinical:feeders"
"""The consumers subscribed and feeding the clinical streams (a counted set of their client ids, each expiring
unless renewed): an evaluator replaying a backlog waits for each before a step goes, even for one that has fed
nothing yet."""
