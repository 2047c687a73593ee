"""The finance demo generator and loader (data/finance_demo.py): reproducible, shaped like a hospital's year, and
loaded so that the daily rollup is exactly the lines' sums."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from data.finance_demo import (
    DEMO_SEP_PREFIX,
    DISPUTE_REASONS,
    NOT_ELIGIBLE_REASONS,
    PENDING_REASONS,
    DemoDims,
    DemoWard,
    ensure_demo_dims,
    generate,
    load,
    load_demo_slice,
    season,
)
from data.models import (
    BpjsClaim,
    BpjsClaimEvent,
    ChargeDaily,
    ChargeLine,
    Invoice,
    Payment,
    Site,
    Ward,
    WardCensus,
)
from domain.finance import CLAIM_STATES, PAYERS, UNITS

DIMS = DemoDims(
    wards=(DemoWard(1, 30, "3", "ward"), DemoWard(2, 8, "ICU", "icu")),
    polis=(1, 2, 3),
    doctors=((1, 1), (2, 2), (3, None)),
    census_wards=(DemoWard(1, 30, "3", "ward"),),
)
YEAR = (date(2025, 12, 1), date(2026, 11, 30))


def rows_of(table: str, batches) -> list[tuple]:
    return [row for batch in batches for row in batch[table]]


@pytest.fixture(scope="module")
def year() -> list[dict]:
    return list(generate(1, *YEAR, lines_target=40_000, seed=7, dims=DIMS, claims_target=6_000))


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    first = list(generate(1, date(2026, 3, 1), date(2026, 3, 31), lines_target=3_000, seed=5, dims=DIMS))
    again = list(generate(1, date(2026, 3, 1), date(2026, 3, 31), lines_target=3_000, seed=5, dims=DIMS))
    other = list(generate(1, date(2026, 3, 1), date(2026, 3, 31), lines_target=3_000, seed=6, dims=DIMS))
    assert first == again
    assert rows_of("charge_line", first) != rows_of("charge_line", other)


def test_season_follows_the_calendar():
    assert season(date(2026, 7, 1)) == 1.0  # dry season, no feast
    assert season(date(2026, 1, 15)) == pytest.approx(1.08)  # rainy season
    assert season(date(2026, 3, 5)) == pytest.approx(1.08 * 0.86)  # Ramadan 1447 H
    assert season(date(2026, 3, 20)) == pytest.approx(1.08 * 0.5)  # Idul Fitri 2026
    assert season(date(2026, 4, 10)) == pytest.approx(1.15)  # three weeks after Lebaran


def test_a_year_has_about_the_asked_size_and_a_hospitals_shape(year):
    lines = rows_of("charge_line", year)
    assert 36_000 <= len(lines) <= 44_000
    assert {line[2] for line in lines} == set(UNITS) and {line[3] for line in lines} == set(PAYERS)
    episodes = {line[15].rsplit(":", 1)[0]: line[3] for line in lines}  # demo:<day>:<serial> → payer
    shares = Counter(episodes.values())
    assert 0.76 <= shares["jkn"] / len(episodes) <= 0.84
    assert 0.09 <= shares["umum"] / len(episodes) <= 0.15
    value = Counter()
    for line in lines:
        value[line[2]] += line[12]
    assert max(value, key=value.get) == "rawat_inap"  # inpatient care earns most
    outpatient = Counter(line[1].weekday() for line in lines if line[2] == "rawat_jalan")
    assert outpatient[0] == max(outpatient.values())  # Monday busiest
    assert outpatient[6] < 0.15 * outpatient[0]  # Sunday: hardly any clinic
    assert all(line[15].startswith("demo:") for line in lines)
    per_day = Counter(line[1] for line in lines if line[2] == "rawat_jalan")
    lebaran_week = [per_day[date(2026, 3, 18) + timedelta(days=n)] for n in range(7)]
    july = [per_day[date(2026, 7, 6) + timedelta(days=n)] for n in range(7)]  # an ordinary week, Monday first
    assert sum(lebaran_week) < 0.65 * sum(july)


def test_claims_reach_every_stage_with_realistic_lags_and_reasons(year):
    claims = rows_of("bpjs_claim", year)
    states = Counter(claim[15] for claim in claims)
    assert set(states) == set(CLAIM_STATES)
    assert states["paid"] > len(claims) / 2
    for claim in claims:
        sep, episode, start, end, code, status, reason, submitted = (
            claim[2], claim[3], claim[7], claim[8], claim[9], claim[15], claim[16], claim[17]
        )  # fmt: skip
        assert sep.startswith(DEMO_SEP_PREFIX) and start <= end <= YEAR[1]
        assert code.endswith("-0") if episode == "rawat_jalan" else code[-2:] in ("-I", "II")
        if submitted is not None:
            assert 5 <= (submitted - end).days <= 40
        if status == "pending":
            assert reason in PENDING_REASONS
        elif status == "dispute":
            assert reason in DISPUTE_REASONS
        elif status == "not_eligible":
            assert reason in NOT_ELIGIBLE_REASONS
        if status in ("paid", "eligible"):
            assert claim[13] == claim[11]  # approved what INA-CBG pays
    margin = sum(c[11] for c in claims) / sum(c[10] for c in claims)  # INA-CBG ÷ hospital tariff
    assert 0.75 <= margin <= 1.25
    census = rows_of("ward_census", year)
    assert len(census) == 365 and {row[0] for row in census} == {1}
    patient_days = sum(row[3] for row in census)
    discharges = sum(row[10] + row[11] for row in census)
    assert 0.70 <= patient_days / (30 * 365) <= 0.85  # BOR
    assert 3.0 <= sum(row[12] for row in census) / discharges <= 5.0  # AvLOS
    assert 0 < sum(row[11] for row in census) < 0.05 * discharges


def test_loaded_lines_and_rollup_agree(any_app):
    with any_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        dims = ensure_demo_dims(s, site_id, beds=30)
        assert ensure_demo_dims(s, site_id, beds=30) == dims  # created once
        bench = set(s.scalars(select(Ward.id).where(Ward.code.in_(("BMW", "BIC")))))
        assert bench <= {w.id for w in dims.census_wards}
        assert "ICU" not in set(s.scalars(select(Ward.code).where(Ward.id.in_([w.id for w in dims.census_wards]))))
        batches = list(generate(site_id, date(2026, 5, 1), date(2026, 6, 29), lines_target=2_000, seed=3, dims=dims))
        result = load(s, site_id, batches)
    generated = rows_of("charge_line", batches)
    expected = Counter()
    for line in generated:
        expected[(line[1], line[2], line[3])] += line[12]
    with any_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChargeLine)) == len(generated) == result.rows["charge_line"]
        rollup = s.execute(
            select(
                ChargeDaily.service_date, ChargeDaily.unit, ChargeDaily.payer, func.sum(ChargeDaily.amount)
            ).group_by(ChargeDaily.service_date, ChargeDaily.unit, ChargeDaily.payer)
        ).all()
        assert {(d, u, p): a for d, u, p, a in rollup} == dict(expected)
        assert s.scalar(select(func.sum(ChargeDaily.lines))) == len(generated)
        assert s.scalar(select(func.count()).select_from(BpjsClaim)) == result.rows["bpjs_claim"] > 0
        # every payment and invoiced line points at a loaded invoice, every event at a loaded claim
        invoices = set(s.scalars(select(Invoice.id)))
        assert set(s.scalars(select(Payment.invoice_id))) <= invoices
        assert set(s.scalars(select(ChargeLine.invoice_id).where(ChargeLine.invoice_id.is_not(None)))) == invoices
        assert s.scalar(select(func.count(func.distinct(BpjsClaimEvent.claim_id)))) == result.rows["bpjs_claim"]
        census_wards = set(s.scalars(select(WardCensus.ward_id).where(WardCensus.day >= date(2026, 5, 1))))
        assert census_wards == {w.id for w in dims.census_wards}
        # ids continue after the loaded ones (PostgreSQL's sequences were moved past them)
        extra = Invoice(site_id=site_id, number="INV-1", payer="umum", issued_on=date(2026, 7, 1),
                        due_on=date(2026, 7, 1), total=1000)  # fmt: skip
        s.add(extra)
        s.flush()
        assert extra.id == max(invoices) + 1


def test_the_demo_slice_loads_once_and_quickly(sqlite_app):
    runtime = sqlite_app.runtime
    with runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
    started = time.perf_counter()
    written = load_demo_slice(runtime, site_id, date(2026, 6, 30), lines=2_000)
    took = time.perf_counter() - started
    assert 1_600 <= written <= 2_400 and took < 5
    assert load_demo_slice(runtime, site_id, date(2026, 6, 30), lines=2_000) == 0
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ChargeLine)) == written
        assert s.scalar(select(func.min(ChargeLine.service_date))) == date(2026, 5, 2)  # 60 days to 30 June
        assert s.scalar(select(func.count()).select_from(WardCensus).where(WardCensus.day < date(2026, 6, 1))) == 0
    # started again three days later: only 1-3 July are added, and the rollup still matches the lines
    added = load_demo_slice(runtime, site_id, date(2026, 7, 3), lines=2_000)
    assert 0 < added < 200
    with runtime.db.session() as s:
        added_days = s.scalars(
            select(ChargeLine.service_date).where(ChargeLine.service_date > date(2026, 6, 30)).distinct()
        )
        assert set(added_days) == {date(2026, 7, d) for d in (1, 2, 3)}
        lines = s.execute(select(func.count(), func.sum(ChargeLine.amount))).one()
        assert tuple(lines) == tuple(s.execute(select(func.sum(ChargeDaily.lines), func.sum(ChargeDaily.amount))).one())
        assert lines[0] == written + added
