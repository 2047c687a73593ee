"""Sessions the server ends: sign-out by POST only (a replayed cookie is refused), a password change, an admin's
reset, disabling or a revoked TV end the account's other sessions and their live streams within seconds, an absolute
lifetime besides the idle timeout, and caps on open live streams per user and per address that every web worker
shares (the live store's counted sets, with Redis on PostgreSQL)."""

from __future__ import annotations

import contextvars
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from api import live, sse
from auth import users
from auth.tv_boards import create_tv_board, list_tv_boards, revoke_tv_board
from data.live_store import UNCAPPED, MemoryLiveStore, open_live_store
from data.models import AuditLog
from domain.actor import Actor
from tests.fixtures_app import csrf_token
from tests.test_auth_http import change_password
from tests.test_queue_board import Stream

ADMIN = Actor(None, "test-admin", 1)
COOKIE = "pantau_session"
NEW_PASSWORD = "kopi tubruk gula aren di pagi hari"


def sign_out(client) -> None:
    """Post the sign-out form as its page does (GET /logout for the token, then POST)."""
    token = csrf_token(client.get("/logout").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def signed_in(client) -> bool:
    """Whether ``client``'s session still opens a page (a signed-out one is sent to the sign-in page)."""
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@dataclass
class Opened:
    """A stream request made in a context of its own, as on a web worker's own thread: Flask keeps an open stream's
    request context pushed, and a later request in the same context would share its ``g`` (its signed-in user)."""

    context: contextvars.Context
    response: TestResponse

    @classmethod
    def get(cls, client, path: str, **options: object) -> Opened:
        context = contextvars.Context()
        return cls(context, context.run(client.get, path, **options))

    @property
    def status(self) -> int:
        return self.response.status_code

    def events(self) -> Stream:
        """The stream's events, read in its own context."""
        stream = Stream(self.response)
        chunks = stream.chunks
        stream.chunks = iter(lambda: self.context.run(next, chunks, None), None)
        return stream

    def close(self) -> None:
        self.context.run(self.response.close)


def last_audit(pantau) -> AuditLog:
    with pantau.runtime.db.session() as db:
        row = db.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
        db.expunge(row)
        return row


def demo_user(pantau, username: str):
    with pantau.runtime.db.session() as db:
        return users.find_user(db, username)


# ------------------------------------------------------------------------------------------------ sign-out


def test_a_get_of_logout_only_asks(any_app, login, client):
    nurse = login("nurse")
    page = nurse.get("/logout")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="logout-title">Keluar dari Pantau?' in body
    assert '<form method="post" action="/logout">' in body and csrf_token(body)
    assert signed_in(nurse), "a link, an <img src> or a prefetch of /logout must not end the session"
    assert last_audit(any_app).action != "logout"
    anonymous = client.get("/logout")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login"


def test_a_logout_post_without_its_token_is_refused_and_asks_again(any_app, login):
    nurse = login("nurse")
    refused = nurse.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert "Formulir keluar sudah kedaluwarsa" in refused.get_data(as_text=True)
    assert signed_in(nurse)
    sign_out(nurse)
    assert not signed_in(nurse) and last_audit(any_app).action == "logout"


def test_a_cookie_kept_from_before_the_sign_out_is_refused(any_app, login):
    nurse = login("nurse")
    kept = nurse.get_cookie(COOKIE).value
    sign_out(nurse)
    replay = any_app.client()
    replay.set_cookie(COOKIE, kept)
    assert not signed_in(replay)
    assert replay.get("/stream/session").status_code == 401
    assert replay.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401


def test_signing_out_ends_the_accounts_other_sessions_too(login):
    here, there = login("nurse"), login("nurse")
    sign_out(here)
    assert not signed_in(there)


# ------------------------------------------------------------------------------ changes that end sessions


def test_a_password_change_ends_the_other_sessions_but_keeps_this_one(any_app, login):
    here, there = login("nurse"), login("nurse")
    assert change_password(here, any_app.creds.password, NEW_PASSWORD).status_code == 302
    assert signed_in(here), "the session that changed the password goes on"
    assert not signed_in(there)
    assert there.get("/stream/session").status_code == 401


def test_an_admin_reset_ends_the_users_sessions(any_app, login):
    nurse = login("nurse")
    with any_app.runtime.db.session() as db:
        users.reset_password(db, ADMIN, users.find_user(db, "perawat"), NEW_PASSWORD)
    assert not signed_in(nurse)


def test_disabling_an_account_ends_its_sessions(any_app, login):
    nurse = login("nurse")
    with any_app.runtime.db.session() as db:
        users.set_active(db, ADMIN, users.find_user(db, "perawat"), False)
    assert not signed_in(nurse)
    assert nurse.get("/stream/session").status_code == 401


# --------------------------------------------------------------------------------------- absolute lifetime


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(any_app, login):
    nurse = login("nurse")
    hours = any_app.settings.session_absolute_hours
    with nurse.session_transaction() as session:
        session["signed_in_at"] = time.time() - hours * 3600 + 60  # a minute left
        session["seen"] = time.time()
    assert signed_in(nurse)
    with nurse.session_transaction() as session:
        session["signed_in_at"] = time.time() - hours * 3600 - 1
        session["seen"] = time.time()  # busy all along: the idle timeout would not end it
    assert not signed_in(nurse)
    row = last_audit(any_app)
    assert (row.action, row.username, row.detail) == ("session_expired", "perawat", {"reason": "absolute"})


def test_an_idle_session_is_audited_as_idle(any_app, login):
    nurse = login("nurse")
    with nurse.session_transaction() as session:
        session["seen"] = time.time() - any_app.settings.session_timeout_minutes * 60 - 5
    assert not signed_in(nurse)
    assert last_audit(any_app).detail == {"reason": "idle"}


def test_a_session_from_before_the_lifetime_counts_from_now(login):
    nurse = login("nurse")
    with nurse.session_transaction() as session:
        del session["signed_in_at"]
    assert signed_in(nurse)
    with nurse.session_transaction() as session:
        assert abs(session["signed_in_at"] - time.time()) < 60


def test_a_tv_board_has_no_absolute_lifetime(any_app, login):
    tv = login("display")
    with tv.session_transaction() as session:
        session["signed_in_at"] = time.time() - any_app.settings.session_absolute_hours * 3600 * 10
    assert tv.get("/stream/session").status_code == 200


# ---------------------------------------------------------------------------- live streams end with them


@pytest.fixture
def timed_streams(monkeypatch):
    """Streams that would last 20 s and beat every 0.5 s: one still open after 6 s failed to end."""
    monkeypatch.setattr(live, "stream_seconds", lambda: 20)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)


def ends_within(stream: Stream, seconds: float) -> float:
    """How long ``stream`` took to end; fails when it sends events for longer than ``seconds``."""
    start = time.monotonic()
    with pytest.raises(AssertionError, match="the stream ended"):
        while time.monotonic() - start < seconds:
            stream.next_event()
    took = time.monotonic() - start
    assert took < seconds, f"the stream went on for {took:.1f} s"
    return took


def test_a_ward_stream_ends_within_seconds_of_a_password_change_elsewhere(any_app, login, timed_streams):
    station, desk = login("nurse"), login("nurse")
    stream = Opened.get(station, "/stream/ward/ICU").events()
    assert stream.next_event()[0] == "snapshot"
    assert change_password(desk, any_app.creds.password, NEW_PASSWORD).status_code == 302
    assert ends_within(stream, 6) <= sse.SESSION_CHECK_SECONDS * 2 + 1
    assert station.get("/stream/session").status_code == 401, "the browser's check then says: signed out"
    assert desk.get("/stream/session").status_code == 200
    nurse = demo_user(any_app, "perawat")
    assert any_app.runtime.live.slot_members(f"pantau:streams:user:{nurse.id}") == [], "its place was given back"


def test_a_revoked_tvs_board_stream_ends_within_seconds(any_app, monkeypatch):
    from api import queue_stream

    monkeypatch.setattr(queue_stream, "stream_seconds", lambda: 20)
    monkeypatch.setattr(queue_stream, "HEARTBEAT_SECONDS", 0.5)
    with any_app.runtime.db.session() as db:
        _, token = create_tv_board(db, ADMIN, "/papan/umum", "TV Ruang Tunggu")
    tv = any_app.client()
    assert tv.get(f"/tv/{token}").status_code == 302
    stream = Opened.get(tv, "/stream/queue/umum").events()
    assert stream.next_event()[0] == "snapshot"
    with any_app.runtime.db.session() as db:
        board = next(b for b in list_tv_boards(db, 1) if b.label == "TV Ruang Tunggu")
        revoke_tv_board(db, ADMIN, board.token_id)
    ends_within(stream, 6)
    assert tv.get("/stream/session").status_code == 401


# ------------------------------------------------------------------------------------------ stream caps


def test_open_streams_are_capped_per_user(any_app, login, monkeypatch):
    monkeypatch.setattr(any_app.settings, "streams_per_user", 2)
    nurse = login("nurse")
    first, second = Opened.get(nurse, "/stream/ward/ICU"), Opened.get(nurse, "/stream/ward/ICU")
    assert first.status == second.status == 200
    refused = nurse.get("/stream/ward/ICU")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(sse.REFUSED_RETRY_SECONDS)
    message = refused.get_json()["error"]
    assert "akun ini (paling banyak 2)" in message
    assert nurse.get("/stream/session").status_code == 429, "the browser learns why its stream failed"
    assert nurse.get("/stream/session").get_json()["error"] == message
    doctors = Opened.get(login("doctor"), "/stream/ward/ICU")
    assert doctors.status == 200, "another user has places of her own"
    first.close()
    again = Opened.get(nurse, "/stream/ward/ICU")
    assert again.status == 200, "a closed stream gives its place back"
    for opened in (second, doctors, again):
        opened.close()


def test_open_streams_are_capped_per_address(any_app, login, monkeypatch):
    monkeypatch.setattr(any_app.settings, "streams_per_address", 2)
    ward = {"REMOTE_ADDR": "10.1.2.3"}
    opened = [Opened.get(login(role), "/stream/ward/ICU", environ_base=ward) for role in ("nurse", "doctor")]
    assert [o.status for o in opened] == [200, 200]
    admin = login("admin")
    refused = admin.get("/stream/ward/ICU", environ_base=ward)
    assert refused.status_code == 429 and "jaringan ini (paling banyak 2)" in refused.get_json()["error"]
    elsewhere = Opened.get(admin, "/stream/ward/ICU", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.status == 200
    for stream in (*opened, elsewhere):
        stream.close()


def test_a_stream_refused_by_its_route_gives_its_place_back(any_app, login, monkeypatch):
    monkeypatch.setattr(any_app.settings, "streams_per_user", 1)
    nurse = login("nurse")
    assert nurse.get("/stream/ward/NO-SUCH-WARD").status_code == 404
    opened = Opened.get(nurse, "/stream/ward/ICU")
    assert opened.status == 200
    opened.close()


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """A live store of each kind, empty."""
    if request.param == "memory":
        yield MemoryLiveStore()
        return
    live = open_live_store(request.getfixturevalue("redis_url"))
    yield live
    live.close()


def test_counted_sets_claim_all_or_none_and_lapse_unless_renewed(store):
    user, address = f"t:{uuid.uuid4().hex}:user", f"t:{uuid.uuid4().hex}:addr"
    assert store.claim_slot({user: 2, address: 3}, "a", 0.6) is None
    assert store.claim_slot({user: 2, address: 3}, "b", 0.6) is None
    assert store.claim_slot({user: 2, address: 3}, "c", 0.6) == user
    assert sorted(store.slot_members(address)) == ["a", "b"], "a refused claim holds no place anywhere"
    assert store.claim_slot({user: 2, address: 3}, "a", 0.6) is None, "a member already held is no new place"
    time.sleep(0.3)
    store.renew_slot([user, address], "a", 0.6)
    time.sleep(0.4)  # "b" lapsed (a killed worker's stream); "a" was renewed
    assert store.slot_members(user) == store.slot_members(address) == ["a"]
    store.release_slot([user, address], "a")
    store.release_slot([user, address], "a")
    assert store.slot_members(user) == []
    store.renew_slot([user], "a", 0.6)
    assert store.slot_members(user) == [], "a released place is not renewed back"


def test_a_member_leaves_a_counted_set_only_while_another_stays(store):
    """Two consumers leaving the shared subscription at once: one of them stays, so the broker keeps its messages."""
    share = f"t:{uuid.uuid4().hex}:share"
    assert store.release_slot_unless_alone(share, "a") is False, "an empty set has no one else"
    store.claim_slot({share: UNCAPPED}, "a", 5)
    assert store.release_slot_unless_alone(share, "a") is False, "alone: it stays"
    assert store.slot_members(share) == ["a"]
    store.claim_slot({share: UNCAPPED}, "b", 0.3)
    store.claim_slot({share: UNCAPPED}, "c", 5)
    assert store.release_slot_unless_alone(share, "a") is True
    assert store.release_slot_unless_alone(share, "x") is True, "not a member: others stay"
    time.sleep(0.4)  # "b" lapsed (a killed consumer): it is no one to leave the share to
    assert store.release_slot_unless_alone(share, "c") is False
    assert store.slot_members(share) == ["c"]
