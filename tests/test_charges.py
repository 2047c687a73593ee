"""Charge lines and their daily rollup (data/charges.py) on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from data.charges import NewCharge, add_charge_lines, price_of, priced_charge, rebuild_daily
from data.models import ChargeDaily, ChargeLine, Tariff
from testkit.front_desk import site_of

DAY = date(2026, 3, 2)


def _tariffs(s, site_id):
    s.add_all(
        [
            Tariff(site_id=site_id, code="KAMAR", name="Kamar kelas 3", unit="rawat_inap", care_class="3",
                   amount=150_000, valid_from=date(2026, 1, 1)),
            Tariff(site_id=site_id, code="KAMAR", name="Kamar", unit="rawat_inap", amount=300_000,
                   valid_from=date(2026, 1, 1)),
            Tariff(site_id=site_id, code="KAMAR", name="Kamar kelas 3 (baru)", unit="rawat_inap", care_class="3",
                   amount=175_000, valid_from=date(2026, 3, 1)),
            Tariff(site_id=site_id, code="KAMAR", name="Kamar kelas 3 JKN", unit="rawat_inap", care_class="3",
                   payer="jkn", amount=100_000, valid_from=date(2026, 1, 1), valid_until=date(2026, 2, 28)),
        ]
    )  # fmt: skip
    s.flush()


def test_the_most_specific_tariff_in_force_wins(any_app):
    with any_app.runtime.db.session() as s:
        site_id = site_of(any_app)
        _tariffs(s, site_id)
        assert price_of(s, site_id, "KAMAR", date(2026, 2, 1), care_class="3", payer="jkn").amount == 100_000
        assert price_of(s, site_id, "KAMAR", date(2026, 2, 1), care_class="3", payer="umum").amount == 150_000
        assert price_of(s, site_id, "KAMAR", DAY, care_class="3", payer="jkn").amount == 175_000
        assert price_of(s, site_id, "KAMAR", DAY, care_class="VIP", payer="umum").amount == 300_000
        assert price_of(s, site_id, "KAMAR", date(2025, 12, 31), care_class="3") is None


def test_lines_are_written_once_and_the_rollup_follows(any_app):
    with any_app.runtime.db.session() as s:
        site_id = site_of(any_app)
        _tariffs(s, site_id)
        room = priced_charge(s, site_id, "KAMAR", day=DAY, payer="jkn", care_class="3", source_id="adm:1:room:1",
                             quantity=2)  # fmt: skip
        unpriced = priced_charge(s, site_id, "LAB-X", day=DAY, payer="jkn", source_id="lab:1", unit="penunjang")
        assert (room.unit_price, room.priced, unpriced.priced, unpriced.unit_price) == (175_000, True, False, 0)
        assert add_charge_lines(s, site_id, [room, unpriced]) == 2
        assert add_charge_lines(s, site_id, [room, unpriced]) == 0  # the same events again: nothing new
        extra = NewCharge(DAY, "rawat_inap", "jkn", "KAMAR", "Koreksi", "adm:1:room:1:rev", unit_price=-175_000)
        assert add_charge_lines(s, site_id, [extra]) == 1
        daily = s.execute(
            select(ChargeDaily.unit, ChargeDaily.amount, ChargeDaily.lines).where(ChargeDaily.site_id == site_id)
            .order_by(ChargeDaily.unit)
        ).all()  # fmt: skip
        assert daily == [("penunjang", 0, 1), ("rawat_inap", 175_000, 2)]
        total = s.scalar(select(func.sum(ChargeLine.amount)).where(ChargeLine.site_id == site_id))
        assert total == 175_000
        assert rebuild_daily(s, site_id, DAY, DAY) == 2
        rebuilt = s.execute(
            select(ChargeDaily.unit, ChargeDaily.amount, ChargeDaily.lines).where(ChargeDaily.site_id == site_id)
            .order_by(ChargeDaily.unit)
        ).all()  # fmt: skip
        assert rebuilt == daily


def test_a_charge_without_tariff_needs_a_unit(any_app):
    with any_app.runtime.db.session() as s, pytest.raises(ValueError):
        priced_charge(s, site_of(any_app), "NOPE", day=DAY, payer="umum", source_id="x")


def test_a_large_import_is_written_in_pages_and_counts_only_new_lines(any_app):
    """Thousands of lines at once (a SIMRS import) cross the backends' parameter limits: every new one is written
    and summed once, and those already written are left out of the count and the rollup."""
    with any_app.runtime.db.session() as s:
        site_id = site_of(any_app)

        def lines(first: int, last: int) -> list[NewCharge]:
            return [
                NewCharge(DAY, "penunjang", "umum", "LAB", "Lab", f"import:{n}", unit_price=1_000, source="import")
                for n in range(first, last)
            ]

        assert add_charge_lines(s, site_id, lines(0, 700)) == 700
        assert add_charge_lines(s, site_id, lines(500, 3_200)) == 2_500  # 200 of them written before
        daily = s.execute(
            select(ChargeDaily.amount, ChargeDaily.lines).where(
                ChargeDaily.site_id == site_id, ChargeDaily.unit == "penunjang"
            )
        ).one()
        assert tuple(daily) == (3_200_000, 3_200)
        assert s.scalar(select(func.count()).select_from(ChargeLine).where(ChargeLine.site_id == site_id)) == 3_200
