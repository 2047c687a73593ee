"""Pantau's bedside-monitor simulator: realistic vitals over MQTT, per DESIGN.md §3.

Layers, from pure to I/O:

* :mod:`iot_sim.physiology` - per-patient baselines, Ornstein–Uhlenbeck noise, couplings (numpy only);
* :mod:`iot_sim.scenarios` - stable, sepsis, haemorrhage, bradycardia, opioid, af, arrest;
* :mod:`iot_sim.waveforms` - ECG/pleth chunks from templates precomputed at start-up;
* :mod:`iot_sim.faults` - drop / duplicate / reorder;
* :mod:`iot_sim.devices` - :class:`Fleet`: monitors, sensors, artefacts, seq/ts, payloads (no I/O, injectable clock);
* :mod:`iot_sim.simulator` - :class:`Simulator`: MQTT connections, the tick loop, run-time control;
* :mod:`iot_sim.cli` - ``python -m iot_sim``.

Importing the package does no work; the names below load their module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iot_sim.devices import Fleet, Outgoing, demo_devices
    from iot_sim.faults import Faults
    from iot_sim.simulator import Simulator

__all__ = ["Faults", "Fleet", "Outgoing", "Simulator", "demo_devices"]

_HOMES = {
    "Fleet": "iot_sim.devices",
    "Outgoing": "iot_sim.devices",
    "demo_devices": "iot_sim.devices",
    "Faults": "iot_sim.faults",
    "Simulator": "iot_sim.simulator",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'iot_sim' has no attribute {name!r}")
    return getattr(import_module(home), name)
