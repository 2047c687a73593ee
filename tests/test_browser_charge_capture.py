"""Issue 14, done-when #2: a visit registered at the desk, served at the poli and dispensed at the pharmacy in a
real browser leaves its charge lines (registration, consultation, compounded prescription) at the tariffs in
force, and the day's revenue rollup grows by exactly those amounts."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from auth.users import find_user
from data.inpatient_views import available_beds
from data.models import Admission, ChargeDaily, ChargeLine, ClinicSession, Patient, Poli, QueueTicket, Tariff, Visit
from data.queue_registration import register_patient
from data.schedules import local_today
from domain.actor import Actor
from tests.test_browser_inpatient import choose
from tests.test_browser_registration import choose_session, open_desk, search_mrn
from tests.test_browser_shell import open_counter, open_nav, sign_in, sign_out

pytestmark = pytest.mark.browser

PRICES = {"ADM-DAFTAR": ("rawat_jalan", 30_000), "RJ-KONSUL": ("rawat_jalan", 85_000), "FAR-RACIK": ("farmasi", 20_000)}


def set_prices(pantau) -> int:
    """Today's tariffs of the three captured services, in place of any demo tariff list; the site's id."""
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Poli.site_id).where(Poli.code == "UMU"))
        s.execute(delete(Tariff).where(Tariff.site_id == site_id))
        today = local_today(s, site_id)
        s.add_all(
            Tariff(site_id=site_id, code=code, name=code, unit=unit, amount=amount, valid_from=today)
            for code, (unit, amount) in PRICES.items()
        )
    return site_id


def rollup(pantau, site_id: int) -> dict[tuple, tuple[int, int]]:
    """Today's ``charge_daily``: (unit, payer, poli id, doctor id) → (amount, lines), summed over wards."""
    with pantau.runtime.db.session() as s:
        rows = s.scalars(
            select(ChargeDaily).where(
                ChargeDaily.site_id == site_id, ChargeDaily.service_date == local_today(s, site_id)
            )
        )
        sums: dict[tuple, tuple[int, int]] = {}
        for r in rows:
            key = (r.unit, r.payer, r.poli_id, r.doctor_id)
            amount, lines = sums.get(key, (0, 0))
            sums[key] = (amount + r.amount, lines + r.lines)
        return sums


def start_serving(page, label: str) -> None:
    expect(page.locator("#counter-current-label")).to_have_text(label)
    page.click("#counter-start")
    expect(page.locator("#counter-message")).to_have_text(f"{label} mulai dilayani.")


def test_a_visit_served_and_dispensed_in_the_browser_is_charged(page, live_server):
    base, pantau = live_server
    site_id = set_prices(pantau)
    before = rollup(pantau, site_id)

    open_desk(page, base)
    search_mrn(page, "DEMO-00001", "01-01-1950")
    page.locator("#reg-hits-table button").first.click()
    expect(page.locator("#reg-chosen-name")).to_have_text("Siti Nurhaliza")
    choose_session(page, "Poli Umum")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-number")).to_have_text("A001")
    code = page.locator("#reg-ticket-code").inner_text()

    sign_out(page, base)
    sign_in(page, base, "perawat")
    open_counter(page, base, "poli:UMU", "Ruang Periksa 1")
    start_serving(page, "A001")
    page.get_by_text("Ke farmasi racikan").click()
    page.click("#counter-finish")
    expect(page.locator("#counter-message")).to_contain_text("farmasi racikan")

    sign_out(page, base)
    sign_in(page, base, "farmasi")
    open_counter(page, base, "farmasi:racikan", "Loket Obat 1")
    start_serving(page, "R001")
    page.click("#counter-finish")
    expect(page.locator("#counter-current-empty")).to_be_visible()

    with pantau.runtime.db.session() as s:
        visit = s.scalar(select(Visit).where(Visit.booking_code == code))
        doctor = s.get(ClinicSession, visit.session_id).doctor_id
        pharmacy = s.scalar(
            select(QueueTicket.status).where(QueueTicket.visit_id == visit.id, QueueTicket.label == "R001")
        )
        charged = [
            (c.tariff_code, c.unit, c.payer, c.poli_id, c.doctor_id, c.amount, c.priced)
            for c in s.scalars(select(ChargeLine).where(ChargeLine.visit_id == visit.id).order_by(ChargeLine.id))
        ]
        poli = visit.poli_id
    assert pharmacy == "done"
    assert charged == [
        ("ADM-DAFTAR", "rawat_jalan", "umum", poli, None, 30_000, True),
        ("RJ-KONSUL", "rawat_jalan", "umum", poli, doctor, 85_000, True),
        ("FAR-RACIK", "farmasi", "umum", poli, None, 20_000, True),
    ]
    after = rollup(pantau, site_id)
    grown = {
        key: (amount - before.get(key, (0, 0))[0], lines - before.get(key, (0, 0))[1])
        for key, (amount, lines) in after.items()
        if (amount, lines) != before.get(key)
    }
    assert grown == {
        ("rawat_jalan", "umum", poli, 0): (30_000, 1),
        ("rawat_jalan", "umum", poli, doctor): (85_000, 1),
        ("farmasi", "umum", poli, 0): (20_000, 1),
    }


def test_the_admit_form_proposes_jkn_for_a_card_holder_and_stores_the_chosen_payer(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        nurse = find_user(s, "perawat")
        actor = Actor(nurse.id, nurse.username, nurse.site_id, None)
        today = local_today(s, nurse.site_id)
        for name, bpjs, nik in (("Yanti Kusuma", "0009876543210", "3171015505800001"), ("Hadi Prasetya", "", "")):
            register_patient(
                s, pantau.runtime.cipher, actor, name=name, birth_date=date(1980, 5, 15), sex="P",
                phone="081311112222", bpjs=bpjs, nik=nik, today=today,
            )  # fmt: skip
        beds = [b.code for b in available_beds(s, nurse.site_id) if b.ward == "Bangsal Melati"][:2]
    sign_in(page, base, "perawat")
    open_nav(page, "pages.inpatient")
    payer = page.locator("#inpatient-payer")
    expect(payer).to_contain_text("Umum (bayar sendiri)")
    for name, proposed, chosen, bed in (
        ("Yanti Kusuma", "JKN (BPJS Kesehatan)", None, beds[0]),
        ("Hadi Prasetya", "Umum (bayar sendiri)", "Asuransi swasta", beds[1]),
    ):
        page.fill("#inpatient-search-name", name)
        page.fill("#inpatient-search-birth", "15-05-1980")
        page.click("#inpatient-search")
        expect(page.locator("#inpatient-patient")).to_contain_text(name)
        expect(payer).to_contain_text(proposed)
        if chosen:
            choose(page, "inpatient-payer", chosen)
        choose(page, "inpatient-ward", "Bangsal Melati")
        # Type the bed's code: the list of a whole ward's beds is long, and only the options in view are drawn.
        page.locator("#inpatient-bed").click()
        page.keyboard.type(bed)
        page.get_by_role("option", name=bed).first.click()
        page.click("#inpatient-admit")
        expect(page.locator("#inpatient-admit-feedback")).to_contain_text(f"tempat tidur {bed}")
    with pantau.runtime.db.session() as s:
        stored = dict(
            s.execute(select(Patient.name, Admission.payer).join(Admission, Admission.patient_id == Patient.id)).all()
        )
    assert stored["Yanti Kusuma"] == "jkn" and stored["Hadi Prasetya"] == "asuransi"
