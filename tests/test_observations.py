"""A nurse's observation form: every mistake gets a message, good input passes through unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data.admissions import admit, current_admission, set_bed_status
from data.models import Bed, Observation
from data.observations import record_observation
from data.wards import bed_by_code
from domain.actor import Actor
from domain.errors import InputError
from domain.observations import validate_observation
from tests.test_clinical_reconcile import discharge_without_message

NURSE = Actor(None, "test", 1)
GOOD = {
    "on_oxygen": "no",
    "consciousness": "A",
    "rr": "18",
    "spo2": "96",
    "sbp": "120",
    "dbp": "80",
    "hr": "88",
    "temp": "37,2",
}


def test_good_input_parses_with_decimal_comma():
    obs, errors = validate_observation(GOOD)
    assert errors == {}
    assert obs.on_oxygen is False and obs.consciousness == "A" and obs.temp == 37.2 and obs.rr == 18


def test_only_oxygen_and_consciousness_are_required():
    obs, errors = validate_observation({"on_oxygen": "yes", "consciousness": "V"})
    assert errors == {} and obs.on_oxygen is True and obs.hr is None


@pytest.mark.parametrize(
    "field,value,key",
    [
        ("on_oxygen", None, "obs_err_oxygen"),
        ("consciousness", "X", "obs_err_acvpu"),
        ("hr", "delapan", "obs_err_number"),
        ("hr", "900", "obs_err_range"),
        ("temp", "3.7", "obs_err_range"),
        ("dbp", "130", "obs_err_dbp_above_sbp"),
    ],
)
def test_each_mistake_has_its_message(field, value, key):
    _, errors = validate_observation(GOOD | {field: value})
    assert errors[field][0] == key


def test_blood_pressure_comes_in_pairs():
    _, errors = validate_observation(GOOD | {"dbp": ""})
    assert errors["dbp"][0] == "obs_err_bp_pair"


def test_an_observation_on_an_empty_bed_is_refused(sqlite_app):
    obs, _ = validate_observation({"on_oxygen": "no", "consciousness": "A", "hr": "80"})
    with sqlite_app.runtime.db.session() as s:
        empty, occupied = bed_by_code(s, 1, "MEL-14"), bed_by_code(s, 1, "MEL-02")
        assert empty.patient_id is None and occupied.patient_id is not None
        with pytest.raises(InputError) as err:
            record_observation(s, NURSE, empty, obs)
        assert err.value.key == "obs_err_no_patient"
        row = record_observation(s, NURSE, occupied, obs)
        assert (row.patient_id, row.hr, row.consciousness) == (occupied.patient_id, 80.0, "A")
    with sqlite_app.runtime.db.session() as s:
        assert s.scalars(select(Observation).where(Observation.bed_id == empty.id)).all() == []


def test_a_set_taken_on_a_page_drawn_for_a_stay_that_has_ended_is_refused(sqlite_app):
    """The nurse's page was drawn for the stay in MEL-02; the patient was discharged, the bed cleaned and a stay
    begun there again (here the same patient's, readmitted) before the set was saved: it is not stored for it."""
    obs, _ = validate_observation({"on_oxygen": "yes", "consciousness": "V"})
    db = sqlite_app.runtime.db
    with db.session() as s:
        shown = current_admission(s, bed_by_code(s, 1, "MEL-02").id)
        shown_id, patient_id = shown.id, shown.patient_id
    discharge_without_message(db, "MEL-02")
    with db.session() as s:
        bed = s.scalar(select(Bed).where(Bed.code == "MEL-02"))
        set_bed_status(s, NURSE, bed_id=bed.id, status="available", version=bed.version)
    with db.session() as s:
        admit(s, NURSE, patient_id=patient_id, bed_id=bed_by_code(s, 1, "MEL-02").id, source="desk")
    with db.session() as s:
        bed = bed_by_code(s, 1, "MEL-02")
        with pytest.raises(InputError) as err:
            record_observation(s, NURSE, bed, obs, admission_id=shown_id)
        assert err.value.key == "bed_err_other_patient"
        now = current_admission(s, bed.id).id
        assert now != shown_id and record_observation(s, NURSE, bed, obs, admission_id=now).admission_id == now
