"""Queue TV boards: the push stream (on the in-memory and the Redis live store), who may open a board, what a
board may show, and TV tokens that open their board."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, time

import pytest

from api import queue_stream
from auth import users
from data.queue_tickets import QueueEvent, publish
from data.queue_views import board_snapshot
from data.schedules import local_today, site_zone
from domain.announcement import call_announcement
from domain.errors import InputError
from testkit.front_desk import call, desk_actor, doctor_on_duty, register_waiting, site_of
from tests.test_access_control import router_request

SECRET_NAME = "Kusumawardhani Prameswari Setyaningrum"
SECRET_NIK = "3174015512800007"


def page_layout(client, path: str) -> str:
    """The layout Dash's page router returns for ``path``, as text."""
    response = client.post("/_dash-update-component", json=router_request(path))
    return json.dumps(response.get_json(), ensure_ascii=False)


class Stream:
    """The server-sent events of one board, read in the test's thread."""

    def __init__(self, response) -> None:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        self.response = response
        self.chunks: Iterator[bytes] = iter(response.response)
        self.raw: list[str] = []

    def next_event(self) -> tuple[str, dict]:
        for chunk in self.chunks:
            text = chunk.decode()
            self.raw.append(text)
            fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line and line[0] != ":")
            if "event" in fields:
                return fields["event"], json.loads(fields["data"])
        raise AssertionError("the stream ended")

    def until(self, kind: str) -> list[tuple[str, dict]]:
        """Events up to and including the next ``kind``."""
        seen = [self.next_event()]
        while seen[-1][0] != kind:
            seen.append(self.next_event())
        return seen


@pytest.fixture
def short_streams(monkeypatch):
    """Streams that end within seconds, so a test waiting for an event that never comes fails instead of hanging."""
    monkeypatch.setattr(queue_stream, "stream_seconds", lambda: 8)
    monkeypatch.setattr(queue_stream, "HEARTBEAT_SECONDS", 0.5)


def open_stream(pantau, board: str = "umum", who: str = "display") -> Stream:
    return Stream(pantau.login(who).get(f"/stream/queue/{board}"))


def test_a_call_reaches_the_board_as_an_update_and_an_announcement(any_app, short_streams):
    patient = register_waiting(any_app, SECRET_NAME, nik=SECRET_NIK)
    stream = open_stream(any_app)
    kind, snapshot = stream.next_event()
    assert kind == "snapshot" and snapshot["board"] == "umum"
    assert patient.label not in [c["label"] for c in snapshot["calls"]]
    waiting = {w["point"]: w["count"] for w in snapshot["waiting"]}
    assert waiting["poli:UMU"] >= 1 and "poli:ANA" in waiting
    assert {d["status"] for d in snapshot["doctors"]} <= {"not_started", "serving", "finished", "closed"}
    assert snapshot["doctors"], "today's doctor sessions are on the board before anyone starts"

    call(any_app, patient.ticket_id, "Poli Umum")
    events = stream.until("announce")
    updates = [data for kind, data in events if kind == "update"]
    assert updates and updates[0]["calls"][0]["label"] == patient.label
    assert updates[0]["calls"][0]["destination"] == "Poli Umum"
    assert updates[0]["calls"][0]["name"] == "KUS* P**** S****"
    assert {w["point"]: w["count"] for w in updates[0]["waiting"]}["poli:UMU"] == waiting["poli:UMU"] - 1
    announce = events[-1][1]
    assert announce["label"] == patient.label
    assert announce["text"] == call_announcement("A", patient.number, "Poli Umum").text
    assert re.fullmatch(r"Nomor antrean A [a-z ]+, silakan menuju Poli Umum", announce["text"])
    assert announce["clips"][:2] == ["nomor_antrean", "huruf_a"] and announce["clips"][-2:] == ["poli", "umum"]
    assert len(stream.raw[-2].encode()) < 1500, "a call's update carries only what changed"
    stream.response.close()


def test_a_board_hears_only_its_own_points(any_app, short_streams):
    patient = register_waiting(any_app, "Sri Rahayu")
    stream = open_stream(any_app)
    assert stream.next_event()[0] == "snapshot"
    site_id = site_of(any_app)
    publish(any_app.runtime.live, site_id, [QueueEvent("call", "farmasi:racikan", "R007", 7, "R", "Farmasi")])
    publish(any_app.runtime.live, site_id, [QueueEvent("call", "loket", "P003", 3, "P", "Loket 1")])
    call(any_app, patient.ticket_id, "Poli Umum")
    events = stream.until("announce")
    assert [data["label"] for kind, data in events if kind == "announce"] == [patient.label]
    stream.response.close()


def test_bursts_are_coalesced_but_every_call_is_announced(any_app, short_streams):
    first, second = register_waiting(any_app, "Budi Hartono"), register_waiting(any_app, "Ani Susanti")
    stream = open_stream(any_app)
    assert stream.next_event()[0] == "snapshot"
    call(any_app, first.ticket_id, "Ruang 1")
    call(any_app, second.ticket_id, "Ruang 2")
    site_id = site_of(any_app)
    publish(any_app.runtime.live, site_id, [QueueEvent("change", "poli:UMU")] * 5 + [QueueEvent("change", "*")])
    events = stream.until("announce")
    events += stream.until("announce")
    assert [data["label"] for kind, data in events if kind == "announce"] == [first.label, second.label]
    updates = [data for kind, data in events if kind == "update"]
    assert 1 <= len(updates) <= 2, "eight events in a burst make at most two reads"
    assert [c["label"] for c in updates[-1]["calls"][:2]] == [second.label, first.label]
    stream.response.close()


def test_a_call_made_while_the_board_reconnects_is_still_announced(any_app, short_streams, login):
    first, second = register_waiting(any_app, "Budi Hartono"), register_waiting(any_app, "Ani Susanti")
    client = login("display")
    stream = Stream(client.get("/stream/queue/umum"))
    stream.next_event()
    call(any_app, first.ticket_id, "Ruang 1")
    stream.until("announce")
    seen = re.findall(r"^id: (\d+)$", "".join(stream.raw), re.MULTILINE)[-1]
    stream.response.close()
    call(any_app, second.ticket_id, "Ruang 2")  # nobody listens: the board is between two streams

    for reconnect in ({"headers": {"Last-Event-ID": seen}}, {"query_string": {"last": seen}}):
        back = Stream(client.get("/stream/queue/umum", **reconnect))
        events = back.until("announce")
        assert [kind for kind, _ in events] == ["snapshot", "announce"] and events[1][1]["label"] == second.label
        back.response.close()
    fresh = Stream(client.get("/stream/queue/umum"))  # a board opened anew does not read out old calls
    fresh.next_event()
    call(any_app, first.ticket_id, "Ruang 1")  # a recall
    assert [data["label"] for kind, data in fresh.until("announce") if kind == "announce"] == [first.label]
    fresh.response.close()


def test_the_pharmacy_board_gets_its_own_calls(sqlite_app, short_streams):
    stream = open_stream(sqlite_app, "farmasi", who="front_desk")
    kind, snapshot = stream.next_event()
    assert kind == "snapshot" and [w["point"] for w in snapshot["waiting"]] == ["farmasi:racikan", "farmasi:nonracikan"]
    assert snapshot["doctors"] == []
    publish(
        sqlite_app.runtime.live, site_of(sqlite_app), [QueueEvent("call", "farmasi:racikan", "R007", 7, "R", "Farmasi")]
    )
    assert stream.until("announce")[-1][1]["text"] == "Nomor antrean R tujuh, silakan menuju Farmasi"
    stream.response.close()


def test_the_board_never_carries_a_full_name_or_nik(sqlite_app, short_streams, login):
    patient = register_waiting(sqlite_app, SECRET_NAME, nik=SECRET_NIK)
    stream = open_stream(sqlite_app)
    stream.next_event()
    call(sqlite_app, patient.ticket_id, "Poli Umum")
    stream.until("announce")
    stream.response.close()
    page = page_layout(login("display"), "/papan/umum")
    everything = "".join(stream.raw) + page
    assert patient.label in everything
    for secret in (*SECRET_NAME.split(), SECRET_NIK, SECRET_NIK[-6:]):
        assert secret.upper() not in everything.upper(), secret


@pytest.mark.parametrize("who", ["display", "admin", "front_desk"])
def test_board_roles_open_the_page_and_the_stream(who, short_streams, login):
    client = login(who)
    routed = page_layout(client, "/papan/umum")
    assert "queue-board" in routed and "Antrean Poli Rawat Jalan" in routed  # every poli, not Poli Umum
    response = client.get("/stream/queue/umum")
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("who", ["nurse", "pharmacy", "doctor", "manager"])
def test_other_roles_are_refused(who, login):
    client = login(who)
    assert client.get("/stream/queue/umum").status_code == 403
    assert client.get("/papan/umum").status_code == 403
    routed = page_layout(client, "/papan/umum")
    assert "forbidden" in routed and "queue-board" not in routed


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/papan/umum")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    stream = client.get("/stream/queue/umum")  # a screen's stream is told plainly, to show it is signed out
    assert stream.status_code == 401 and "error" in stream.get_json()


def test_unknown_board(login):
    client = login("admin")
    assert client.get("/stream/queue/radiologi").status_code == 404
    routed = page_layout(client, "/papan/radiologi")
    assert "Papan tidak dikenal: radiologi" in routed and "/papan/farmasi" in routed
    chooser = page_layout(client, "/papan")
    assert all(f"/papan/{b}" in chooser for b in ("umum", "farmasi", "loket"))


def test_the_demo_tv_token_opens_the_poli_board(sqlite_app, client):
    response = client.get(f"/tv/{sqlite_app.creds.display_token}")
    assert response.status_code == 302 and response.location == "/papan/umum"


def test_a_display_token_opens_the_board_it_was_made_for(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    made = runner.invoke(args=["create-display-token", "display", "--label", "Apotek", "--board", "/papan/farmasi"])
    token = re.search(r"/tv/(\S+)", made.output).group(1)
    assert sqlite_app.client().get(f"/tv/{token}").location == "/papan/farmasi"
    refused = runner.invoke(args=["create-display-token", "display", "--label", "x", "--board", "/papan/radiologi"])
    assert refused.exit_code != 0 and "Unknown board: /papan/radiologi" in refused.output
    with sqlite_app.runtime.db.session() as s:
        display = users.find_user(s, "display")
        with pytest.raises(InputError) as refused_here:
            users.create_display_token(s, desk_actor(s), display, "x", "/papan/umum/extra")
        assert refused_here.value.key == "board_err_unknown_path"
        plain = users.create_display_token(s, desk_actor(s), display, "Lobi")
    assert sqlite_app.client().get(f"/tv/{plain}").location == "/"


def test_the_board_lists_the_sessions_a_patient_can_still_go_to_first(any_app):
    """At noon a 07:00–08:00 session has ended and a 13:00–14:00 one is still to come: the later one is listed
    first. Each part stays in order of starting time, so the evening's doctors lead the board after the day's."""
    with any_app.runtime.db.session() as s:
        actor = desk_actor(s)
        day = local_today(s, actor.site_id)
        doctor_on_duty(s, actor, "dr. Pagi (demo)", day, ("07:00", "08:00"))
        doctor_on_duty(s, actor, "dr. Siang (demo)", day, ("13:00", "14:00"))
        noon = datetime.combine(day, time(12), tzinfo=site_zone(s, actor.site_id))
        doctors = board_snapshot(s, actor.site_id, "umum", noon)["doctors"]
    names = [d["doctor"] for d in doctors]
    assert names.index("dr. Siang (demo)") < names.index("dr. Pagi (demo)"), names
    ended = [d["hours"][-5:] <= "12:00" for d in doctors]
    assert ended == sorted(ended), doctors
    for part in (False, True):
        starts = [d["hours"][:5] for d, over in zip(doctors, ended, strict=True) if over is part]
        assert starts == sorted(starts), doctors
