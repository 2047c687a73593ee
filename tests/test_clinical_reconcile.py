"""The clinical step follows the database, not only the web app's control messages: a change committed while the
message could not be sent (the live store away from the web app) is read by the step's periodic reload, and at
once when its own control subscription comes back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import MONITOR_FOLLOWS, current_admission, discharge, transfer
from data.db import Database
from data.live_store import LiveStoreError, MemoryLiveStore, Subscription
from data.models import Observation, User
from data.vitals import DeviceDirectory
from data.wards import bed_by_code
from domain.actor import Actor
from domain.clock import utcnow
from tests.test_clinical import feed
from tests.test_clinical_journal import FlakyDatabase
from tests.test_clinical_outage import wait_for

BED = "ICU-03"


class ControlAway(MemoryLiveStore):
    """A live store whose control channel cannot be subscribed to while ``away``."""

    def __init__(self) -> None:
        super().__init__()
        self.away = False

    def subscribe(self, *channels: str) -> Subscription:
        if self.away and live_keys.CONTROL_CHANNEL in channels:
            raise LiveStoreError("control channel away (test)")
        return super().subscribe(*channels)


def shown(live: MemoryLiveStore) -> dict[str, str]:
    return live.get_latest(live_keys.latest(BED))


def observe_without_message(db: Database) -> None:
    """What the bed page stores when its nurse takes a set, without the ``obs`` message it sends after."""
    with db.session() as s:
        bed = bed_by_code(s, 1, BED)
        admission_id = current_admission(s, bed.id).id
        s.add(Observation(bed_id=bed.id, admission_id=admission_id, on_oxygen=True, consciousness="A"))


def _nurse(s) -> Actor:
    nurse = s.scalar(select(User).where(User.username == "perawat"))
    return Actor(nurse.id, nurse.username, nurse.site_id, "127.0.0.1")


def discharge_without_message(db: Database, bed_code: str = BED) -> None:
    """What the inpatient page stores on a discharge, without the ``adt`` message it sends after."""
    with db.session() as s:
        actor = _nurse(s)
        admission = current_admission(s, bed_by_code(s, actor.site_id, bed_code).id)
        discharge(s, actor, admission_id=admission.id, kind="home", version=admission.version)


def transfer_without_message(db: Database, target: str) -> str:
    """The patient of ``BED`` moved to ``target``, her monitor following, without the ``adt`` message; the
    monitor's device id."""
    with db.session() as s:
        actor = _nurse(s)
        old, new = bed_by_code(s, actor.site_id, BED), bed_by_code(s, actor.site_id, target)
        admission = current_admission(s, old.id)
        transfer(s, actor, admission_id=admission.id, to_bed_id=new.id, monitor=MONITOR_FOLLOWS,
                 version=admission.version)  # fmt: skip
        return old.device


@contextmanager
def scored_without_observation(db: Database, live: MemoryLiveStore) -> Iterator[ClinicalPipeline]:
    """A running clinical step that has scored the bed's patient, incomplete as no observation is recorded yet."""
    pipeline = ClinicalPipeline(db, live)
    pipeline.start()
    try:
        feed(pipeline, range(0, 3), sbp=120.0)
        wait_for(lambda: shown(live).get("news2_complete") == "0", 10, "NEWS2 scored, incomplete without observation")
        yield pipeline
    finally:
        pipeline.stop()


def test_changes_whose_control_message_was_lost_are_read_at_the_next_reload(sqlite_app, monkeypatch):
    monkeypatch.setattr("bridge.clinical.RECONCILE_EVERY_S", 0.5)
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    with scored_without_observation(db, live):
        observe_without_message(db)
        # HR 80 (0) + SpO2 97 (0) + RR 16 (0) + temp 36.8 (0) + SBP 120 (0) + oxygen (2) + alert (0) = 2
        wait_for(lambda: (shown(live).get("news2"), shown(live).get("news2_complete")) == ("2", "1"), 10, "rescored")
        discharge_without_message(db)
        wait_for(lambda: "news2" not in shown(live), 10, "the discharged patient's NEWS2 gone from the bed")


def test_a_monitor_moved_by_a_transfer_whose_message_was_lost_is_mapped_to_its_new_bed_at_the_next_reload(
    sqlite_app, monkeypatch
):
    """The reload tells the consumer's device map too: its samples go to the bed the patient lies in now, not to
    the bed she left until the map's own next reload (here an hour away)."""
    monkeypatch.setattr("bridge.clinical.RECONCILE_EVERY_S", 0.5)
    db = sqlite_app.runtime.db
    directory = DeviceDirectory(db.engine, ttl=3600.0)
    pipeline = ClinicalPipeline(db, MemoryLiveStore())
    pipeline.adt_listeners.append(directory.invalidate)
    pipeline.start()
    try:
        with db.session() as s:
            device = bed_by_code(s, 1, BED).device
        assert directory.lookup(device).bed == BED
        transfer_without_message(db, "ICU-13")
        wait_for(lambda: directory.lookup(device).bed == "ICU-13", 10, "the monitor mapped to the patient's new bed")
    finally:
        pipeline.stop()


def test_a_change_made_while_the_control_channel_was_away_is_read_when_it_comes_back(sqlite_app):
    db, live = sqlite_app.runtime.db, ControlAway()
    live.away = True
    with scored_without_observation(db, live):
        observe_without_message(db)
        live.away = False
        wait_for(lambda: shown(live).get("news2_complete") == "1", 10, "the observation read after the outage")
        assert shown(live)["news2"] == "2"


def test_control_messages_are_acted_on_after_the_reload_that_follows_an_outage(sqlite_app, caplog):
    db, live = sqlite_app.runtime.db, ControlAway()
    live.away = True
    with scored_without_observation(db, live), caplog.at_level(logging.WARNING, logger="bridge.clinical"):
        live.away = False
        wait_for(lambda: live.publish(live_keys.CONTROL_CHANNEL, "{}") > 0, 10, "the control channel subscribed")
        # read after the reload that follows subscribing: what is stored from now on only a message can bring
        wait_for(lambda: "malformed control message ignored" in caplog.text, 10, "the first message read")
        observe_without_message(db)
        live.publish(live_keys.CONTROL_CHANNEL, live_keys.control_message("obs", BED))
        wait_for(lambda: shown(live).get("news2_complete") == "1", 10, "the observation's message acted on")


def test_a_reload_takes_each_patients_newest_observation_never_another_patients(sqlite_app):
    """One query for every bed: per admission its newest set; a newer set of another admission is never taken.
    The reload rescores the bed whose observation changed, as the ``obs`` message would have."""
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    pipeline = ClinicalPipeline(db, live)
    pipeline.load()
    feed(pipeline, range(0, 3), sbp=120.0)  # the bed's monitor
    now = utcnow()
    with db.session() as s:
        mine, other = (bed_by_code(s, 1, code) for code in (BED, "ICU-04"))
        mine_id, other_id = current_admission(s, mine.id).id, current_admission(s, other.id).id
        s.add_all(
            [
                Observation(bed_id=mine.id, admission_id=mine_id, on_oxygen=False, consciousness="A",
                            taken_at=now - timedelta(minutes=30)),
                Observation(bed_id=mine.id, admission_id=mine_id, on_oxygen=True, consciousness="V",
                            taken_at=now),  # newer than the demo's seeded sets
                Observation(bed_id=mine.id, admission_id=mine_id, on_oxygen=False, consciousness="A",
                            taken_at=now - timedelta(minutes=60)),
                Observation(bed_id=other.id, admission_id=other_id, on_oxygen=False, consciousness="C",
                            taken_at=now + timedelta(seconds=1)),
            ]
        )  # fmt: skip
    pipeline.load()
    # HR 80 (0) + SpO2 97 (0) + RR 16 (0) + temp 36.8 (0) + SBP 120 (0) + oxygen (2) + V (3) = 5; an older
    # set on air and alert would make it 0, the other patient's (air, C) 3
    assert (shown(live)["news2"], shown(live)["news2_complete"]) == ("5", "1")


def test_a_reload_the_database_refuses_is_tried_again_soon(sqlite_app, monkeypatch, caplog):
    """Logged in one line (no traceback every few seconds of an outage), tried again, and read once it is back."""
    monkeypatch.setattr("bridge.clinical.RECONCILE_EVERY_S", 0.5)
    monkeypatch.setattr("bridge.clinical.RECONCILE_RETRY_S", 0.5)
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    with scored_without_observation(db, live) as pipeline, caplog.at_level(logging.WARNING, logger="bridge.clinical"):
        flaky = FlakyDatabase(db)
        pipeline.db, flaky.down = flaky, True
        wait_for(lambda: flaky.calls >= 2, 10, "the reload tried again")
        refused = [r for r in caplog.records if r.getMessage().startswith("beds not reloaded from the database")]
        assert refused and all(r.exc_info is None for r in refused)
        flaky.down = False
        observe_without_message(db)
        wait_for(lambda: shown(live).get("news2_complete") == "1", 10, "the observation read once the database is back")
