"""The BPJS sync status page over HTTP: access per role, failures with BPJS's message, retry (admins and managers
only, checked on the server), completeness on hand-built visits, the sandbox/production badge, and the figures."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from components.shell import THEME_STORE
from data.bpjs_outbox import OutboxItem, claim_next, mark_failed, mark_sent
from data.bpjs_status import BpjsTarget, bpjs_target, percentile, sync_status
from data.models import AuditLog, BpjsOutbox, Doctor, Poli, Site
from domain.clock import utcnow
from tests.test_access_control import router_request
from tests.test_bpjs_outbox import jkn_bookings
from tests.test_queue_reports import DAY, add_session, add_visit, utc

PATH = "/bpjs/sinkronisasi"
BPJS_MESSAGE = "Dokter tidak ditemukan pada poli tersebut"  # the sandbox's (and BPJS's) wording
REFRESH = "..bsync-cards.children...bsync-failures.children...bsync-stall.children.."


def refresh_callback(trigger: str = "bsync-interval.n_intervals") -> dict:
    """What the page posts on its 10 s timer (or after a retry bumps the version)."""
    return {
        "output": REFRESH,
        "outputs": [
            {"id": "bsync-cards", "property": "children"},
            {"id": "bsync-failures", "property": "children"},
            {"id": "bsync-stall", "property": "children"},
        ],
        "inputs": [
            {"id": "bsync-interval", "property": "n_intervals", "value": 3},
            {"id": "bsync-version", "property": "data", "value": 0},
        ],
        "changedPropIds": [trigger],
        "state": [],
    }


def retry_callback(item_id: int) -> dict:
    """What the browser posts when "Kirim ulang" of row ``item_id`` is clicked."""
    button = {"id": item_id, "type": "bsync-retry"}
    return {
        "output": "..bsync-feedback.children...bsync-version.data..",
        "outputs": [{"id": "bsync-feedback", "property": "children"}, {"id": "bsync-version", "property": "data"}],
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "changedPropIds": [json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
        "state": [{"id": "bsync-version", "property": "data", "value": 0}],
    }


def completeness_callback(day: str) -> dict:
    return {
        "output": "..bsync-completeness.children...bsync-completeness-chart.figure..",
        "outputs": [
            {"id": "bsync-completeness", "property": "children"},
            {"id": "bsync-completeness-chart", "property": "figure"},
        ],
        "inputs": [
            {"id": "bsync-day", "property": "date", "value": day},
            {"id": "bsync-interval", "property": "n_intervals", "value": 0},
            {"id": THEME_STORE, "property": "data", "value": "dark"},
        ],
        "changedPropIds": ["bsync-day.date"],
        "state": [],
    }


def shown(response) -> str:
    """The visible text of a callback's answer (every output)."""
    outputs = json.loads(response.get_data(as_text=True))["response"].values()
    return "\n".join(_text(props) for output in outputs for props in output.values())


def failed_booking(pantau) -> tuple[str, int]:
    """One JKN booking whose antrean/add BPJS refused with a message; its task 3 waits behind it."""
    (code,) = jkn_bookings(pantau, 1)
    with pantau.runtime.db.session() as s:
        head = claim_next(s, utcnow() + timedelta(seconds=5))
        mark_failed(s, head, 201, BPJS_MESSAGE)
    return code, head.id


def state_of(pantau, item_id: int) -> str:
    with pantau.runtime.db.session() as s:
        return s.get(BpjsOutbox, item_id).state


@pytest.mark.parametrize(
    "role,status", [("admin", 200), ("manager", 200), ("front_desk", 200), ("nurse", 403), ("doctor", 403)]
)
def test_page_access_per_role(login, role, status):
    client = login(role)
    assert client.get(PATH).status_code == status
    routed = client.post("/_dash-update-component", json=router_request(PATH)).get_data(as_text=True)
    assert ("bsync-cards" in routed) is (status == 200)
    assert client.post("/_dash-update-component", json=refresh_callback()).status_code == status


def test_anonymous_is_sent_to_sign_in(client):
    page = client.get(PATH)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/bpjs/sinkronisasi")
    assert client.post("/_dash-update-component", json=refresh_callback()).status_code == 401


def test_a_failed_row_shows_bpjs_message_and_the_booking(any_app, login):
    code, item_id = failed_booking(any_app)
    admin = login("admin").post("/_dash-update-component", json=refresh_callback())
    assert admin.status_code == 200
    text = shown(admin)
    assert BPJS_MESSAGE in text and code in text and "antrean/add (pendaftaran)" in text and "Kirim ulang" in text
    assert f'"id":{{"type":"bsync-retry","id":{item_id}}}' in admin.get_data(as_text=True)
    desk = login("front_desk").post("/_dash-update-component", json=refresh_callback())
    assert BPJS_MESSAGE in shown(desk) and code in shown(desk)
    assert "bsync-retry" not in desk.get_data(as_text=True)  # the front desk reads only


def test_retry_by_admin_puts_the_row_back_in_line_and_is_audited(any_app, login):
    code, item_id = failed_booking(any_app)
    answer = login("admin").post("/_dash-update-component", json=retry_callback(item_id))
    assert answer.status_code == 200
    assert f"antrean/add (pendaftaran) untuk booking {code} kembali menunggu dikirim." in shown(answer)
    assert state_of(any_app, item_id) == "pending"
    with any_app.runtime.db.session() as s:
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "bpjs_outbox_retried"))
        assert (audit.username, audit.target_id, audit.detail["booking_code"]) == ("admin", str(item_id), code)
    again = login("manager").post("/_dash-update-component", json=retry_callback(item_id))
    assert "sudah tidak berstatus gagal" in shown(again)  # nothing to retry twice


def test_the_front_desk_cannot_retry_with_a_crafted_request(any_app, login):
    _, item_id = failed_booking(any_app)
    answer = login("front_desk").post("/_dash-update-component", json=retry_callback(item_id))
    assert "Hanya admin dan manajer yang boleh mengirim ulang data ke BPJS." in shown(answer)
    assert state_of(any_app, item_id) == "failed"
    with any_app.runtime.db.session() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "bpjs_outbox_retried")) is None
    nurse = login("nurse").post("/_dash-update-component", json=retry_callback(item_id))
    assert nurse.status_code == 403 and state_of(any_app, item_id) == "failed"


def test_completeness_of_hand_built_visits(any_app, login):
    with any_app.runtime.db.session() as s:
        polis = {p.code: p for p in s.scalars(select(Poli))}
        doctors = {c: s.scalar(select(Doctor).where(Doctor.poli_id == p.id).limit(1)) for c, p in polis.items()}
        umum = add_session(s, polis["UMU"], doctors["UMU"], DAY, started=utc(DAY, 1))
        anak = add_session(s, polis["ANA"], doctors["ANA"], DAY, started=utc(DAY, 1))
        h = lambda hh, mm=0: utc(DAY, hh, mm)  # noqa: E731
        jkn = [
            add_visit(s, umum, {3: h(1), 4: h(1, 20), 5: h(1, 30)}, "done"),  # complete
            add_visit(s, umum, {3: h(1), 5: h(1, 30)}, "done"),  # task 4 missing
            add_visit(s, umum, {3: h(1, 10), 99: h(2)}, "cancelled"),  # a no-show's 3 + 99 is complete
            add_visit(s, umum, {3: h(1, 40)}),  # still waiting: not judged yet
            add_visit(s, anak, {3: h(1), 4: h(1, 30), 5: h(1, 20)}, "done"),  # 5 before 4
        ]
        for visit in jkn:
            visit.payer = "jkn"
        add_visit(s, anak, {3: h(1)}, "done")  # not JKN: BPJS does not count it
    body = (
        login("manager")
        .post("/_dash-update-component", json=completeness_callback(DAY.isoformat()))
        .get_data(as_text=True)
    )
    table = json.loads(body)["response"]["bsync-completeness"]["children"]
    rows = [
        [_text(cell) for cell in row["props"]["children"]] for row in table["props"]["children"][1]["props"]["children"]
    ]
    assert rows == [
        ["Poli Anak", "1", "1", "0", "0 %"],
        ["Poli Umum", "4", "3", "2", "67 %"],
        ["Semua poli", "5", "4", "2", "50 %"],
    ]
    figure = json.loads(body)["response"]["bsync-completeness-chart"]["figure"]
    assert figure["data"][0]["y"] == [0.0, pytest.approx(200 / 3)]
    assert figure["layout"]["shapes"][0]["y0"] == 100  # the target line


def _text(node) -> str:
    """The visible text of a rendered Dash component tree (JSON form)."""
    if isinstance(node, dict):
        return _text(node.get("props", {}).get("children"))
    if isinstance(node, list):
        return "".join(_text(n) for n in node)
    return "" if node is None else str(node)


@pytest.mark.parametrize(
    "url,badge",
    [
        ("https://apijkn.bpjs-kesehatan.go.id/antreanrs", "PRODUKSI — apijkn.bpjs-kesehatan.go.id"),
        ("https://apijkn-dev.bpjs-kesehatan.go.id/antreanrs_dev", "SANDBOX"),
        ("http://127.0.0.1:8050/bpjs-sandbox/", "SANDBOX"),
        ("http://bpjs-sandbox:8081", "SANDBOX"),
        ("", "SANDBOX"),
    ],
)
def test_the_badge_follows_the_configured_server(sqlite_app, monkeypatch, url, badge, login):
    settings = sqlite_app.runtime.settings
    monkeypatch.setattr(settings, "bpjs_base_url", url)
    for name in ("bpjs_cons_id", "bpjs_secret", "bpjs_user_key"):
        monkeypatch.setattr(settings, name, "x" if url else "")
    routed = login("front_desk").post("/_dash-update-component", json=router_request(PATH))
    layout = routed.get_data(as_text=True)
    assert badge in layout
    assert ("PRODUKSI" in layout) is (not badge.startswith("SANDBOX"))
    assert ("BPJS belum dikonfigurasi" in layout) is (not url)


def test_target_rules():
    def target(url: str, **creds: str):
        values = {"bpjs_cons_id": "1", "bpjs_secret": "s", "bpjs_user_key": "k", **creds}
        return bpjs_target(SimpleNamespace(bpjs_base_url=url, **values))

    production = BpjsTarget("production", "apijkn.bpjs-kesehatan.go.id", True)
    assert target("https://apijkn.bpjs-kesehatan.go.id/antreanrs") == production
    assert target("http://localhost:8081").mode == "sandbox"
    assert target("https://[::1]:8443/") == BpjsTarget("sandbox", "[::1]:8443", True)
    assert target("https://user:secret@bpjs.example.id:8443/x").host == "bpjs.example.id:8443"  # no credentials
    assert not target("https://apijkn.bpjs-kesehatan.go.id/antreanrs", bpjs_secret="").configured
    assert target("") == BpjsTarget("sandbox", "", False)


def test_figures_ack_times_oldest_and_a_stalled_worker(any_app):
    """Two acknowledged rows (1 s and 3 s after their event), a failure holding its booking, and a row due for
    two minutes that no worker took."""
    first, second, third = jkn_bookings(any_app, 3)
    now = utcnow()
    with any_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        rows = {(r.booking_code, r.kind): r for r in s.scalars(select(BpjsOutbox))}
        for kind, delay in (("antrean_add", 1), ("updatewaktu", 3)):
            row = rows[(first, kind)]
            row.created_at = now - timedelta(minutes=5)
            mark_sent(s, OutboxItem.of(row), 200, row.created_at + timedelta(seconds=delay))
        mark_failed(s, OutboxItem.of(rows[(second, "antrean_add")]), 201, BPJS_MESSAGE)
        rows[(second, "updatewaktu")].next_attempt_at = now - timedelta(hours=1)  # held behind the failure
        for kind in ("antrean_add", "updatewaktu"):
            rows[(third, kind)].created_at = now - timedelta(minutes=3)
        rows[(third, "antrean_add")].next_attempt_at = now - timedelta(minutes=2)
    with any_app.runtime.db.session() as s:
        status = sync_status(s, site_id, now)
    assert status.counts == {"pending": 3, "sent": 2, "failed": 1}
    assert status.sent_last_hour == 2 and status.acked_today == 2
    assert (status.ack_p50_seconds, status.ack_p95_seconds) == (2.0, pytest.approx(2.9))
    assert status.oldest_pending == rows_time(any_app, third)
    assert status.stalled_since == now - timedelta(minutes=2)
    assert [f["booking_code"] for f in status.failures] == [second]
    assert percentile([], 0.5) is None and percentile([4.0], 0.95) == 4.0


def rows_time(pantau, code: str):
    with pantau.runtime.db.session() as s:
        return min(s.scalars(select(BpjsOutbox.created_at).where(BpjsOutbox.booking_code == code)))


def test_the_page_renders_the_figures_and_the_stall_warning(sqlite_app, login):
    jkn_bookings(sqlite_app, 1)
    with sqlite_app.runtime.db.session() as s:
        for row in s.scalars(select(BpjsOutbox)):
            row.created_at = row.next_attempt_at = utcnow() - timedelta(minutes=3)
    text = shown(login("admin").post("/_dash-update-component", json=refresh_callback()))
    assert "3 menit" in text  # the oldest pending row's age
    assert "Pengiriman macet sejak" in text and "tidak berjalan" in text
    assert "Tidak ada data yang ditolak BPJS." in text


def test_the_refresh_timer_does_not_keep_an_idle_session_alive(login):
    client = login("manager")
    with client.session_transaction() as session:
        session["seen"] = idle_since = time.time() - 600
    assert client.post("/_dash-update-component", json=refresh_callback()).status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == idle_since
    client.post("/_dash-update-component", json=refresh_callback("bsync-version.data"))  # after a click: activity
    with client.session_transaction() as session:
        assert session["seen"] > idle_since
