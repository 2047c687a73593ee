"""Patient identifiers are ciphertext in the database, searchable by blind index, and reads are audited."""

from __future__ import annotations

import base64
import os
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select, text, update

from config import DEMO_DATA_KEY
from data.field_crypto import FieldCipher, FieldCryptoError, parse_keys
from data.models import AuditLog, Patient, Site, User
from data.patients import ENCRYPTED_FIELDS, create_patient, decrypt_field, find_by_identifier, read_patient
from data.pii_keys import rotate_keys
from data.sync_store import due_changes, note_patient, register_site
from domain.clock import utcnow
from domain.errors import InputError

NIK = "3171234567890001"
BPJS = "0001234567890"


def make_patient(session, cipher, site_id, **overrides):
    values = dict(
        site_id=site_id,
        mrn="RM-000123",
        name="Siti Nurhaliza",
        birth_date=date(1990, 5, 17),
        sex="P",
        nik=NIK,
        bpjs=BPJS,
        phone="0812-3456-7890",
        address="Jl. Melati 5, Bandung",
    )
    return create_patient(session, cipher, **(values | overrides))


def test_identifiers_are_encrypted_at_rest_and_found_by_blind_index(any_app):
    runtime = any_app.runtime
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        patient_id = make_patient(s, runtime.cipher, site_id).id
    with runtime.db.session() as s:
        raw = s.execute(
            text("SELECT nik_enc, bpjs_enc, phone_enc, address_enc FROM patient WHERE id = :id"), {"id": patient_id}
        ).one()
        assert not any(NIK in v or BPJS in v or "Melati" in v or "3456" in v for v in raw)
        assert [p.id for p in find_by_identifier(s, runtime.cipher, site_id, "nik", "3171 2345 6789 0001")] == [
            patient_id
        ]
        assert find_by_identifier(s, runtime.cipher, site_id, "bpjs", "9999999999999") == []
        record = read_patient(
            s, runtime.cipher, patient_id, actor_id=None, actor_name="dokter", purpose="test", fields=ENCRYPTED_FIELDS
        )
        assert (record.nik, record.bpjs, record.address) == (NIK, BPJS, "Jl. Melati 5, Bandung")
    with runtime.db.session() as s:
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)) == "patient_read"


@pytest.mark.parametrize(
    "field,value,key",
    [
        ("nik", "12345", "err_nik_format"),
        ("bpjs", "12", "err_bpjs_format"),
        ("sex", "X", "err_sex"),
        ("name", " ", "err_full_name_required"),
    ],
)
def test_bad_patient_data_is_refused_with_a_message_key(sqlite_app, field, value, key):
    with sqlite_app.runtime.db.session() as s, pytest.raises(InputError) as err:
        make_patient(s, sqlite_app.runtime.cipher, s.scalar(select(Site.id)), **{field: value})
    assert err.value.key == key


def new_key() -> str:
    return "k2:" + base64.b64encode(os.urandom(32)).decode()


def read_nik(session, cipher, patient_id) -> str | None:
    return read_patient(session, cipher, patient_id, actor_id=None, actor_name="t", purpose="t", fields=("nik",)).nik


def test_key_rotation_reencrypts_under_the_new_key_and_the_old_key_can_go(any_app):
    runtime = any_app.runtime
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        register_site(s, "RS-01", ["PKM-01"])  # the sync tables seal values with the data keys too
        patient = make_patient(s, runtime.cipher, site_id)
        patient_id = patient.id
        note_patient(s, runtime.cipher, patient)
        for n in range(2, 5):  # more rows than a batch
            make_patient(s, runtime.cipher, site_id, mrn=f"RM-90000{n}", nik=f"317123456789000{n}", bpjs=None)
        encrypted = s.scalar(select(func.count(Patient.id)).where(Patient.phone_enc.is_not(None)))
    assert encrypted >= 4
    added = new_key()
    rotated = FieldCipher(f"{added},{DEMO_DATA_KEY}", any_app.settings.blind_index_key)
    first = rotate_keys(runtime.db, rotated, batch=2)
    assert (first["patient"], first["sync_record"], first["sync_outbox"]) == (encrypted, 1, 1)
    assert set(rotate_keys(runtime.db, rotated, batch=2).values()) == {0}
    only_new = FieldCipher(added, any_app.settings.blind_index_key)
    with runtime.db.session() as s:
        assert read_nik(s, only_new, patient_id) == NIK
        (queued,) = due_changes(s, only_new, "PKM-01", now=utcnow(), resend_after=timedelta(0), limit=5)
        assert queued.change.fields["nik"].value == NIK
        for patient in s.scalars(select(Patient)):  # nothing anywhere still needs the old key
            assert not any(only_new.needs_rotation(getattr(patient, f"{f}_enc")) for f in ENCRYPTED_FIELDS)
            decrypt_field(only_new, patient, "phone")


def test_a_ciphertext_copied_to_another_patient_does_not_decrypt(any_app, caplog):
    runtime = any_app.runtime
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        first = make_patient(s, runtime.cipher, site_id).id
        second = make_patient(s, runtime.cipher, site_id, mrn="RM-000124", nik="3171234567890002", bpjs=None).id
    with runtime.db.session() as s:
        s.execute(
            update(Patient)
            .where(Patient.id == second)
            .values(nik_enc=select(Patient.nik_enc).where(Patient.id == first).scalar_subquery())
        )
    with runtime.db.session() as s, pytest.raises(FieldCryptoError, match="does not authenticate"):
        read_nik(s, runtime.cipher, second)
    assert NIK not in caplog.text and any(r.levelname == "WARNING" and r.row_id == second for r in caplog.records)
    with runtime.db.session() as s:
        assert read_nik(s, runtime.cipher, first) == NIK


def test_an_old_form_row_still_reads_and_rotation_upgrades_it(any_app):
    runtime = any_app.runtime
    with runtime.db.session() as s:
        patient_id = make_patient(s, runtime.cipher, s.scalar(select(Site.id))).id
        (key_id, raw), *_ = parse_keys(any_app.settings.data_keys)
        nonce = os.urandom(12)
        old = f"{key_id}:" + base64.urlsafe_b64encode(nonce + AESGCM(raw).encrypt(nonce, NIK.encode(), b"nik")).decode()
        s.execute(update(Patient).where(Patient.id == patient_id).values(nik_enc=old))
    with runtime.db.session() as s:
        assert read_nik(s, runtime.cipher, patient_id) == NIK
        before = s.get(Patient, patient_id).updated_at
    assert rotate_keys(runtime.db, runtime.cipher)["patient"] == 1  # only the old-form row; same key
    with runtime.db.session() as s:
        patient = s.get(Patient, patient_id)
        assert patient.nik_enc.startswith(f"{key_id}.r:") and patient.updated_at == before
        assert read_nik(s, runtime.cipher, patient_id) == NIK


def test_rotation_reencrypts_a_totp_secret_bound_to_its_user(sqlite_app):
    runtime = sqlite_app.runtime
    with runtime.db.session() as s:
        user = s.scalar(select(User).order_by(User.id).limit(1))
        user_id = user.id
        user.totp_secret_enc = runtime.cipher.encrypt("app_user.totp_secret", "JBSWY3DPEHPK3PXP", row_id=user_id)
    added = new_key()
    rotated = FieldCipher(f"{added},{DEMO_DATA_KEY}", sqlite_app.settings.blind_index_key)
    assert rotate_keys(runtime.db, rotated)["app_user"] == 1
    with runtime.db.session() as s:
        token = s.get(User, user_id).totp_secret_enc
    only_new = FieldCipher(added, sqlite_app.settings.blind_index_key)
    assert only_new.decrypt("app_user.totp_secret", token, row_id=user_id) == "JBSWY3DPEHPK3PXP"


def test_rotate_data_keys_command_prints_counts_and_audits(sqlite_app):
    result = sqlite_app.server.test_cli_runner().invoke(args=["rotate-data-keys", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "patient: re-encrypted 0 rows" in result.output and "app_user: re-encrypted 0 rows" in result.output
    with sqlite_app.runtime.db.session() as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "data_keys_rotated"))
    assert set(row.detail["rows"]) >= {"patient", "app_user", "sync_record"} and set(row.detail["rows"].values()) == {0}


# ---- one normal form for identifiers (issue 11) ----------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def test_full_width_and_ascii_nik_share_one_blind_index_so_the_twin_is_found(any_app):
    runtime = any_app.runtime
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        first = make_patient(s, runtime.cipher, site_id, nik=NIK.translate(FULL_WIDTH), bpjs=None).id
    with runtime.db.session() as s:
        assert [p.id for p in find_by_identifier(s, runtime.cipher, site_id, "nik", NIK)] == [first]
        assert [p.id for p in find_by_identifier(s, runtime.cipher, site_id, "nik", "3171.2345.6789-0001")] == [first]
        assert read_nik(s, runtime.cipher, first) == NIK


@pytest.mark.parametrize(("field", "value"), [("nik", "abcdefghijklmnop"), ("bpjs", "abcdefghijklm")])
def test_letters_in_an_identifier_are_refused_not_dropped(sqlite_app, field, value):
    with sqlite_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        with pytest.raises(InputError) as err:
            make_patient(s, sqlite_app.runtime.cipher, site_id, **{field: value})
        assert err.value.key == f"err_{field}_format"
        with pytest.raises(InputError) as searched:
            find_by_identifier(s, sqlite_app.runtime.cipher, site_id, field, value)
        assert searched.value.key == f"err_{field}_format"
