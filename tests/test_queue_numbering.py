"""Running numbers per service point per site-local day, kept in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from data.models import Site
from data.queue_tickets import issue_ticket, next_number
from data.schedules import local_today


def test_numbers_run_per_point_and_day(any_app):
    with any_app.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        day = datetime(2026, 11, 23).date()
        assert [next_number(s, site, "poli:UMU", day) for _ in range(3)] == [1, 2, 3]
        assert next_number(s, site, "poli:ANA", day) == 1
        assert next_number(s, site, "poli:UMU", day.replace(day=24)) == 1
    with any_app.runtime.db.session() as s:  # kept across transactions (and processes): it is a row
        assert next_number(s, site, "poli:UMU", day) == 4


def test_the_day_turns_at_local_midnight(any_app):
    with any_app.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        assert s.get(Site, site).timezone == "Asia/Jakarta"
        before = datetime(2026, 11, 23, 16, 59, tzinfo=UTC)  # 23:59 WIB
        after = datetime(2026, 11, 23, 17, 1, tzinfo=UTC)  # 00:01 WIB, still the 23rd in UTC
        assert local_today(s, site, before).day == 23
        assert local_today(s, site, after).day == 24
        late = issue_ticket(s, site, "poli:UMU", local_today(s, site, before), now=before)
        early = issue_ticket(s, site, "poli:UMU", local_today(s, site, after), now=after)
        assert (late.label, early.label) == ("A001", "A001")
        assert issue_ticket(s, site, "farmasi:racikan", early.service_date, now=after).label == "R001"
        assert issue_ticket(s, site, "loket", early.service_date, now=after).label == "P001"
