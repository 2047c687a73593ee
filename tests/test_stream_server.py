"""The stream server (streams/, uvicorn on a free port) against real PostgreSQL and Redis, over real HTTP: the same
events as the web app's routes, the same session cookie and role checks, the caps, the session re-check, a Redis
outage, and one database read per board update however many screens watch it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
import uvicorn

import streams.board
from auth import users
from auth.session import SESSION_COOKIE
from config import Settings
from data import live_keys
from data.live_store import open_live_store
from data.stream_protocol import REFUSED_RETRY_SECONDS, SESSION_CHECK_SECONDS
from data.wards import bed_by_code
from streams import event_stream
from streams.app import create_app
from testkit.front_desk import call, register_waiting
from testkit.servers import RedisServer, free_port
from tests.test_queue_board import Stream

pytestmark = pytest.mark.services


@contextmanager
def stream_server(settings: Settings) -> Iterator[str]:
    """The stream server for ``settings`` under uvicorn on a free loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the stream server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class Events(Stream):
    """The server-sent events of one open stream over real HTTP, read as a browser would."""

    def __init__(self, response: requests.Response) -> None:  # not Stream's: no Flask test response here
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        self.response = response
        self.lines = response.iter_lines(decode_unicode=True)

    def next_event(self) -> tuple[str, dict]:
        """The next event: its name (``message`` for an unnamed one) and its data."""
        fields: dict[str, str] = {}
        for line in self.lines:
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "data" in fields:
                return fields.get("event", "message"), json.loads(fields["data"])
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def quick(monkeypatch):
    """Heartbeats every 0.3 s, so a test waiting for an event that never comes fails quickly."""
    monkeypatch.setattr(event_stream, "HEARTBEAT_SECONDS", 0.3)


@pytest.fixture
def streams_base(postgres_app, quick) -> Iterator[str]:
    """The stream server beside the test's production-configured app (same database, Redis and secret key)."""
    with stream_server(postgres_app.settings.model_copy(update={"live_stream_seconds": 20})) as base:
        yield base


def cookie_of(pantau, role: str) -> dict[str, str]:
    """The session cookie of ``role``'s demo user, signed in through the web app's real sign-in."""
    return {SESSION_COOKIE: pantau.login(role).get_cookie(SESSION_COOKIE).value}


def get(base: str, path: str, cookies: dict[str, str] | None = None, **options: object) -> requests.Response:
    return requests.get(base + path, cookies=cookies, stream=True, timeout=10, **options)


def test_a_ward_stream_sends_a_snapshot_then_the_wards_messages_and_heartbeats(postgres_app, streams_base):
    stream = Events(get(streams_base, "/stream/ward/ICU", cookie_of(postgres_app, "nurse")))
    kind, snapshot = stream.next_event()
    assert kind == "snapshot" and snapshot["tz"] == "Asia/Jakarta" and snapshot["can_act"] is True
    assert "ICU-03" in snapshot["beds"] and isinstance(snapshot["custom_limits"], list)
    with postgres_app.runtime.db.session() as s:  # what the station compares with its tiles' (assets/ward.js)
        assert snapshot["tiles"]["ICU-03"] == bed_by_code(s, 1, "ICU-03").tile_key
    tick = {"t": "v", "bed": "ICU-03", "hr": 88}
    postgres_app.runtime.live.publish(live_keys.ward_channel("ICU"), json.dumps(tick))
    events = stream.until("message")
    assert events[-1] == ("message", tick)
    kind, beat = stream.next_event()
    assert kind == "heartbeat" and abs(beat["now"] - time.time() * 1000) < 60_000
    stream.close()


def test_a_display_watches_a_ward_read_only(postgres_app, streams_base):
    stream = Events(get(streams_base, "/stream/ward/ICU", cookie_of(postgres_app, "display")))
    assert stream.next_event()[1]["can_act"] is False
    stream.close()


def test_a_call_reaches_a_board_as_an_update_then_an_announcement(postgres_app, streams_base):
    stream = Events(get(streams_base, "/stream/queue/umum", cookie_of(postgres_app, "display")))
    kind, snapshot = stream.next_event()
    assert kind == "snapshot" and "calls" in snapshot
    waiting = register_waiting(postgres_app, "Sri Lestari")
    call(postgres_app, waiting.ticket_id, "Ruang 1")
    events = stream.until("announce")
    updates = [data for kind, data in events if kind == "update"]
    assert updates and updates[-1]["calls"][0]["label"] == waiting.label
    assert events[-1][1]["label"] == waiting.label and "silakan" in events[-1][1]["text"]
    stream.close()


def test_without_a_valid_session_the_streams_answer_401_in_json(postgres_app, streams_base):
    forged = {SESSION_COOKIE: "eyJfdXNlcl9pZCI6IjEifQ.forged.signature"}
    for cookies in (None, forged):
        for path in ("/stream/session", "/stream/ward/ICU", "/stream/queue/umum"):
            answer = get(streams_base, path, cookies)
            assert answer.status_code == 401 and answer.json()["error"], path
    nurse = cookie_of(postgres_app, "nurse")
    assert get(streams_base, "/stream/session", nurse).json() == {"signed_in": True, "display": False}


def test_a_wrong_role_gets_403_and_an_unknown_ward_404(postgres_app, streams_base):
    assert get(streams_base, "/stream/ward/ICU", cookie_of(postgres_app, "front_desk")).status_code == 403
    assert get(streams_base, "/stream/queue/umum", cookie_of(postgres_app, "nurse")).status_code == 403
    assert get(streams_base, "/stream/ward/NO-SUCH-WARD", cookie_of(postgres_app, "nurse")).status_code == 404


def test_an_idle_session_is_signed_out(postgres_app, streams_base):
    client = postgres_app.login("nurse")
    with client.session_transaction() as session:
        session["seen"] = time.time() - (postgres_app.settings.session_timeout_minutes * 60 + 5)
    idle = {SESSION_COOKIE: client.get_cookie(SESSION_COOKIE).value}
    assert get(streams_base, "/stream/ward/ICU", idle).status_code == 401


def test_a_signed_out_session_ends_its_open_stream_within_3_s(postgres_app, streams_base):
    stream = Events(get(streams_base, "/stream/ward/ICU", cookie_of(postgres_app, "nurse")))
    assert stream.next_event()[0] == "snapshot"
    with postgres_app.runtime.db.session() as s:
        nurse = users.find_user(s, "perawat")
        users.end_sessions(s, nurse)
        nurse_id = nurse.id
    started = time.monotonic()
    with pytest.raises(AssertionError, match="the stream ended"):
        while time.monotonic() - started < 10:
            stream.next_event()
    assert time.monotonic() - started < SESSION_CHECK_SECONDS * 2, "within 3 s"
    live = postgres_app.runtime.live
    deadline = time.monotonic() + 3
    while live.slot_members(f"pantau:streams:user:{nurse_id}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.slot_members(f"pantau:streams:user:{nurse_id}") == [], "its place was given back"


def test_open_streams_are_capped(postgres_app, quick):
    settings = postgres_app.settings.model_copy(update={"streams_per_user": 2})
    with stream_server(settings) as base:
        nurse = cookie_of(postgres_app, "nurse")
        opened = [Events(get(base, "/stream/ward/ICU", nurse)) for _ in range(2)]
        refused = get(base, "/stream/ward/ICU", nurse)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == str(REFUSED_RETRY_SECONDS)
        assert "akun ini (paling banyak 2)" in refused.json()["error"]
        assert get(base, "/stream/session", nurse).status_code == 429, "the browser learns why its stream failed"
        assert get(base, "/stream/ward/ICU", cookie_of(postgres_app, "doctor")).status_code == 200
        opened[0].close()
        deadline = time.monotonic() + 5
        while (again := get(base, "/stream/ward/ICU", nurse)).status_code == 429 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert again.status_code == 200, "a closed stream gives its place back"


def test_one_database_read_per_board_update_whatever_the_number_of_screens(postgres_app, streams_base, monkeypatch):
    reads = []
    real = streams.board.read_board
    monkeypatch.setattr(streams.board, "read_board", lambda *args: reads.append(args) or real(*args))
    display = cookie_of(postgres_app, "display")
    screens = [Events(get(streams_base, "/stream/queue/umum", display)) for _ in range(6)]
    assert all(screen.next_event()[0] == "snapshot" for screen in screens)
    reads.clear()  # each screen read its own snapshot on opening
    waiting = register_waiting(postgres_app, "Dewi Anggraini")
    call(postgres_app, waiting.ticket_id, "Ruang 2")
    for screen in screens:
        assert screen.until("announce")[-1][1]["label"] == waiting.label
        screen.close()
    assert 1 <= len(reads) <= 2, f"{len(reads)} reads for 6 screens (a registration, then a call)"


def test_a_redis_outage_ends_the_streams_and_the_server_keeps_running(postgres_app, quick):
    with RedisServer() as redis_server:
        settings = postgres_app.settings.model_copy(update={"redis_url": redis_server.url})
        with stream_server(settings) as base:
            stream = Events(get(base, "/stream/ward/ICU", cookie_of(postgres_app, "nurse")))
            assert stream.next_event()[0] == "snapshot"
            redis_server.halt()
            started = time.monotonic()
            with pytest.raises(AssertionError, match="the stream ended"):
                while time.monotonic() - started < 10:
                    stream.next_event()
            assert time.monotonic() - started < 5
            assert requests.get(f"{base}/stream/healthz", timeout=5).json()["status"] == "ok"
            refused = get(base, "/stream/ward/ICU", cookie_of(postgres_app, "nurse"))
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
            redis_server.start()
            back = Events(get(base, "/stream/ward/ICU", cookie_of(postgres_app, "nurse")))
            assert back.next_event()[0] == "snapshot", "the screen reconnects once Redis is back"
            open_live_store(redis_server.url).publish(live_keys.ward_channel("ICU"), '{"t":"v","bed":"ICU-01"}')
            assert back.until("message")[-1][1]["bed"] == "ICU-01"
            back.close()


def test_a_database_outage_refuses_new_streams_with_503_to_try_again(postgres_app, quick):
    """Opening a stream loads the signed-in account from the database: with the database unreachable the screen gets
    503 with Retry-After (it says it is not live and tries again), as from the web app, not a 500."""
    away = f"postgresql+psycopg2://pantau@127.0.0.1:{free_port()}/pantau"  # nothing listens there
    with stream_server(postgres_app.settings.model_copy(update={"database_url": away})) as base:
        cookies = cookie_of(postgres_app, "nurse")
        for path in ("/stream/session", "/stream/ward/ICU"):
            refused = get(base, path, cookies)
            assert (refused.status_code, refused.headers.get("Retry-After")) == (503, "5"), (path, refused.text)
        assert requests.get(f"{base}/stream/healthz", timeout=5).json()["status"] == "ok"
