"""The ward stream's contract with the reconnecting client: heartbeats, a JSON 401 for an ended session, read-only
ward stations for display tokens (made with the operator commands)."""

from __future__ import annotations

import json
import re
import time

import pytest
from flask.sessions import SecureCookieSessionInterface

from api import live, queue_stream
from auth import users
from auth.session import SESSION_COOKIE
from data import live_keys
from data.alarm_limits import publish_limits_changed
from data.live_store import LiveStoreError
from data.wards import find_ward, ward_beds
from domain.actor import Actor
from domain.errors import InputError
from tests.test_queue_board import Stream


@pytest.fixture
def short_streams(monkeypatch):
    """Streams that end within seconds and beat often, so a missing event fails the test instead of hanging it."""
    monkeypatch.setattr(live, "stream_seconds", lambda: 3)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)


def test_the_stream_starts_with_a_snapshot_then_beats_in_quiet_spells_and_ends(short_streams, app, login):
    stream = Stream(login("nurse").get("/stream/ward/ICU"))
    kind, snapshot = stream.next_event()
    assert kind == "snapshot"
    assert snapshot["tz"] == "Asia/Jakarta" and snapshot["can_act"] is True
    assert "ICU-03" in snapshot["beds"] and isinstance(snapshot["custom_limits"], list)
    with app.runtime.db.session() as s:  # what the station compares with its tiles' (assets/ward.js)
        assert snapshot["tiles"] == {bed.code: bed.tile_key for bed in ward_beds(s, find_ward(s, 1, "ICU").id)}
    kind, beat = stream.next_event()
    assert kind == "heartbeat" and abs(beat["now"] - time.time() * 1000) < 60_000
    with pytest.raises(AssertionError, match="the stream ended"):
        for _ in range(100):  # 3 s of beats every 0.2 s is 15 events; a stream that never ended fails here
            stream.next_event()


def test_a_bed_whose_limits_change_is_marked_through_the_stream(sqlite_app, short_streams, login):
    stream = Stream(login("nurse").get("/stream/ward/ICU"))
    assert stream.next_event()[0] == "snapshot"
    publish_limits_changed(sqlite_app.runtime.live, "ICU", "ICU-02", custom=True)
    messages = [  # until the short stream ends
        json.loads(line.removeprefix("data: "))
        for chunk in stream.chunks
        for line in chunk.decode().splitlines()
        if line.startswith("data: {") and '"now"' not in line
    ]
    assert {"t": "l", "bed": "ICU-02", "custom": True} in messages


def test_an_ended_session_gets_a_json_401_not_a_sign_in_page(sqlite_app, client, login):
    for path in ("/stream/session", "/stream/ward/ICU"):
        response = client.get(path)
        assert response.status_code == 401 and "error" in response.get_json()
    nurse = login("nurse")
    assert nurse.get("/stream/session").get_json() == {"signed_in": True, "display": False}
    with nurse.session_transaction() as session:
        session["seen"] = time.time() - (sqlite_app.settings.session_timeout_minutes * 60 + 5)
    assert nurse.get("/stream/session").status_code == 401
    assert nurse.get("/stream/ward/ICU").status_code == 401


@pytest.mark.parametrize(("path", "status"), [("/stream/session", 200), ("/akun/sesi", 204)])
def test_checking_or_renewing_the_session_is_not_activity(login, path, status):
    nurse = login("nurse")
    with nurse.session_transaction() as session:
        session["seen"] = seen = time.time() - 60
    assert nurse.get(path).status_code == status
    with nurse.session_transaction() as session:
        assert session["seen"] == seen


def test_a_screen_renews_its_session_cookie(sqlite_app, client):
    """/akun/sesi (a live screen's call every half hour, assets/live_stream.js) writes the session cookie anew: a
    later signing time, so a TV whose streams come from the stream server is not refused once the cookie it got
    when the board opened is a day old. For a person it is no activity (the test above)."""
    assert client.get("/akun/sesi", headers={"Accept": "application/json"}).status_code == 401
    tv = sqlite_app.client()
    assert tv.get(f"/tv/{sqlite_app.creds.display_token}").status_code == 302
    signer = SecureCookieSessionInterface().get_signing_serializer(sqlite_app.server)
    _, signed = signer.loads(tv.get_cookie(SESSION_COOKIE).value, return_timestamp=True)
    time.sleep(1.1)  # the signing time counts whole seconds
    renewed = tv.get("/akun/sesi")
    assert renewed.status_code == 204
    values, signed_again = signer.loads(tv.get_cookie(SESSION_COOKIE).value, return_timestamp=True)
    assert signed_again > signed and values["_user_id"]


def test_a_display_token_opens_a_read_only_ward_station(sqlite_app, short_streams):
    runner = sqlite_app.server.test_cli_runner()
    made = runner.invoke(args=["create-user", "tv.icu", "--name", "TV ICU", "--role", "display"])
    assert made.exit_code == 0, made.output
    assert "temporary password" not in made.output and "create-display-token tv.icu" in made.output
    refused = runner.invoke(args=["create-display-token", "tv.icu", "--label", "ICU", "--board", "/bangsal/NOPE"])
    assert refused.exit_code != 0 and "/bangsal/ICU" in refused.output
    result = runner.invoke(args=["create-display-token", "tv.icu", "--label", "ICU", "--board", "/bangsal/ICU"])
    assert result.exit_code == 0, result.output
    token = re.search(r"/tv/(\S+)", result.output).group(1)

    tv = sqlite_app.client()
    signed_in = tv.get(f"/tv/{token}")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/bangsal/ICU"
    page = tv.get("/bangsal/ICU")
    assert page.status_code == 200, "a display account is never sent to change a password it cannot type"
    stream = Stream(tv.get("/stream/ward/ICU"))
    kind, snapshot = stream.next_event()
    stream.response.close()  # ends the stream's request context in this thread
    assert kind == "snapshot" and snapshot["can_act"] is False
    assert tv.post("/api/beds/ICU-03/alarms/ack", json={"condition": "spo2_low"}).status_code == 403
    assert tv.post("/api/beds/ICU-03/alarms/pause", json={"seconds": 120}).status_code == 403


def test_a_display_only_account_never_has_to_change_its_password(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        cli = Actor(None, "cli", None)
        tv = users.create_user(
            s, cli, site_id=users.find_user(s, "perawat").site_id, username="tv.mel", full_name="TV MEL",
            roles=["display"], password="a-long-enough-password",
        )  # fmt: skip
        assert tv.must_change_password is False
        users.reset_password(s, cli, tv, "another-long-password")
        assert tv.must_change_password is False
        nurse = users.find_user(s, "perawat")
        users.reset_password(s, cli, nurse, "another-long-password")
        assert nurse.must_change_password is True
        with pytest.raises(InputError) as refused:
            users.create_display_token(s, cli, tv, "MEL", "/bangsal/XX")
        assert refused.value.key == "board_err_unknown_path"
        assert users.create_display_token(s, cli, tv, "MEL", "/bangsal/MEL")
        assert users.create_display_token(s, cli, tv, "Farmasi", "/papan/farmasi")


def test_the_station_names_who_acknowledged_an_alarm(sqlite_app, short_streams, login):
    with sqlite_app.runtime.db.session() as s:
        nurse_id = users.find_user(s, "perawat").id
    acked = {"condition": "spo2_low", "priority": "high", "acked": True, "ack_by": nurse_id}
    sqlite_app.runtime.live.set_latest(live_keys.ward_alarms("ICU"), {"ICU-01": json.dumps([acked])})
    stream = Stream(login("nurse").get("/stream/ward/ICU"))
    assert stream.next_event()[1]["alarms"]["ICU-01"][0]["ack_by"] == "perawat"
    sqlite_app.runtime.live.publish(
        live_keys.ward_channel("ICU"), json.dumps({"t": "a", "bed": "ICU-02", "alarms": [acked]})
    )
    messages = [
        json.loads(line.removeprefix("data: "))
        for chunk in stream.chunks
        for line in chunk.decode().splitlines()
        if line.startswith("data: {") and '"alarms"' in line
    ]
    assert messages == [{"t": "a", "bed": "ICU-02", "alarms": [acked | {"ack_by": "perawat"}]}]


def test_a_display_account_made_before_that_rule_still_opens_its_screen(sqlite_app, login):
    with sqlite_app.runtime.db.session() as s:
        users.find_user(s, "display").must_change_password = True
    tv = login("display")
    assert tv.get("/bangsal/ICU").status_code == 200
    assert tv.get("/stream/session").status_code == 200


def test_without_the_live_store_the_stream_is_refused_or_ended_so_the_screen_reconnects(
    sqlite_app, short_streams, monkeypatch, login
):
    live_store = sqlite_app.runtime.live
    nurse = login("nurse")

    def unavailable(*_args):
        raise LiveStoreError("live store (redis) subscribe failed: test")

    with monkeypatch.context() as patched:
        patched.setattr(live_store, "subscribe", unavailable)
        refused = nurse.get("/stream/ward/ICU")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"

    stream = Stream(nurse.get("/stream/ward/ICU"))
    assert stream.next_event()[0] == "snapshot"
    pings = 0

    def away() -> bool:  # Redis went away after the snapshot
        nonlocal pings
        pings += 1
        return False

    monkeypatch.setattr(live_store, "ping", away)
    assert list(stream.chunks) == [], "no heartbeat while the store is away: the stream ends"
    assert pings == 1, "at the first quiet spell, not at the end of the stream"


def test_a_quiet_queue_board_stream_beats_too(monkeypatch, login):
    monkeypatch.setattr(queue_stream, "stream_seconds", lambda: 3)
    monkeypatch.setattr(queue_stream, "HEARTBEAT_SECONDS", 0.2)
    stream = Stream(login("display").get("/stream/queue/umum"))
    assert stream.next_event()[0] == "snapshot"
    assert stream.next_event()[0] == "heartbeat"
    stream.response.close()
