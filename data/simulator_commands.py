"""Commands to the running device simulator (``python -m iot_sim``) over its MQTT control topic.

The scenario and artefact names are declared here, once: the simulator accepts them and the demo's admin page
offers them. :func:`send` publishes one command as a client of our broker.
"""

from __future__ import annotations

import json

from data.mqtt_client import BrokerAddress, make_client
from data.mqtt_topics import sim_control_topic

SCENARIOS = ("stable", "sepsis", "haemorrhage", "bradycardia", "opioid", "af", "arrest")
"""The clinical courses a bed can run (``iot_sim.scenarios`` says what each does)."""

ARTEFACTS = ("motion", "spo2_off", "leads_off", "low_perfusion", "noisy")
"""The sensor artefacts that can be injected into a bed's monitor for a while."""

CLEAR_ARTEFACTS = ("none", "clear")
"""An artefact command with one of these ends every artefact of the bed."""


def send(address: BrokerAddress, site: str, command: dict, timeout: float = 5.0) -> bool:
    """Publish one command at QoS 1 and wait for the broker's acknowledgement; False when it cannot be sent."""
    client = make_client(address, f"pantau-sim-control-{id(command)}", persistent=False)
    try:
        client.connect(address.host, address.port)
        client.loop_start()
        info = client.publish(sim_control_topic(site), json.dumps(command), qos=1)
        info.wait_for_publish(timeout)
        return info.is_published()
    except (OSError, RuntimeError, ValueError):
        return False
    finally:
        client.loop_stop()
        client.disconnect()
