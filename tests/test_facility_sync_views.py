"""The facility sync page's read models (data.facility_sync_views) on SQLite and PostgreSQL, over rows written
straight into the sync tables: each peer's queue and lag, its last error and verify, open conflicts with their
sealed values opened and the read audited, and marking a conflict reviewed twice."""

from __future__ import annotations

import base64
import uuid
from datetime import date, timedelta

import orjson
import pytest
from sqlalchemy import select

from data.db import Database
from data.facility_sync_views import mark_reviewed, open_conflicts, peer_views, sync_site
from data.field_crypto import FieldCipher
from data.migrate import upgrade
from data.models import AuditLog, PatientAttachment, Site, SyncClock, SyncConflict, SyncOutbox, SyncPeerStatus
from data.patients import create_patient
from data.pii_keys import field_name
from domain.actor import Actor
from domain.clock import utcnow
from domain.hlc import Hlc

NOW = utcnow().replace(microsecond=0)
KEY = "k1:" + base64.b64encode(bytes([7]) * 32).decode()  # a test key only


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sync.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"v_{uuid.uuid4().hex[:12]}")
    upgrade(url)
    database = Database(url)
    yield database
    database.engine.dispose()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(KEY, "test-only-blind-key")


def site_and_actor(db: Database) -> Actor:
    with db.session() as s:
        site = Site(code="RS-01", name="RS Satu")
        s.add(site)
        s.flush()
        return Actor(None, "admin-test", site.id, "127.0.0.1")


def add_conflict(s, cipher: FieldCipher, record_id: str, field: str, won, lost, *, won_ms: int, lost_ms: int) -> int:
    """A conflict as the store keeps it: clocks in text, each value orjson-encoded and sealed to its row."""
    row = SyncConflict(
        record_id=record_id,
        field=field,
        won_hlc=Hlc(won_ms, 0, "PKM-01").encode(),
        lost_hlc=Hlc(lost_ms, 3, "RS-01").encode(),
    )
    s.add(row)
    s.flush()
    seal = lambda column, value: cipher.encrypt(field_name(column), orjson.dumps(value).decode(), row_id=row.id)  # noqa: E731
    row.won_value_enc = seal(SyncConflict.won_value_enc, won)
    row.lost_value_enc = seal(SyncConflict.lost_value_enc, lost)
    return row.id


def test_not_configured_until_a_clock_row_exists(db):
    with db.session() as s:
        assert sync_site(s) is None
        assert peer_views(s) == []
        s.add(SyncClock(site_code="RS-01", hlc=Hlc.zero("RS-01").encode()))
    with db.session() as s:
        assert sync_site(s) == "RS-01"


def test_each_active_peer_shows_its_pending_changes_lag_error_and_verify(db):
    with db.session() as s:
        s.add(SyncClock(site_code="RS-01", hlc=Hlc.zero("RS-01").encode()))
        s.add_all(
            [
                SyncPeerStatus(
                    peer="PKM-01",
                    active=True,
                    last_message_at=NOW - timedelta(seconds=5),
                    last_applied_at=NOW - timedelta(seconds=9),
                    last_error="clock_skew",
                    last_error_at=NOW - timedelta(minutes=2),
                    verified_at=NOW - timedelta(hours=1),
                    verify_records=120,
                    verify_differences=2,
                    verify_detail=["rec-a", "rec-b"],
                ),
                SyncPeerStatus(peer="PKM-02", active=True),
                SyncPeerStatus(peer="PKM-OLD", active=False),
            ]
        )
        for minutes, peer, acked in ((30, "PKM-01", True), (12, "PKM-01", False), (3, "PKM-01", False)):
            s.add(
                SyncOutbox(
                    peer=peer,
                    change_id=f"c{minutes}",
                    record_id="r1",
                    change_enc="sealed",
                    created_at=NOW - timedelta(minutes=minutes),
                    acked_at=NOW if acked else None,
                )
            )
        s.add(SyncOutbox(peer="PKM-OLD", change_id="c-old", record_id="r1", created_at=NOW))
    with db.session() as s:
        first, second = peer_views(s)
    assert (first.peer, first.pending, first.oldest_pending_at) == ("PKM-01", 2, NOW - timedelta(minutes=12))
    assert (first.last_error, first.last_error_at) == ("clock_skew", NOW - timedelta(minutes=2))
    assert (first.last_message_at, first.last_applied_at) == (NOW - timedelta(seconds=5), NOW - timedelta(seconds=9))
    assert (first.verify_records, first.verify_differences, first.verify_detail) == (120, 2, ["rec-a", "rec-b"])
    assert (second.peer, second.pending, second.oldest_pending_at, second.verified_at) == ("PKM-02", 0, None, None)


def test_open_conflicts_open_both_values_name_the_patient_and_audit_the_read(db, cipher):
    actor = site_and_actor(db)
    won_ms = int((NOW - timedelta(minutes=4)).timestamp() * 1000)
    with db.session() as s:
        patient = create_patient(
            s, cipher, site_id=actor.site_id, mrn="000123", name="Siti Aminah", birth_date=date(1990, 5, 17), sex="P"
        )
        s.flush()
        s.add(
            PatientAttachment(
                site_id=actor.site_id,
                sync_id="att-1",
                patient_sync_id=patient.sync_id,
                kind="letter",
                filename="rujukan.pdf",
                media_type="application/pdf",
                size=3,
                sha256="0" * 64,
            )
        )
        phone = add_conflict(s, cipher, patient.sync_id, "phone", "0812", "0813", won_ms=won_ms, lost_ms=won_ms - 500)
        gone = add_conflict(s, cipher, "att-1", "_deleted", True, False, won_ms=won_ms, lost_ms=won_ms - 9)
        stranger = add_conflict(s, cipher, str(uuid.uuid4()), "incomplete", False, True, won_ms=1, lost_ms=0)
        reviewed = add_conflict(s, cipher, patient.sync_id, "name", "A", "B", won_ms=won_ms, lost_ms=won_ms - 1)
        s.get(SyncConflict, reviewed).reviewed_at = NOW
        patient_id = patient.id
    with db.session() as s:
        views = open_conflicts(s, cipher, actor)
    assert [v.id for v in views] == [phone, gone, stranger]
    first = views[0]
    assert (first.mrn, first.patient_id, first.field, first.won_value, first.lost_value) == (
        "000123",
        patient_id,
        "phone",
        "0812",
        "0813",
    )
    assert (first.won.site, first.lost.site) == ("PKM-01", "RS-01")
    assert first.won.at == NOW - timedelta(minutes=4)
    assert first.lost.at == NOW - timedelta(minutes=4, milliseconds=500)
    assert (views[1].mrn, views[1].won_value, views[1].lost_value) == ("000123", True, False)  # via the attachment
    assert (views[2].mrn, views[2].patient_id, views[2].won_value) == (None, None, False)  # not (yet) held here
    with db.session() as s:
        (row,) = s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflicts_read")).all()
        assert row.username == "admin-test"
        assert row.detail == {"conflict_ids": [phone, gone, stranger], "patient_ids": [patient_id], "mrns": ["000123"]}
        assert "0812" not in orjson.dumps(row.detail).decode()  # ids only, never a value


def test_no_open_conflict_reads_nothing_and_audits_nothing(db, cipher):
    actor = site_and_actor(db)
    with db.session() as s:
        assert open_conflicts(s, cipher, actor) == []
    with db.session() as s:
        assert s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflicts_read")).all() == []


def test_a_conflict_marked_twice_is_marked_once_and_the_second_is_told(db, cipher):
    actor = site_and_actor(db)
    other = Actor(None, "admin-two", actor.site_id, "127.0.0.2")
    with db.session() as s:
        one = add_conflict(s, cipher, str(uuid.uuid4()), "name", "A", "B", won_ms=2, lost_ms=1)
        two = add_conflict(s, cipher, str(uuid.uuid4()), "sex", "L", "P", won_ms=2, lost_ms=1)
    with db.session() as s:
        first = mark_reviewed(s, actor, [one], NOW)
    with db.session() as s:
        second = mark_reviewed(s, other, [one, two, 999_999], NOW + timedelta(minutes=1))
    assert (first.marked, first.already) == ([one], [])
    assert (second.marked, second.already) == ([two], [one, 999_999])
    with db.session() as s:
        assert s.get(SyncConflict, one).reviewed_at == NOW  # the first admin's mark stays
        assert s.get(SyncConflict, two).reviewed_at == NOW + timedelta(minutes=1)
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflict_reviewed").order_by(AuditLog.id))
        assert [(r.username, r.target_id) for r in rows] == [("admin-test", str(one)), ("admin-two", str(two))]
        assert open_conflicts(s, cipher, actor) == []
