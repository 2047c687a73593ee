"""Per-bed alarm limits: overrides win, bad orders are refused, every change is audited and reaches the engine."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import current_admission, transfer
from data.alarm_limits import beds_with_custom_limits, limits_view, publish_limits_changed, set_overrides
from data.models import AuditLog, Bed, User
from data.wards import bed_by_code
from domain.actor import Actor
from domain.alarm_limit_ranges import LimitsRefused, ReasonRequired
from domain.alarms import PROFILES
from domain.errors import InputError

WHO = Actor(None, "perawat", 1, "127.0.0.1")


def set_limits(s, bed_id: int, wanted: dict, **kwargs) -> bool:
    """``set_overrides`` by a nurse on a bed page drawn for the patient lying in the bed now."""
    return set_overrides(s, WHO, bed_id, wanted, admission_id=current_admission(s, bed_id).id, **kwargs)


def test_override_is_saved_audited_and_applied(any_app):
    runtime = any_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-02")
        profile, base, _ = limits_view(s, bed.id)
        assert profile == "adult" and base.spo2 == (90, None)
        assert set_limits(s, bed.id, {"spo2": (85.0, None)}, reason="PPOK") is True
        assert set_limits(s, bed.id, {"spo2": (85.0, None)}, reason="PPOK") is False
    with runtime.db.session() as s:
        assert limits_view(s, bed.id)[2] == {"spo2": (85.0, None)}
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).one()
        assert entry.detail == {
            "before": {},
            "after": {"spo2": [85.0, None]},
            "widened": ["spo2_low"],
            "reason": "PPOK",
        }
    pipeline.handle_control(json.dumps({"t": "limits", "bed": "MEL-02"}))
    assert pipeline._beds["MEL-02"].limits.spo2 == (85.0, None)


def test_low_above_high_is_refused(sqlite_app):
    with sqlite_app.runtime.db.session() as s, pytest.raises(LimitsRefused) as err:
        set_limits(s, bed_by_code(s, 1, "ICU-01").id, {"hr": (140.0, 100.0)})
    assert {key for key, _ in err.value.fields.values()} == {"limits_err_gap"}
    assert set(err.value.fields) == {("hr", "low"), ("hr", "high")}


def test_custom_limits_are_listed_and_published(sqlite_app):
    runtime = sqlite_app.runtime
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-03")
        ward_id = s.get(Bed, bed.id).ward_id
        assert "MEL-03" not in beds_with_custom_limits(s, ward_id)
        set_limits(s, bed.id, {"hr": (55.0, None)})
    with runtime.db.session() as s:
        assert "MEL-03" in beds_with_custom_limits(s, ward_id)
    with runtime.live.subscribe(live_keys.ward_channel("MEL")) as channel:
        publish_limits_changed(runtime.live, "MEL", "MEL-03", custom=True)
        message = channel.get(timeout=5)
    assert message is not None and json.loads(message[1]) == {"t": "l", "bed": "MEL-03", "custom": True}


@pytest.mark.parametrize(
    "wanted",
    [
        {"hr": (0.0, 1_000_000_000.0)},
        {"rr": (-1.0, 999.0)},
        {"temp": (-273.0, 1e9)},
        {"spo2": (-100.0, None)},
        {"sbp": (float("nan"), None)},
    ],
)
def test_the_service_refuses_out_of_range_limits_from_any_caller(sqlite_app, wanted):
    with sqlite_app.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "MEL-10").id
        with pytest.raises(LimitsRefused) as err:
            set_limits(s, bed_id, wanted, reason="typo test")
    assert set(err.value.fields) <= {(p, side) for p in wanted for side in ("low", "high")} and err.value.fields
    with sqlite_app.runtime.db.session() as s:
        assert limits_view(s, bed_id)[2] == {}
        assert s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed")).all() == []


def test_widening_needs_a_reason_which_is_audited(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "MEL-10").id
        for reason in (None, "  "):
            with pytest.raises(ReasonRequired) as err:
                set_limits(s, bed_id, {"spo2": (86.0, None), "hr": (55.0, 140.0)}, reason=reason)
            assert err.value.widened == (("hr", "high"), ("spo2", "low"))
        assert limits_view(s, bed_id)[2] == {}
        assert set_limits(s, bed_id, {"spo2": (86.0, None)}, reason="PPOK, target 88-92 %") is True
        assert set_limits(s, bed_id, {"spo2": (92.0, None)}) is True  # narrowing needs none
    with sqlite_app.runtime.db.session() as s:
        widened, narrowed = s.scalars(
            select(AuditLog).where(AuditLog.action == "alarm_limits_changed").order_by(AuditLog.id)
        ).all()
    assert widened.detail["reason"] == "PPOK, target 88-92 %" and widened.detail["widened"] == ["spo2_low"]
    assert "reason" not in narrowed.detail and narrowed.detail["after"] == {"spo2": [92.0, None]}


def test_reset_to_profile_is_audited_and_unmarks_the_bed(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-05")
        ward_id = s.get(Bed, bed.id).ward_id
        set_limits(s, bed.id, {"hr": (None, 110.0)})
    with sqlite_app.runtime.db.session() as s:
        assert "MEL-05" in beds_with_custom_limits(s, ward_id)
        assert set_limits(s, bed.id, {}) is True
    with sqlite_app.runtime.db.session() as s:
        assert "MEL-05" not in beds_with_custom_limits(s, ward_id)
        last = s.scalars(select(AuditLog).where(AuditLog.action == "alarm_limits_changed").order_by(AuditLog.id)).all()
        assert last[-1].detail == {"before": {"hr": [None, 110.0]}, "after": {}}


def test_the_clinical_step_runs_a_transferred_patients_own_limits_on_her_new_bed_at_once(sqlite_app):
    runtime = sqlite_app.runtime
    pipeline = ClinicalPipeline(runtime.db, runtime.live)
    pipeline.load()
    with runtime.db.session() as s:
        bed = bed_by_code(s, 1, "MEL-02")
        set_limits(s, bed.id, {"spo2": (88.0, None)}, reason="PPOK")
    pipeline.handle_control(json.dumps({"t": "limits", "bed": "MEL-02"}))
    assert pipeline._beds["MEL-02"].limits.spo2 == (88.0, None)
    with runtime.db.session() as s:
        free = s.scalars(select(Bed).where(Bed.ward_id == s.get(Bed, bed.id).ward_id, Bed.status == "available"))
        target = free.first()
        stay = current_admission(s, bed.id)
        nurse = Actor(s.scalar(select(User.id).where(User.username == "perawat")), "perawat", 1, "127.0.0.1")
        transfer(s, nurse, admission_id=stay.id, to_bed_id=target.id, monitor="keep", version=stay.version)
    for code in ("MEL-02", target.code):  # the transfer's adt messages
        pipeline.handle_control(live_keys.control_message("adt", code))
    assert pipeline._beds[target.code].limits.spo2 == (88.0, None)
    assert pipeline._beds["MEL-02"].limits == PROFILES["adult"]
    with pytest.raises(InputError) as refused, runtime.db.session() as s:
        set_overrides(s, WHO, bed.id, {"spo2": (88.0, None)}, admission_id=stay.id, reason="PPOK")  # she left
    assert refused.value.key == "limits_err_no_patient"
