"""Patient identifiers are ciphertext in the database, searchable by blind index, and reads are audited."""

from __future__ import annotations

import base64
import os
from datetime import date

import pytest
from sqlalchemy import select, text

from config import DEMO_DATA_KEY
from data.field_crypto import FieldCipher
from data.models import AuditLog, Site
from data.patients import create_patient, find_by_identifier, read_patient, rotate_keys
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
        record = read_patient(s, runtime.cipher, patient_id, actor_id=None, actor_name="dokter", purpose="test")
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


def test_key_rotation_reencrypts_under_the_new_key(sqlite_app):
    runtime = sqlite_app.runtime
    with runtime.db.session() as s:
        patient_id = make_patient(s, runtime.cipher, s.scalar(select(Site.id))).id
    new_key = "k2:" + base64.b64encode(os.urandom(32)).decode()
    rotated = FieldCipher(f"{new_key},{DEMO_DATA_KEY}", sqlite_app.settings.blind_index_key)
    with runtime.db.session() as s:
        assert rotate_keys(s, rotated) == 1
    with runtime.db.session() as s:
        assert rotate_keys(s, rotated) == 0
        only_new = FieldCipher(new_key, sqlite_app.settings.blind_index_key)
        assert read_patient(s, only_new, patient_id, actor_id=None, actor_name="t", purpose="t").nik == NIK


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
        assert read_patient(s, runtime.cipher, first, actor_id=None, actor_name="t", purpose="t").nik == NIK


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
