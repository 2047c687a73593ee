"""Charges captured from Pantau's own events (data/charge_capture.py), on both databases: a visit's registration,
consultation and pharmacy lines at the tariff in force for its payer, poli and doctor; room and care per
inpatient day at the class of the bed held at midnight; each event charged once, however often it is repeated;
an unpriced line where no tariff is in force; and the ``charge_daily`` rollup against sums worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select

from data import charge_capture, queue_actions
from data.admissions import admit, discharge, set_bed_status
from data.billing import cashier_lookup, create_invoice
from data.census import ensure_census, record_census
from data.charges import PriceBook, price_of
from data.models import (
    Admission,
    Bed,
    ChargeDaily,
    ChargeLine,
    ClinicSession,
    Patient,
    Poli,
    Tariff,
    Visit,
    Ward,
)
from data.queue_registration import check_in, register_patient, register_visit
from data.schedules import local_today
from domain.clock import utcnow
from domain.errors import InputError
from tests.test_admissions import nurse
from tests.test_queue_actions import DAY, NON_RACIKAN, RACIKAN, build_clinic

# (code, unit, care class, payer, amount): JKN pays its own consultation price; Poli Anak has its own code.
TARIFFS = (
    ("ADM-DAFTAR", "rawat_jalan", None, None, 25_000),
    ("RJ-KONSUL", "rawat_jalan", None, None, 75_000),
    ("RJ-KONSUL", "rawat_jalan", None, "jkn", 60_000),
    ("RJ-KONSUL-ANA", "rawat_jalan", None, None, 90_000),
    ("FAR-RACIK", "farmasi", None, None, 15_000),
    ("RI-KAMAR", "rawat_inap", "1", None, 500_000),
    ("RI-KAMAR", "rawat_inap", "2", None, 300_000),
    ("RI-KAMAR", "rawat_inap", "3", None, 150_000),
    ("RI-ASUHAN", "rawat_inap", None, None, 50_000),
    ("RI-ASUHAN", "rawat_inap", "1", None, 100_000),
)  # no FAR-NONRACIK: its lines are written unpriced


def set_tariffs(pantau, site_id: int) -> None:
    """The test's own tariff master (any demo tariff list is removed first, so the prices are these)."""
    with pantau.runtime.db.session() as s:
        s.execute(delete(Tariff).where(Tariff.site_id == site_id))
        s.add_all(
            Tariff(
                site_id=site_id, code=code, name=f"Tarif {code}", unit=unit, care_class=care_class, payer=payer,
                amount=amount, valid_from=date(2025, 1, 1),
            )
            for code, unit, care_class, payer, amount in TARIFFS
        )  # fmt: skip


def lines(pantau, **where) -> list[tuple]:
    """(code, amount, priced, unit, payer, poli code, doctor id, ward id, source id) of the matching lines."""
    with pantau.runtime.db.session() as s:
        query = select(ChargeLine, Poli.code).outerjoin(Poli, Poli.id == ChargeLine.poli_id)
        for name, value in where.items():
            query = query.where(getattr(ChargeLine, name) == value)
        rows = s.execute(query.order_by(ChargeLine.id)).all()
        return [
            (c.tariff_code, c.amount, c.priced, c.unit, c.payer, poli, c.doctor_id, c.ward_id, c.source_id)
            for c, poli in rows
        ]


def daily(pantau, day: date) -> dict[tuple, tuple[int, int]]:
    """The rollup of ``day``: (unit, payer, poli id, ward id, doctor id) → (amount, lines)."""
    with pantau.runtime.db.session() as s:
        rows = s.scalars(select(ChargeDaily).where(ChargeDaily.service_date == day))
        return {(r.unit, r.payer, r.poli_id, r.ward_id, r.doctor_id): (r.amount, r.lines) for r in rows}


def serve(clinic, registration, pharmacy: str | None) -> int:
    """Call, start and finish ``registration`` at its poli (sending it on to ``pharmacy``), then at the pharmacy;
    returns the pharmacy ticket's id (or 0)."""
    clinic.act(queue_actions.call_ticket, registration.ticket_id, "Ruang 1")
    clinic.act(queue_actions.start, registration.ticket_id)
    clinic.act(queue_actions.finish, registration.ticket_id, pharmacy=pharmacy)
    if pharmacy is None:
        return 0
    called, _ = clinic.call(point=pharmacy, counter="Loket Obat")
    clinic.act(queue_actions.start, called.ticket_id)
    clinic.act(queue_actions.finish, called.ticket_id)
    return called.ticket_id


@pytest.fixture
def clinic(any_app):
    built = build_clinic(any_app)
    set_tariffs(any_app, built.actor.site_id)
    return built


def test_a_jkn_visit_served_and_dispensed_is_charged_once_at_its_prices(clinic, any_app):
    registration = clinic.visit(payer="jkn", session="UMU1")
    with clinic.db.session() as s:
        umu = s.scalar(select(Poli.id).where(Poli.code == "UMU"))
        doctor = s.get(ClinicSession, clinic.sessions["UMU1"]).doctor_id
    visit = f"visit:{registration.visit_id}"
    assert lines(any_app, visit_id=registration.visit_id) == [
        ("ADM-DAFTAR", 25_000, True, "rawat_jalan", "jkn", "UMU", None, None, f"{visit}:registration")
    ]
    pharmacy_ticket = serve(clinic, registration, RACIKAN)
    expected = [
        ("ADM-DAFTAR", 25_000, True, "rawat_jalan", "jkn", "UMU", None, None, f"{visit}:registration"),
        ("RJ-KONSUL", 60_000, True, "rawat_jalan", "jkn", "UMU", doctor, None, f"{visit}:consultation"),
        ("FAR-RACIK", 15_000, True, "farmasi", "jkn", "UMU", None, None, f"{visit}:pharmacy"),
    ]
    assert lines(any_app, visit_id=registration.visit_id) == expected
    rollup = {
        ("rawat_jalan", "jkn", umu, 0, 0): (25_000, 1),
        ("rawat_jalan", "jkn", umu, 0, doctor): (60_000, 1),
        ("farmasi", "jkn", umu, 0, 0): (15_000, 1),
    }
    assert daily(any_app, DAY) == rollup
    # Finishing again is refused and charges nothing; capturing the same events again adds nothing.
    with pytest.raises(InputError):
        clinic.act(queue_actions.finish, pharmacy_ticket)
    with clinic.db.session() as s:
        visit_row = s.get(Visit, registration.visit_id)
        again = (
            charge_capture.charge_registration(s, visit_row, clinic.actor.user_id),
            charge_capture.charge_consultation(s, visit_row, clinic.actor.user_id),
            charge_capture.charge_pharmacy(s, visit_row, RACIKAN, clinic.actor.user_id),
        )
    assert again == (0, 0, 0)
    assert lines(any_app, visit_id=registration.visit_id) == expected
    assert daily(any_app, DAY) == rollup


def test_a_self_pay_visit_at_a_poli_with_its_own_consultation_code_and_an_unpriced_pharmacy(clinic, any_app):
    registration = clinic.visit(payer="non_jkn", session="ANA")
    serve(clinic, registration, NON_RACIKAN)
    with clinic.db.session() as s:
        ana = s.scalar(select(Poli.id).where(Poli.code == "ANA"))
        doctor = s.get(ClinicSession, clinic.sessions["ANA"]).doctor_id
    visit = f"visit:{registration.visit_id}"
    assert lines(any_app, visit_id=registration.visit_id) == [
        ("ADM-DAFTAR", 25_000, True, "rawat_jalan", "umum", "ANA", None, None, f"{visit}:registration"),
        ("RJ-KONSUL-ANA", 90_000, True, "rawat_jalan", "umum", "ANA", doctor, None, f"{visit}:consultation"),
        ("FAR-NONRACIK", 0, False, "farmasi", "umum", "ANA", None, None, f"{visit}:pharmacy"),
    ]
    assert daily(any_app, DAY) == {
        ("rawat_jalan", "umum", ana, 0, 0): (25_000, 1),
        ("rawat_jalan", "umum", ana, 0, doctor): (90_000, 1),
        ("farmasi", "umum", ana, 0, 0): (0, 1),
    }


def test_a_visit_finished_without_pharmacy_is_charged_registration_and_consultation_only(clinic, any_app):
    registration = clinic.visit(payer="jkn", session="UMU2")
    serve(clinic, registration, None)
    codes = [row[0] for row in lines(any_app, visit_id=registration.visit_id)]
    assert codes == ["ADM-DAFTAR", "RJ-KONSUL"]


def test_a_mobile_jkn_booking_is_charged_its_registration_when_the_patient_checks_in(clinic, any_app):
    with clinic.db.session() as s:
        patient = register_patient(
            s, clinic.cipher, clinic.actor, name="Rina Marlina", birth_date=date(1990, 3, 4), sex="P",
            phone="081298765432", bpjs="0001234567890", nik="3171014403900001", today=DAY,
        )  # fmt: skip
        booked = register_visit(
            s, clinic.actor, patient_id=patient.id, session_id=clinic.sessions["UMU1"], payer="jkn",
            now=clinic.tick(), source="mobile_jkn", arrived=False, referral_number="0301R0011126B000777",
        )  # fmt: skip
    assert lines(any_app, visit_id=booked.visit_id) == []  # booked ahead: nothing earned until the patient comes
    clinic.act(check_in, booked.booking_code)
    assert [row[:5] for row in lines(any_app, visit_id=booked.visit_id)] == [
        ("ADM-DAFTAR", 25_000, True, "rawat_jalan", "jkn")
    ]


# ---- inpatient days ---------------------------------------------------------------------------------------------

STAY_DAY = date(2026, 5, 4)  # site-local (WIB, UTC+7)


def wib(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


@pytest.fixture
def stays(any_app):
    """Ward KL1 (class 1: K-01, K-02) and KL3 (class 3: L-01, and L-02 a class-2 bed); four admissions."""
    pantau, actor = any_app, nurse(any_app)
    set_tariffs(pantau, actor.site_id)
    before, two_before = STAY_DAY - timedelta(days=1), STAY_DAY - timedelta(days=2)
    with pantau.runtime.db.session() as s:
        wards = [Ward(site_id=actor.site_id, code=c, name=c, care_class=k) for c, k in (("KL1", "1"), ("KL3", "3"))]
        s.add_all(wards)
        s.flush()
        beds = [Bed(ward_id=wards[0].id, code=f"K-0{n}", label="K") for n in (1, 2)]
        beds += [Bed(ward_id=wards[1].id, code="L-01", label="L"), Bed(ward_id=wards[1].id, code="L-02", label="L")]
        beds[3].care_class = "2"
        people = [
            Patient(site_id=actor.site_id, mrn=f"S{n}", name="Budi Santoso", birth_date=date(1970, 1, 1), sex="L")
            for n in range(4)
        ]
        s.add_all(beds + people)
        s.flush()
        bed = {b.code: b.id for b in beds}
        ids = [p.id for p in people]
        # In a bed at STAY_DAY's midnight: JKN in class 1, self-pay in the class-2 bed of a class-3 ward.
        jkn = admit(s, actor, patient_id=ids[0], bed_id=bed["K-01"], source="desk", at=wib(before, 10), payer="jkn")
        umum = admit(s, actor, patient_id=ids[1], bed_id=bed["L-02"], source="poli", at=wib(before, 20))
        # Admitted after that midnight: nothing for STAY_DAY.
        admit(s, actor, patient_id=ids[2], bed_id=bed["L-01"], source="desk", at=wib(STAY_DAY, 8), payer="asuransi")
        # Discharged before it: one day (the midnight starting the day before).
        gone = admit(s, actor, patient_id=ids[3], bed_id=bed["K-02"], source="desk", at=wib(two_before, 10))
        discharge(s, actor, admission_id=gone.admission_id, kind="home", version=None, at=wib(before, 15))
    return pantau, actor, {w.code: w.id for w in wards}, (jkn.admission_id, umum.admission_id, gone.admission_id)


def test_census_charges_room_and_care_per_class_and_payer_once(stays):
    pantau, actor, ward, (jkn, umum, _) = stays
    with pantau.runtime.db.session() as s:
        assert s.get(Admission, jkn).payer == "jkn" and s.get(Admission, umum).payer == "umum"
        record_census(s, actor.site_id, STAY_DAY)
    day = STAY_DAY.isoformat()
    expected = [
        ("RI-KAMAR", 500_000, True, "rawat_inap", "jkn", None, None, ward["KL1"], f"admission:{jkn}:room:{day}"),
        ("RI-ASUHAN", 100_000, True, "rawat_inap", "jkn", None, None, ward["KL1"], f"admission:{jkn}:care:{day}"),
        ("RI-KAMAR", 300_000, True, "rawat_inap", "umum", None, None, ward["KL3"], f"admission:{umum}:room:{day}"),
        ("RI-ASUHAN", 50_000, True, "rawat_inap", "umum", None, None, ward["KL3"], f"admission:{umum}:care:{day}"),
    ]
    assert lines(pantau, service_date=STAY_DAY) == expected
    rollup = {
        ("rawat_inap", "jkn", 0, ward["KL1"], 0): (600_000, 2),
        ("rawat_inap", "umum", 0, ward["KL3"], 0): (350_000, 2),
    }
    assert daily(pantau, STAY_DAY) == rollup
    with pantau.runtime.db.session() as s:
        record_census(s, actor.site_id, STAY_DAY)  # recomputed: charged once
        assert charge_capture.charge_inpatient_day(s, actor.site_id, STAY_DAY) == 0
    assert lines(pantau, service_date=STAY_DAY) == expected
    assert daily(pantau, STAY_DAY) == rollup


def test_a_price_book_asks_each_question_once_and_answers_as_price_of(stays):
    """A day's room and care for every bed asks a few questions many times: the census's book asks each once."""
    pantau, actor, _, _ = stays
    asked: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if "FROM tariff" in statement:
            asked.append(statement)

    engine = pantau.runtime.db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        with pantau.runtime.db.session() as s:
            book = PriceBook(s, actor.site_id)
            questions = [("RI-KAMAR", k, p) for k, p in (("1", "jkn"), ("3", "umum"), ("1", "jkn"), ("3", "umum"))]
            answers = [book.price(code, STAY_DAY, care_class=k, payer=p) for code, k, p in questions]
            assert len(asked) == 2
            direct = [price_of(s, actor.site_id, code, STAY_DAY, care_class=k, payer=p) for code, k, p in questions]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [a.amount for a in answers] == [d.amount for d in direct] and answers[0].amount != answers[1].amount


def test_ensure_census_charges_the_missing_days(stays):
    pantau, actor, ward, (jkn, umum, _) = stays
    before = STAY_DAY - timedelta(days=1)
    with pantau.runtime.db.session() as s:
        assert ensure_census(s, actor.site_id, STAY_DAY) == 3
    # The day before: only the patient sent home that afternoon lay in a bed at its midnight (class 1, self-pay).
    assert [(c, a, p, w) for c, a, _, _, p, _, _, w, _ in lines(pantau, service_date=before)] == [
        ("RI-KAMAR", 500_000, "umum", ward["KL1"]),
        ("RI-ASUHAN", 100_000, "umum", ward["KL1"]),
    ]
    assert {row[-1].split(":")[1] for row in lines(pantau, service_date=STAY_DAY)} == {str(jkn), str(umum)}
    assert lines(pantau, service_date=STAY_DAY - timedelta(days=2)) == []


def test_a_midnight_still_to_come_charges_nothing(stays):
    pantau, actor, _, _ = stays
    with pantau.runtime.db.session() as s:
        assert charge_capture.charge_inpatient_day(s, actor.site_id, date.today() + timedelta(days=2)) == 0


def test_admission_payer_is_checked(stays):
    pantau, actor, _, _ = stays
    with pantau.runtime.db.session() as s:
        bed = s.scalar(select(Bed.id).where(Bed.code == "L-01"))
        patient = s.scalar(select(Patient.id).where(Patient.mrn == "S0"))
        with pytest.raises(InputError) as wrong:
            admit(s, actor, patient_id=patient, bed_id=bed, source="desk", payer="bpjs")
    assert wrong.value.key == "cap_err_payer"


def test_a_stay_that_ends_is_charged_its_midnights_before_the_census_reaches_them(stays):
    """Sent home the afternoon after its one midnight, and no census run since: the discharge charged it."""
    pantau, _, ward, (_, _, gone) = stays
    before = (STAY_DAY - timedelta(days=1)).isoformat()
    assert [(c, a, p, w, source) for c, a, _, _, p, _, _, w, source in lines(pantau, admission_id=gone)] == [
        ("RI-KAMAR", 500_000, "umum", ward["KL1"], f"admission:{gone}:room:{before}"),
        ("RI-ASUHAN", 100_000, "umum", ward["KL1"], f"admission:{gone}:care:{before}"),
    ]


def test_a_stay_billed_while_in_bed_is_charged_every_midnight_so_far(stays):
    """Two days in a class-1 bed: the bill counts both midnights, although the census has charged neither (today's
    is charged by the census tomorrow at the earliest)."""
    pantau, actor, _, _ = stays
    with pantau.runtime.db.session() as s:
        patient = Patient(site_id=actor.site_id, mrn="S9", name="Sri Wahyuni", birth_date=date(1960, 1, 1), sex="P")
        s.add(patient)
        s.flush()
        bed = s.scalar(select(Bed.id).where(Bed.code == "K-02"))  # cleaned after the stay sent home
        set_bed_status(s, actor, bed_id=bed, status="available", version=None)
        stay = admit(s, actor, patient_id=patient.id, bed_id=bed, source="desk", at=utcnow() - timedelta(days=2))
    with pantau.runtime.db.session() as s:  # the cashier's search shows what the bill will hold
        found = cashier_lookup(s, actor.site_id, "S9", local_today(s, actor.site_id))
    assert [(e.kind, e.unbilled) for e in found] == [("admission", 2 * (500_000 + 100_000))]
    with pantau.runtime.db.session() as s:
        invoice = create_invoice(s, actor, admission_id=stay.admission_id)
    assert invoice.total == 2 * (500_000 + 100_000)
    with pantau.runtime.db.session() as s, pytest.raises(InputError):
        create_invoice(s, actor, admission_id=stay.admission_id)  # nothing more to bill: each midnight once
