"""Keeping patient records right (data.patient_records) on SQLite and PostgreSQL: corrections audited by field
name, optimistic locking, the NIK's confirmable mismatch, soft delete, purge after retention, duplicates, merge."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from data.admissions import BedRef, admit
from data.models import AuditLog, Bed, Patient, Visit
from data.patient_records import (
    find_duplicates,
    merge,
    patient_by_mrn,
    patient_references,
    purge,
    record_view,
    soft_delete,
    update_patient,
)
from data.patients import ENCRYPTED_FIELDS, create_patient, decrypt_field, find_by_identifier
from data.queue_registration import search_patients
from data.setup_rows import EditConflict
from domain.errors import FieldErrors, InputError
from domain.patient_rules import NikMismatch
from testkit.front_desk import desk_actor, register_waiting

TODAY = date(2026, 12, 4)
BORN = date(1990, 5, 17)
NIK = "3171015705900001"  # DKI Jakarta, a woman born 17-05-1990
FORM = dict(name="Siti Nurhaliza", birth_date=BORN, sex="P", nik=NIK, bpjs="", phone="0812-3456-7890", address="")


def new_patient(s, cipher, mrn: str, **overrides) -> Patient:
    values = dict(site_id=desk_actor(s).site_id, mrn=mrn, name="Siti Nurhaliza", birth_date=BORN, sex="P")
    return create_patient(s, cipher, **values | overrides)


def last_audit(s, action: str) -> AuditLog:
    return s.scalar(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id.desc()).limit(1))


def test_a_correction_reseals_the_identifiers_and_audits_only_field_names(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        patient = new_patient(s, cipher, "RM-1", nik="3171015705900002", phone="081200000000")
        patient_id, version = patient.id, patient.version
    with runtime.db.session() as s:
        actor = desk_actor(s)
        changed = update_patient(
            s, cipher, actor, patient_id, version=version, values=FORM | {"phone": "(021) 555-1234"}, today=TODAY
        )
        assert changed.changed == ("nik", "phone")
        assert changed.values["phone"] == "0215551234"
    with runtime.db.session() as s:
        patient = s.get(Patient, patient_id)
        assert decrypt_field(cipher, patient, "phone") == "0215551234"
        assert [p.id for p in find_by_identifier(s, cipher, patient.site_id, "nik", NIK)] == [patient_id]
        assert find_by_identifier(s, cipher, patient.site_id, "nik", "3171015705900002") == []
        row = last_audit(s, "patient_updated")
        assert row.detail == {"fields": ["nik", "phone"]}
        assert "555" not in str(row.detail) and NIK not in str(row.detail)
        assert patient.version == version + 1


def test_naming_an_emergency_patient_completes_the_record(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        patient = new_patient(s, cipher, "RM-1", name="Ny. Tanpa Nama", birth_date=date(1990, 1, 1))
        patient.incomplete = True
        s.flush()
        patient_id, version = patient.id, patient.version
    with runtime.db.session() as s:
        update_patient(s, cipher, desk_actor(s), patient_id, version=version, values=FORM, today=TODAY)
    with runtime.db.session() as s:
        assert s.get(Patient, patient_id).incomplete is False
        assert last_audit(s, "patient_updated").detail == {
            "fields": ["name", "birth_date", "nik", "phone"],
            "completed": True,
        }


def test_a_stale_form_and_a_taken_nik_are_refused(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        new_patient(s, cipher, "RM-1", nik=NIK)
        other = new_patient(s, cipher, "RM-2", name="Siti Aminah")
        other_id, version = other.id, other.version
    with runtime.db.session() as s, pytest.raises(FieldErrors) as err:
        update_patient(s, cipher, desk_actor(s), other_id, version=version, values=FORM, today=TODAY)
    assert {f: e.key for f, e in err.value.errors.items()} == {"nik": "err_nik_exists"}
    with runtime.db.session() as s, pytest.raises(EditConflict):
        update_patient(s, cipher, desk_actor(s), other_id, version=version - 1, values=FORM, today=TODAY)


def test_a_nik_that_disagrees_is_saved_only_when_confirmed_and_the_confirmation_is_audited(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    wrong = "3171011705900001"  # the day as a man's: the sex disagrees
    with runtime.db.session() as s:
        patient = new_patient(s, cipher, "RM-1")
        patient_id, version = patient.id, patient.version
    with runtime.db.session() as s, pytest.raises(NikMismatch) as err:
        update_patient(s, cipher, desk_actor(s), patient_id, version=version, values=FORM | {"nik": wrong}, today=TODAY)
    assert err.value.mismatches == ("sex",)
    with runtime.db.session() as s:
        assert s.get(Patient, patient_id).nik_bidx is None  # nothing saved
        update_patient(
            s, cipher, desk_actor(s), patient_id, version=version, values=FORM | {"nik": wrong}, today=TODAY,
            nik_confirmed=True,
        )  # fmt: skip
    with runtime.db.session() as s:
        assert decrypt_field(cipher, s.get(Patient, patient_id), "nik") == wrong
        assert last_audit(s, "patient_updated").detail == {"fields": ["nik", "phone"], "nik_confirmed": ["sex"]}


def test_a_deleted_record_leaves_every_search_but_reads_by_its_rm(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        patient = new_patient(s, cipher, "RM-1", nik=NIK)
        patient_id, version = patient.id, patient.version
    with runtime.db.session() as s, pytest.raises(InputError) as err:
        soft_delete(s, cipher, desk_actor(s), patient_id, version=version, reason=" \u200b ")
    assert err.value.key == "pat_err_reason_required"
    with runtime.db.session() as s:
        soft_delete(s, cipher, desk_actor(s), patient_id, version=version, reason="Didaftarkan dua kali")
    with runtime.db.session() as s:
        actor = desk_actor(s)
        for search in ({"mrn": "RM-1"}, {"nik": NIK}, {"name": "siti", "birth_date": BORN}):
            with pytest.raises(InputError):
                search_patients(s, cipher, actor, **search)
        assert find_duplicates(s, cipher, actor.site_id, name="Siti Nurhaliza", birth_date=BORN, nik=NIK) == []
        view = record_view(s, cipher, actor, "RM-1", fields=("nik",))
        assert view.deleted_at is not None and view.delete_reason == "Didaftarkan dua kali"
        assert view.record.nik == NIK
        assert last_audit(s, "patient_deleted").detail == {"reason": "Didaftarkan dua kali"}
    with runtime.db.session() as s, pytest.raises(InputError) as err:
        update_patient(s, cipher, desk_actor(s), patient_id, version=None, values=FORM, today=TODAY)
    assert err.value.key == "pat_err_deleted"


def test_a_purge_waits_25_years_and_leaves_an_anonymous_stub_with_its_visits(any_app):
    registration = register_waiting(any_app, "Budi Santoso", nik="3171011512840001")
    runtime = any_app.runtime
    with runtime.db.session() as s:
        patient_id = s.get(Visit, registration.visit_id).patient_id
    with runtime.db.session() as s, pytest.raises(InputError) as err:
        purge(s, desk_actor(s), patient_id, today=TODAY)
    assert err.value.key == "pat_err_retention"
    later = date(TODAY.year + 26, 1, 1)
    with runtime.db.session() as s:
        purge(s, desk_actor(s), patient_id, today=later)
    with runtime.db.session() as s:
        stub = s.get(Patient, patient_id)
        assert stub.name == "" and stub.purged_at is not None and stub.deleted_at is not None
        assert stub.birth_date == date(1984, 1, 1)
        assert all(getattr(stub, f"{f}_enc") is None for f in ENCRYPTED_FIELDS)
        assert stub.nik_bidx is None and stub.bpjs_bidx is None
        assert s.get(Visit, registration.visit_id).patient_id == patient_id
        assert last_audit(s, "patient_purged").target_id == str(patient_id)


def test_duplicates_by_nik_or_by_name_and_birth_date(any_app):
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        site_id = desk_actor(s).site_id
        by_nik = new_patient(s, cipher, "RM-1", name="S. Nurhaliza", nik=NIK).id
        by_name = new_patient(s, cipher, "RM-2", name="SITI  nurhaliza").id
        new_patient(s, cipher, "RM-3", name="Siti Aminah")
        found = find_duplicates(s, cipher, site_id, name="Siti Nurhaliza", birth_date=BORN, nik=NIK)
        assert [(d.id, d.reason) for d in found] == [(by_nik, "nik"), (by_name, "name_birth")]


def test_references_are_read_from_the_foreign_keys():
    found = {f"{table.name}.{column}" for table, column in patient_references()}
    expected = {"visit.patient_id", "admission.patient_id", "invoice.patient_id", "patient.merged_into_id"}
    assert expected <= found


def test_a_merge_moves_the_visits_and_identifiers_and_deletes_the_duplicate(any_app):
    registration = register_waiting(any_app, "Budi Santoso", nik="3171011512840001")
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        duplicate_id = s.get(Visit, registration.visit_id).patient_id
        keep_id = new_patient(s, cipher, "RM-9", name="budi santoso", birth_date=date(1984, 12, 15), sex="L").id
    with runtime.db.session() as s:
        result = merge(s, cipher, desk_actor(s), keep_id=keep_id, duplicate_id=duplicate_id)
    assert result.moved["visit.patient_id"] == 1
    assert set(result.identifiers) == {"nik", "phone"}
    with runtime.db.session() as s:
        assert s.get(Visit, registration.visit_id).patient_id == keep_id
        duplicate = s.get(Patient, duplicate_id)
        assert duplicate.merged_into_id == keep_id and duplicate.deleted_at is not None
        assert decrypt_field(cipher, s.get(Patient, keep_id), "nik") == "3171011512840001"
        assert [p.id for p in find_by_identifier(s, cipher, duplicate.site_id, "nik", "3171011512840001")] == [keep_id]
        row = last_audit(s, "patient_merged")
        assert row.target_id == str(keep_id)
        assert row.detail["patient_ids"] == [keep_id, duplicate_id]
        assert row.detail["moved"]["visit.patient_id"] == 1
        assert record_view(s, cipher, desk_actor(s), duplicate.mrn, fields=()).merged_into_mrn == "RM-9"


def test_a_merge_is_refused_when_both_wait_in_one_session_or_both_lie_in_a_bed(any_app):
    first = register_waiting(any_app, "Budi Santoso")
    second = register_waiting(any_app, "Budi Santoso")
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        a, b = (s.get(Visit, r.visit_id).patient_id for r in (first, second))
        demo = [patient_by_mrn(s, desk_actor(s).site_id, f"DEMO-0000{n}").id for n in (1, 2)]  # both admitted
    for keep_id, duplicate_id, key in ((a, b, "pat_err_merge_same_session"), (*demo, "pat_err_merge_both_admitted")):
        with runtime.db.session() as s, pytest.raises(InputError) as err:
            merge(s, cipher, desk_actor(s), keep_id=keep_id, duplicate_id=duplicate_id)
        assert err.value.key == key
    with runtime.db.session() as s:
        assert s.get(Patient, b).deleted_at is None and s.get(Visit, second.visit_id).patient_id == b


def _crafted_save(client, typed: dict[str, object]) -> dict:
    """The record page's save request as a browser would post it, with ``typed`` (component id → value)."""
    spec = next(c for c in client.get("/_dash-dependencies").get_json() if "pat-feedback.children" in c["output"])
    outputs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]} for part in spec["output"][2:-2].split("...")
    ]
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [{**i, "value": 1 if i["id"] == "pat-save" else None} for i in spec["inputs"]],
        "state": [{**s, "value": typed.get(s["id"])} for s in spec["state"]],
        "changedPropIds": ["pat-save.n_clicks"],
    }


def test_a_nurse_who_crafts_the_save_request_changes_nothing(sqlite_app, login):
    """The page opens for nurses (they read), so the guard lets its callbacks through: the save refuses itself."""
    runtime, cipher = sqlite_app.runtime, sqlite_app.runtime.cipher
    with runtime.db.session() as s:
        patient = new_patient(s, cipher, "RM-1", phone="081200000000")
        typed = {
            "pat-id": patient.id,
            "pat-version": patient.version,
            "pat-field-name": "Siti Nurhaliza",
            "pat-field-birth_date": BORN.isoformat(),
            "pat-field-sex": "P",
            "pat-field-phone": "021 5551234",
        }
    for role, changed in (("nurse", False), ("front_desk", True)):
        client = login(role)
        assert client.post("/_dash-update-component", json=_crafted_save(client, typed)).status_code == 200
        with runtime.db.session() as s:
            assert (decrypt_field(cipher, s.get(Patient, typed["pat-id"]), "phone") == "0215551234") is changed, role


def test_a_corrected_name_or_birth_date_names_the_bed_whose_screens_show_it(any_app):
    """The tile shows the masked name and NEWS2 depends on the age (none under 16): the bed a patient lies in is
    told after such a correction, as after a transfer; a changed phone number shows nowhere."""
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        actor = desk_actor(s)
        patient = new_patient(s, cipher, "RM-1", nik=NIK)
        patient_id = patient.id
        bed_id = s.scalar(select(Bed.id).where(Bed.code == "ICU-13"))
        admit(s, actor, patient_id=patient_id, bed_id=bed_id, source="desk")
    with runtime.db.session() as s:
        version = s.get(Patient, patient_id).version
        phone = update_patient(s, cipher, desk_actor(s), patient_id, version=version, values=FORM, today=TODAY)
    assert phone.changed == ("phone",) and phone.beds == ()
    with runtime.db.session() as s:
        child = FORM | {"birth_date": date(2019, 5, 17), "nik": ""}
        age = update_patient(s, cipher, desk_actor(s), patient_id, version=phone.version, values=child, today=TODAY)
    assert "birth_date" in age.changed and age.beds == (BedRef("ICU", "ICU-13"),)
    with runtime.db.session() as s:
        unadmitted = new_patient(s, cipher, "RM-2").id
    with runtime.db.session() as s:
        renamed = FORM | {"name": "Siti Aminah", "nik": ""}
        version = s.get(Patient, unadmitted).version
        alone = update_patient(s, cipher, desk_actor(s), unadmitted, version=version, values=renamed, today=TODAY)
    assert "name" in alone.changed and alone.beds == ()
