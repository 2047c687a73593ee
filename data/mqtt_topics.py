"""Every MQTT topic of the monitor contract (DESIGN.md §3) and of the simulator's control, named once.

Monitors publish their own ``vitals``, ``status`` and ``wave`` topics and read their own ``cmd`` topic; the
simulator reads ``sim/scenario`` and keeps its retained state on ``sim/state``. The ``ALL_*`` patterns use
``+`` for the site and the device: one deployment serves one site, and the broker ACL grants them that way.
"""

from __future__ import annotations

from domain.vitals_contract import TOPIC_ROOT

ANY = "+"
"""MQTT's single-level wildcard."""


def vitals_topic(site: str, device_id: str) -> str:
    """A monitor's numerics (QoS 1)."""
    return f"{TOPIC_ROOT}/{site}/vitals/{device_id}"


def status_topic(site: str, device_id: str) -> str:
    """A monitor's retained online state and battery (QoS 1; its last will says offline)."""
    return f"{TOPIC_ROOT}/{site}/status/{device_id}"


def wave_topic(site: str, device_id: str) -> str:
    """A monitor's 1 s waveform chunks (QoS 0)."""
    return f"{TOPIC_ROOT}/{site}/wave/{device_id}"


def command_topic(site: str, device_id: str) -> str:
    """Commands to one monitor (QoS 1), such as a resend of a sequence gap."""
    return f"{TOPIC_ROOT}/{site}/cmd/{device_id}"


def sim_control_topic(site: str) -> str:
    """Where scenario switches and artefacts for the running simulator are published (QoS 1)."""
    return f"{TOPIC_ROOT}/{site}/sim/scenario"


def sim_state_topic(site: str) -> str:
    """The simulator's retained state: the scenario of each bed, or ``{"online":false}``."""
    return f"{TOPIC_ROOT}/{site}/sim/state"


ALL_VITALS = vitals_topic(ANY, ANY)
ALL_STATUS = status_topic(ANY, ANY)
ALL_COMMANDS = command_topic(ANY, ANY)
ALL_SIM_CONTROL = sim_control_topic(ANY)
ALL_SIM_STATE = sim_state_topic(ANY)


SHARE_GROUP = "pantau"
"""The consumers' shared-subscription group: with ``shared``, the broker hands each message to one of them."""


def shared(pattern: str) -> str:
    """``pattern`` as a shared subscription of the consumers' group (MQTT 5 / Mosquitto ``$share``)."""
    return f"$share/{SHARE_GROUP}/{pattern}"
