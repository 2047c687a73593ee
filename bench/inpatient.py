"""Inpatient figures on real PostgreSQL: admit / transfer / discharge latency, the whole-hospital bed board, the
midnight census over a month (and its "anything missing?" check behind years of census), and the bed page's
admission-scoped trend against the bare bed's.

    python bench/inpatient.py [--wards 10] [--beds 20] [--history-years 5] [--json]

A demo-seeded database gets ``--wards`` wards of ``--beds`` beds made through the setup service, patients admitted
over the last 30 days (some transferred, most discharged) through the inpatient services, and one bed with 24 h
of 1 Hz samples and 1-minute rollups, of which the first 20 h belonged to the previous patient."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text

from auth.demo_accounts import seed_demo
from config import load_settings
from data.admissions import admission_stays, admit, discharge, transfer
from data.census import ensure_census
from data.inpatient_views import bed_board
from data.migrate import upgrade
from data.models import Admission, Bed, Site, VitalRollup, VitalSample, Ward
from data.patients import create_patient
from data.runtime import build_runtime
from data.schedules import local_today
from data.seed import SEEDER
from data.setup_wards import create_ward
from data.trends import vital_trend
from domain.clock import utcnow
from testkit.servers import PostgresServer

DAYS = 30


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


def _timed(call, repeat: int) -> dict[str, float]:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        took.append(time.perf_counter() - started)
    return _ms(took)


def build_hospital(runtime, site_id: int, wards: int, beds: int) -> tuple[list[int], dict[str, list[float]]]:
    """Wards and beds through the setup service; a month of stays through the inpatient services, timed."""
    actor = replace(SEEDER, site_id=site_id)
    timings: dict[str, list[float]] = {"admit": [], "transfer": [], "discharge": []}
    now = utcnow()
    with runtime.db.session() as s:
        for w in range(wards):
            create_ward(s, actor, {"code": f"B{w:02d}", "name": f"Bench {w}", "kind": "ward", "care_class": "3",
                                   "bed_count": beds})  # fmt: skip
    with runtime.db.session() as s:
        bed_ids = list(s.scalars(select(Bed.id).join(Ward).where(Ward.code.like("B%")).order_by(Bed.id)))
    mrn = 0
    for n, bed_id in enumerate(bed_ids):
        # Two stays per bed over the month: one ended (transferred to the spare bed or discharged), one still open
        # on three beds of four.
        start = now - timedelta(days=DAYS - (n % 7), hours=n % 11)
        for stay in range(2):
            mrn += 1
            with runtime.db.session() as s:
                patient = create_patient(s, runtime.cipher, site_id=site_id, mrn=f"BENCH-{mrn:06d}",
                                         name="Pasien Bench", birth_date=date(1970, 1, 1), sex="L")  # fmt: skip
                patient.is_demo = True
                s.flush()
                began = time.perf_counter()
                admitted = admit(s, actor, patient_id=patient.id, bed_id=bed_id, source="desk", at=start)
                s.flush()
                timings["admit"].append(time.perf_counter() - began)
                admission = s.get(Admission, admitted.admission_id)
                if stay == 1 and n % 4:
                    continue
                ended = start + timedelta(days=2 + n % 5)
                if n % 3 == 0 and stay == 0:
                    spare = bed_ids[(n + 1) % len(bed_ids)]
                    if s.get(Bed, spare).status == "available":
                        began = time.perf_counter()
                        transfer(s, actor, admission_id=admission.id, to_bed_id=spare, monitor="keep",
                                 version=admission.version, at=start + timedelta(hours=12))  # fmt: skip
                        s.flush()
                        timings["transfer"].append(time.perf_counter() - began)
                began = time.perf_counter()
                discharge(s, actor, admission_id=admission.id, kind="home", version=admission.version, at=ended)
                s.flush()
                timings["discharge"].append(time.perf_counter() - began)
                for moved in s.scalars(select(Bed).where(Bed.status == "cleaning")):
                    moved.status = "available"  # housekeeping done (the bench's shortcut; not timed)
                start = ended + timedelta(hours=3)
    return bed_ids, timings


def load_history(runtime, bed_id: int, admission_start: datetime, now: datetime) -> None:
    """24 h of 1 Hz samples and rollups on one bed: the first 20 h are the previous patient's."""
    first = now - timedelta(hours=24)
    rows = [
        {"device_id": "MON-BENCH-HIST", "ts": first + timedelta(seconds=i), "seq": i, "bed_id": bed_id,
         "received_at": first + timedelta(seconds=i), "hr": 70 + i % 20, "spo2": 96, "rr": 16, "sbp": 120,
         "dbp": 80, "map": 93}
        for i in range(24 * 3600)
    ]  # fmt: skip
    rollups = [
        {"bed_id": bed_id, "minute": first + timedelta(minutes=i), "n": 60, "hr_avg": 75, "hr_min": 70,
         "hr_max": 80, "spo2_avg": 96, "spo2_min": 95, "rr_avg": 16, "sbp_avg": 120, "dbp_avg": 80, "map_avg": 93}
        for i in range(24 * 60)
    ]  # fmt: skip
    with runtime.db.session() as s:
        for chunk in range(0, len(rows), 10_000):
            s.execute(insert(VitalSample), rows[chunk : chunk + 10_000])
        s.execute(insert(VitalRollup), rollups)


BACKFILL = text(
    """
    INSERT INTO ward_census (ward_id, day, beds, occupied, available, cleaning, out_of_service, admissions,
                             transfers_in, transfers_out, discharges, deaths, los_days, deaths_48h, recorded_at)
    SELECT ward.id, day::date, 20, 15, 5, 0, 0, 3, 0, 0, 3, 0, 12, 0, now()
    FROM ward CROSS JOIN generate_series(CAST(:first AS date) - :days, CAST(:first AS date) - 1, interval '1 day') day
    WHERE ward.site_id = :site
    ON CONFLICT DO NOTHING
    """
)


def census_behind_years(runtime, site_id: int, years: int, until: date) -> tuple[int, dict[str, float]]:
    """Years of census before the first stay (as a hospital that has run Pantau that long: every ward a row a day,
    the first admission that far back), then how long the census takes to find nothing missing."""
    days = 365 * years
    with runtime.db.session() as s:
        first = s.scalar(select(Admission).where(Admission.site_id == site_id).order_by(Admission.admitted_at))
        s.execute(BACKFILL, {"first": first.admitted_at.date(), "days": days, "site": site_id})
        first.admitted_at -= timedelta(days=days)
    with runtime.db.session() as s:
        rows = s.scalar(select(text("count(*)")).select_from(text("ward_census")))
        return rows, _timed(lambda: ensure_census(s, site_id, until), 7)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wards", type=int, default=10)
    parser.add_argument("--beds", type=int, default=20)
    parser.add_argument("--history-years", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with PostgresServer() as pg, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env="test", database_url=pg.url, redis_url="memory://bench-inpatient",
                                 mqtt_url="", var_dir=Path(tmp))  # fmt: skip
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        with runtime.db.session() as s:
            seed_demo(s, settings)
            site_id = s.scalar(select(Site.id).where(Site.code == settings.site_code))
        started = time.perf_counter()
        bed_ids, adt = build_hospital(runtime, site_id, args.wards, args.beds)
        built_s = time.perf_counter() - started
        now = utcnow()
        with runtime.db.session() as s:
            current = s.scalar(
                select(Admission).where(Admission.discharged_at.is_(None)).order_by(Admission.admitted_at.desc())
            )
            stays = admission_stays(s, current.id)
        bed_id = stays[-1][0]
        load_history(runtime, bed_id, stays[-1][1], now)
        with runtime.db.session() as s:
            # the new occupant's last 4 h against the whole bed (what the page showed before admissions)
            scoped = [(bed_id, now - timedelta(hours=4), None)]
            whole = [(bed_id, now - timedelta(days=365), None)]
            trend = {
                f"{label}_{rng}": _timed(lambda st=st, rng=rng: vital_trend(s, st, rng, now), 30)
                for label, st in (("admission", scoped), ("bed", whole))
                for rng in ("1h", "24h")
            }
            points = {rng: len(vital_trend(s, scoped, rng, now)) for rng in ("1h", "24h")}
            board = _timed(lambda: bed_board(s, site_id, None, now), 20)
            today = local_today(s, site_id, now)
            began = time.perf_counter()
            days = ensure_census(s, site_id, today - timedelta(days=1))
            census_first_s = time.perf_counter() - began
            census_again = _timed(lambda: ensure_census(s, site_id, today - timedelta(days=1)), 5)
        census_rows, census_years = census_behind_years(runtime, site_id, args.history_years, today - timedelta(days=1))
        runtime.close()
    figures = {
        "beds": len(bed_ids) + 32,
        "build_s": round(built_s, 1),
        **{f"{k}_{m}": v for k, samples in adt.items() for m, v in _ms(samples).items()},
        **{f"{k}_n": len(samples) for k, samples in adt.items()},
        **{f"trend_{k}_{m}": v for k, d in trend.items() for m, v in d.items()},
        "trend_points_1h": points["1h"],
        "trend_points_24h": points["24h"],
        "bed_board_median_ms": board["median_ms"],
        "bed_board_p95_ms": board["p95_ms"],
        "census_days_recorded": days,
        "census_first_run_s": round(census_first_s, 2),
        "census_up_to_date_median_ms": census_again["median_ms"],
        "census_history_years": args.history_years,
        "census_history_rows": census_rows,
        "census_up_to_date_after_years_median_ms": census_years["median_ms"],
    }
    for key, value in figures.items():
        print(f"{key:>32}: {value}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
