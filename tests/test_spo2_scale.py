"""NEWS2's SpO2 Scale 2, chosen by a doctor on the bed page (``domain.spo2_scale``, ``data.spo2_scale``): what a
choice must carry, who may make it, that it is audited and kept with the admission across a transfer, that the
clinical step scores the patient on it at once (and after a lost message at its next reload), and that the ward
station's tile marks it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bridge.clinical import ClinicalPipeline
from components.bed_tile import bed_tile
from data import live_keys
from data.admissions import MONITOR_FOLLOWS, current_admission, transfer
from data.live_store import MemoryLiveStore
from data.models import AuditLog, BedOccupancy, Spo2ScaleOrder, User
from data.spo2_scale import last_order, prescribe, publish_scale_changed, scale_history
from data.ward_screen import ward_screen
from data.wards import bed_by_code
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.spo2_scale import REASON_MAX, checked_order, may_prescribe
from tests.test_clinical import feed
from tests.test_clinical_outage import wait_for
from tests.test_live_notify import PublishAway
from tests.test_queue_actions import dash_post

BED = "ICU-03"
WHY = "PPOK, AGD PaCO2 58 mmHg"
ABG = {"rr": 16.0, "hr": 80.0, "temp": 36.8, "sbp": 120.0}  # an adult whose only abnormal value is SpO2 89 %


def doctor(s) -> Actor:
    user = s.scalar(select(User).where(User.username == "dokter"))
    return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def stay(db, bed: str = BED) -> int | None:
    """The admission lying in ``bed`` (the stay its bed page is drawn for)."""
    with db.session() as s:
        admission = current_admission(s, bed_by_code(s, 1, bed).id)
        return admission.id if admission else None


def choose(db, scale: object, reason: str | None = WHY, bed: str = BED, admission_id: int | None = None):
    """The doctor's choice on the bed page of ``bed``, drawn for ``admission_id`` (default: the stay there now)."""
    shown = admission_id if admission_id is not None else stay(db, bed)
    with db.session() as s:
        bed_id = bed_by_code(s, 1, bed).id
        return prescribe(s, doctor(s), bed_id=bed_id, admission_id=shown, scale=scale, reason=reason)


def scale_now(db, bed: str = BED) -> int:
    with db.session() as s:
        return bed_by_code(s, 1, bed).spo2_scale


@pytest.mark.parametrize(
    "scale,reason,refused",
    [
        (2, None, "spo2_scale_err_reason"),
        (2, "   \u200b ", "spo2_scale_err_reason"),  # nothing a reader can see
        (3, WHY, "spo2_scale_err_choose"),
        (None, WHY, "spo2_scale_err_choose"),
        ("dua", WHY, "spo2_scale_err_choose"),
        (2, "x" * (REASON_MAX + 1), "spo2_scale_err_reason_long"),
    ],
)
def test_a_choice_without_its_indication_or_of_no_scale_is_refused(scale, reason, refused):
    with pytest.raises(InputError) as caught:
        checked_order(scale, reason)
    assert caught.value.key == refused


def test_scale_2_carries_its_indication_and_scale_1_needs_none():
    assert checked_order("2", f"  {WHY} ") == (2, WHY)
    assert checked_order(1, "") == (1, None)
    assert may_prescribe(frozenset({"doctor"})) and not may_prescribe(frozenset({"nurse", "admin"}))


def test_a_choice_is_stored_audited_and_read_back_over_time(any_app):
    db = any_app.runtime.db
    before = utcnow()
    assert choose(db, 2) == (2, True, False)
    assert scale_now(db) == 2
    assert choose(db, "2", WHY) == (2, False, False)  # she is on it already, for that indication: nothing stored
    assert choose(db, 1, None) == (1, True, False)
    with db.session() as s:
        admission_id = current_admission(s, bed_by_code(s, 1, BED).id).id
        orders = s.scalars(select(Spo2ScaleOrder).order_by(Spo2ScaleOrder.id)).all()
        assert [(o.previous, o.scale, o.reason) for o in orders] == [(1, 2, WHY), (2, 1, None)]
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "spo2_scale_set").order_by(AuditLog.id)).all()
        assert [(a.username, a.target_id, a.detail["to"]) for a in audits] == [
            ("dokter", str(admission_id), 2),
            ("dokter", str(admission_id), 1),
        ]
        history = scale_history(s, admission_id, current=1)
        latest = last_order(s, admission_id)
    first, second = (at for at, _ in history.changes)
    assert history.at(before - timedelta(seconds=1)) == 1
    assert history.at(first) == 2 and history.at(second) == 1
    assert (latest.scale, latest.by, latest.reason) == (1, "dr. Sari Wulandari (demo)", None)


def test_a_doctor_corrects_the_indication_of_the_scale_the_patient_is_on(sqlite_app):
    """The indication saved first was too short; typed again in full it is a new order of the same scale, which
    the card then shows, while the scale and the NEWS2 history stay as they were."""
    db = sqlite_app.runtime.db
    assert choose(db, 2, "PPOK") == (2, True, False)
    assert choose(db, 2, WHY) == (2, False, True)
    assert choose(db, 2, WHY) == (2, False, False)
    with db.session() as s:
        admission_id = current_admission(s, bed_by_code(s, 1, BED).id).id
        orders = s.scalars(select(Spo2ScaleOrder).order_by(Spo2ScaleOrder.id)).all()
        assert [(o.previous, o.scale, o.reason) for o in orders] == [(1, 2, "PPOK"), (2, 2, WHY)]
        assert last_order(s, admission_id).reason == WHY
        history = scale_history(s, admission_id, current=2)
    assert [scale for _, scale in history.changes] == [2, 2] and scale_now(db) == 2


def test_a_choice_made_on_a_page_drawn_for_a_patient_who_has_left_is_refused(sqlite_app):
    """Her page was open when she moved to another bed: the choice is not made for whoever lies there now, nor
    on an empty bed."""
    db = sqlite_app.runtime.db
    shown = stay(db)
    move(db, "ICU-13")
    for bed in (BED, "ICU-04"):  # the bed she left, empty now; a bed another patient lies in
        with pytest.raises(InputError) as caught:
            choose(db, 2, bed=bed, admission_id=shown)
        assert caught.value.key == "bed_err_other_patient"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Spo2ScaleOrder)) == 0
    assert choose(db, 2, bed="ICU-13", admission_id=shown).changed  # on the page of the bed she lies in now


def move(db, target: str) -> None:
    """The patient of ``BED`` transferred to ``target``, her monitor following."""
    with db.session() as s:
        admission = current_admission(s, bed_by_code(s, 1, BED).id)
        transfer(s, doctor(s), admission_id=admission.id, to_bed_id=bed_by_code(s, 1, target).id,
                 monitor=MONITOR_FOLLOWS, version=admission.version)  # fmt: skip


def test_the_scale_goes_with_the_patient_to_another_bed(sqlite_app):
    db = sqlite_app.runtime.db
    choose(db, 2)
    admission_id = stay(db)
    move(db, "ICU-13")
    assert scale_now(db, "ICU-13") == 2
    with db.session() as s:
        assert last_order(s, admission_id).scale == 2


def test_the_clinical_step_scores_on_the_chosen_scale_at_once(sqlite_app):
    """SpO2 89 % on air: 3 points on Scale 1, none on Scale 2 - once the ``adt`` message reloads the bed."""
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    pipeline = ClinicalPipeline(db, live)
    pipeline.load()
    feed(pipeline, range(0, 3), spo2=89.0, **ABG)
    scored_before = int(live.get_latest(live_keys.latest(BED))["news2"])
    assert scored_before >= 3
    choose(db, 2)
    pipeline.handle_control(live_keys.control_message("adt", BED))
    assert int(live.get_latest(live_keys.latest(BED))["news2"]) == scored_before - 3


def test_a_scale_chosen_while_its_message_was_lost_is_scored_at_the_next_reload(sqlite_app, monkeypatch):
    monkeypatch.setattr("bridge.clinical.RECONCILE_EVERY_S", 0.5)
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    pipeline = ClinicalPipeline(db, live)
    pipeline.start()
    try:
        feed(pipeline, range(0, 3), spo2=89.0, **ABG)
        wait_for(lambda: "news2" in live.get_latest(live_keys.latest(BED)), 10, "scored on Scale 1")
        scored_before = int(live.get_latest(live_keys.latest(BED))["news2"])
        choose(db, 2)  # no message
        wait_for(
            lambda: int(live.get_latest(live_keys.latest(BED))["news2"]) == scored_before - 3, 10, "rescored on Scale 2"
        )
    finally:
        pipeline.stop()


def test_the_ward_station_draws_the_mark_and_is_told_of_a_change_without_reloading(sqlite_app):
    """The tile's Scale 2 mark is drawn from the database, in the stream's snapshot, and switched by an ``sc``
    message; the tile's key stays, so neither a station nor a bed page with a form being filled reloads."""
    db, live = sqlite_app.runtime.db, sqlite_app.runtime.live
    with db.session() as s:
        before, screen = bed_by_code(s, 1, BED), ward_screen(s, 1, "ICU")
    assert "tile-spo2-scale badge d-none" in str(bed_tile(before)) and BED not in screen.spo2_scale_2
    with live.subscribe(live_keys.ward_channel("ICU"), live_keys.CONTROL_CHANNEL) as channel:
        choose(db, 2)
        assert publish_scale_changed(live, "ICU", BED, 2)
        told = [json.loads(channel.get(timeout=1)[1]) for _ in range(2)]
    assert {"t": "sc", "bed": BED, "scale2": True} in told
    assert {"t": "adt", "bed": BED} in told
    with db.session() as s:
        after, screen = bed_by_code(s, 1, BED), ward_screen(s, 1, "ICU")
    drawn = str(bed_tile(after))
    assert "tile-spo2-scale badge" in drawn and "tile-spo2-scale badge d-none" not in drawn
    assert screen.spo2_scale_2 == [BED]
    assert after.tile_key == before.tile_key


SAVE = {"output": "spo2-scale-feedback", "trigger": "spo2-scale-submit.n_clicks"}


def posted(client, app, scale: object, reason: str | None) -> str:
    values = {
        "spo2-scale-submit.n_clicks": 1,
        "spo2-scale.value": scale,
        "spo2-scale-reason.value": reason,
        "bed-admission.data": stay(app.runtime.db),
        "bed-code.data": BED,
        "bed-version.data": 0,
    }
    return dash_post(client, app, SAVE["output"], SAVE["trigger"], values)


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_only_a_doctor_may_choose_even_when_the_request_is_crafted(sqlite_app, login, role):
    answer = posted(login(role), sqlite_app, 2, WHY)
    assert "Skala SpO2 dipilih oleh dokter" in answer
    assert scale_now(sqlite_app.runtime.db) == 1
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Spo2ScaleOrder)) == 0


def test_a_doctors_choice_is_saved_and_said_and_a_missing_indication_is_asked_for(sqlite_app, login):
    client = login("doctor")
    answer = json.loads(posted(client, sqlite_app, 2, ""))["response"]
    assert answer["spo2-scale-reason"]["invalid"] is True
    assert "Tulis indikasi Skala 2" in answer["spo2-scale-reason-error"]["children"]
    assert scale_now(sqlite_app.runtime.db) == 1
    answer = posted(client, sqlite_app, 2, WHY)
    assert "pasien memakai Skala 2" in answer and WHY in answer
    with sqlite_app.runtime.db.session() as s:
        occupancy = s.scalar(select(BedOccupancy).where(BedOccupancy.until.is_(None), BedOccupancy.spo2_scale == 2))
        assert occupancy is not None and occupancy.bed_id == bed_by_code(s, 1, BED).id


def test_a_choice_saved_while_the_live_store_is_away_is_kept_and_said_to_follow(sqlite_app, login, monkeypatch):
    """Redis out of the web app's reach after the commit: the scale is kept and confirmed, with the note that the
    screens follow (the clinical step's reload rescores the bed), never an error that asks for it again."""
    monkeypatch.setattr(sqlite_app.runtime, "live", PublishAway(sqlite_app.runtime.live))
    answer = posted(login("doctor"), sqlite_app, 2, WHY)
    assert "pasien memakai Skala 2" in answer and "Tidak perlu menyimpan ulang" in answer
    assert scale_now(sqlite_app.runtime.db) == 2
