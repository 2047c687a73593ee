"""The demo's background processes together: simulator → MQTT → consumer → storage, NEWS2 and alarms."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from bridge.embedded_stack import EmbeddedStack
from data import live_keys
from data.models import VitalSample
from tests.fixtures_app import build_app, make_settings

pytestmark = pytest.mark.slow


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_sepsis_patient_news2_climbs_and_raises_a_clinical_alert(tmp_path, mqtt_url):
    # Sepsis takes 4 simulated hours; at speed 1200 that is 12 seconds.
    pantau = build_app(
        make_settings(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", "memory://", mqtt_url, simulator_speed=1200.0)
    )
    runtime = pantau.runtime
    tag = uuid.uuid4().hex[:8]
    stack = EmbeddedStack(
        runtime,
        simulate=True,
        devices=["MON-ICU-02", "MON-ICU-03"],
        scenarios={"ICU-03": "sepsis"},
        client_id=f"consumer-{tag}",
    )
    stack.simulator.client_id_prefix = f"sim-{tag}"
    stack.start()
    try:

        def news2(bed: str) -> int | None:
            value = runtime.live.get_latest(live_keys.latest(bed)).get("news2")
            return int(value) if value else None

        assert wait_for(lambda: news2("ICU-03") is not None, 20)
        first = news2("ICU-03")
        assert wait_for(lambda: (news2("ICU-03") or 0) >= 7, 60), runtime.live.get_latest(live_keys.latest("ICU-03"))
        assert first < 7
        assert (news2("ICU-02") or 0) < 5  # the stable neighbour stays low
        assert wait_for(
            lambda: "news2_high" in runtime.live.get_latest(live_keys.ward_alarms("ICU")).get("ICU-03", ""), 60
        )
        with runtime.db.session() as s:
            assert s.scalar(select(func.count()).select_from(VitalSample)) > 10
    finally:
        stack.stop()
        runtime.close()
