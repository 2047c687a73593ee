"""What a ward station's live stream sends, whichever server sends it (api/live.py, streams/ward.py): the opening
``snapshot`` and the ward channel's messages with names in place of user ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data import live_keys
from data.alarm_limits import beds_with_custom_limits
from data.db import Database
from data.live_store import LiveStore
from data.schedules import site_zone
from data.wards import find_ward, ward_beds
from domain.clock import now_ms

WARD_ROLES = ("nurse", "doctor", "admin")  # who acts on a ward's alarms (api/alarms.py checks these)
VIEW_ROLES = (*WARD_ROLES, "display")  # a ward station on a wall watches, read-only
SPARK_MS = 120_000  # the tiles' heart-rate sparkline window, as in assets/ward.js


@dataclass(frozen=True)
class WardScreen:
    """A ward as its station is drawn from the database: each of its beds in order with its ``BedView.tile_key``,
    those with changed alarm limits, those whose patient a doctor put on NEWS2's SpO2 Scale 2, the zone."""

    tiles: dict[str, str]
    custom_limits: list[str]
    spo2_scale_2: list[str]
    tz: str

    @property
    def beds(self) -> list[str]:
        """The ward's bed codes, in order."""
        return list(self.tiles)


def ward_screen(session: Session, site_id: int, ward: str) -> WardScreen | None:
    """The ward ``ward`` of ``site_id`` as its station shows it; None when there is no such ward."""
    found = find_ward(session, site_id, ward)
    if found is None:
        return None
    beds = ward_beds(session, found.id)
    return WardScreen(
        {b.code: b.tile_key for b in beds},
        sorted(beds_with_custom_limits(session, found.id)),
        [b.code for b in beds if b.patient_id is not None and b.spo2_scale == 2],
        site_zone(session, site_id).key,
    )


def ward_snapshot(live: LiveStore, ward: str, bed_codes: list[str]) -> dict:
    """Everything a ward screen shows, read from the live store (raises ``LiveStoreError`` when it is away)."""
    latest = live.get_latest_many([live_keys.latest(b) for b in bed_codes])
    pauses = live.get_latest_many([live_keys.audio_pause(b) for b in bed_codes])
    alarms = live.get_latest(live_keys.ward_alarms(ward))
    now = now_ms()
    since = f"{now - SPARK_MS}-0"  # stream ids start with the server's epoch ms
    series = {
        b: [
            [int(entry_id.split("-")[0]), float(f["hr"])]
            for entry_id, f in live.read_stream(live_keys.vitals_stream(b), since)
            if "hr" in f
        ]
        for b in bed_codes
    }
    return {
        "now": now,
        "series": series,
        "beds": {b: latest.get(live_keys.latest(b), {}) for b in bed_codes},
        "alarms": {b: json.loads(v) for b, v in alarms.items()},
        "pauses": {
            b: int(p["until"]) for b in bed_codes if (p := pauses.get(live_keys.audio_pause(b))) and "until" in p
        },
    }


class AckNames:
    """Who acknowledged an alarm, as the station shows it: the clinical step records the user's id (the journal's
    key), the screen shows the username; each id is looked up once (``usernames``: auth.users.usernames)."""

    def __init__(self, db: Database, usernames: Callable[[Session, set[int]], dict[int, str]]) -> None:
        self.db = db
        self.usernames = usernames
        self.known: dict[int, str] = {}

    def alarms(self, alarms: list[dict]) -> list[dict]:
        ids = {a["ack_by"] for a in alarms if isinstance(a.get("ack_by"), int)} - self.known.keys()
        if ids:
            with self.db.session() as session:
                self.known |= self.usernames(session, ids)
        return [
            a | {"ack_by": self.known.get(a["ack_by"], "")} if isinstance(a.get("ack_by"), int) else a for a in alarms
        ]

    def message(self, raw: str) -> str:
        """A ward channel message with names in place of ids (only alarm messages carry ``ack_by``)."""
        if '"ack_by"' not in raw:
            return raw
        message = json.loads(raw)
        message["alarms"] = self.alarms(message.get("alarms") or [])
        return json.dumps(message, separators=(",", ":"))

    def snapshot(self, snapshot: dict, screen: WardScreen, roles: frozenset[str]) -> dict:
        """The opening ``snapshot`` event's data: the live store's ``snapshot`` with names, the ward's changed
        limits and SpO2 Scale 2 beds, zone and tile keys, and whether this user may act on the alarms (a display
        only watches)."""
        return snapshot | {
            "alarms": {bed: self.alarms(alarms) for bed, alarms in snapshot["alarms"].items()},
            "custom_limits": screen.custom_limits,
            "spo2_scale_2": screen.spo2_scale_2,
            "tiles": screen.tiles,
            "tz": screen.tz,
            "can_act": bool(roles & set(WARD_ROLES)),
        }
