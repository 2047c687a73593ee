"""The facility sync page in a real browser: an admin sees that sync is off and how to turn it on; once the site
is registered, a peer's pending changes and a conflict with both its values, marks the conflict reviewed, and is
told plainly when another admin marked one first."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from auth.users import find_user
from data.facility_sync_views import mark_reviewed
from data.models import AuditLog, SyncConflict, SyncOutbox
from data.patients import create_patient
from data.pii_keys import field_name
from data.sync_store import note_peer, register_site, save_verify
from domain.actor import Actor
from domain.clock import utcnow
from domain.hlc import Hlc
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_nav, settled, sign_in

pytestmark = pytest.mark.browser


def add_conflict(pantau, record_id: str, field: str, won: object, lost: object) -> int:
    """A conflict as the sync store keeps it, its values sealed with the app's data keys."""
    cipher, now_ms = pantau.runtime.cipher, int(utcnow().timestamp() * 1000)
    with pantau.runtime.db.session() as s:
        row = SyncConflict(
            record_id=record_id,
            field=field,
            won_hlc=Hlc(now_ms - 60_000, 0, "PKM-01").encode(),
            lost_hlc=Hlc(now_ms - 90_000, 2, "RS-01").encode(),
        )
        s.add(row)
        s.flush()
        for column, value in ((SyncConflict.won_value_enc, won), (SyncConflict.lost_value_enc, lost)):
            token = cipher.encrypt(field_name(column), orjson.dumps(value).decode(), row_id=row.id)
            setattr(row, column.key, token)
        return row.id


def test_admin_reads_a_peer_and_marks_a_conflict_reviewed(page, live_server):
    base, pantau = live_server
    page.set_viewport_size({"width": 1600, "height": 1000})
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.admin_facility_sync")
    expect(page.locator("#fsync-not-configured")).to_contain_text("PANTAU_SYNC_PEERS")
    expect(page.locator("#fsync-not-configured")).to_contain_text("python -m bridge.facility_sync run")
    save_screenshot(page, "facility-sync-off.png")

    with pantau.runtime.db.session() as s:
        site_id = find_user(s, "admin").site_id
        register_site(s, "RS-01", ["PKM-01"])
        note_peer(s, "PKM-01", now=utcnow() - timedelta(seconds=20), message=True, error="clock_skew")
        save_verify(s, "PKM-01", now=utcnow() - timedelta(hours=2), records=41, differing=["3f2a…", "9b1c…"])
        patient = create_patient(
            s,
            pantau.runtime.cipher,
            site_id=site_id,
            mrn="SYN-0001",
            name="Siti Aminah",
            birth_date=date(1990, 5, 17),
            sex="P",
        )
        s.flush()
        sync_id = patient.sync_id
        for n in range(3):
            s.add(
                SyncOutbox(
                    peer="PKM-01",
                    change_id=f"change-{n}",
                    record_id=sync_id,
                    created_at=utcnow() - timedelta(minutes=7 - n),
                )
            )
    phone = add_conflict(pantau, sync_id, "phone", "081234567890", "081298765432")
    address = add_conflict(pantau, sync_id, "address", "Jl. Melati 3", "Jl. Mawar 5")

    page.reload()
    settled(page)
    expect(page.locator("#fsync-not-configured")).to_have_count(0)
    expect(page.locator("#fsync-site")).to_have_text("Situs ini: RS-01")
    peer = page.locator("#fsync-peer-table tr[data-peer='PKM-01']")
    expect(peer.locator("[data-col='pending']")).to_have_text("3")
    expect(peer).to_contain_text("7 menit")  # the oldest unacknowledged change's age
    expect(peer).to_contain_text("clock_skew")
    expect(peer).to_contain_text("41 rekam, 2 berbeda")
    expect(page.locator("#fsync-updated")).to_contain_text("Diperbarui")
    row = page.locator(f"#fsync-conflicts .ag-row[row-id='{phone}']")
    expect(row).to_contain_text("081234567890")
    expect(row).to_contain_text("081298765432")
    expect(row).to_contain_text("Telepon")
    expect(row.locator("a[href='/pasien/SYN-0001']")).to_have_text("SYN-0001")
    expect(page.locator("#fsync-conflict-count")).to_have_text("2")
    save_screenshot(page, "facility-sync.png", full_page=True)

    row.locator(".ag-cell[col-id='field']").click()
    page.click("#fsync-review")
    expect(page.locator("#fsync-feedback-message")).to_contain_text("1 konflik ditandai sudah ditinjau")
    expect(row).to_have_count(0)
    expect(page.locator("#fsync-conflict-count")).to_have_text("1")

    # Another admin marks the address conflict while this page still lists it.
    with pantau.runtime.db.session() as s:
        mark_reviewed(s, Actor(None, "admin-lain", site_id, "10.0.0.9"), [address], utcnow())
    page.locator(f"#fsync-conflicts .ag-row[row-id='{address}'] .ag-cell[col-id='field']").click()
    page.click("#fsync-review")
    expect(page.locator("#fsync-feedback-message")).to_contain_text("sudah ditandai oleh admin lain")
    expect(page.locator("#fsync-conflicts .ag-row")).to_have_count(0)

    with pantau.runtime.db.session() as s:
        marked = s.get(SyncConflict, phone)
        assert marked.reviewed_at is not None and marked.reviewed_by == find_user(s, "admin").id
        assert s.get(SyncConflict, address).reviewed_by is None  # the other admin's mark, untouched
        reads = s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflicts_read")).all()
        assert reads and all(r.username == "admin" for r in reads)
        assert reads[0].detail["mrns"] == ["SYN-0001"]
        reviewed = s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflict_reviewed")).all()
        assert [(r.username, r.target_id) for r in reviewed] == [("admin", str(phone)), ("admin-lain", str(address))]
