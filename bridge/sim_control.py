"""Tell the running simulator (``python -m iot_sim``) to switch a bed's scenario or inject an artefact, over its
MQTT control topic. Used by the admin page of the embedded demo."""

from __future__ import annotations

import json

from data.mqtt_client import BrokerAddress, make_client

SCENARIOS = ("stable", "sepsis", "haemorrhage", "bradycardia", "opioid", "af", "arrest")
ARTEFACTS = ("motion", "spo2_off", "leads_off", "low_perfusion", "noisy")


def control_topic(site: str) -> str:
    return f"pantau/v1/{site}/sim/scenario"


def send(address: BrokerAddress, site: str, command: dict, timeout: float = 5.0) -> bool:
    """Publish one command at QoS 1 and wait for the broker's acknowledgement; False when it cannot be sent."""
    client = make_client(address, f"pantau-sim-control-{id(command)}", persistent=False)
    try:
        client.connect(address.host, address.port)
        client.loop_start()
        info = client.publish(control_topic(site), json.dumps(command), qos=1)
        info.wait_for_publish(timeout)
        return info.is_published()
    except (OSError, RuntimeError, ValueError):
        return False
    finally:
        client.loop_stop()
        client.disconnect()
