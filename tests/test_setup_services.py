"""Hospital setup services (facility, wards and beds, polis, doctors) on SQLite and PostgreSQL: creation, every
field's validation, row-version conflicts between two admins, retirement refused while a bed is occupied, and
the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data.facility import facility_profile, update_facility
from data.models import AuditLog, Bed, BedOccupancy, BedStatusEvent, Patient, Site, Ward
from data.setup_doctors import create_doctor, list_doctors, retire_doctor, update_doctor
from data.setup_polis import create_poli, list_polis, retire_poli, update_poli
from data.setup_rows import EditConflict
from data.setup_wards import (
    add_bed,
    create_bed,
    create_ward,
    list_wards_with_beds,
    retire_bed,
    retire_ward,
    update_bed,
    update_ward,
)
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

WARD = {"code": "mawar", "name": " Bangsal Mawar ", "kind": "ward", "care_class": "2", "bed_count": "2"}
POLI = {"code": "THT", "name": "Poli THT", "queue_prefix": "f", "bpjs_code": "tht"}


def _admin(session) -> Actor:
    return Actor(None, "uji-admin", session.scalar(select(Site.id)), "127.0.0.1")


def _audits(session, action: str) -> list[AuditLog]:
    """This test's audit rows of ``action`` (the demo seed makes its wards, polis and doctors through the same
    services, under its own name)."""
    query = select(AuditLog).where(AuditLog.action == action, AuditLog.username == "uji-admin")
    return list(session.scalars(query))


def test_a_ward_is_created_with_its_numbered_beds_each_with_a_status_event_and_audited(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        ward_id = create_ward(s, _admin(s), WARD).id
    with db.session() as s:
        row = next(w for w in list_wards_with_beds(s, _admin(s).site_id) if w.id == ward_id)
        assert (row.code, row.name, row.care_class, row.bed_count) == ("MAWAR", "Bangsal Mawar", "2", 2)
        assert [(b.code, b.label, b.status) for b in row.beds] == [
            ("MAWAR-01", "Bed 1", "available"),
            ("MAWAR-02", "Bed 2", "available"),
        ]
        events = s.scalars(select(BedStatusEvent.status).where(BedStatusEvent.bed_id.in_([b.id for b in row.beds])))
        assert list(events) == ["available", "available"]
        assert [a.target_id for a in _audits(s, "ward_created")] == [str(ward_id)]
        assert len(_audits(s, "bed_created")) == 2
        bed = add_bed(s, _admin(s), ward_id)
        assert (bed.code, bed.label) == ("MAWAR-03", "Bed 3")


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("code", "MA WAR", "err_setup_code"),
        ("code", "X" * 33, "err_setup_code"),
        ("name", "   ", "err_setup_name_required"),
        ("name", "N" * 101, "err_setup_too_long"),
        ("kind", "hospice", "err_setup_ward_kind"),
        ("care_class", "5", "err_setup_care_class"),
        ("bed_count", "0", "err_setup_bed_count"),
        ("bed_count", "201", "err_setup_bed_count"),
        ("bed_count", "dua", "err_setup_bed_count"),
    ],
)
def test_each_bad_ward_field_is_named_with_its_message(sqlite_app, field, value, key):
    with sqlite_app.runtime.db.session() as s, pytest.raises(FieldErrors) as err:
        create_ward(s, _admin(s), WARD | {field: value})
    assert set(err.value.errors) == {field}
    assert err.value.errors[field].key == key


def test_several_bad_fields_are_reported_together(sqlite_app):
    with sqlite_app.runtime.db.session() as s, pytest.raises(FieldErrors) as err:
        create_ward(s, _admin(s), {"code": "", "name": "", "kind": "x", "care_class": "x", "bed_count": "x"})
    assert set(err.value.errors) == {"code", "name", "kind", "care_class", "bed_count"}


def test_a_taken_ward_or_bed_code_is_refused_beside_its_field(any_app):
    with any_app.runtime.db.session() as s:
        create_ward(s, _admin(s), WARD)
        with pytest.raises(FieldErrors) as err:
            create_ward(s, _admin(s), WARD)
        assert err.value.errors["code"].key == "err_setup_code_taken"
        with pytest.raises(FieldErrors) as err:
            create_bed(s, _admin(s), {"ward_code": "MAWAR", "code": "MAWAR-01", "label": "Bed 1"})
        assert err.value.errors["code"].key == "err_setup_code_taken"
        with pytest.raises(FieldErrors) as err:
            create_bed(s, _admin(s), {"ward_code": "NOPE", "code": "NOPE-01", "label": "Bed 1"})
        assert err.value.errors["ward_code"].key == "err_setup_ward_unknown"
        bed = create_bed(s, _admin(s), {"ward_code": "mawar", "code": "mawar-vip", "label": "VIP", "care_class": "vip"})
        assert (bed.code, bed.care_class, bed.status) == ("MAWAR-VIP", "VIP", "available")


def test_a_stale_ward_form_is_a_conflict_not_an_overwrite(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        ward = create_ward(s, _admin(s), WARD)
        ward_id, shown = ward.id, ward.version
    edit = {"name": "Mawar Baru", "kind": "ward", "care_class": "1"}
    with db.session() as first, db.session() as second:
        update_ward(first, _admin(first), ward_id, edit, shown)
        first.commit()
        with pytest.raises(EditConflict):
            update_ward(second, _admin(second), ward_id, edit | {"name": "Mawar Lain"}, shown)
    with db.session() as s:
        assert s.get(Ward, ward_id).name == "Mawar Baru"
        assert len(_audits(s, "ward_updated")) == 1


def test_a_save_racing_another_admins_commit_is_a_conflict(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        ward_id = create_ward(s, _admin(s), WARD).id
        bed = s.scalar(select(Bed).where(Bed.ward_id == ward_id).order_by(Bed.code))
        bed_id, shown = bed.id, bed.version
    with db.session() as first:
        assert first.get(Bed, bed_id).version == shown  # read before the other admin's save
        first.commit()  # ends the read; the loaded row stays in the session, now stale
        with db.session() as second:
            update_bed(second, _admin(second), bed_id, {"label": "Dekat pintu", "care_class": "1"}, shown)
        with pytest.raises(EditConflict):
            update_bed(first, _admin(first), bed_id, {"label": "Dekat jendela", "care_class": ""}, shown)
    with db.session() as s:
        assert s.get(Bed, bed_id).label == "Dekat pintu"


def _occupy(session, bed_id: int) -> None:
    patient_id = session.scalar(select(Patient.id).order_by(Patient.id))
    session.add(BedOccupancy(bed_id=bed_id, patient_id=patient_id))
    session.flush()


def test_retiring_is_refused_while_a_bed_is_occupied_and_keeps_the_rows(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        ward = create_ward(s, _admin(s), WARD)
        beds = list(s.scalars(select(Bed).where(Bed.ward_id == ward.id).order_by(Bed.code)))
        _occupy(s, beds[1].id)
        with pytest.raises(InputError) as err:
            retire_ward(s, _admin(s), ward.id, ward.version)
        assert (err.value.key, err.value.params) == ("err_setup_ward_occupied", {"beds": "MAWAR-02"})
        with pytest.raises(InputError) as err:
            retire_bed(s, _admin(s), beds[1].id, beds[1].version)
        assert err.value.key == "err_setup_bed_occupied"
        retire_bed(s, _admin(s), beds[0].id, beds[0].version)
        assert [b.active for b in beds] == [False, True]
        s.execute(BedOccupancy.__table__.update().values(until=func.current_timestamp()))
        retire_ward(s, _admin(s), ward.id, ward.version)
    with db.session() as s:
        assert s.get(Ward, ward.id).active is False
        assert s.scalar(select(func.count()).select_from(Bed).where(Bed.ward_id == ward.id)) == 2
        assert [a.detail["beds"] for a in _audits(s, "ward_retired")] == [["MAWAR-02"]]
        with pytest.raises(InputError) as err:
            add_bed(s, _admin(s), ward.id)
        assert err.value.key == "err_setup_ward_retired"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("name", "", "err_setup_name_required"),
        ("ppk_code", "0101R00", "err_setup_ppk"),
        ("ppk_code", "0101-R01", "err_setup_ppk"),
        ("timezone", "Asia/Tokyo", "err_setup_timezone"),
        ("facility_class", "E", "err_setup_facility_class"),
    ],
)
def test_bad_facility_fields_are_refused(sqlite_app, field, value, key):
    good = {"name": "RSUD Sehat", "ppk_code": "0101R001", "timezone": "Asia/Makassar", "facility_class": "C"}
    with sqlite_app.runtime.db.session() as s, pytest.raises(FieldErrors) as err:
        update_facility(s, _admin(s), good | {field: value}, None)
    assert err.value.errors[field].key == key


def test_the_facility_profile_is_saved_audited_and_guarded_by_its_version(any_app):
    db = any_app.runtime.db
    values = {"name": "RSUD Sehat", "ppk_code": "0101r001", "timezone": "Asia/Makassar", "facility_class": "c"}
    with db.session() as s:
        shown = facility_profile(s, _admin(s).site_id).version
    with db.session() as s:
        saved = update_facility(s, _admin(s), values, shown)
        assert (saved.name, saved.ppk_code, saved.timezone, saved.facility_class) == (
            "RSUD Sehat",
            "0101R001",
            "Asia/Makassar",
            "C",
        )
    with db.session() as s:
        assert facility_profile(s, _admin(s).site_id).version == shown + 1
        with pytest.raises(EditConflict):
            update_facility(s, _admin(s), values | {"name": "Lain"}, shown)
        [row] = _audits(s, "facility_updated")
        assert row.detail["after"]["ppk_code"] == "0101R001"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("code", "T-HT", "err_setup_code_plain"),
        ("queue_prefix", "F1", "err_setup_prefix"),
        ("queue_prefix", "ABC", "err_setup_prefix"),
        ("queue_prefix", "P", "err_setup_prefix_fixed"),
        ("queue_prefix", "A", "err_setup_prefix_taken"),
        ("bpjs_code", "TH", "err_setup_bpjs_poli"),
        ("default_service_minutes", "0", "err_setup_service_minutes"),
        ("board_group", "Umum Besar", "err_setup_board_group"),
        ("age_min_years", "x", "err_age_bound"),
        ("age_max_years", "3", "err_age_order"),
        ("code", "UMU", "err_setup_code_taken"),
    ],
)
def test_bad_poli_fields_are_refused(sqlite_app, field, value, key):
    with sqlite_app.runtime.db.session() as s, pytest.raises(FieldErrors) as err:
        create_poli(s, _admin(s), POLI | {"age_min_years": "5"} | {field: value})
    assert err.value.errors[field].key == key


def test_a_poli_is_created_edited_and_retired_freeing_its_prefix(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        poli = create_poli(s, _admin(s), POLI)
        assert (poli.code, poli.queue_prefix, poli.bpjs_code, poli.board_group, poli.default_service_minutes) == (
            "THT",
            "F",
            "THT",
            "umum",
            10,
        )
        poli_id, shown = poli.id, poli.version
    with db.session() as s:
        update_poli(s, _admin(s), poli_id, {"name": "Poli THT-KL", "queue_prefix": "FA", "bpjs_code": ""}, shown)
    with db.session() as s, pytest.raises(EditConflict):
        update_poli(s, _admin(s), poli_id, {"name": "x", "queue_prefix": "FB", "bpjs_code": ""}, shown)
    with db.session() as s:
        row = next(p for p in list_polis(s, _admin(s).site_id) if p.id == poli_id)
        assert (row.name, row.queue_prefix, row.bpjs_code) == ("Poli THT-KL", "FA", None)
        retire_poli(s, _admin(s), poli_id, row.version)
        create_poli(s, _admin(s), POLI | {"code": "THT2", "queue_prefix": "FA"})  # the prefix is free again
        actions = [
            a.action
            for a in s.scalars(select(AuditLog).where(AuditLog.target_type == "poli", AuditLog.username == "uji-admin"))
        ]
        assert actions.count("poli_created") == 2 and "poli_updated" in actions and "poli_retired" in actions


def test_a_doctor_is_created_linked_and_checked(any_app):
    db = any_app.runtime.db
    values = {"name": "dr. Rina, Sp.THT", "sip": "SIP 503/123/2026", "specialty": "THT", "bpjs_code": "41234"}
    with db.session() as s:
        create_poli(s, _admin(s), POLI)
        doctor = create_doctor(s, _admin(s), values | {"poli_code": "tht", "username": "dokter"})
        doctor_id, shown = doctor.id, doctor.version
        with pytest.raises(FieldErrors) as err:
            create_doctor(s, _admin(s), values | {"bpjs_code": "41234", "poli_code": "XYZ", "username": "perawat"})
        assert {f: e.key for f, e in err.value.errors.items()} == {
            "bpjs_code": "err_setup_hfis_taken",
            "poli_code": "err_setup_poli_unknown",
            "username": "err_setup_not_doctor_account",
        }
        with pytest.raises(FieldErrors) as err:
            create_doctor(s, _admin(s), {"name": " ", "bpjs_code": "12a", "sip": "S" * 65})
        assert {f: e.key for f, e in err.value.errors.items()} == {
            "name": "err_setup_name_required",
            "bpjs_code": "err_setup_hfis",
            "sip": "err_setup_too_long",
        }
    with db.session() as s:
        row = next(d for d in list_doctors(s, _admin(s).site_id) if d.id == doctor_id)
        assert (row.poli_code, row.username, row.bpjs_code) == ("THT", "dokter", "41234")
        update_doctor(s, _admin(s), doctor_id, values | {"specialty": "THT-KL", "poli_code": "THT"}, shown)
    with db.session() as s:
        with pytest.raises(EditConflict):
            retire_doctor(s, _admin(s), doctor_id, shown)
        retire_doctor(s, _admin(s), doctor_id, shown + 1)
        assert [
            a.action
            for a in s.scalars(
                select(AuditLog).where(AuditLog.target_type == "doctor", AuditLog.username == "uji-admin")
            )
        ] == [
            "doctor_created",
            "doctor_updated",
            "doctor_retired",
        ]
