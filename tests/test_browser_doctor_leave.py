"""The doctor leave page in a real browser: a leave for tomorrow lists its bookings; one is cancelled, the rest
moved to the substitute, and the patients to contact are shown with their phone numbers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import AuditLog, ClinicSession, Doctor, Site
from data.queue_registration import register_patient, register_visit
from data.schedules import ensure_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.formats import day_first, long_date
from i18n import translate
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in
from tests.test_schedule_punctuality import DAYS, serve_one

pytestmark = pytest.mark.browser
PUNCTUALITY_DAY = DAYS[0]
PATIENTS = (("Rahmawati Susanto", "081234500001", "jkn"), ("Joko Prasetyo", "081234500002", "non_jkn"))


def _book_tomorrow(app) -> str:
    """Two bookings in dr. Sari's session tomorrow; tomorrow's date as the form wants it."""
    with app.runtime.db.session() as s:
        site, now = s.scalar(select(Site.id)), utcnow()
        actor, tomorrow = Actor(None, "test", site), local_today(s, site, now) + timedelta(days=1)
        ensure_sessions(s, site, tomorrow)
        sari = s.scalar(select(Doctor.id).where(Doctor.name.startswith("dr. Sari")))
        session_id = s.scalar(
            select(ClinicSession.id).where(ClinicSession.doctor_id == sari, ClinicSession.service_date == tomorrow)
        )
        for n, (name, phone, payer) in enumerate(PATIENTS):
            patient = register_patient(
                s,
                app.runtime.cipher,
                actor,
                name=name,
                birth_date=date(1985, 5, 5 + n),
                sex="P",
                phone=phone,
                bpjs=f"{8200000000000 + n}",
                nik=f"{3272000000000000 + n}",
                today=tomorrow,
            )
            register_visit(
                s,
                actor,
                patient_id=patient.id,
                session_id=session_id,
                payer=payer,
                now=now,
                arrived=False,
                referral_number=f"0301R0011126{n:06d}",
            )
    return tomorrow.isoformat()


def test_a_leave_lists_its_bookings_which_are_cancelled_or_moved(page, live_server):
    base, pantau = live_server
    tomorrow = _book_tomorrow(pantau)
    sign_in(page, base, "admin")
    open_nav(page, "pages.doctor_leave")

    page.fill("#leave-reason", "seminar")
    page.click("#leave-submit")
    expect(page.locator("#leave-doctor-error")).to_have_text("Pilih dokter.")
    expect(page.locator("#leave-first_day-error")).to_have_text("Isi tanggal mulai cuti.")
    expect(page.locator("#leave-reason")).to_have_value("seminar")  # nothing typed is lost

    choose(page, "leave-doctor", "dr. Sari Wulandari (demo)")
    page.fill("#leave-first_day", "31-02-2027")  # no such day: said under the field, and again on submit
    expect(page.locator("#leave-first_day-words")).to_contain_text("Belum terbaca")
    page.click("#leave-submit")
    expect(page.locator("#leave-first_day-error")).to_have_text(translate("typed_date_invalid"))
    expect(page.locator("#leave-first_day")).to_have_value("31-02-2027")
    typed = day_first(date.fromisoformat(tomorrow))  # day first, as the admin types it
    page.fill("#leave-first_day", typed)
    page.fill("#leave-last_day", typed)
    expect(page.locator("#leave-last_day-words")).to_have_text(long_date(date.fromisoformat(tomorrow)))
    choose(page, "leave-substitute", "dr. Hendra Gunawan (demo)")
    page.click("#leave-submit")
    expect(page.locator("#leave-feedback")).to_contain_text("1 sesi ditutup, 2 booking terdampak")
    table = page.locator("#leave-bookings-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).not_to_contain_text("Rahmawati")  # masked names only
    expect(page.locator("#leave-list-table")).to_contain_text("dr. Sari Wulandari (demo)")
    save_screenshot(page, "doctor-leave-bookings.png", full_page=True)

    table.locator("tbody tr").first.get_by_role("button", name="Batalkan").click()
    expect(page.locator("#leave-action-feedback")).to_contain_text("dokter cuti")
    expect(table.locator("tbody tr").first).to_contain_text("dibatalkan")
    settled(page)
    page.click("#leave-move-all")
    expect(page.locator("#leave-action-feedback")).to_contain_text("dipindahkan ke dokter pengganti")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("dr. Hendra Gunawan (demo)")

    page.click("#leave-contacts-show")
    contacts = page.locator("#leave-contacts-table")
    for name, phone, _ in PATIENTS:
        expect(contacts).to_contain_text(name)
        expect(contacts).to_contain_text(phone)
    expect(contacts).to_contain_text("dibatalkan")
    save_screenshot(page, "doctor-leave-contacts.png", full_page=True)
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "leave_contacts_read")) is not None


def test_the_punctuality_report_shows_a_late_start(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        ensure_sessions(s, site, PUNCTUALITY_DAY)
        sari = s.scalar(select(Doctor).where(Doctor.name.startswith("dr. Sari")))
        cs = s.scalar(
            select(ClinicSession).where(
                ClinicSession.doctor_id == sari.id, ClinicSession.service_date == PUNCTUALITY_DAY
            )
        )
        serve_one(pantau, s, Actor(None, "test", site), cs, 0, timedelta(minutes=15), cs.ends_at)
    sign_in(page, base, "manajer")
    open_nav(page, "pages.doctor_punctuality")
    page.fill("#punct-month", f"{PUNCTUALITY_DAY:%Y-%m}")
    page.press("#punct-month", "Enter")
    row = page.locator(f"#punct-grid tr[data-doctor='{sari.id}']")
    expect(row).to_contain_text("dr. Sari Wulandari (demo)")
    expect(row.locator("td").nth(2)).to_have_text("1")  # one late start, 15 minutes
    expect(row.locator("td").nth(3)).to_have_text("15,0")
    save_screenshot(page, "doctor-punctuality.png", full_page=True)
