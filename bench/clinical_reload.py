"""What the clinical step's periodic reload costs (``bridge.clinical.RECONCILE_EVERY_S``, once a minute and after
its control subscription comes back): the whole ``ClinicalPipeline.load`` (beds, limits, stays, each patient's
newest observation, who NEWS2 scores) on real PostgreSQL with ``--beds`` occupied beds whose patients each have
``--sets`` observations (six a day for a week by default: the reload picks each one's newest).

    python bench/clinical_reload.py [--beds 1000] [--sets 42] [--repeat 10] [--json]

Prints the reload's median and p95, its cost per bed, and the share of one core it takes at one reload a minute."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from bench.ingest import seed_devices
from bridge.clinical import RECONCILE_EVERY_S, ClinicalPipeline
from data.db import Database
from data.live_store import MemoryLiveStore
from data.models import BedOccupancy, Observation
from domain.clock import utcnow
from testkit.servers import PostgresServer

EVERY = timedelta(hours=4)


def observe_everyone(db: Database, sets: int) -> int:
    """``sets`` observations, four hours apart, for every patient in a bed; how many in all."""
    now = utcnow()
    with db.session() as s:
        stays = s.execute(select(BedOccupancy.bed_id, BedOccupancy.admission_id).where(BedOccupancy.until.is_(None)))
        rows = [
            {"bed_id": b, "admission_id": a, "on_oxygen": False, "consciousness": "A", "taken_at": now - n * EVERY}
            for b, a in stays
            for n in range(sets)
        ]
        s.execute(insert(Observation), rows)
    return len(rows)


def timed_reloads(pipeline: ClinicalPipeline, repeat: int) -> list[float]:
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        pipeline.load()
        took.append(time.perf_counter() - started)
    return sorted(took)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beds", type=int, default=1000)
    parser.add_argument("--sets", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with PostgresServer() as pg:
        seed_devices(pg.url, args.beds)
        db = Database(pg.url)
        try:
            observed = observe_everyone(db, args.sets)
            pipeline = ClinicalPipeline(db, MemoryLiveStore())
            first = timed_reloads(pipeline, 1)[0]  # restores the alarm snapshots too
            took = timed_reloads(pipeline, args.repeat)
        finally:
            db.dispose()
    median = statistics.median(took)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "beds": args.beds,
        "observations": observed,
        "first_load_ms": round(first * 1000, 1),
        "reload_median_ms": round(median * 1000, 1),
        "reload_p95_ms": round(took[int(0.95 * (len(took) - 1))] * 1000, 1),
        "per_bed_ms": round(median * 1000 / args.beds, 3),
        "core_share_at_one_a_minute_pct": round(100 * median / RECONCILE_EVERY_S, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
