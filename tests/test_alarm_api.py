"""Alarm actions over HTTP: pause and acknowledge — roles, input checks, audit, live store, control channel."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from data import live_keys
from data.db import Database
from data.models import AlarmEvent, AuditLog
from data.wards import bed_by_code
from domain.clock import utcnow


def test_nurse_pauses_a_beds_audio(any_app, login):
    client = login("nurse")
    with any_app.runtime.live.subscribe(live_keys.ward_channel("ICU")) as channel:
        response = client.post("/api/beds/ICU-03/alarms/pause", json={"seconds": 120})
        assert response.status_code == 200
        message = json.loads(channel.get(timeout=2)[1])
    assert message["t"] == "p" and message["bed"] == "ICU-03" and message["by"] == "perawat"
    paused = any_app.runtime.live.get_latest(live_keys.audio_pause("ICU-03"))
    assert int(paused["until"]) == response.get_json()["until"]
    with any_app.runtime.db.session() as s:
        assert s.scalar(select(AuditLog.action).order_by(AuditLog.id.desc()).limit(1)) == "alarm_audio_paused"


@pytest.mark.parametrize("body,status", [({"seconds": 5}, 400), ({"seconds": "120"}, 400), ({"seconds": 3600}, 400)])
def test_pause_length_is_bounded(body, status, login):
    assert login("nurse").post("/api/beds/ICU-03/alarms/pause", json=body).status_code == status


def open_spo2_alarm(db: Database) -> None:
    """An unacknowledged low-SpO2 alarm on ICU-03, as the clinical step stores it."""
    with db.session() as s:
        bed = bed_by_code(s, 1, "ICU-03")
        s.add(
            AlarmEvent(
                bed_id=bed.id,
                condition="spo2_low",
                kind="physiological",
                priority="medium",
                started_at=utcnow(),
                message="SpO2 85 < 90",
            )
        )


def test_acknowledge_records_who_and_tells_the_engine(sqlite_app, login):
    runtime = sqlite_app.runtime
    open_spo2_alarm(runtime.db)
    client = login("nurse")
    with runtime.live.subscribe(live_keys.CONTROL_CHANNEL) as control:
        response = client.post("/api/beds/ICU-03/alarms/ack", json={"condition": "spo2_low"})
        command = json.loads(control.get(timeout=2)[1])
    assert response.get_json() == {"ok": True, "acknowledged": 1}
    assert command["t"] == "ack" and command["condition"] == "spo2_low" and command["by"] == "perawat"
    with runtime.db.session() as s:
        event = s.scalars(select(AlarmEvent)).one()
        assert event.acknowledged_at is not None and event.acknowledged_where.startswith("ICU@")


@pytest.mark.parametrize("role", ["front_desk", "pharmacy", "manager"])
def test_other_roles_cannot_act_on_alarms(login, role):
    client = login(role)
    assert client.post("/api/beds/ICU-03/alarms/pause", json={"seconds": 120}).status_code == 403
    assert client.post("/api/beds/ICU-03/alarms/ack", json={"condition": "spo2_low"}).status_code == 403
    assert client.get("/stream/ward/ICU").status_code == 403


def test_form_posts_and_unknown_beds_are_refused(login, client):
    nurse = login("nurse")
    assert nurse.post("/api/beds/ICU-03/alarms/pause", data={"seconds": "120"}).status_code == 415
    assert nurse.post("/api/beds/XX-99/alarms/pause", json={"seconds": 120}).status_code == 404
    assert client.post("/api/beds/ICU-03/alarms/pause", json={}).status_code == 401


def test_ward_stream_starts_with_a_snapshot(sqlite_app, login):
    sqlite_app.runtime.live.set_latest(live_keys.latest("ICU-01"), {"hr": 72, "rx": 1})
    response = login("nurse").get("/stream/ward/ICU")
    assert response.mimetype == "text/event-stream"
    chunks = response.response
    assert next(chunks).startswith(b"retry:")
    snapshot = next(chunks).decode()
    assert snapshot.startswith("event: snapshot")
    data = json.loads(snapshot.split("data: ", 1)[1])
    assert data["beds"]["ICU-01"]["hr"] == "72" and "ICU-16" in data["beds"]
    response.close()
