"""Per-bed alarm limits: overrides win, bad orders are refused, every change is audited and reaches the engine."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bridge.clinical import ClinicalPipeline
from data.alarm_limits import beds_with_custom_limits, limits_view, publish_limits_changed, set_overrides
from data.models import AuditLog, Bed
from data.wards import bed_by_code
from domain.errors import InputError

WHO = dict(user_id=None, username="perawat", site_id=1, ip="127.0.0.1")


def test_override_is_saved_audited_and_applied(any_app):
    runtime = any_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-02")
        profile, base, _ = limits_view(s, bed.id)
        assert profile == "adult" and base.spo2 == (90, None)
        assert set_overrides(s, bed.id, {"spo2": (85.0, None)}, **WHO) is True
        assert set_overrides(s, bed.id, {"spo2": (85.0, None)}, **WHO) is False
    with runtime.db.session() as s:
        assert limits_view(s, bed.id)[2] == {"spo2": (85.0, None)}
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).one()
        assert entry.detail == {"before": {}, "after": {"spo2": [85.0, None]}}
    pipeline.handle_control(json.dumps({"t": "limits", "bed": "MEL-02"}))
    assert pipeline._beds["MEL-02"].limits.spo2 == (85.0, None)


def test_low_above_high_is_refused(sqlite_app):
    with sqlite_app.runtime.db.session() as s, pytest.raises(InputError) as err:
        set_overrides(s, bed_by_code(s, 1, "ICU-01").id, {"hr": (140.0, 100.0)}, **WHO)
    assert err.value.key == "limits_err_order"


def test_custom_limits_are_listed_and_published(sqlite_app):
    runtime = sqlite_app.runtime
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-03")
        ward_id = s.get(Bed, bed.id).ward_id
        assert "MEL-03" not in beds_with_custom_limits(s, ward_id)
        set_overrides(s, bed.id, {"hr": (45.0, None)}, **WHO)
    with runtime.db.session() as s:
        assert "MEL-03" in beds_with_custom_limits(s, ward_id)
    with runtime.live.subscribe("pantau:ward:MEL") as channel:
        publish_limits_changed(runtime.live, "MEL", "MEL-03", custom=True)
        message = channel.get(timeout=5)
    assert message is not None and json.loads(message[1]) == {"t": "l", "bed": "MEL-03", "custom": True}
