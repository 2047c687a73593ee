"""The site's holiday calendar (data/holidays.py): national holidays in Indonesian, the site's collective leave
days and kept-open holidays, audited — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from auth.users import find_user
from data.holidays import holidays_between, national_holidays, remove_site_holiday, set_site_holiday
from data.models import AuditLog
from domain.actor import Actor
from domain.errors import InputError

CHRISTMAS = date(2030, 12, 25)
COLLECTIVE_DAY = date(2030, 12, 24)


def test_national_holidays_are_named_in_indonesian_within_the_range():
    found = national_holidays(date(2030, 12, 1), date(2031, 1, 31))
    assert "Natal" in found[CHRISTMAS]
    assert date(2031, 1, 1) in found
    assert all(date(2030, 12, 1) <= day <= date(2031, 1, 31) for day in found)


@pytest.fixture
def admin_actor(any_app):
    db = any_app.runtime.db
    with db.session() as s:
        admin = find_user(s, "admin")
        return db, Actor(admin.id, admin.username, admin.site_id, "127.0.0.1")


def test_site_changes_override_the_national_calendar_and_are_audited(admin_actor):
    db, actor = admin_actor
    with db.session() as s:
        set_site_holiday(s, actor, COLLECTIVE_DAY, "collective", "Cuti bersama Natal")
        set_site_holiday(s, actor, CHRISTMAS, "open")
    with db.session() as s:
        found = holidays_between(s, actor.site_id, date(2030, 12, 20), date(2030, 12, 31))
        assert (found[COLLECTIVE_DAY].kind, found[COLLECTIVE_DAY].closes) == ("collective", True)
        assert found[COLLECTIVE_DAY].name == "Cuti bersama Natal"
        assert (found[CHRISTMAS].kind, found[CHRISTMAS].closes) == ("open", False)
        assert "Natal" in found[CHRISTMAS].name  # the national name stays
        assert remove_site_holiday(s, actor, CHRISTMAS) is True
        assert remove_site_holiday(s, actor, CHRISTMAS) is False
    with db.session() as s:
        found = holidays_between(s, actor.site_id, CHRISTMAS, CHRISTMAS)
        assert (found[CHRISTMAS].kind, found[CHRISTMAS].closes) == ("national", True)
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_type == "site_holiday")).all()
        assert sorted(actions) == ["holiday_removed", "holiday_set", "holiday_set"]


def test_collective_leave_needs_a_name_and_a_known_kind(admin_actor):
    db, actor = admin_actor
    with db.session() as s:
        with pytest.raises(InputError) as caught:
            set_site_holiday(s, actor, COLLECTIVE_DAY, "collective", "  ")
        assert caught.value.key == "err_holiday_name"
        with pytest.raises(InputError) as caught:
            set_site_holiday(s, actor, COLLECTIVE_DAY, "closed", "x")
        assert caught.value.key == "err_holiday_kind"
