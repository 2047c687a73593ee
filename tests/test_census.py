"""The midnight census against figures worked out by hand from a scripted history (data/census.py)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from auth.cli import census_command
from data.admissions import admit, discharge, set_bed_status, transfer
from data.census import census_through_yesterday, ensure_census, record_census
from data.models import Admission, Bed, ChargeDaily, ChargeLine, Patient, Ward, WardCensus
from tests.test_admissions import nurse

DAY = date(2026, 5, 4)  # site-local (WIB, UTC+7)
FIGURES = ("beds", "occupied", "available", "cleaning", "out_of_service")
MOVES = ("admissions", "transfers_in", "transfers_out", "discharges", "deaths", "los_days", "deaths_48h")


def wib(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def history(any_app):
    """Ward TST (T-01..T-03) and TS2 (U-01, U-02); three patients moved through them around ``DAY``."""
    pantau, actor = any_app, nurse(any_app)
    with pantau.runtime.db.session() as s:
        wards = [Ward(site_id=actor.site_id, code=code, name=code) for code in ("TST", "TS2")]
        s.add_all(wards)
        s.flush()
        beds = [Bed(ward_id=wards[0].id, code=f"T-0{n}", label="T") for n in (1, 2, 3)]
        beds += [Bed(ward_id=wards[1].id, code=f"U-0{n}", label="U") for n in (1, 2)]
        people = [
            Patient(site_id=actor.site_id, mrn=f"C{n}", name="Ani Rahma", birth_date=date(1960, 1, 1), sex="P")
            for n in (1, 2, 3)
        ]
        s.add_all(beds + people)
        s.flush()
        bed = {b.code: b.id for b in beds}
        p1, p2, p3 = (p.id for p in people)
        before = DAY - timedelta(days=1)
        one = admit(s, actor, patient_id=p1, bed_id=bed["T-01"], source="desk", at=wib(before, 10))
        set_bed_status(
            s, actor, bed_id=bed["T-03"], status="out_of_service", version=None, reason="AC", at=wib(before, 12)
        )
        two = admit(s, actor, patient_id=p2, bed_id=bed["T-02"], source="poli", at=wib(DAY, 8))
        transfer(s, actor, admission_id=one.admission_id, to_bed_id=bed["U-01"], monitor="keep", version=None,
                 at=wib(DAY, 12))  # fmt: skip
        discharge(s, actor, admission_id=two.admission_id, kind="deceased", version=None, at=wib(DAY, 15),
                  died_at=wib(DAY, 14, 30))  # fmt: skip
        three = admit(s, actor, patient_id=p3, bed_id=bed["U-02"], source="emergency", at=wib(DAY, 20))
        assert three.admission_id
        discharge(
            s, actor, admission_id=one.admission_id, kind="home", version=None, at=wib(DAY + timedelta(days=1), 9)
        )
    return pantau, actor


def figures(pantau, actor, day: date) -> dict[str, tuple[int, ...]]:
    with pantau.runtime.db.session() as s:
        rows = record_census(s, actor.site_id, day)
        return {
            s.get(Ward, r.ward_id).code: tuple(getattr(r, f) for f in FIGURES + MOVES)
            for r in rows
            if s.get(Ward, r.ward_id).code in ("TST", "TS2")
        }


def test_census_figures_of_a_scripted_history(history):
    pantau, actor = history
    # A death 6.5 hours after admission (a same-day stay: 1 day) does not count for the net death rate; the
    # patient sent home on DAY+1 stayed two days.
    #                           beds occ avail clean oos | adm in out disch deaths | los deaths≥48h
    assert figures(pantau, actor, DAY - timedelta(days=1)) == {
        "TST": (3, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0),
        "TS2": (2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert figures(pantau, actor, DAY) == {
        "TST": (3, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0),
        "TS2": (2, 0, 2, 0, 0, 1, 1, 0, 0, 0, 0, 0),
    }
    assert figures(pantau, actor, DAY + timedelta(days=1)) == {
        "TST": (3, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0),
        "TS2": (2, 2, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0),
    }


def test_census_is_idempotent_and_fills_missing_days(history):
    pantau, actor = history
    with pantau.runtime.db.session() as s:
        first = s.scalar(select(func.min(Admission.admitted_at)).where(Admission.site_id == actor.site_id))
        days = (DAY + timedelta(days=1) - first.astimezone(UTC).date()).days + 1
        assert ensure_census(s, actor.site_id, DAY + timedelta(days=1)) == days
        rows = s.scalar(select(func.count()).select_from(WardCensus))
        assert ensure_census(s, actor.site_id, DAY + timedelta(days=1)) == 0
    again = figures(pantau, actor, DAY)
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(WardCensus)) == rows
    assert again["TST"] == (3, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0)


def test_housekeeping_counts_each_day_soon_after_its_midnight(history):
    """What the consumer's housekeeping runs every few minutes: nothing new until a site-local midnight passes,
    then the day just ended."""
    pantau, actor = history
    with pantau.runtime.db.session() as s:
        first = s.scalar(select(func.min(Admission.admitted_at)).where(Admission.site_id == actor.site_id))
        days = (DAY + timedelta(days=1) - first.astimezone(UTC).date()).days + 1
        assert census_through_yesterday(s, wib(DAY + timedelta(days=2), 0, 10)) == days  # through DAY + 1
        assert census_through_yesterday(s, wib(DAY + timedelta(days=2), 23, 50)) == 0
        assert census_through_yesterday(s, wib(DAY + timedelta(days=3), 0, 5)) == 1
        newest = s.scalar(select(func.max(WardCensus.day)))
    assert newest == DAY + timedelta(days=2)


def test_two_writers_recording_the_same_days_at_once_neither_fails_nor_charges_twice(history):
    """Two consumers' housekeeping (PostgreSQL), or the demo's housekeeping and a bed board in one process
    (SQLite), finding the same days missing at the same moment: both upsert the same census rows, and each stay's
    room and care reach the day's rollup once."""
    pantau, _ = history
    db, now = pantau.runtime.db, wib(DAY + timedelta(days=3), 0, 5)
    start, errors = threading.Barrier(2), []

    def record() -> None:
        start.wait()
        try:
            with db.session() as s:
                census_through_yesterday(s, now)
        except Exception as exc:  # "database is locked", a duplicate key: what the test looks for
            errors.append(exc)

    writers = [threading.Thread(target=record) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert errors == []
    with db.session() as s:
        assert census_through_yesterday(s, now) == 0
        stays = s.scalar(select(func.sum(ChargeLine.amount)).where(ChargeLine.source_id.like("admission:%")))
        rolled_up, every_line = (
            s.scalar(select(func.sum(ChargeDaily.amount))),
            s.scalar(select(func.sum(ChargeLine.amount))),
        )
    assert stays and rolled_up == every_line


def test_census_fills_a_gap_between_recorded_days(history):
    """A day missing among recorded ones (its rows lost) and the days before one recorded ahead (by the command)
    are found: the quick "nothing is missing" count is of days, not a look at the newest."""
    pantau, actor = history
    with pantau.runtime.db.session() as s:
        ensure_census(s, actor.site_id, DAY + timedelta(days=1))
        s.execute(delete(WardCensus).where(WardCensus.day == DAY))
        record_census(s, actor.site_id, DAY + timedelta(days=5))
        assert ensure_census(s, actor.site_id, DAY + timedelta(days=5)) == 4  # DAY, and DAY+2 .. DAY+4
        assert ensure_census(s, actor.site_id, DAY + timedelta(days=5)) == 0
        recorded = set(s.scalars(select(WardCensus.day).join(Ward).where(Ward.code == "TST")))
    assert {DAY + timedelta(days=n) for n in range(6)} <= recorded


def test_census_command_records_a_day(history):
    pantau, _ = history
    result = pantau.server.test_cli_runner().invoke(census_command, ["--day", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert DAY.isoformat() in result.output
    with pantau.runtime.db.session() as s:
        stored = s.scalar(select(WardCensus.deaths).join(Ward).where(Ward.code == "TST", WardCensus.day == DAY))
    assert stored == 1
