"""What a batch puts in the live store (docs/live-data.md): per sample a stream entry and a tick on its ward's
channel, per bed its newest values; per status update a message and the bed's online state and battery.

:func:`fill_live_batch` only fills a :class:`data.live_store.LiveBatch` (nothing is sent until the caller
executes it), so it is tested with a recording batch and no store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bridge.consumer.messages import Sample, StatusUpdate
from data import live_keys
from data.live_store import LiveBatch

__all__ = ["BedMemory", "fill_live_batch"]

# An enricher's field names that a tick spells shorter.
_TICK_NAMES = {"news2_complete": "complete", "news2_risk": "risk"}
# The latest hash's stamps: a bed's vital signs and its cuff reading each go by pairing, then sample time.
_VITALS_ORDER, _CUFF_ORDER = ("pairing", "ts"), ("nibp_pairing", "nibp_ts")


@dataclass(slots=True)
class BedMemory:
    """What the live writes of earlier batches left behind, per bed: the newest ``(pairing, ts)`` in its latest
    hash, and its newest cuff reading (a tick carries it until the next one)."""

    latest: dict[str, tuple[int, int]] = field(default_factory=dict)
    nibp: dict[str, dict[str, Any]] = field(default_factory=dict)


def fill_live_batch(
    batch: LiveBatch,
    samples: list[Sample],
    updates: list[StatusUpdate],
    extra: Mapping[str, Mapping[str, Any]],
    memory: BedMemory,
    stream_maxlen: int,
) -> None:
    """Add a batch's writes to ``batch``, in arrival order, and update ``memory``.

    ``samples`` are new (each newer than every one shown before of its device); one older than its bed's latest
    hash goes to the stream only. A bed's samples are ordered by pairing, then sample time: a monitor paired with
    the bed later is newer whatever its clock says, and its predecessor's samples are history only from then on.
    ``extra``: enrichers' ``{bed: {field: value}}``, added to the bed's latest values and its ticks.

    A bed's latest hash gets its vital signs stamped by ``(pairing, ts)`` and its cuff reading by
    ``(nibp_pairing, nibp_ts)``, each written only if not older than what the hash holds: with several consumers
    sharing the subscription, one that writes later may have the older sample (``memory`` is only this
    consumer's). Device status is written as it comes. Ticks carry the pairing as ``p`` (and the cuff's as
    ``nibp_pairing``), so a screen orders them the same way."""
    vitals: dict[str, dict[str, Any]] = {}
    cuffs: dict[str, dict[str, Any]] = {}
    statuses: dict[str, dict[str, Any]] = {}
    latest, newest_cuff = memory.latest, memory.nibp
    stream_key, ward_channel = live_keys.vitals_stream, live_keys.ward_channel  # looked up once, not per sample
    for s in samples:
        m = s.msg
        bed = s.bed
        stream: dict[str, Any] = {"ts": m.ts}
        order = (s.pairing, m.ts)
        tick: dict[str, Any] = {"t": "v", "bed": bed, "p": s.pairing, "ts": m.ts, "rx": m.received}
        for name in ("hr", "spo2", "rr", "temp"):
            value = getattr(m, name)
            if value is not None:
                stream[name] = tick[name] = value
        nibp = None
        if m.has_nibp:  # a new cuff reading: replaces the whole previous one
            nibp = {"sbp": m.sbp, "dbp": m.dbp, "map": m.map, "nibp_pairing": s.pairing, "nibp_ts": m.ts}
            for name in ("sbp", "dbp", "map"):
                if nibp[name] is not None:
                    stream[name] = nibp[name]
        batch.append_stream(stream_key(bed), stream, stream_maxlen)
        if order < latest.get(bed, (0, 0)):
            continue  # an older sample arriving late: history only, the screen already shows newer
        latest[bed] = order
        values = vitals.setdefault(bed, {})
        values.update(
            bed=bed,
            ward=s.ward,
            device=m.device_id,
            pairing=s.pairing,
            ts=m.ts,
            rx=m.received,
            hr=m.hr,
            spo2=m.spo2,
            rr=m.rr,
            temp=m.temp,
        )
        if nibp is not None:
            cuffs[bed] = nibp  # a part the cuff did not measure is deleted, not left from the last one
            newest_cuff[bed] = {k: v for k, v in nibp.items() if v is not None}
        tick.update(newest_cuff.get(bed, ()))
        st = {}
        if m.ecg_status is not None:
            values["st_ecg"] = st["ecg"] = m.ecg_status
        if m.spo2_status is not None:
            values["st_spo2"] = st["spo2"] = m.spo2_status
        if st:
            tick["st"] = st
        fields = extra.get(bed)
        if fields:
            values.update(fields)
            for name, value in fields.items():
                if value is None:
                    continue
                name = _TICK_NAMES.get(name, name)
                tick[name] = value == "1" or value is True if name == "complete" else value
        batch.publish(ward_channel(s.ward), orjson.dumps(tick).decode())
    for u in updates:
        status = u.status
        values = statuses.setdefault(u.bed, {})
        values.update(bed=u.bed, ward=u.ward, device=status.device_id, online=int(bool(status.online)))
        message: dict[str, Any] = {"t": "s", "bed": u.bed, "online": bool(status.online)}
        if status.battery is not None:
            values["battery"] = status.battery
            message["battery"] = status.battery
        batch.publish(ward_channel(u.ward), orjson.dumps(message).decode())
    for bed in dict.fromkeys([*vitals, *statuses]):  # in arrival order; a bed's cuff reading comes with its vitals
        key = live_keys.latest(bed)
        if bed in vitals:
            batch.set_latest_if_newer(key, vitals[bed], _VITALS_ORDER)
        if bed in cuffs:
            batch.set_latest_if_newer(key, cuffs[bed], _CUFF_ORDER)
        if bed in statuses:
            batch.set_latest(key, statuses[bed])
