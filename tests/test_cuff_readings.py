"""A live store that lost the beds' newest values (Redis restarted, the embedded demo restarted) gets each occupied
bed's last stored cuff reading back from the consumer's housekeeping, on both backends: the newest reading of
the current stay within the look-back, whole, and never over a reading the store still has."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bridge.consumer.housekeeping import Housekeeping
from bridge.consumer.metrics import ConsumerMetrics
from data import live_keys, partitions
from data.admissions import current_admission, transfer
from data.cuff_readings import LOOKBACK, carried_cuff_readings, newest_cuff_readings, open_stays, stay_cuff_readings
from data.live_store import MemoryLiveStore
from data.models import BedOccupancy, User, VitalSample
from data.wards import bed_by_code
from domain.actor import Actor
from domain.clock import epoch_ms, utcnow


def housekeeping(db, live) -> Housekeeping:
    return Housekeeping(
        db,
        live,
        ConsumerMetrics("test-housekeeping"),
        lambda: 0,
        retention_days=7,
        dead_letter_retention_days=7,
        maintenance_interval=300,
        snapshot_interval=5,
    )


def test_the_last_stored_cuff_reading_is_put_back_where_the_live_store_lost_it(any_app):
    db, live, now = any_app.runtime.db, MemoryLiveStore(), utcnow()
    partitions.ensure_partitions(db.engine, days_ahead=1, today=now.date())
    with db.session() as s:
        stays = open_stays(s)
        assert len(stays) >= 3, "the demo seed has occupied beds"
        fresh, kept, none, *_ = sorted(stays)
        readings = {  # bed → [(minutes ago, values)]: the newest with a cuff part wins, even with only the systolic
            fresh: [(20, {"sbp": 118.0, "dbp": 76.0, "map": 90.0}), (10, {"sbp": 131.0}), (1, {"hr": 88.0})],
            none: [(90, {"sbp": 200.0, "dbp": 100.0, "map": 133.0})],  # beyond the look-back
        }
        for code, samples in readings.items():
            bed_id = stays[code][0]
            s.execute(update(BedOccupancy).where(BedOccupancy.bed_id == bed_id).values(since=now - timedelta(hours=3)))
            for seq, (minutes, values) in enumerate(samples):
                ts = now - timedelta(minutes=minutes)
                s.add(VitalSample(device_id=f"MON-{code}", ts=ts, seq=seq, bed_id=bed_id, received_at=ts, **values))
        kept_id = stays[kept][0]
        s.add(VitalSample(device_id="MON-KEPT", ts=now, seq=1, bed_id=kept_id, received_at=now, sbp=99.0, dbp=60.0))
    assert timedelta(minutes=90) > LOOKBACK  # the first reading is beyond it
    live.set_latest(live_keys.latest(fresh), {"hr": 88, "ts": epoch_ms(now)})  # newest values, but no cuff reading
    live.set_latest(live_keys.latest(kept), {"sbp": 140, "dbp": 90, "nibp_ts": epoch_ms(now - timedelta(minutes=3))})

    assert housekeeping(db, live).restore_cuff_readings(now) == 1  # ``kept`` has its own, ``none`` none recent

    cuff_ts = str(epoch_ms(now - timedelta(minutes=10)))
    expected = {"hr": "88", "ts": str(epoch_ms(now)), "sbp": "131", "nibp_pairing": "0", "nibp_ts": cuff_ts}
    assert live.get_latest(live_keys.latest(fresh)) == expected  # the 20-minute reading's dbp and map not mixed in
    assert live.get_latest(live_keys.latest(kept))["sbp"] == "140"  # the store's own reading stays
    assert live.get_latest(live_keys.latest(none)) == {}


def one_stored_reading(db, now, stay_began: timedelta, measured: timedelta) -> str:
    """The first occupied bed, its stay begun ``stay_began`` ago, with one cuff reading (150/95) ``measured`` ago."""
    partitions.ensure_partitions(db.engine, days_ahead=1, today=now.date())
    with db.session() as s:
        code, (bed_id, _) = sorted(open_stays(s).items())[0]
        s.execute(update(BedOccupancy).where(BedOccupancy.bed_id == bed_id).values(since=now - stay_began))
        ts = now - measured
        s.add(VitalSample(device_id="MON-CUFF", ts=ts, seq=1, bed_id=bed_id, received_at=ts, sbp=150.0, dbp=95.0))
    return code


def test_a_stay_that_began_after_the_reading_does_not_get_it(any_app):
    """A new patient in the bed never sees the previous occupant's blood pressure."""
    db, live, now = any_app.runtime.db, MemoryLiveStore(), utcnow()
    code = one_stored_reading(db, now, stay_began=timedelta(minutes=5), measured=timedelta(minutes=6))
    assert housekeeping(db, live).restore_cuff_readings(now) == 0
    assert live.get_latest(live_keys.latest(code)) == {}


def test_a_cuff_reading_that_arrives_while_the_old_one_is_fetched_is_not_overwritten(any_app):
    """The consumer writes a new reading between housekeeping's look at the store and its write: the new one stays."""
    db, now = any_app.runtime.db, utcnow()
    code = one_stored_reading(db, now, stay_began=timedelta(hours=3), measured=timedelta(minutes=15))
    newer = {"sbp": "112", "dbp": "70", "nibp_pairing": "1", "nibp_ts": str(epoch_ms(now))}

    class CuffMeasuresMeanwhile(MemoryLiveStore):
        def get_latest_many(self, keys):
            shown = super().get_latest_many(keys)
            self.set_latest(live_keys.latest(code), newer)  # as the consumer would, right after the read
            return shown

    live = CuffMeasuresMeanwhile()
    housekeeping(db, live).restore_cuff_readings(now)
    assert live.get_latest(live_keys.latest(code)) == newer


def move_patient(db, now, source: str, target: str, readings: dict[int, float]) -> None:
    """Cuff readings on ``source`` ``{minutes ago: systolic}``, then its patient moved to ``target`` (her monitor
    following) five minutes ago, through the ward's own transfer."""
    partitions.ensure_partitions(db.engine, days_ahead=1, today=now.date())
    with db.session() as s:
        nurse = s.scalar(select(User).where(User.username == "perawat"))
        actor = Actor(nurse.id, nurse.username, nurse.site_id, "127.0.0.1")
        old, new = bed_by_code(s, actor.site_id, source), bed_by_code(s, actor.site_id, target)
        for seq, (minutes, sbp) in enumerate(readings.items()):
            ts = now - timedelta(minutes=minutes)
            s.add(VitalSample(device_id=old.device, ts=ts, seq=seq, bed_id=old.id, received_at=ts, sbp=sbp, dbp=80.0))
        admission = current_admission(s, old.id)
        moved = now - timedelta(minutes=5)
        transfer(s, actor, admission_id=admission.id, to_bed_id=new.id, monitor="follow", version=admission.version,
                 at=moved)  # fmt: skip


def test_a_transferred_patient_brings_her_cuff_reading_along(any_app):
    """Her newest reading on the bed she left, taken while she lay there and within the look-back, is hers on the
    new bed; a reading on the old bed after she left is not, and the live store's restore keeps to each bed's own."""
    db, now = any_app.runtime.db, utcnow()
    move_patient(db, now, "ICU-03", "ICU-13", {70: 210.0, 20: 131.0, 12: 127.0, 2: 99.0})  # 2: after she left
    with db.session() as s:
        stays = open_stays(s)
        carried = carried_cuff_readings(s, [stays["ICU-13"].bed_id, stays["ICU-01"].bed_id], now)
        assert {bed: reading.sbp for bed, reading in carried.items()} == {stays["ICU-13"].bed_id: 127.0}
        reading = carried[stays["ICU-13"].bed_id]
        assert reading.received == reading.ts == now - timedelta(minutes=12)
        assert "ICU-13" not in newest_cuff_readings(s, open_stays(s), now)  # the hash of ICU-13 gets none of it
        assert stay_cuff_readings(s, open_stays(s), now)["ICU-13"].sbp == 127.0
        taken = now - timedelta(minutes=1)
        bed_id = open_stays(s)["ICU-13"].bed_id
        s.add(VitalSample(device_id="MON-ICU-03", ts=taken, seq=9, bed_id=bed_id, received_at=taken, sbp=118.0))
        s.flush()
        assert stay_cuff_readings(s, open_stays(s), now)["ICU-13"].sbp == 118.0  # measured again: her own, newer
