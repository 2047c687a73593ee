"""Monthly finance targets (data/finance_targets.py): setting, clearing, auditing, and pro-rating by days."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from data.finance_targets import prorated, save_year, set_target, targets_between, year_targets
from data.models import AuditLog
from domain.errors import FieldErrors, InputError
from testkit.front_desk import desk_actor


def test_part_of_a_month_takes_its_share_of_days():
    monthly = {date(2026, 1, 1): 31_000_000, date(2026, 2, 1): 28_000_000, date(2026, 6, 1): 30_000_000}
    assert prorated(monthly, date(2026, 6, 1), date(2026, 6, 15)) == 15_000_000
    assert prorated(monthly, date(2026, 1, 16), date(2026, 2, 15)) == 16_000_000 + 15_000_000
    assert prorated(monthly, date(2026, 1, 1), date(2026, 12, 31)) == 89_000_000  # months without one add nothing
    assert prorated({date(2026, 3, 1): 100}, date(2026, 3, 1), date(2026, 3, 2)) == 6  # 6.45 rounds once, at the end
    assert prorated(monthly, date(2026, 3, 1), date(2026, 5, 31)) is None


def test_targets_are_set_changed_cleared_and_audited(any_app):
    with any_app.runtime.db.session() as s:
        actor = desk_actor(s)
        site = actor.site_id
        assert set_target(s, actor, site, date(2026, 3, 17), "revenue", "", "Rp 3.100.000.000") == 3_100_000_000
        set_target(s, actor, site, date(2026, 4, 1), "revenue", "", 3_000_000_000)
        set_target(s, actor, site, date(2026, 4, 1), "claims_paid", "", "2.000.000.000")
        set_target(s, actor, site, date(2026, 4, 1), "revenue", "rawat_inap", 1_000_000_000)
        set_target(s, actor, site, date(2026, 4, 1), "revenue", "", 3_000_000_000)  # unchanged: no audit row
        assert targets_between(s, site, date(2026, 3, 30), date(2026, 4, 2), "revenue") == 200_000_000 + 200_000_000
        assert targets_between(s, site, date(2026, 4, 1), date(2026, 4, 30), "revenue", "rawat_inap") == 1_000_000_000
        assert targets_between(s, site, date(2026, 5, 1), date(2026, 5, 31), "revenue") is None
        set_target(s, actor, site, date(2026, 4, 1), "claims_paid", "", " ")
        cells = sorted((c.month.month, c.metric, c.amount) for c in year_targets(s, site, 2026))
        assert cells == [(3, "revenue", 3_100_000_000), (4, "revenue", 3_000_000_000)]
        audits = s.scalars(select(AuditLog.detail).where(AuditLog.action == "finance_target_set")).all()
        assert len(audits) == 5 and audits[-1] == {"before": 2_000_000_000, "after": None}
        for bad in (("profit", ""), ("revenue", "kantin")):
            with pytest.raises(InputError):
                set_target(s, actor, site, date(2026, 4, 1), *bad, 1)
        with pytest.raises(InputError) as decimal:
            set_target(s, actor, site, date(2026, 4, 1), "revenue", "", "1,5")
        assert decimal.value.key == "tar_err_amount_decimal"


def test_a_year_grid_saves_all_or_nothing(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        site = actor.site_id
        grid = {(1, "revenue"): "1.000.000", (2, "revenue"): "2,5", (1, "claims_paid"): ""}
        with pytest.raises(FieldErrors) as caught:
            save_year(s, actor, site, 2027, grid)
        assert list(caught.value.errors) == ["2:revenue"]
        assert year_targets(s, site, 2027) == []
        grid[(2, "revenue")] = "Rp 2.500.000"
        assert save_year(s, actor, site, 2027, grid) == 2
        assert save_year(s, actor, site, 2027, grid) == 0
        assert targets_between(s, site, date(2027, 1, 1), date(2027, 2, 28), "revenue") == 3_500_000
