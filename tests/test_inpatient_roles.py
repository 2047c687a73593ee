"""The front desk admits but never transfers or discharges: the server refuses the discharge callback even when
the request is forged (the page shows the desk no such button)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from data.admissions import admit
from data.inpatient_views import available_beds
from data.models import Admission, Patient, User
from domain.actor import Actor


def _callback_request(deps: list[dict], output_id: str, trigger: str, states: dict[str, object]) -> dict:
    """The body Dash's renderer posts for the callback writing ``output_id`` when ``trigger`` is clicked."""
    spec = next(d for d in deps if f"..{output_id}." in d["output"] and any(i["id"] == trigger for i in d["inputs"]))
    outputs = []
    for part in spec["output"].strip(".").split("..."):
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    return {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [{"id": trigger, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f"{trigger}.n_clicks"],
        "state": [{"id": s["id"], "property": s["property"], "value": states.get(s["id"])} for s in spec["state"]],
    }


def test_the_front_desk_cannot_discharge_even_by_a_forged_request(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        nurse = s.scalar(select(User).where(User.username == "perawat"))
        patient = Patient(
            site_id=nurse.site_id, mrn="RI0002", name="Ani Wulandari", birth_date=date(1990, 1, 1), sex="P"
        )
        s.add(patient)
        s.flush()
        bed = available_beds(s, nurse.site_id)[0]
        done = admit(s, Actor(nurse.id, "perawat", nurse.site_id), patient_id=patient.id, bed_id=bed.id, source="desk")
    chosen = {"admission": done.admission_id, "version": 1, "bed": bed.code}
    for role, refused in (("front_desk", True), ("nurse", False)):
        client = sqlite_app.login(role)
        deps = client.get("/_dash-dependencies").get_json()
        body = _callback_request(
            deps,
            "inpatient-discharge-feedback",
            "inpatient-discharge-save",
            {"inpatient-chosen": chosen, "inpatient-discharge-kind": "home", "inpatient-version": 0},
        )
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        with sqlite_app.runtime.db.session() as s:
            still_open = s.get(Admission, done.admission_id).discharged_at is None
        assert ("Petugas loket" in answer.get_data(as_text=True)) is refused
        assert still_open is refused
