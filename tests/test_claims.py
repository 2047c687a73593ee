"""BPJS claims (data/claims.py) on both backends: opened from JKN episodes, edited, moved, listed with deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

from data.admissions import admit, discharge
from data.charges import NewCharge, add_charge_lines
from data.claims import ClaimFilter, claim_detail, claim_list, move_claim, open_candidates, open_claim, update_claim
from data.models import (
    Admission,
    AuditLog,
    Bed,
    BpjsClaim,
    BpjsClaimEvent,
    ChargeLine,
    ClinicSession,
    Doctor,
    Patient,
    Poli,
    User,
    Visit,
    Ward,
)
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

SEP = "0101R0010126V000123"
_serial = count(1)


def finance_actor(pantau) -> Actor:
    with pantau.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "keuangan"))
        return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def jkn_visit(s, site_id: int, day: date, payer: str = "jkn", charges: tuple[int, ...] = ()) -> int:
    """A visit at Poli Umum on ``day`` with charge lines of ``charges`` Rupiah."""
    poli = s.scalar(select(Poli).where(Poli.site_id == site_id, Poli.code == "UMU"))
    doctor = s.scalar(select(Doctor).where(Doctor.poli_id == poli.id).order_by(Doctor.id))
    n = next(_serial)
    starts = datetime.combine(day, time(1), tzinfo=UTC)
    clinic = ClinicSession(
        site_id=site_id, poli_id=poli.id, doctor_id=doctor.id, service_date=day, start_time=time(n % 24),
        end_time=time(12), starts_at=starts, ends_at=starts + timedelta(hours=4), quota_jkn=30, quota_non_jkn=10,
        booked_jkn=0, booked_non_jkn=0,
    )  # fmt: skip
    patient = Patient(site_id=site_id, mrn=f"CLM-{n:05d}", name=f"Pasien {n}", birth_date=date(1980, 1, 1), sex="L")
    s.add_all([clinic, patient])
    s.flush()
    visit = Visit(
        site_id=site_id, patient_id=patient.id, session_id=clinic.id, poli_id=poli.id, service_date=day,
        booking_code=f"CLM{n:08d}", payer=payer, status="done",
    )  # fmt: skip
    s.add(visit)
    s.flush()
    lines = [
        NewCharge(day, "rawat_jalan", "jkn", f"T{i}", "Item", f"clm-{visit.id}-{i}", price, visit_id=visit.id)
        for i, price in enumerate(charges)
    ]
    add_charge_lines(s, site_id, lines)
    return visit.id


@pytest.fixture
def setup(any_app):
    pantau, actor = any_app, finance_actor(any_app)
    return pantau, actor


def test_open_from_a_jkn_visit_sums_its_charges(setup):
    pantau, actor = setup
    day = date(2026, 11, 2)
    with pantau.runtime.db.session() as s:
        visit_id = jkn_visit(s, actor.site_id, day, charges=(50_000, 125_000, 7_500))
        other = jkn_visit(s, actor.site_id, day, payer="non_jkn")
    with pantau.runtime.db.session() as s:
        claim_id = open_claim(s, actor, visit_id=visit_id, sep_number=SEP.lower())
    with pantau.runtime.db.session() as s:
        view, events = claim_detail(s, actor.site_id, claim_id, today=date(2026, 12, 1))
        assert (view.sep_number, view.episode, view.place, view.status) == (SEP, "rawat_jalan", "Poli Umum", "coded")
        assert view.hospital_tariff == 182_500
        assert view.service_end == day and view.deadline == date(2027, 5, 2) and view.days_left == 152
        assert [e.status for e in events] == ["coded"]
        assert (
            s.scalar(
                select(AuditLog.action).where(AuditLog.target_type == "bpjs_claim", AuditLog.target_id == str(claim_id))
            )
            == "claim_opened"
        )
        with pytest.raises(InputError) as err:
            open_claim(s, actor, visit_id=visit_id, sep_number="0101R0010126V000999")
        assert err.value.key == "claim_err_exists"
        with pytest.raises(InputError) as err:
            open_claim(s, actor, visit_id=other, sep_number="0101R0010126V000999")
        assert err.value.key == "claim_err_not_jkn"
        with pytest.raises(FieldErrors) as err:
            open_claim(s, actor, visit_id=other, sep_number="12345")
        assert err.value.errors["sep_number"].key == "claim_err_sep"


def test_open_from_a_discharged_jkn_stay(setup):
    pantau, actor = setup
    with pantau.runtime.db.session() as s:
        ward = Ward(site_id=actor.site_id, code="KLM", name="Melati")
        s.add(ward)
        s.flush()
        bed = Bed(ward_id=ward.id, code="K-01", label="K")
        patient = Patient(site_id=actor.site_id, mrn="CLM-RI", name="Budi", birth_date=date(1970, 1, 1), sex="L")
        s.add_all([bed, patient])
        s.flush()
        at = datetime(2026, 10, 30, 20, tzinfo=UTC)  # 31 Oct 03:00 WIB
        stay = admit(s, actor, patient_id=patient.id, bed_id=bed.id, source="desk", at=at)
        stay_id = stay.admission_id
        s.get(Admission, stay_id).payer = "jkn"
        s.flush()
        with pytest.raises(InputError) as err:
            open_claim(s, actor, admission_id=stay_id, sep_number=SEP)
        assert err.value.key == "claim_err_not_discharged"
        # Sent home at 03:00 on 3 November: the discharge charged room and care for the midnights of 1, 2 and 3
        # November at the tariff in force.
        discharge(s, actor, admission_id=stay_id, kind="home", version=None, at=at + timedelta(days=3))
        charged = s.execute(
            select(func.count(), func.sum(ChargeLine.amount)).where(ChargeLine.admission_id == stay_id)
        ).one()
        assert charged[0] == 3 * 2 and charged[1] > 0
        assert [c.id for c in open_candidates(s, actor.site_id, today=date(2026, 11, 20)) if c.kind == "admission"] == [
            stay_id
        ]
        claim_id = open_claim(s, actor, admission_id=stay_id, sep_number=SEP)
        claim = s.get(BpjsClaim, claim_id)
        assert (claim.episode, claim.ward_id, claim.hospital_tariff) == ("rawat_inap", ward.id, charged[1])
        assert (claim.service_start, claim.service_end) == (date(2026, 10, 31), date(2026, 11, 3))
        assert stay_id not in [c.id for c in open_candidates(s, actor.site_id, today=date(2026, 11, 20))]


def test_edit_and_move_through_the_lifecycle(setup):
    pantau, actor = setup
    day = date(2026, 8, 10)
    with pantau.runtime.db.session() as s:
        claim_id = open_claim(s, actor, visit_id=jkn_visit(s, actor.site_id, day, charges=(200_000,)), sep_number=SEP)
    with pantau.runtime.db.session() as s:
        with pytest.raises(FieldErrors) as err:
            update_claim(s, actor, claim_id, 1, {"inacbg_code": "K417", "hospital_tariff": "x", "topup_amount": "0"})
        assert set(err.value.errors) == {"inacbg_code", "hospital_tariff"}
        with pytest.raises(InputError) as err:
            move_claim(s, actor, claim_id, 1, "grouped", on=day)
        assert err.value.key == "claim_err_needs_grouping"
    with pantau.runtime.db.session() as s:
        fields = {"inacbg_code": "q-5-44-0", "hospital_tariff": "200.000", "inacbg_tariff": "Rp 185.500",
                  "submitted_amount": "", "approved_amount": "", "topup_amount": "0"}  # fmt: skip
        update_claim(s, actor, claim_id, 1, fields)
    with pantau.runtime.db.session() as s:
        with pytest.raises(InputError) as err:
            update_claim(s, actor, claim_id, 1, fields)  # the form showed version 1; it is 2 now
        assert err.value.key == "err_edit_conflict"
        with pytest.raises(FieldErrors) as err:
            move_claim(s, actor, claim_id, 2, "submitted", on=day)
        assert err.value.errors["status"].key == "claim_err_transition"
        move_claim(s, actor, claim_id, 2, "grouped", on=day)
        move_claim(s, actor, claim_id, 3, "final", on=day)
        move_claim(s, actor, claim_id, 4, "submitted", on=date(2026, 8, 14))
        move_claim(s, actor, claim_id, 5, "verified", on=date(2026, 8, 20))
        with pytest.raises(FieldErrors) as err:
            move_claim(s, actor, claim_id, 6, "pending", reason="  ", on=date(2026, 8, 21))
        assert err.value.errors["reason"].key == "claim_err_reason"
        move_claim(s, actor, claim_id, 6, "pending", reason="Resume medis belum lengkap", on=date(2026, 8, 21))
    with pantau.runtime.db.session() as s:
        claim = s.get(BpjsClaim, claim_id)
        assert (claim.inacbg_code, claim.inacbg_tariff, claim.submitted_amount) == ("Q-5-44-0", 185_500, 185_500)
        assert (claim.status, claim.status_reason, claim.submitted_on) == (
            "pending", "Resume medis belum lengkap", date(2026, 8, 14)
        )  # fmt: skip
        view, events = claim_detail(s, actor.site_id, claim_id, today=date(2026, 8, 25))
        # 15 working days after Fri 14 Aug 2026 from the site's calendar: Mon 17 Aug (Independence Day) and Tue
        # 25 Aug (Maulid Nabi) excluded: 18-21, 24, 26-28 Aug, 31 Aug-4 Sep, 7-8 Sep.
        assert view.verification_due == date(2026, 9, 8)
        assert [e.status for e in events] == ["coded", "grouped", "final", "submitted", "verified", "pending"]
        assert s.scalar(select(BpjsClaimEvent.reason).where(BpjsClaimEvent.status == "pending")) == (
            "Resume medis belum lengkap"
        )


def test_list_filters_and_near_limit(setup):
    pantau, actor = setup
    with pantau.runtime.db.session() as s:
        old = open_claim(s, actor, visit_id=jkn_visit(s, actor.site_id, date(2026, 1, 5)), sep_number=SEP)
        recent = open_claim(
            s, actor, visit_id=jkn_visit(s, actor.site_id, date(2026, 5, 5)), sep_number="0101R0010126V000124"
        )
    today = date(2026, 6, 10)  # the January claim's limit is 5 July: 25 days left
    with pantau.runtime.db.session() as s:
        rows, total = claim_list(s, actor.site_id, ClaimFilter(), today=today)
        assert total == 2 and [r.id for r in rows] == [old, recent]
        assert [(r.days_left, r.near_limit) for r in rows] == [(25, True), (148, False)]
        rows, total = claim_list(s, actor.site_id, ClaimFilter(near_limit=True), today=today)
        assert (total, [r.id for r in rows]) == (1, [old])
        rows, total = claim_list(
            s, actor.site_id, ClaimFilter(start=date(2026, 5, 1), end=date(2026, 5, 31)), today=today
        )
        assert (total, [r.id for r in rows]) == (1, [recent])
        assert claim_list(s, actor.site_id, ClaimFilter(status="paid"), today=today)[1] == 0
        s.get(BpjsClaim, old).status = "paid"  # done: after those still to submit, the newest first
        newer_paid = open_claim(
            s, actor, visit_id=jkn_visit(s, actor.site_id, date(2026, 3, 5)), sep_number="0101R0010126V000125"
        )
        s.get(BpjsClaim, newer_paid).status = "paid"
        s.flush()
        rows, _ = claim_list(s, actor.site_id, ClaimFilter(), today=today)
        assert [r.id for r in rows] == [recent, newer_paid, old]


def _create_request(episode: str, sep: str) -> dict:
    """The "Buat klaim" callback as the browser sends it (callbacks/claims.create)."""
    outputs = [("claim-created", "data"), ("claim-new-msg", "children"), ("claim-new-sep", "invalid"),
               ("claim-feedback-sep_number", "children"), ("claim-new-sep", "value")]  # fmt: skip
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "claim-new", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["claim-new.n_clicks"],
        "state": [
            {"id": "claim-new-episode", "property": "value", "value": episode},
            {"id": "claim-new-sep", "property": "value", "value": sep},
        ],
    }


def test_only_finance_and_admin_change_claims_even_when_crafted(sqlite_app, login):
    actor = finance_actor(sqlite_app)
    with sqlite_app.runtime.db.session() as s:
        visit_id = jkn_visit(s, actor.site_id, date(2026, 11, 2))
    request = _create_request(f"visit:{visit_id}", SEP)
    assert login("front_desk").post("/_dash-update-component", json=request).status_code == 403
    answer = login("manager").post("/_dash-update-component", json=request)
    assert answer.status_code == 200 and "hanya dapat melihat" in answer.get_data(as_text=True)
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(BpjsClaim.id)) is None
    answer = login("finance").post("/_dash-update-component", json=request)
    assert answer.status_code == 200
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(BpjsClaim.visit_id)) == visit_id
