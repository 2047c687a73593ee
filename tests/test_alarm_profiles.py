"""A child's alarm limits (``domain.alarms.patient_profile``): a neonate's and a child's profile on any ward, the
ward's from the 12th birthday; the bed page and the clinical step both run on them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bridge.clinical import ClinicalPipeline
from data import live_keys
from data.admissions import current_admission
from data.alarm_limits import limits_view
from data.live_store import MemoryLiveStore
from data.models import Patient
from data.wards import bed_by_code
from domain.alarm_limit_ranges import check_overrides
from domain.alarms import PROFILES, patient_profile
from domain.clock import utcnow
from tests.test_clinical import feed

TODAY = date(2026, 12, 8)


@pytest.mark.parametrize(
    ("born", "ward", "profile"),
    [
        (TODAY, "ward", "neonatal"),
        (TODAY - timedelta(days=28), "icu", "neonatal"),  # her 28th day of life
        (TODAY - timedelta(days=29), "icu", "paediatric"),
        (date(2014, 12, 9), "ward", "paediatric"),  # 12 tomorrow
        (date(2014, 12, 8), "ward", "adult"),  # 12 today: her ward's profile
        (date(2014, 12, 8), "icu", "icu"),
        (date(2014, 2, 28), "maternity", "adult"),
        (date(1900, 1, 1), "icu", "icu"),  # an emergency patient whose age is unknown
    ],
)
def test_a_childs_profile_goes_by_her_age_on_any_ward(born, ward, profile):
    assert patient_profile(ward, born, TODAY) == profile


def test_a_child_born_on_the_29th_of_february_is_12_on_the_1st_of_march():
    assert patient_profile("ward", date(2016, 2, 29), date(2028, 2, 28)) == "paediatric"
    assert patient_profile("ward", date(2016, 2, 29), date(2028, 2, 29)) == "adult"


def test_each_childs_profile_has_every_limit_in_the_adjustable_ranges_and_a_neonate_no_spo2_high_limit():
    for name in ("paediatric", "neonatal"):
        limits = PROFILES[name]
        assert check_overrides(PROFILES["adult"], limits.as_dict()) == {}, name
    assert PROFILES["neonatal"].spo2 == (90, None)


def make_child(db, bed: str, age_days: int) -> None:
    with db.session() as s:
        patient = s.get(Patient, current_admission(s, bed_by_code(s, 1, bed).id).patient_id)
        patient.birth_date = utcnow().date() - timedelta(days=age_days)


def active(live, bed: str) -> set[str]:
    return {a["condition"] for a in json.loads(live.get_latest(live_keys.ward_alarms("ICU")).get(bed, "[]"))}


def test_a_toddlers_heart_rate_of_150_raises_no_alarm_and_a_neonates_90_and_55_do(sqlite_app):
    """ICU-03's patient as a two-year-old, then as a ten-day-old baby: the bed page's editor and the clinical step
    go by the child's profile, not the ICU's adult one (HR 45–130), and a newborn's heart rate below 60 is
    life-threatening."""
    db, live = sqlite_app.runtime.db, MemoryLiveStore()
    make_child(db, "ICU-03", 2 * 365)
    with db.session() as s:
        profile, base, _ = limits_view(s, bed_by_code(s, 1, "ICU-03").id)
    assert (profile, base) == ("paediatric", PROFILES["paediatric"])
    pipeline = ClinicalPipeline(db, live)
    pipeline.load()
    feed(pipeline, range(0, 12), hr=150.0, rr=28.0, sbp=95.0, dbp=60.0, map=72.0)
    assert active(live, "ICU-03") & {"hr_high", "rr_high", "sbp_low"} == set()
    make_child(db, "ICU-03", 10)
    pipeline.handle_control(live_keys.control_message("adt", "ICU-03"))
    assert pipeline._beds["ICU-03"].limits == PROFILES["neonatal"]
    feed(pipeline, range(12, 24), hr=90.0, rr=45.0, sbp=70.0, dbp=45.0, map=55.0)
    assert "hr_low" in active(live, "ICU-03") and "hr_extreme_low" not in active(live, "ICU-03")
    feed(pipeline, range(24, 27), hr=55.0, rr=45.0, sbp=70.0, dbp=45.0, map=55.0)
    assert "hr_extreme_low" in active(live, "ICU-03")  # a newborn's 55/min is an adult's 25: high priority
