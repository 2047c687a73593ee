"""The BPJS outbox as a work queue: per-booking order, leases, failures held for staff, and several workers."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from data.bpjs_outbox import claim_next, mark_failed, mark_sent, outbox_summary, retry_failed, task_completeness
from data.models import BpjsOutbox, Site
from data.queue_registration import register_patient, register_visit
from data.schedules import day_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from testkit.names import numbered_name


def jkn_bookings(app, count: int) -> list[str]:
    """``count`` JKN registrations (each queues antrean/add then updatewaktu task 3)."""
    runtime, codes = app.runtime, []
    with runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        actor = Actor(None, "test", site)
        now = utcnow()
        sessions = [x for x in day_sessions(s, site, local_today(s, site, now), now) if x.open]
        for n in range(count):
            patient = register_patient(
                s,
                runtime.cipher,
                actor,
                name=numbered_name("Pasien Uji", n),
                birth_date=date(1980, 1, 1 + n),
                sex="L",
                phone="081200000000",
                bpjs=f"{9000000000000 + n}",
                nik=f"{3170000000000000 + n}",
                today=local_today(s, site, now),
            )
            reg = register_visit(
                s,
                actor,
                patient_id=patient.id,
                session_id=sessions[n % len(sessions)].id,
                payer="jkn",
                referral_number=f"0301R0011126{n:06d}",
                now=now + timedelta(seconds=n),
            )
            codes.append(reg.booking_code)
    return codes


def test_a_booking_is_sent_in_order_and_one_row_at_a_time(any_app):
    first, second = jkn_bookings(any_app, 2)
    db, now = any_app.runtime.db, utcnow() + timedelta(seconds=5)
    with db.session() as s:
        a = claim_next(s, now)
        b = claim_next(s, now)
        assert (a.booking_code, a.kind, b.booking_code, b.kind) == (first, "antrean_add", second, "antrean_add")
        assert claim_next(s, now) is None  # both heads leased; their task rows wait behind them
        mark_sent(s, a, 200, now)
        follow = claim_next(s, now)
        assert (follow.booking_code, follow.kind, follow.payload["taskid"]) == (first, "updatewaktu", 3)
        mark_sent(s, follow, 208, now)  # BPJS already had it: counted as sent
        # A worker that died holding b: after the lease the row is due again, one more attempt counted.
        again = claim_next(s, now + timedelta(seconds=61))
        assert (again.id, again.attempts) == (b.id, 2)


def test_a_refused_row_holds_its_booking_until_retried(any_app):
    (code,) = jkn_bookings(any_app, 1)
    db, now = any_app.runtime.db, utcnow() + timedelta(seconds=5)
    with db.session() as s:
        head = claim_next(s, now)
        mark_failed(s, head, 201, "Poli tidak ditemukan")
        assert claim_next(s, now + timedelta(hours=1)) is None
        summary = outbox_summary(s, head.site_id)
        assert summary.counts == {"pending": 1, "sent": 0, "failed": 1}
        assert summary.failures[0]["booking_code"] == code and summary.failures[0]["message"] == "Poli tidak ditemukan"
        assert retry_failed(s, head.site_id, head.id, now)
        assert claim_next(s, now).id == head.id


def test_completeness_counts_finished_jkn_visits(any_app):
    jkn_bookings(any_app, 2)
    with any_app.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        rows = task_completeness(s, site, local_today(s, site, utcnow()))
        assert sum(r["visits"] for r in rows) == 2
        assert all(r["finished"] == 0 and r["share"] is None for r in rows)  # still waiting: not judged yet


@pytest.mark.parametrize("workers", [4])
def test_workers_never_send_the_same_row_and_keep_each_booking_in_order(postgres_app, workers):
    codes = jkn_bookings(postgres_app, 12)
    db, now = postgres_app.runtime.db, utcnow() + timedelta(seconds=5)
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            with db.session() as s:
                item = claim_next(s, now)
            if item is None:
                with db.session() as s:  # anything still pending must be behind a row another worker holds
                    if not s.scalar(select(BpjsOutbox.id).where(BpjsOutbox.state == "pending").limit(1)):
                        return
                continue
            with lock:
                sent.append((item.booking_code, item.id))
            with db.session() as s:
                mark_sent(s, item, 200, now)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [i for _, i in sent]
    assert len(ids) == len(set(ids)) == 2 * len(codes)
    for code in codes:
        mine = [i for c, i in sent if c == code]
        assert mine == sorted(mine)
