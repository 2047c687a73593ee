"""Facility sync at the database (data.sync_store), on SQLite and PostgreSQL: two sites, each its own database
and data keys, exchanging changes by hand (the worker's transport is tested in test_facility_sync_worker)."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from data.db import Database
from data.models import Patient, PatientAttachment, SyncConflict, SyncInbox, SyncOutbox, SyncRecord
from data.patient_attachments import add_attachment, read_attachment
from data.patient_records import merge, soft_delete, update_patient
from data.patients import decrypt_field, find_by_identifier, seal_field
from data.queue_registration import register_patient
from data.sync_store import (
    SyncError,
    apply_remote,
    backfill,
    due_changes,
    mark_acked,
    note_patient,
    note_unsynced,
    register_site,
    resend_delay,
)
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from domain.hlc import ClockSkew, Hlc
from domain.record_merge import Change, Op, Write
from testkit.front_desk import desk_actor
from tests.facility_sync_sites import BORN, SiteDb, edit, new_site, register, register_peers

NIK = "3171015705900001"  # DKI Jakarta, a woman born 17-05-1990
LONG_AGO = timedelta(days=1)


def actor_at(site: SiteDb) -> Actor:
    return Actor(None, "tester", site.site_id, "127.0.0.1")


@pytest.fixture(params=["sqlite", "postgres"])
def make_site(request, tmp_path):
    """A factory of sites on the test's backend, each in a fresh migrated database."""
    made: list[Database] = []

    def make(code: str) -> SiteDb:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'{code}.db'}"
        else:
            url = request.getfixturevalue("postgres_server").create_database(f"s_{uuid.uuid4().hex[:12]}")
        site = new_site(url, code, len(made) + 1)
        made.append(site.db)
        return site

    yield make
    for db in made:
        db.engine.dispose()


def deliver(source: SiteDb, target: SiteDb) -> int:
    """Send every change due from ``source`` to ``target``, apply it there, and acknowledge it; how many."""
    with source.db.session() as s:
        due = due_changes(s, source.cipher, target.code, now=utcnow(), resend_after=LONG_AGO, limit=1000)
    with target.db.session() as s:
        for item in due:
            apply_remote(s, target.cipher, item.change, site_id=target.site_id)
    with source.db.session() as s:
        mark_acked(s, target.code, [item.change.change_id for item in due], now=utcnow())
    return len(due)


@pytest.fixture
def pair(make_site):
    puskesmas, hospital = make_site("PKM-01"), make_site("RS-01")
    register_peers(puskesmas, ["RS-01"])
    register_peers(hospital, ["PKM-01"])
    return puskesmas, hospital


def test_sync_is_off_until_the_site_is_registered(make_site):
    site = make_site("PKM-01")
    register(site)
    assert site.count(SyncOutbox) == site.count(SyncRecord) == 0


def test_a_site_id_that_names_a_live_topic_or_a_second_site_is_refused(make_site):
    site = make_site("PKM-01")
    with pytest.raises(SyncError, match="site"):
        register_peers(site, ["vitals"])
    register_peers(site, ["RS-01"])
    with site.db.session() as s, pytest.raises(SyncError, match="syncs as PKM-01"):
        register_site(s, "RS-02", ["RS-01"])


def test_a_registration_reaches_the_peer_with_its_identifiers_sealed_under_the_peers_keys(pair):
    puskesmas, hospital = pair
    sync_id = register(puskesmas, nik_enc=None)
    with puskesmas.db.session() as s:  # the identifier set as the desk does: sealed, then noted
        patient = s.scalar(select(Patient).where(Patient.sync_id == sync_id))
        seal_field(puskesmas.cipher, patient, "nik", NIK)
        s.flush()
        note_patient(s, puskesmas.cipher, patient)
        stored = s.scalar(select(SyncRecord.state_enc).where(SyncRecord.record_id == sync_id))
        queued = s.scalars(select(SyncOutbox.change_enc)).all()
    # The whole name, space and all: random base64 held "Siti" by chance once (a clean run), never a space.
    name = "Siti Nurhaliza"
    assert name not in stored and NIK not in stored and not any(NIK in text or name in text for text in queued)

    assert deliver(puskesmas, hospital) == 2  # the registration and the NIK added to it
    arrived = hospital.patient(sync_id)
    assert arrived is not None and arrived.name == "Siti Nurhaliza" and arrived.birth_date == BORN
    assert arrived.mrn.isdigit()  # the hospital's own RM numbering
    assert decrypt_field(hospital.cipher, arrived, "nik") == NIK
    with hospital.db.session() as s:
        assert [p.sync_id for p in find_by_identifier(s, hospital.cipher, hospital.site_id, "nik", NIK)] == [sync_id]
    with puskesmas.db.session() as s:
        assert s.scalar(select(func.count()).where(SyncOutbox.acked_at.is_(None))) == 0
    assert puskesmas.fingerprints() == hospital.fingerprints()


def test_a_change_is_applied_once_however_often_it_arrives(pair):
    puskesmas, hospital = pair
    sync_id = register(puskesmas)
    with puskesmas.db.session() as s:
        (item,) = due_changes(s, puskesmas.cipher, "RS-01", now=utcnow(), resend_after=LONG_AGO, limit=10)
        assert due_changes(s, puskesmas.cipher, "RS-01", now=utcnow(), resend_after=LONG_AGO, limit=10) == []
    for expected in (False, True, True):
        with hospital.db.session() as s:
            assert apply_remote(s, hospital.cipher, item.change, site_id=hospital.site_id).duplicate is expected
    assert hospital.count(SyncInbox) == 1 and hospital.count(Patient) == 1
    # Unacknowledged, it is sent again once the resend time has passed.
    with puskesmas.db.session() as s:
        again = due_changes(s, puskesmas.cipher, "RS-01", now=utcnow() + 2 * LONG_AGO, resend_after=LONG_AGO, limit=10)
    assert [i.change.change_id for i in again] == [item.change.change_id] and hospital.patient(sync_id) is not None


def test_edits_made_apart_converge_and_the_conflict_is_kept_at_both_sites(pair):
    puskesmas, hospital = pair
    sync_id = register(puskesmas)
    deliver(puskesmas, hospital)
    edit(puskesmas, sync_id, name="Siti Nurhaliza Putri")
    edit(hospital, sync_id, name="Siti N. Putri", incomplete=True)
    deliver(puskesmas, hospital)
    deliver(hospital, puskesmas)
    here, there = puskesmas.patient(sync_id), hospital.patient(sync_id)
    assert here.name == there.name == "Siti N. Putri"  # the later write wins at both
    assert here.incomplete is there.incomplete is True  # a field only one side changed is no conflict
    assert puskesmas.fingerprints() == hospital.fingerprints()
    for site in pair:
        with site.db.session() as s:
            (conflict,) = s.scalars(select(SyncConflict)).all()
            assert (conflict.record_id, conflict.field) == (sync_id, "name")
            assert "Putri" not in (conflict.lost_value_enc or "")  # the values are sealed
    # The applied changes are not echoed back: each site's state already holds them.
    edit(hospital, sync_id)
    assert deliver(hospital, puskesmas) == 0


def test_a_delete_propagates_and_a_later_edit_restores_the_record(pair):
    puskesmas, hospital = pair
    sync_id = register(puskesmas)
    deliver(puskesmas, hospital)
    edit(puskesmas, sync_id, deleted_at=utcnow())
    deliver(puskesmas, hospital)
    assert hospital.patient(sync_id).deleted_at is not None
    assert hospital.patient(sync_id).delete_reason == "sync:PKM-01"
    edit(hospital, sync_id, deleted_at=None, name="Siti Aminah")
    deliver(hospital, puskesmas)
    restored = puskesmas.patient(sync_id)
    assert restored.deleted_at is None and restored.name == "Siti Aminah"


def _change(site: str, record: str, hlc: Hlc, **fields) -> Change:
    writes = {name: Write(value, hlc) for name, value in fields.items()}
    return Change(str(uuid.uuid4()), record, site, Op.UPSERT, hlc, None, writes)


def test_a_peer_clock_far_ahead_or_a_value_no_row_can_hold_changes_nothing(pair):
    _puskesmas, hospital = pair
    record = str(uuid.uuid4())
    now_ms = int(utcnow().timestamp() * 1000)
    valid = dict(name="Budi", birth_date="1980-01-02", sex="L")
    ahead = _change("PKM-01", record, Hlc(now_ms + 3_600_000, 0, "PKM-01"), **valid)
    with pytest.raises(ClockSkew), hospital.db.session() as s:
        apply_remote(s, hospital.cipher, ahead, site_id=hospital.site_id, now_ms=now_ms)
    bad = _change("PKM-01", record, Hlc(now_ms, 0, "PKM-01"), **valid | {"sex": "X"})
    with pytest.raises(SyncError, match="sex"), hospital.db.session() as s:
        apply_remote(s, hospital.cipher, bad, site_id=hospital.site_id, now_ms=now_ms)
    assert hospital.count(SyncInbox) == hospital.count(SyncRecord) == hospital.count(Patient) == 0


def test_the_desks_services_queue_registration_correction_delete_and_merge(any_app):
    """The hooks are wired: each of the services that change a record queues its change for the peer."""
    runtime, cipher = any_app.runtime, any_app.runtime.cipher
    with runtime.db.session() as s:
        register_site(s, any_app.settings.site_code, ["PKM-01"])

    def desk_registers(name: str) -> int:
        with runtime.db.session() as s:
            saved = register_patient(
                s,
                cipher,
                desk_actor(s),
                name=name,
                birth_date=BORN,
                sex="P",
                phone="081234567890",
                nik="",
                today=date.today(),
            )
            return saved.id

    first, second = desk_registers("Siti Nurhaliza"), desk_registers("Siti Nurhalisa")

    def queued() -> list[str]:
        with runtime.db.session() as s:
            return list(s.scalars(select(SyncOutbox.record_id).order_by(SyncOutbox.id)))

    with runtime.db.session() as s:
        ids = {p.id: p.sync_id for p in s.scalars(select(Patient).where(Patient.id.in_([first, second])))}
    assert queued() == [ids[first], ids[second]]
    with runtime.db.session() as s:
        patient = s.get(Patient, first)
        values = dict(name="Siti Nurhaliza", birth_date=patient.birth_date, sex=patient.sex, phone="081298765432")
        update_patient(s, cipher, desk_actor(s), first, version=patient.version, values=values, today=date.today())
    with runtime.db.session() as s:
        soft_delete(s, cipher, desk_actor(s), second, version=s.get(Patient, second).version, reason="Ganda")
    assert queued()[2:] == [ids[first], ids[second]]
    third = desk_registers("Siti Nurhalizah")
    with runtime.db.session() as s:
        merge(s, cipher, desk_actor(s), keep_id=first, duplicate_id=third)
        third_sync = s.get(Patient, third).sync_id
    assert queued()[4:] == [third_sync, third_sync]  # registered, then deleted as merged (the kept one gained nothing)


def test_an_attachment_travels_as_its_own_record_and_a_wrong_checksum_is_refused(pair):
    puskesmas, hospital = pair
    sync_id = register(puskesmas)
    letter = os.urandom(3 * 2**20)  # a scanned referral letter
    with puskesmas.db.session() as s:
        patient = s.scalar(select(Patient).where(Patient.sync_id == sync_id))
        with pytest.raises(InputError, match="att_err_type"):
            add_attachment(s, puskesmas.cipher, actor_at(puskesmas), patient, kind="referral_letter", filename="a.exe",
                           media_type="application/x-msdownload", content=letter)  # fmt: skip
        attachment = add_attachment(s, puskesmas.cipher, actor_at(puskesmas), patient, kind="referral_letter",
                                    filename="rujukan.pdf", media_type="application/pdf", content=letter)  # fmt: skip
        attachment_id = attachment.sync_id
        assert base64.b64encode(letter[:300]).decode()[:100] not in (attachment.content_enc or "")
    assert deliver(puskesmas, hospital) == 2  # the patient, then her letter; editing her resends nothing big
    edit(puskesmas, sync_id, name="Siti Aminah")
    with puskesmas.db.session() as s:
        (item,) = due_changes(s, puskesmas.cipher, "RS-01", now=utcnow(), resend_after=LONG_AGO, limit=5)
        assert set(item.change.fields) == {"name"}
    with hospital.db.session() as s:
        arrived = s.scalar(select(PatientAttachment).where(PatientAttachment.sync_id == attachment_id))
        assert (arrived.patient_sync_id, arrived.size, arrived.filename) == (sync_id, len(letter), "rujukan.pdf")
        assert read_attachment(s, hospital.cipher, actor_at(hospital), arrived.id) == letter
    now_ms = int(utcnow().timestamp() * 1000)
    forged = _change("PKM-01", f"att-{uuid.uuid4()}", Hlc(now_ms, 0, "PKM-01"), patient=sync_id, kind="image",
                     filename="x.png", media_type="image/png", sha256="0" * 64,
                     content=base64.b64encode(b"not what the checksum says").decode())  # fmt: skip
    with pytest.raises(SyncError, match="checksum"), hospital.db.session() as s:
        apply_remote(s, hospital.cipher, forged, site_id=hospital.site_id, now_ms=now_ms)


def test_records_from_before_sync_and_a_peer_added_later_are_caught_up(make_site):
    puskesmas, hospital, second = make_site("PKM-01"), make_site("RS-01"), make_site("RS-02")
    before = register(puskesmas, name="Ani Suryani")  # sync not on yet: nothing queued
    register_peers(puskesmas, ["RS-01"])
    register_peers(hospital, ["PKM-01"])
    later = register(puskesmas, name="Budi Santoso")
    edit(puskesmas, later, name="Budi Santosa")
    deliver(puskesmas, hospital)
    edit(hospital, later, deleted_at=utcnow())  # the hospital's own write is in the Puskesmas's state afterwards
    deliver(hospital, puskesmas)
    assert hospital.patient(before) is None

    register_peers(puskesmas, ["RS-01", "RS-02"])
    register_peers(second, ["PKM-01"])
    with puskesmas.db.session() as s:
        first = backfill(s, puskesmas.cipher, "RS-02", limit=1)  # in batches: the one state held, then none
        assert first is not None and backfill(s, puskesmas.cipher, "RS-02", after_id=first) is None
        assert note_unsynced(s, puskesmas.cipher) == 1 and note_unsynced(s, puskesmas.cipher) == 0
    deliver(puskesmas, hospital)
    deliver(puskesmas, second)
    assert hospital.patient(before).name == second.patient(before).name == "Ani Suryani"
    assert second.patient(later).name == "Budi Santosa" and second.patient(later).deleted_at is not None
    assert second.fingerprints() == puskesmas.fingerprints() == hospital.fingerprints()


def test_an_unacknowledged_change_is_sent_again_later_each_time(pair):
    """Resends back off (doubling up to ten minutes): a peer slower than the resend time is not buried in copies."""
    assert [resend_delay(timedelta(seconds=30), n).total_seconds() for n in (1, 2, 3, 5, 9)] == [30, 60, 120, 480, 600]
    puskesmas, _hospital = pair
    register(puskesmas)
    start, every = utcnow(), timedelta(seconds=10)

    def due_at(seconds: float) -> int:
        with puskesmas.db.session() as s:
            at = start + timedelta(seconds=seconds)
            return len(due_changes(s, puskesmas.cipher, "RS-01", now=at, resend_after=every, limit=10))

    assert [due_at(t) for t in (0, 9, 11, 25, 32, 65, 73)] == [1, 0, 1, 0, 1, 0, 1]
