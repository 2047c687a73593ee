"""The nurse home's data (data/nurse_home.py) on SQLite and PostgreSQL: her wards, the occupied beds with live
NEWS2 and alarms, and observations due by the current admission's own observations."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from components.nurse_home import ward_summary
from data import live_keys
from data.admissions import admit, discharge, set_bed_status
from data.models import Admission, Bed, Observation, Patient, User, Ward
from data.nurse_home import nurse_wards, ward_home
from data.observations import record_observation
from data.staff_assignments import set_staff_wards
from data.wards import bed_by_code
from domain.actor import Actor
from domain.clock import utcnow
from domain.observations import validate_observation

WARD = "TSN"


def _observe(s, actor: Actor, bed: str) -> None:
    obs, errors = validate_observation({"on_oxygen": "no", "consciousness": "A"})
    assert errors == {}
    record_observation(s, actor, bed_by_code(s, actor.site_id, bed), obs)


@pytest.fixture
def ward(any_app):
    """Ward TSN: N-01 (observed, NEWS2 6 live), N-02 (a new patient: only the previous one was observed; an
    alarm), N-03 (observed, NEWS2 0), N-04 empty. Returns the app, the nurse, the ward and the last observation
    time."""
    db = any_app.runtime.db
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "perawat"))
        nurse = Actor(user.id, user.username, user.site_id, "127.0.0.1")
        ward = Ward(site_id=nurse.site_id, code=WARD, name="Melati")
        s.add(ward)
        s.flush()
        beds = [Bed(ward_id=ward.id, code=f"N-0{n}", label=f"N{n}") for n in (1, 2, 3, 4)]
        people = [
            Patient(site_id=nurse.site_id, mrn=f"N{n}", name=name, birth_date=date(1960, 1, 1), sex="P")
            for n, name in ((1, "Siti Aminah"), (2, "Dewi Lestari"), (3, "Rina Wati"), (4, "Sri Rahayu"))
        ]
        s.add_all(beds + people)
        s.flush()
        bed, mrn = {b.code: b for b in beds}, {p.mrn: p.id for p in people}
        start = utcnow() - timedelta(hours=6)
        for code, who in (("N-01", "N1"), ("N-02", "N4"), ("N-03", "N3")):
            admit(s, nurse, patient_id=mrn[who], bed_id=bed[code].id, source="desk", at=start)
        ward_id = ward.id
    with db.session() as s:
        for code in ("N-01", "N-02", "N-03"):
            _observe(s, nurse, code)
    with db.session() as s:
        previous = s.scalar(select(Admission).where(Admission.patient_id == mrn["N4"]))
        discharge(s, nurse, admission_id=previous.id, kind="home", version=previous.version, at=start)
        n02 = s.get(Bed, bed["N-02"].id)
        set_bed_status(s, nurse, bed_id=n02.id, status="available", version=n02.version, at=start)
        admit(s, nurse, patient_id=mrn["N2"], bed_id=n02.id, source="desk", at=start + timedelta(minutes=5))
        set_staff_wards(s, nurse, nurse.user_id, [ward_id])
        observed = max(o.taken_at for o in s.scalars(select(Observation)))
    live = any_app.runtime.live
    live.set_latest(live_keys.latest("N-01"), {"news2": 6, "news2_complete": "1", "news2_risk": "medium"})
    live.set_latest(live_keys.latest("N-03"), {"news2": 0, "news2_complete": "1", "news2_risk": "low"})
    live.set_latest(live_keys.ward_alarms(WARD), {"N-02": json.dumps([{"condition": "spo2_low", "priority": "high"}])})
    return any_app, nurse, ward_id, observed


def _home(pantau, ward_id: int, now, live=None):
    with pantau.runtime.db.session() as s:
        return ward_home(s, live or pantau.runtime.live, s.get(Ward, ward_id), now)


def test_her_wards_are_the_assigned_ones(ward):
    pantau, nurse, ward_id, _ = ward
    with pantau.runtime.db.session() as s:
        assert [w.id for w in nurse_wards(s, nurse.user_id)] == [ward_id]


def test_the_ward_lists_occupied_beds_alarms_high_news2_and_due_observations(ward):
    pantau, _, ward_id, observed = ward
    home = _home(pantau, ward_id, observed + timedelta(hours=2))
    assert home.live is True
    assert [p.bed for p in home.patients] == ["N-01", "N-02", "N-03"]  # the empty N-04 is not a patient
    assert [p.bed for p in home.alarming] == ["N-02"]
    assert [(p.bed, p.news2) for p in home.high_news2] == [("N-01", 6)]
    states = {p.bed: p.due.state for p in home.patients}
    # NEWS2 6 asks for hourly observations: 2 h after the last, overdue. N-02's new patient has none of her own
    # (the previous occupant's does not count): due now. NEWS2 0, every 12 h: not yet.
    assert states == {"N-01": "overdue", "N-02": "due", "N-03": "ok"}
    assert [p.bed for p in home.observations_due] == ["N-01", "N-02"]
    n02 = next(p for p in home.patients if p.bed == "N-02")
    assert n02.last_observed is None and n02.patient_mask != "Dewi Lestari"


def test_an_hour_earlier_the_high_score_is_not_due_yet(ward):
    pantau, _, ward_id, observed = ward
    home = _home(pantau, ward_id, observed + timedelta(minutes=59))
    assert [p.bed for p in home.observations_due] == ["N-02"]


class _LiveAway:
    def get_latest(self, key):
        raise ConnectionError("live store away")

    get_latest_many = get_latest


def test_without_the_live_store_the_beds_are_still_listed_and_due(ward):
    pantau, _, ward_id, observed = ward
    home = _home(pantau, ward_id, observed, live=_LiveAway())
    assert home.live is False and home.alarming == [] and home.high_news2 == []
    assert [p.bed for p in home.observations_due] == ["N-01", "N-02", "N-03"]


def test_a_child_shows_news2_as_not_applicable_and_is_observed_as_prescribed(ward):
    """NEWS2 does not score a child (the clinical step publishes ``not_applicable``): no score to rank, no NEWS2
    frequency; the child's first observation of the stay is still due now."""
    pantau, _, ward_id, observed = ward
    pantau.runtime.live.set_latest(
        live_keys.latest("N-01"), {"news2": None, "news2_complete": "1", "news2_risk": "not_applicable"}
    )
    home = _home(pantau, ward_id, observed + timedelta(hours=30))
    n01 = next(p for p in home.patients if p.bed == "N-01")
    assert (n01.news2, n01.risk, n01.due.state) == (None, "not_applicable", "prescribed")
    assert home.high_news2 == [] and "N-01" not in [p.bed for p in home.observations_due]
    assert "N-02" in [p.bed for p in home.observations_due]  # her first set, as for anyone
    with pantau.server.app_context():
        shown = str(ward_summary(home))
    assert "NEWS2 n/a" in shown and "sesuai instruksi" in shown
