"""Everything clinical belongs to the admission, not the bed (data/trends.py, data/observations.py,
bridge/clinical.py), on SQLite and PostgreSQL: a new occupant inherits neither the previous patient's oxygen and
ACVPU nor her alarms or history, and a transfer keeps the admission's history across both beds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest
from sqlalchemy import select

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import admission_stays, admit, current_admission, discharge, set_bed_status, transfer
from data.models import Admission, AlarmEvent, Bed, Observation, Patient, User, VitalSample, Ward
from data.observations import record_observation
from data.trends import alarm_history, latest_observation, observations, vital_trend
from data.wards import bed_by_code
from domain.actor import Actor
from domain.clock import utcnow
from domain.observations import validate_observation
from domain.vitals_contract import VitalsMessage

WARD = "TSD"


@pytest.fixture
def ward(any_app):
    """Ward TSD with beds D-01, D-02 and three patients; the time base is taken once, every time is relative."""
    with any_app.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "perawat"))
        actor = Actor(user.id, user.username, user.site_id, "127.0.0.1")
        ward = Ward(site_id=actor.site_id, code=WARD, name="Uji D")
        s.add(ward)
        s.flush()
        beds = [Bed(ward_id=ward.id, code=f"D-0{n}", label=f"D{n}") for n in (1, 2)]
        people = [
            Patient(site_id=actor.site_id, mrn=f"D{n}", name=name, birth_date=date(1970, 1, 1), sex="P")
            for n, name in ((1, "Siti Aminah"), (2, "Dewi Lestari"), (3, "Rina Wati"))
        ]
        s.add_all(beds + people)
        s.flush()
        ids = {b.code: b.id for b in beds} | {p.mrn: p.id for p in people}
    base = utcnow().replace(microsecond=0)
    return SimpleNamespace(app=any_app, actor=actor, ids=ids, base=base)


def run(w, call, *args, **kwargs):
    with w.app.runtime.db.session() as s:
        return call(s, w.actor, *args, **kwargs)


def admitted(w, mrn: str, bed: str, at: datetime) -> int:
    return run(w, admit, patient_id=w.ids[mrn], bed_id=w.ids[bed], source="desk", at=at).admission_id


def version(w, table: type, row_id: int) -> int:
    with w.app.runtime.db.session() as s:
        return s.get(table, row_id).version


def discharged(w, admission_id: int, at: datetime) -> None:
    run(w, discharge, admission_id=admission_id, kind="home", version=version(w, Admission, admission_id), at=at)


def cleaned(w, bed: str, at: datetime) -> None:
    bed_id = w.ids[bed]
    run(w, set_bed_status, bed_id=bed_id, status="available", version=version(w, Bed, bed_id), at=at)


def observed(w, bed: str, **raw: str) -> Observation:
    obs, errors = validate_observation(raw)
    assert errors == {}
    with w.app.runtime.db.session() as s:
        row = record_observation(s, w.actor, bed_by_code(s, w.actor.site_id, bed), obs)
        s.expunge(row)
        return row


def stays(w, admission_id: int) -> list:
    with w.app.runtime.db.session() as s:
        return admission_stays(s, admission_id)


def alarm(s, bed_id: int, at: datetime, condition: str = "spo2_low") -> int:
    row = AlarmEvent(bed_id=bed_id, condition=condition, kind="physiological", priority="high", started_at=at)
    s.add(row)
    s.flush()
    return row.id


def feed(pipeline: ClinicalPipeline, bed: str, start: datetime, seconds: range, **values) -> None:
    base = dict(
        hr=80.0,
        spo2=97.0,
        rr=16.0,
        temp=36.8,
        sbp=120.0,
        ecg_status="ok",
        spo2_status="ok",
        sqi_ecg=0.95,
        sqi_spo2=0.95,
    )
    base.update(values)
    for n in seconds:
        ts = int(start.timestamp() * 1000) + n * 1000
        message = VitalsMessage(site="DEMO", device_id=f"M-{bed}", seq=n, ts=ts, received=ts, **base)
        pipeline.on_samples([SimpleNamespace(msg=message, bed=bed)], ts)


def adt(pipeline: ClinicalPipeline, bed: str) -> None:
    pipeline.handle_control(live_keys.control_message("adt", bed))


def test_the_observation_belongs_to_the_admission_in_the_bed(ward):
    first = admitted(ward, "D1", "D-01", ward.base - timedelta(hours=2))
    row = observed(ward, "D-01", on_oxygen="yes", consciousness="V")
    assert (row.admission_id, row.patient_id) == (first, ward.ids["D1"])
    with ward.app.runtime.db.session() as s:
        assert latest_observation(s, first).id == row.id
        assert [o.id for o in observations(s, first, ward.base - timedelta(hours=3))] == [row.id]


def test_a_new_occupant_starts_clean_in_the_pipeline(ward):
    live, base = ward.app.runtime.live, ward.base
    first = admitted(ward, "D1", "D-01", base - timedelta(hours=2))
    taken = observed(ward, "D-01", on_oxygen="yes", consciousness="V").taken_at
    pipeline = ClinicalPipeline(ward.app.runtime.db, live)
    pipeline.load()
    feed(pipeline, "D-01", taken, range(1, 40), spo2=85.0)
    assert live.get_latest(live_keys.latest("D-01"))["news2_complete"] == "1"
    assert "D-01" in live.get_latest(live_keys.ward_alarms(WARD))
    with ward.app.runtime.db.session() as s:
        episodes = list(s.scalars(select(AlarmEvent).where(AlarmEvent.bed_id == ward.ids["D-01"])))
        assert "spo2_low" in {e.condition for e in episodes} and {e.ended_at for e in episodes} == {None}
    ended = select(AlarmEvent.ended_at).where(AlarmEvent.bed_id == ward.ids["D-01"])

    out = taken + timedelta(minutes=10)
    discharged(ward, first, out)
    adt(pipeline, "D-01")
    assert "D-01" not in live.get_latest(live_keys.ward_alarms(WARD))  # the screens drop her alarms at once
    assert live.get_latest(live_keys.latest("D-01")).get("news2") is None
    with ward.app.runtime.db.session() as s:
        assert set(s.scalars(ended)) == {out}  # closed by the discharge, not re-written by the reset

    cleaned(ward, "D-01", out + timedelta(minutes=5))
    admitted(ward, "D2", "D-01", out + timedelta(minutes=20))
    adt(pipeline, "D-01")
    feed(pipeline, "D-01", out + timedelta(minutes=21), range(0, 5))
    latest = live.get_latest(live_keys.latest("D-01"))
    # Her NEWS2 lacks oxygen and ACVPU: the previous patient's observation (oxygen, V) is not hers.
    assert latest["news2_complete"] == "0" and latest["news2"] == "0"
    with ward.app.runtime.db.session() as s:  # no new episode, none re-opened
        assert list(s.scalars(ended)) == [out] * len(episodes)


def test_the_new_admission_does_not_see_the_previous_patients_alarms(ward):
    base, ids = ward.base, ward.ids
    first = admitted(ward, "D1", "D-01", base - timedelta(hours=3))
    discharged(ward, first, base - timedelta(hours=2))
    cleaned(ward, "D-01", base - timedelta(hours=2))
    second = admitted(ward, "D2", "D-01", base - timedelta(hours=1))
    with ward.app.runtime.db.session() as s:
        hers = alarm(s, ids["D-01"], base - timedelta(hours=2, minutes=30))
        alarm(s, ids["D-01"], base - timedelta(hours=1, minutes=30))  # nobody's: the bed was empty
        mine = alarm(s, ids["D-01"], base - timedelta(minutes=30))
        assert current_admission(s, ids["D-01"]).id == second
    with ward.app.runtime.db.session() as s:
        assert [e.id for e, _ in alarm_history(s, admission_stays(s, second))] == [mine]
        assert [e.id for e, _ in alarm_history(s, admission_stays(s, first))] == [hers]


def test_a_transfer_keeps_the_history_across_both_beds(ward):
    base, ids = ward.base, ward.ids
    moved = admitted(ward, "D1", "D-01", base - timedelta(hours=3))
    run(
        ward,
        transfer,
        admission_id=moved,
        to_bed_id=ids["D-02"],
        monitor="keep",
        version=version(ward, Admission, moved),
        at=base - timedelta(minutes=30),
    )
    cleaned(ward, "D-01", base - timedelta(minutes=25))
    admitted(ward, "D3", "D-01", base - timedelta(minutes=20))
    with ward.app.runtime.db.session() as s:
        before = alarm(s, ids["D-01"], base - timedelta(hours=1))
        after = alarm(s, ids["D-02"], base - timedelta(minutes=10))
        alarm(s, ids["D-01"], base - timedelta(minutes=5))  # the next patient of D-01
        alarm(s, ids["D-02"], base - timedelta(hours=2))  # D-02 before she came
        for bed, minutes, hr in (("D-01", 40, 71), ("D-02", 45, 99), ("D-02", 20, 72), ("D-01", 10, 98)):
            at = base - timedelta(minutes=minutes)
            s.add(VitalSample(device_id=f"M-{bed}", ts=at, seq=minutes, bed_id=ids[bed], received_at=at, hr=hr))
    window = stays(ward, moved)
    assert [bed for bed, _, _ in window] == [ids["D-01"], ids["D-02"]]
    with ward.app.runtime.db.session() as s:
        assert [e.id for e, _ in alarm_history(s, window)] == [after, before]
        frame = vital_trend(s, window, "1h", now=base)
    assert list(frame["hr"]) == [71, 72]
    assert list(frame.index) == [pd.Timestamp(base - timedelta(minutes=m)).tz_convert(UTC) for m in (40, 20)]


def test_an_empty_bed_has_no_history(ward):
    with ward.app.runtime.db.session() as s:
        assert alarm_history(s, []) == []
        assert vital_trend(s, [], "1h", now=ward.base).empty
        assert current_admission(s, ward.ids["D-02"]) is None


def test_the_alarm_journal_never_reopens_a_closed_episode(ward):
    """A discharge closed the episode while its end was still queued: the queued end does not re-write it."""
    first = admitted(ward, "D1", "D-01", ward.base - timedelta(hours=2))
    taken = observed(ward, "D-01", on_oxygen="no", consciousness="A").taken_at
    pipeline = ClinicalPipeline(ward.app.runtime.db, ward.app.runtime.live)
    pipeline.load()
    feed(pipeline, "D-01", taken, range(1, 40), spo2=85.0)
    out = taken + timedelta(minutes=1)
    discharged(ward, first, out)
    feed(pipeline, "D-01", taken, range(40, 80), spo2=97.0)  # the engine ends it itself, later than the discharge
    with ward.app.runtime.db.session() as s:
        ends = list(s.scalars(select(AlarmEvent.ended_at).where(AlarmEvent.bed_id == ward.ids["D-01"])))
    assert ends == [out]  # the discharge's end, not the engine's later one


def test_a_restart_does_not_give_the_new_patient_the_previous_ones_alarms(ward):
    """Discharged and re-admitted while the consumer was down: the alarm snapshot was the previous patient's."""
    live, base = ward.app.runtime.live, ward.base
    first = admitted(ward, "D1", "D-01", base - timedelta(hours=2))
    taken = observed(ward, "D-01", on_oxygen="no", consciousness="A").taken_at
    before = ClinicalPipeline(ward.app.runtime.db, live)
    before.load()
    feed(before, "D-01", taken, range(1, 40), spo2=85.0)
    before.snapshot()
    live.set_latest(live_keys.ward_alarms(WARD), {"D-01": None})
    same = ClinicalPipeline(ward.app.runtime.db, live)
    same.load()
    same.republish()
    assert "D-01" in live.get_latest(live_keys.ward_alarms(WARD))  # her own alarms resume

    discharged(ward, first, taken + timedelta(minutes=5))
    cleaned(ward, "D-01", taken + timedelta(minutes=6))
    admitted(ward, "D2", "D-01", taken + timedelta(minutes=7))
    after = ClinicalPipeline(ward.app.runtime.db, live)
    after.load()
    after.republish()
    assert "D-01" not in live.get_latest(live_keys.ward_alarms(WARD))


def test_an_adt_message_tells_the_device_map_at_once(ward):
    """The consumer's DeviceDirectory.invalidate listens: a monitor paired now is looked up afresh."""
    pipeline = ClinicalPipeline(ward.app.runtime.db, ward.app.runtime.live)
    pipeline.load()
    told: list[str] = []
    pipeline.adt_listeners.append(lambda: told.append("invalidated"))
    pipeline.handle_control(live_keys.control_message("obs", "D-01"))
    assert told == []
    adt(pipeline, "D-01")
    assert told == ["invalidated"]
