"""A woman pregnant or up to six weeks after giving birth, recorded on the bed page (``data.obstetric``): NEWS2 does
not score her (RCP 2017) on any ward, the clinical step stops at once and resumes when the record is removed, and
only a female patient's stay, on the page drawn for it, by a nurse, midwife or doctor, can be so recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import current_admission
from data.live_store import MemoryLiveStore
from data.models import Admission, AuditLog, Patient
from data.obstetric import publish_obstetric_changed, set_obstetric
from data.wards import bed_by_code, occupants
from domain.errors import InputError
from domain.news2 import NEVER
from tests.test_clinical import feed
from tests.test_live_notify import PublishAway
from tests.test_queue_actions import dash_post
from tests.test_spo2_scale import BED, doctor, stay

ABNORMAL = {"hr": 125.0, "rr": 26.0, "sbp": 120.0}  # 2 + 3 points: a NEWS2 that would be scored and alarm


def as_woman(db) -> None:
    """The patient of ``BED`` (a man in the demo) a woman, for these tests."""
    with db.session() as s:
        s.get(Patient, current_admission(s, bed_by_code(s, 1, BED).id).patient_id).sex = "P"


def record(db, obstetric: bool, admission_id: int | None = None) -> bool:
    shown = admission_id if admission_id is not None else stay(db)
    with db.session() as s:
        bed_id = bed_by_code(s, 1, BED).id
        return set_obstetric(s, doctor(s), bed_id=bed_id, admission_id=shown, obstetric=obstetric)


def test_a_recorded_pregnancy_is_audited_and_never_scored(any_app):
    db = any_app.runtime.db
    as_woman(db)
    assert record(db, True) and not record(db, True)
    with db.session() as s:
        bed_id = bed_by_code(s, 1, BED).id
        assert occupants(s, [bed_id])[bed_id].scored_from == NEVER
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "obstetric_set")).all()
        assert [(a.username, a.detail["obstetric"]) for a in audits] == [("dokter", True)]
    assert record(db, False)
    with db.session() as s:
        assert occupants(s, [bed_id])[bed_id].scored_from != NEVER


def test_a_man_or_a_stay_the_page_was_not_drawn_for_cannot_be_recorded(sqlite_app):
    db = sqlite_app.runtime.db
    with pytest.raises(InputError) as caught:
        record(db, True)  # the demo's patient of ICU-03 is a man
    assert caught.value.key == "obstetric_err_sex"
    as_woman(db)
    with pytest.raises(InputError) as caught:
        record(db, True, admission_id=stay(db) + 1000)
    assert caught.value.key == "bed_err_other_patient"
    with db.session() as s:
        assert not s.scalar(select(func.count()).select_from(Admission).where(Admission.obstetric.is_(True)))


def test_the_clinical_step_stops_scoring_her_at_once_and_resumes_when_it_is_removed(sqlite_app):
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    as_woman(db)
    pipeline = ClinicalPipeline(db, live)
    pipeline.load()
    feed(pipeline, range(0, 3), **ABNORMAL)
    assert int(live.get_latest(live_keys.latest(BED))["news2"]) >= 5
    with live.subscribe(live_keys.CONTROL_CHANNEL) as control:
        record(db, True)
        assert publish_obstetric_changed(live, BED)
        pipeline.handle_control(control.get(timeout=1)[1])
    shown = live.get_latest(live_keys.latest(BED))
    assert (shown.get("news2"), shown["news2_risk"]) == (None, "not_applicable")
    record(db, False)
    pipeline.handle_control(live_keys.control_message("adt", BED))
    feed(pipeline, range(3, 5), **ABNORMAL)
    assert int(live.get_latest(live_keys.latest(BED))["news2"]) >= 5


def posted(client, app) -> str:
    """The bed page's pregnancy card sent as recorded, by ``client``."""
    values = {
        "obstetric-submit.n_clicks": 1,
        "obstetric-check.value": ["yes"],
        "bed-admission.data": stay(app.runtime.db),
        "bed-code.data": BED,
        "bed-version.data": 0,
    }
    return dash_post(client, app, "obstetric-feedback", "obstetric-submit.n_clicks", values)


def test_only_nurses_midwives_and_doctors_record_it_even_when_the_request_is_crafted(sqlite_app, login):
    """An admin opens the bed page but records nothing clinical (the front desk does not open it at all)."""
    as_woman(sqlite_app.runtime.db)
    answer = posted(login("admin"), sqlite_app)
    assert "Dicatat oleh perawat, bidan atau dokter" in answer
    with sqlite_app.runtime.db.session() as s:
        assert s.get(Admission, stay(sqlite_app.runtime.db)).obstetric is False
    answer = posted(login("nurse"), sqlite_app)
    assert "pasien dicatat hamil atau nifas" in answer
    with sqlite_app.runtime.db.session() as s:
        assert s.get(Admission, stay(sqlite_app.runtime.db)).obstetric is True


def test_a_record_saved_while_the_live_store_is_away_is_kept_and_said_to_follow(sqlite_app, login, monkeypatch):
    as_woman(sqlite_app.runtime.db)
    monkeypatch.setattr(sqlite_app.runtime, "live", PublishAway(sqlite_app.runtime.live))
    answer = posted(login("nurse"), sqlite_app)
    assert "pasien dicatat hamil atau nifas" in answer and "Tidak perlu menyimpan ulang" in answer
    with sqlite_app.runtime.db.session() as s:
        assert s.get(Admission, stay(sqlite_app.runtime.db)).obstetric is True
