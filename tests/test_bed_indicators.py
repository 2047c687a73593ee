"""Bed indicators against worked examples (Depkes RI formulas; Barber-Johnson)."""

import pytest

from domain.bed_indicators import barber_johnson_point, bed_indicators


def test_a_month_of_a_twenty_bed_ward():
    # 20 beds for 30 days = 600 bed-days; 480 midnight-census patient days; 60 discharged (3 dead, 2 of them
    # 48 h or more after admission) who stayed 450 days in all.
    got = bed_indicators(beds=20, days=30, patient_days=480, discharges=60, los_days=450, deaths=3, deaths_48h=2)
    assert got.bor == pytest.approx(80.0)
    assert got.avlos == pytest.approx(7.5)
    assert got.toi == pytest.approx(2.0)
    assert got.bto == pytest.approx(3.0)
    assert got.ndr == pytest.approx(33.333, abs=1e-3)
    assert got.gdr == pytest.approx(50.0)
    assert barber_johnson_point(got) == (pytest.approx(2.0), pytest.approx(7.5))


def test_a_year_of_a_hospital_with_an_average_bed_count():
    # 200 beds on average over 365 days; BOR 75 % → 54,750 patient days; 12,000 discharged, 54,000 days of stay.
    got = bed_indicators(
        beds=200, days=365, patient_days=54_750, discharges=12_000, los_days=54_000, deaths=240, deaths_48h=150
    )
    assert got.bor == pytest.approx(75.0)
    assert got.avlos == pytest.approx(4.5)
    assert got.toi == pytest.approx((73_000 - 54_750) / 12_000)
    assert got.bto == pytest.approx(60.0)
    assert got.ndr == pytest.approx(12.5)
    assert got.gdr == pytest.approx(20.0)


def test_no_discharges_leaves_the_discharge_figures_empty_not_zero():
    got = bed_indicators(beds=10, days=7, patient_days=35, discharges=0, los_days=0, deaths=0, deaths_48h=0)
    assert got.bor == pytest.approx(50.0)
    assert (got.avlos, got.toi, got.ndr, got.gdr) == (None, None, None, None)
    assert got.bto == 0.0
    assert barber_johnson_point(got) is None


def test_no_beds_leaves_every_bed_figure_empty():
    got = bed_indicators(beds=0, days=30, patient_days=0, discharges=0, los_days=0, deaths=0, deaths_48h=0)
    assert got.bor is None and got.bto is None and got.toi is None


@pytest.mark.parametrize(
    "args",
    [
        dict(beds=-1, days=30, patient_days=0, discharges=0, los_days=0, deaths=0, deaths_48h=0),
        dict(beds=5, days=30, patient_days=0, discharges=1, los_days=1, deaths=2, deaths_48h=0),
        dict(beds=5, days=30, patient_days=0, discharges=3, los_days=1, deaths=1, deaths_48h=2),
    ],
)
def test_impossible_inputs_are_refused(args):
    with pytest.raises(ValueError):
        bed_indicators(**args)
