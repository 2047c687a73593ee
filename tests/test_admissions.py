"""Admission, transfer, discharge, monitor pairing and bed states on both backends (data/admissions.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from data import admissions
from data.admissions import (
    BedRef,
    admission_stays,
    admit,
    admit_emergency,
    current_admission,
    discharge,
    monitor_bed,
    pair_monitor,
    set_bed_status,
    transfer,
)
from data.adt_notify import publish_adt
from data.alarm_limits import overrides, set_overrides
from data.db import Database
from data.live_keys import CONTROL_CHANNEL, ward_channel
from data.models import (
    Admission,
    AlarmEvent,
    AlarmLimit,
    AuditLog,
    Bed,
    BedOccupancy,
    BedStatusEvent,
    Device,
    DeviceAssignment,
    Patient,
    User,
    Ward,
)
from data.wards import bed_by_code
from domain.actor import Actor
from domain.age_range import age_shown
from domain.errors import InputError
from domain.length_of_stay import day_of_stay, length_of_stay_days, may_move_patients

T0 = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)  # 10:00 WIB


def nurse(pantau) -> Actor:
    with pantau.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "perawat"))
        return Actor(user.id, user.username, user.site_id, "127.0.0.1")


@pytest.fixture
def ward(any_app):
    """A ward of its own (beds T-01..T-03, monitors MT-1..MT-3 at T-01..T-03) and two patients."""
    actor = nurse(any_app)
    with any_app.runtime.db.session() as s:
        ward = Ward(site_id=actor.site_id, code="TST", name="Uji")
        s.add(ward)
        s.flush()
        beds = [Bed(ward_id=ward.id, code=f"T-0{n}", label=f"T{n}") for n in (1, 2, 3)]
        devices = [Device(site_id=actor.site_id, device_id=f"MT-{n}") for n in (1, 2, 3)]
        people = [
            Patient(site_id=actor.site_id, mrn=f"T{n}", name=name, birth_date=date(1970, 1, 1), sex="P")
            for n, name in ((1, "Siti Aminah"), (2, "Dewi Lestari"))
        ]
        s.add_all(beds + devices + people)
        s.flush()
        s.add_all(
            DeviceAssignment(device_pk=d.id, bed_id=b.id, since=T0 - timedelta(days=9))
            for d, b in zip(devices, beds, strict=True)
        )
        ids = {b.code: b.id for b in beds} | {p.mrn: p.id for p in people}
    return any_app, actor, ids


def run(pantau, call, *args, **kwargs):
    with pantau.runtime.db.session() as s:
        return call(s, *args, **kwargs)


def state(pantau, bed_id: int) -> tuple[str, str | None, int | None]:
    """(status, paired monitor, admission id) of a bed."""
    with pantau.runtime.db.session() as s:
        monitor = s.scalar(
            select(Device.device_id)
            .join(DeviceAssignment, DeviceAssignment.device_pk == Device.id)
            .where(DeviceAssignment.bed_id == bed_id, DeviceAssignment.until.is_(None))
        )
        lying = current_admission(s, bed_id)
        return s.get(Bed, bed_id).status, monitor, lying.id if lying else None


def version(pantau, admission_id: int) -> int:
    return run(pantau, lambda s: s.get(Admission, admission_id).version)


def test_admit_occupies_the_bed_and_keeps_its_monitor(ward):
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    assert state(pantau, ids["T-01"]) == ("occupied", "MT-1", done.admission_id)
    assert [b.code for b in done.beds] == ["T-01"]
    assert run(pantau, admission_stays, done.admission_id) == [(ids["T-01"], T0, None)]
    with pantau.runtime.db.session() as s:
        events = s.scalars(select(BedStatusEvent.status).where(BedStatusEvent.bed_id == ids["T-01"])).all()
        audited = s.scalar(
            select(AuditLog).where(AuditLog.action == "patient_admitted").order_by(AuditLog.id.desc()).limit(1)
        )
    assert events == ["occupied"]
    assert audited.target_id == str(done.admission_id) and audited.username == "perawat"


def test_admit_refuses_a_cleaning_bed_and_a_second_admission(ward):
    pantau, actor, ids = ward
    run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    with pantau.runtime.db.session() as s:
        s.get(Bed, ids["T-02"]).status = "cleaning"
    with pytest.raises(InputError) as cleaning:
        run(pantau, admit, actor, patient_id=ids["T2"], bed_id=ids["T-02"], source="desk", at=T0)
    assert cleaning.value.key == "adt_err_bed_cleaning" and cleaning.value.params == {"bed": "T-02"}
    with pytest.raises(InputError) as twice:
        run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-03"], source="desk", at=T0)
    assert twice.value.key == "adt_err_already_admitted" and twice.value.params == {"bed": "T-01"}
    with pytest.raises(InputError) as taken:
        run(pantau, admit, actor, patient_id=ids["T2"], bed_id=ids["T-01"], source="desk", at=T0)
    assert taken.value.key == "adt_err_bed_occupied"
    assert state(pantau, ids["T-03"]) == ("available", "MT-3", None)


def test_two_admissions_to_one_bed_at_once_one_wins(ward, monkeypatch):
    pantau, actor, ids = ward
    db = pantau.runtime.db
    with db.session() as first, db.session() as second:
        # the interleaving of a race: the second desk checks the bed while it is free, the first commits its
        # admission, then the second writes. The second is told, nothing is doubled.
        checked = admissions._require_available(second, second.get(Bed, ids["T-02"]))
        admit(first, actor, patient_id=ids["T1"], bed_id=ids["T-02"], source="desk", at=T0)
        first.commit()
        monkeypatch.setattr(admissions, "_require_available", lambda session, bed: checked)
        with pytest.raises(InputError) as lost:
            admit(second, actor, patient_id=ids["T2"], bed_id=ids["T-02"], source="desk", at=T0)
        assert lost.value.key == "adt_err_taken_meanwhile"
        second.rollback()
    with db.session() as s:
        stays = s.scalars(select(BedOccupancy.patient_id).where(BedOccupancy.bed_id == ids["T-02"])).all()
    assert stays == [ids["T1"]]


def test_transfer_with_the_monitor_following(ward):
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="poli", at=T0)
    with pantau.runtime.db.session() as s:
        s.scalar(select(BedOccupancy).where(BedOccupancy.bed_id == ids["T-01"])).spo2_scale = 2
    later = T0 + timedelta(hours=5)
    moved = run(
        pantau,
        transfer,
        actor,
        admission_id=done.admission_id,
        to_bed_id=ids["T-02"],
        monitor="follow",
        version=version(pantau, done.admission_id),
        at=later,
    )
    assert {b.code for b in moved.beds} == {"T-01", "T-02"}
    assert state(pantau, ids["T-01"]) == ("cleaning", None, None)
    assert state(pantau, ids["T-02"]) == ("occupied", "MT-1", done.admission_id)
    stays = run(pantau, admission_stays, done.admission_id)
    assert stays == [(ids["T-01"], T0, later), (ids["T-02"], later, None)]
    with pantau.runtime.db.session() as s:
        new = s.scalar(select(BedOccupancy).where(BedOccupancy.bed_id == ids["T-02"]))
        old = s.scalar(select(BedOccupancy).where(BedOccupancy.bed_id == ids["T-01"]))
        # the new bed's own monitor is no longer paired anywhere
        mt2 = s.scalar(
            select(DeviceAssignment).join(Device).where(Device.device_id == "MT-2", DeviceAssignment.until.is_(None))
        )
    assert (new.spo2_scale, old.end_reason) == (2, "transfer")
    assert mt2 is None


def test_transfer_keeping_the_new_beds_monitor_and_a_stale_form(ward):
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    shown = version(pantau, done.admission_id)
    run(
        pantau, transfer, actor, admission_id=done.admission_id, to_bed_id=ids["T-02"], monitor="keep",
        version=shown, at=T0 + timedelta(hours=1),
    )  # fmt: skip
    assert state(pantau, ids["T-02"])[1] == "MT-2"
    assert state(pantau, ids["T-01"])[1] == "MT-1"
    with pytest.raises(InputError) as stale:
        run(
            pantau, transfer, actor, admission_id=done.admission_id, to_bed_id=ids["T-03"], monitor="keep",
            version=shown,
        )  # fmt: skip
    assert stale.value.key == "err_edit_conflict"
    now = version(pantau, done.admission_id)
    run(pantau, discharge, actor, admission_id=done.admission_id, kind="home", version=now, at=T0 + timedelta(hours=2))
    with pytest.raises(InputError) as gone:
        run(
            pantau, transfer, actor, admission_id=done.admission_id, to_bed_id=ids["T-03"], monitor="keep",
            version=shown,
        )  # fmt: skip
    assert gone.value.key == "adt_err_already_discharged"


def test_discharge_deceased_needs_the_time_of_death(ward):
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    shown, at = version(pantau, done.admission_id), T0 + timedelta(days=2)
    for died_at, key in (
        (None, "adt_err_died_at_required"),
        (at + timedelta(minutes=1), "adt_err_died_at_range"),
        (T0 - timedelta(minutes=1), "adt_err_died_at_range"),
    ):
        with pytest.raises(InputError) as refused:
            run(pantau, discharge, actor, admission_id=done.admission_id, kind="deceased", version=shown, at=at,
                died_at=died_at)  # fmt: skip
        assert refused.value.key == key
    with pytest.raises(InputError) as referral:
        run(pantau, discharge, actor, admission_id=done.admission_id, kind="referred", version=shown, at=at)
    assert referral.value.key == "adt_err_referred_to_required"
    assert state(pantau, ids["T-01"]) == ("occupied", "MT-1", done.admission_id)
    died = at - timedelta(hours=1)
    run(pantau, discharge, actor, admission_id=done.admission_id, kind="deceased", version=shown, at=at, died_at=died)
    with pantau.runtime.db.session() as s:
        admission = s.get(Admission, done.admission_id)
        assert (admission.discharge_kind, admission.died_at, admission.discharged_at) == ("deceased", died, at)


def test_discharge_ends_alarms_and_pairing_and_sets_cleaning(ward):
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    at = T0 + timedelta(days=1)
    with pantau.runtime.db.session() as s:
        alarm = dict(condition="spo2_low", kind="physiological", priority="high", started_at=T0 + timedelta(hours=1))
        s.add_all([AlarmEvent(bed_id=ids["T-01"], **alarm), AlarmEvent(bed_id=ids["T-02"], **alarm)])
    run(pantau, discharge, actor, admission_id=done.admission_id, kind="home", version=1, at=at, note="sembuh")
    assert state(pantau, ids["T-01"]) == ("cleaning", None, None)
    with pantau.runtime.db.session() as s:
        ends = dict(s.execute(select(AlarmEvent.bed_id, AlarmEvent.ended_at)).all())
        paired = s.scalar(select(DeviceAssignment).join(Device).where(Device.device_id == "MT-1"))
    assert ends == {ids["T-01"]: at, ids["T-02"]: None}
    assert paired.until == at
    with pytest.raises(InputError) as dirty:
        run(pantau, admit, actor, patient_id=ids["T2"], bed_id=ids["T-01"], source="desk", at=at)
    assert dirty.value.key == "adt_err_bed_cleaning"
    run(pantau, set_bed_status, actor, bed_id=ids["T-01"], status="available", version=None, at=at)
    again = run(pantau, admit, actor, patient_id=ids["T2"], bed_id=ids["T-01"], source="desk", device_id="MT-1", at=at)
    assert state(pantau, ids["T-01"]) == ("occupied", "MT-1", again.admission_id)


def test_bed_status_moves_by_hand(ward):
    pantau, actor, ids = ward
    bed = ids["T-03"]
    with pytest.raises(InputError) as no_reason:
        run(pantau, set_bed_status, actor, bed_id=bed, status="out_of_service", version=1, reason="  ")
    assert no_reason.value.key == "adt_err_reason_required"
    run(pantau, set_bed_status, actor, bed_id=bed, status="out_of_service", version=1, reason="Rem rusak", at=T0)
    with pytest.raises(InputError) as by_hand:
        run(pantau, set_bed_status, actor, bed_id=bed, status="occupied", version=2)
    assert by_hand.value.key == "adt_err_status_move"
    with pytest.raises(InputError) as stale:
        run(pantau, set_bed_status, actor, bed_id=bed, status="available", version=1)
    assert stale.value.key == "err_edit_conflict"
    with pantau.runtime.db.session() as s:
        event = s.scalar(select(BedStatusEvent).where(BedStatusEvent.bed_id == bed))
    assert (event.status, event.reason, event.at) == ("out_of_service", "Rem rusak", T0)


def test_pairing_a_monitor_in_use_is_refused_unless_forced(ward):
    pantau, actor, ids = ward
    run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    with pytest.raises(InputError) as busy:
        run(pantau, pair_monitor, actor, bed_id=ids["T-02"], device_id="MT-1", at=T0)
    assert busy.value.params == {"device_id": "MT-1", "bed": "T-01"}
    for unknown, key in (("NOPE", "adt_err_device_unknown"), ("MT-3", "adt_err_device_retired")):
        if unknown == "MT-3":
            with pantau.runtime.db.session() as s:
                s.scalar(select(Device).where(Device.device_id == "MT-3")).active = False
        with pytest.raises(InputError) as wrong:
            run(pantau, pair_monitor, actor, bed_id=ids["T-02"], device_id=unknown, at=T0)
        assert wrong.value.key == key
    touched = run(pantau, pair_monitor, actor, bed_id=ids["T-02"], device_id="MT-1", at=T0, force=True)
    assert {b.code for b in touched} == {"T-01", "T-02"}
    assert state(pantau, ids["T-01"])[1] is None and state(pantau, ids["T-02"])[1] == "MT-1"


def test_emergency_admission_registers_an_incomplete_patient(ward):
    pantau, actor, ids = ward
    done = run(
        pantau, lambda s, **kw: admit_emergency(s, pantau.runtime.cipher, actor, **kw),
        name_hint="", sex="L", approx_age_years=40, bed_id=ids["T-03"], at=T0,
    )  # fmt: skip
    with pantau.runtime.db.session() as s:
        admission = s.get(Admission, done.admission_id)
        patient = admission.patient
        assert (admission.source, patient.incomplete, patient.name) == ("emergency", True, "Tn. Tanpa Nama")
        assert patient.birth_date == date(1986, 1, 1)


def told(pantau, actor, beds, db=None) -> list[tuple[str, str]]:
    """What ``publish_adt`` sends for ``beds``, in order: per bed its control and its ward channel message."""
    live = pantau.runtime.live
    with live.subscribe(CONTROL_CHANNEL, ward_channel("TST")) as sub:
        assert publish_adt(live, db or pantau.runtime.db, actor.site_id, beds)
        return [sub.get(2.0) for _ in range(2 * len(set(beds)))]


def tile(pantau, actor, code: str):
    return run(pantau, bed_by_code, actor.site_id, code)


def test_publish_adt_tells_the_pipeline_and_the_ward_what_the_tile_shows_now(ward):
    pantau, actor, ids = ward
    empty = tile(pantau, actor, "T-01")
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    control, station = told(pantau, actor, done.beds)
    now = tile(pantau, actor, "T-01")
    assert control == (CONTROL_CHANNEL, '{"t":"adt","bed":"T-01"}')
    assert station[0] == ward_channel("TST")
    shown = {"stay": now.stay_key, "tile": now.tile_key, "device": "MT-1"}
    assert json.loads(station[1]) == {"t": "b", "bed": "T-01"} | shown
    assert now.stay_key != empty.stay_key  # another stay: the bed page and the station redraw


def test_a_monitor_paired_to_a_lying_patient_keeps_her_stay_and_a_corrected_name_does_not(ward):
    """A station re-marks the tile of a stay whose monitor changed and redraws one whose patient's record did."""
    pantau, actor, ids = ward
    run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    before = tile(pantau, actor, "T-01")
    touched = run(pantau, pair_monitor, actor, bed_id=ids["T-01"], device_id="MT-2", at=T0 + timedelta(hours=1))
    assert [b.code for b in touched] == ["T-01", "T-02"]
    messages = dict(zip(("T-01", "T-02"), (json.loads(m) for _, m in told(pantau, actor, touched)[1::2]), strict=True))
    paired = tile(pantau, actor, "T-01")
    assert (paired.stay_key, paired.device) == (before.stay_key, "MT-2") and paired.tile_key != before.tile_key
    assert messages["T-01"] == {"t": "b", "bed": "T-01"} | paired.tile_state
    assert messages["T-02"]["device"] == ""  # the empty bed left without a monitor
    assert run(pantau, monitor_bed, actor.site_id, "MT-2") == BedRef("TST", "T-01")
    assert run(pantau, monitor_bed, actor.site_id, "MT-3 ") == BedRef("TST", "T-03")
    assert run(pantau, monitor_bed, actor.site_id, "MT-9") is None
    assert run(pantau, monitor_bed, actor.site_id, "MT-2", with_patient=True) == BedRef("TST", "T-01")
    assert run(pantau, monitor_bed, actor.site_id, "MT-3", with_patient=True) is None  # T-03 is empty
    with pantau.runtime.db.session() as s:
        s.get(Patient, ids["T1"]).name = "Siti Aminah Putri"
    assert tile(pantau, actor, "T-01").stay_key != before.stay_key


def test_without_the_database_the_ward_is_told_to_redraw_the_bed(ward, tmp_path):
    """The tile cannot be read after the commit: the bare message makes the station reload, as it always may."""
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    away = Database(f"sqlite:///{tmp_path}/no/such/folder/pantau.db")
    assert told(pantau, actor, done.beds, away)[1] == (ward_channel("TST"), '{"t":"b","bed":"T-01"}')
    assert publish_adt(pantau.runtime.live, away, actor.site_id, []) is True


def test_length_of_stay_counts_calendar_days_of_the_site():
    zone = ZoneInfo("Asia/Jakarta")
    admitted = datetime(2026, 5, 4, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 4th
    assert length_of_stay_days(admitted, admitted + timedelta(hours=1), zone) == 1  # 00:30 WIB on the 5th
    assert length_of_stay_days(admitted, admitted + timedelta(minutes=10), zone) == 1  # same day counts one
    assert length_of_stay_days(admitted, admitted + timedelta(days=3), zone) == 3


def test_the_day_of_stay_counts_the_admission_day_as_day_one_in_the_sites_calendar():
    zone = ZoneInfo("Asia/Jakarta")
    admitted = datetime(2026, 5, 4, 16, 30, tzinfo=UTC)  # 23:30 WIB on the 4th, still the 4th in UTC
    assert day_of_stay(admitted, admitted + timedelta(minutes=10), zone) == 1
    assert day_of_stay(admitted, admitted + timedelta(hours=1), zone) == 2  # 00:30 WIB on the 5th, UTC's 4th
    assert day_of_stay(admitted, admitted + timedelta(days=3), zone) == 4


def test_only_clinical_staff_and_admins_move_patients():
    assert not may_move_patients(frozenset({"front_desk"}))
    assert all(may_move_patients(frozenset({role, "front_desk"})) for role in ("nurse", "doctor", "admin"))


def own_limits(pantau, bed_id: int) -> dict:
    return run(pantau, overrides, bed_id)


def last_audit(pantau, action: str) -> dict:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc()).limit(1)).detail


def test_a_patients_own_alarm_limits_go_with_her_transfer_and_end_with_her_discharge(ward):
    """Set for her (SpO2 88 for her COPD, with the reason), they never stay on a bed for the next patient."""
    pantau, actor, ids = ward
    done = run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    wanted = {"spo2": (88.0, None), "hr": (None, 130.0)}
    run(pantau, set_overrides, actor, ids["T-01"], wanted, admission_id=done.admission_id, reason="PPOK, AGD")
    run(
        pantau, transfer, actor, admission_id=done.admission_id, to_bed_id=ids["T-02"], monitor="keep",
        version=version(pantau, done.admission_id), at=T0 + timedelta(hours=2),
    )  # fmt: skip
    assert (own_limits(pantau, ids["T-01"]), own_limits(pantau, ids["T-02"])) == ({}, wanted)
    assert last_audit(pantau, "patient_transferred")["limits_carried"] == {"spo2": [88.0, None], "hr": [None, 130.0]}
    run(
        pantau, discharge, actor, admission_id=done.admission_id, kind="home",
        version=version(pantau, done.admission_id), at=T0 + timedelta(days=1),
    )  # fmt: skip
    assert own_limits(pantau, ids["T-02"]) == {}
    assert last_audit(pantau, "patient_discharged")["limits_ended"] == {"spo2": [88.0, None], "hr": [None, 130.0]}
    later = run(pantau, admit, actor, patient_id=ids["T2"], bed_id=ids["T-03"], source="desk", at=T0)
    assert "limits_ended" not in last_audit(pantau, "patient_admitted")
    with pytest.raises(InputError) as refused:  # a page drawn for the first patient, saved after she left
        run(pantau, set_overrides, actor, ids["T-02"], wanted, admission_id=done.admission_id, reason="PPOK")
    assert refused.value.key == "limits_err_no_patient"
    with pytest.raises(InputError) as refused:
        run(pantau, set_overrides, actor, ids["T-03"], wanted, admission_id=done.admission_id, reason="PPOK")
    assert refused.value.key == "bed_err_other_patient"
    assert own_limits(pantau, ids["T-03"]) == {} and later.admission_id != done.admission_id


def test_limits_a_previous_patient_left_on_a_bed_end_when_the_next_is_admitted(ward):
    """Kept on the bed by a version before limits ended with the stay: the next patient starts on the profile."""
    pantau, actor, ids = ward
    with pantau.runtime.db.session() as s:
        s.add(AlarmLimit(bed_id=ids["T-01"], parameter="spo2", low=85.0, high=None))
    run(pantau, admit, actor, patient_id=ids["T1"], bed_id=ids["T-01"], source="desk", at=T0)
    assert own_limits(pantau, ids["T-01"]) == {}
    assert last_audit(pantau, "patient_admitted")["limits_ended"] == {"spo2": [85.0, None]}


@pytest.mark.parametrize("typed", ["200", "-3", "12.7", "4O", "٣"])
def test_an_emergency_age_the_form_cannot_take_is_refused_not_stored_as_unknown(ward, typed):
    """A browser's number field handed an out-of-range or decimal age over as empty, and the patient was registered
    with an unknown age (126 years on the bed page) without a word."""
    pantau, actor, ids = ward
    with pytest.raises(InputError) as refused:
        run(
            pantau, lambda s, **kw: admit_emergency(s, pantau.runtime.cipher, actor, **kw),
            name_hint="", sex="P", approx_age_years=typed, bed_id=ids["T-03"], at=T0,
        )  # fmt: skip
    assert refused.value.key == "adt_err_age"
    assert state(pantau, ids["T-03"])[2] is None


def test_an_emergency_patient_of_unknown_age_is_shown_so(ward):
    pantau, actor, ids = ward
    done = run(
        pantau, lambda s, **kw: admit_emergency(s, pantau.runtime.cipher, actor, **kw),
        name_hint="", sex="P", approx_age_years=" ", bed_id=ids["T-03"], at=T0,
    )  # fmt: skip
    with pantau.runtime.db.session() as s:
        born = s.get(Admission, done.admission_id).patient.birth_date
    assert age_shown(born, T0.date()) == (0, "unknown")
