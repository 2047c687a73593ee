"""The audit viewer's queries (``data.audit_query``) on a large audit log in real PostgreSQL: how long the count plus
one 100-row page take for each filter the page offers and for a sort by action (by code, and as the names read),
and the CSV export of 50,000 rows.

    python bench/audit_viewer.py [--rows 1000000] [--repeat 5] [--json]

A demo-seeded database gets ``--rows`` audit rows spread over a year (generated in SQL with ``generate_series``:
sign-ins, record reads, bed views and patient searches listing their hits, by 200 users about 5,000 patients),
then ``VACUUM ANALYZE`` (autovacuum's work on a table at rest; it also moves new GIN entries into the index). Each
filter is timed cold (first run on a fresh backend: the pool is disposed) and warm (median of ``--repeat``). Every
Pantau read of a record writes a row, so a 200-bed hospital writes about a million a month: ``--rows 1000000`` is a
month, ``--rows 12000000`` a year."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from auth.demo_accounts import seed_demo
from components.audit_view import name_order
from config import load_settings
from data import audit_query
from data.audit_query import AuditFilter
from data.migrate import upgrade
from data.models import Site
from data.runtime import build_runtime
from domain.clock import utcnow
from testkit.servers import PostgresServer

PG_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "work_mem": "32MB"}
EXPORT_CAP = 50_000
FILL = text(
    """
    INSERT INTO audit_log (at, site_id, username, action, target_type, target_id, ip, detail)
    SELECT :end - make_interval(secs => n * :spacing),
           :site,
           'user' || (n % 200),
           (ARRAY['login', 'patient_read', 'bed_viewed', 'patient_search'])[1 + n % 4],
           CASE n % 4 WHEN 1 THEN 'patient' WHEN 2 THEN 'bed' END,
           CASE n % 4 WHEN 1 THEN (n % 5000)::text WHEN 2 THEN 'BED-' || (n % 200) END,
           '10.0.' || (n % 50) || '.' || (n % 200),
           CASE n % 4 WHEN 3 THEN json_build_object('by', 'name', 'count', 2,
                                                    'patient_ids', json_build_array(n % 5000, (n + 7) % 5000)) END
    FROM generate_series(1, :rows) AS n
    """
)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _timed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with PostgresServer(settings=PG_SETTINGS) as pg, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env="test", database_url=pg.url, redis_url="memory://bench-audit", mqtt_url="",
                                 var_dir=Path(tmp), mfa_required_roles="")  # fmt: skip
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        end = utcnow()
        with runtime.db.session() as s:
            seed_demo(s, settings)
            site_id = s.scalar(select(Site.id).where(Site.code == settings.site_code))
        began = time.perf_counter()
        with runtime.db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            spacing = 365 * 86400 / args.rows
            connection.execute(FILL, {"end": end, "site": site_id, "spacing": spacing, "rows": args.rows})
            connection.execute(text("VACUUM ANALYZE audit_log"))  # what autovacuum does to a table at rest
        load_s = time.perf_counter() - began
        day = (end - timedelta(days=30), end - timedelta(days=29))
        everything = AuditFilter(site_id)
        by_action = {"sort": "action", "descending": False}
        filters = {
            "everything, first page": (everything, {}),
            "everything, page 100": (everything, {"offset": 9_900}),
            "one user": (AuditFilter(site_id, username="user42"), {}),
            "one patient (rows and searches)": (AuditFilter(site_id, patient_id=4242), {}),
            "one action, one day": (AuditFilter(site_id, action="bed_viewed", start=day[0], end=day[1]), {}),
            "one object": (AuditFilter(site_id, target_type="bed", target_id="BED-42"), {}),
            "everything, by action code": (everything, by_action),
            "everything, by action name": (everything, {**by_action, "name_order": name_order()}),
        }
        timings: dict[str, tuple[float, float]] = {}
        for name, (flt, options) in filters.items():
            runtime.db.engine.dispose()  # cold: a new backend without cached plans

            def run(flt=flt, options=options) -> None:
                with runtime.db.session() as s:
                    audit_query.page(s, flt, **{"offset": 0, "limit": 100, **options})

            cold = _timed(run)
            warm = statistics.median(_timed(run) for _ in range(args.repeat))
            timings[name] = (_ms(cold), _ms(warm))
        with runtime.db.session() as s:
            export_s = _timed(lambda: audit_query.export_rows(s, AuditFilter(site_id), EXPORT_CAP))
        runtime.close()
    print(f"{'filter':<34} {'cold ms':>10} {'warm ms':>10}")
    for name, (cold, warm) in timings.items():
        print(f"{name:<34} {cold:>10} {warm:>10}")
    summary = {
        "rows": args.rows,
        "load_s": round(load_s, 1),
        "warm_max_ms": max(w for _, w in timings.values()),
        "cold_max_ms": max(c for c, _ in timings.values()),
        "export_50000_ms": _ms(export_s),
    }
    print(json.dumps(summary) if args.json else summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
