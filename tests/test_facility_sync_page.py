"""The facility sync page over HTTP: admins only; off until the site is registered (and then no conflict read is
audited); the peer table on its timer; marking with nothing ticked asks for a tick; English texts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data.models import AuditLog, SyncOutbox
from data.sync_store import register_site
from tests.test_access_control import router_request

PATH = "/admin/sinkron-fasilitas"
UPDATE = "/_dash-update-component"


def peers_callback() -> dict:
    """What the page posts on its 5 s timer."""
    return {
        "output": "..fsync-peers.children...fsync-updated.children..",
        "outputs": [{"id": "fsync-peers", "property": "children"}, {"id": "fsync-updated", "property": "children"}],
        "inputs": [{"id": "fsync-interval", "property": "n_intervals", "value": 2}],
        "changedPropIds": ["fsync-interval.n_intervals"],
        "state": [],
    }


def conflicts_callback() -> dict:
    return {
        "output": "..fsync-conflicts.rowData...fsync-conflict-count.children..",
        "outputs": [
            {"id": "fsync-conflicts", "property": "rowData"},
            {"id": "fsync-conflict-count", "property": "children"},
        ],
        "inputs": [
            {"id": "fsync-version", "property": "data", "value": 0},
            {"id": "fsync-reload", "property": "n_clicks", "value": None},
        ],
        "changedPropIds": [],
        "state": [],
    }


def review_callback(selected: list[dict]) -> dict:
    return {
        "output": "..fsync-feedback.children...fsync-version.data..",
        "outputs": [{"id": "fsync-feedback", "property": "children"}, {"id": "fsync-version", "property": "data"}],
        "inputs": [{"id": "fsync-review", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["fsync-review.n_clicks"],
        "state": [
            {"id": "fsync-conflicts", "property": "selectedRows", "value": selected},
            {"id": "fsync-version", "property": "data", "value": 0},
        ],
    }


def reads(app) -> int:
    with app.runtime.db.session() as s:
        return len(s.scalars(select(AuditLog).where(AuditLog.action == "sync_conflicts_read")).all())


@pytest.mark.parametrize("role,status", [("admin", 200), ("manager", 403), ("front_desk", 403), ("nurse", 403)])
def test_admins_only(login, role, status):
    client = login(role)
    assert client.get(PATH).status_code == status
    assert client.post(UPDATE, json=peers_callback()).status_code == status
    assert client.post(UPDATE, json=review_callback([{"id": 1}])).status_code == status


def test_off_until_registered_then_the_peer_shows(sqlite_app, login):
    admin = login("admin")
    routed = admin.post(UPDATE, json=router_request(PATH)).get_data(as_text=True)
    assert "fsync-not-configured" in routed and "PANTAU_SYNC_KEYS" in routed
    assert "Belum ada situs mitra aktif" in admin.post(UPDATE, json=peers_callback()).get_data(as_text=True)
    assert admin.post(UPDATE, json=conflicts_callback()).status_code == 200
    assert reads(sqlite_app) == 0  # nothing opened, nothing to audit

    with sqlite_app.runtime.db.session() as s:
        register_site(s, "RS-01", ["PKM-01"])
        s.add(SyncOutbox(peer="PKM-01", change_id="c1", record_id="r1"))
    routed = admin.post(UPDATE, json=router_request(PATH)).get_data(as_text=True)
    assert "fsync-not-configured" not in routed and "Situs ini: RS-01" in routed
    peers = admin.post(UPDATE, json=peers_callback()).get_data(as_text=True)
    assert "PKM-01" in peers and "Diperbarui" in peers
    assert admin.post(UPDATE, json=conflicts_callback()).status_code == 200
    assert reads(sqlite_app) == 0  # no open conflict: no read


def test_marking_with_nothing_ticked_asks_for_a_tick(sqlite_app, login):
    answer = login("admin").post(UPDATE, json=review_callback([]))
    assert answer.status_code == 200
    assert "Centang dulu konflik" in answer.get_data(as_text=True)


def test_english(sqlite_app, login):
    admin = login("admin")
    admin.get("/lang/en")
    routed = admin.post(UPDATE, json=router_request(PATH)).get_data(as_text=True)
    assert "Facility sync is not configured in this database." in routed
