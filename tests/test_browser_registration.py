"""The registration desk in a real browser: find a patient, book a poli, print the ticket, follow the status page;
register a new patient with the form's per-field messages; a poli closed meanwhile; the admission-desk number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import ClinicSession, Poli, QueueTicket, utcnow
from data.schedules import close_poli, local_today
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import collect_console_errors, open_nav, open_page, settled, sign_in
from tests.test_registration import desk, serve_at_desk, tasks

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
PHONE = {"width": 412, "height": 915}
MM = 72 / 25.4  # PDF points per millimetre


def open_desk(page, base: str) -> None:
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.registration")
    expect(page.locator("#reg-session label").first).to_be_visible()


def open_new_patient_form(page) -> None:
    """Open the new-patient form and wait, as a person does, until it has opened and its callback has returned
    (a click on its button while it was still opening was lost under load)."""
    page.click("#reg-new-toggle")
    expect(page.locator("#reg-new-collapse")).to_have_class(re.compile(r"^(?!.*collapsing).*\bshow\b"))
    settled(page)


def search_mrn(page, mrn: str, birth: str = "") -> None:
    page.get_by_label("No. RM", exact=True).check()
    page.fill("#reg-search-text", mrn)
    page.fill("#reg-search-birth", birth)
    page.click("#reg-search-submit")


def choose_session(page, poli: str) -> None:
    page.locator("#reg-session .form-check").filter(has_text=poli).first.locator("input").check()


def receipt_paper(ticket) -> float:
    """Print the receipt to PDF as the browser would print it: one page, as wide as the paper; the width in mm."""
    pdf = ticket.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) == 1, "the receipt must print on one page"
    return float(boxes[0][0]) / MM


def test_front_desk_registers_a_patient_and_prints_the_ticket(page, live_server):
    base, _ = live_server
    errors = collect_console_errors(page)
    page.set_viewport_size(FULL_HD)
    open_desk(page, base)

    search_mrn(page, "999999")
    expect(page.locator("#reg-search-error")).to_have_text("Nomor rekam medis 999999 tidak ditemukan.")
    search_mrn(page, "DEMO-00001", "1950-01-02")
    expect(page.locator("#reg-search-error")).to_have_text(
        "Tanggal lahir tidak cocok dengan data pasien nomor rekam medis ini."
    )
    search_mrn(page, "DEMO-00001", "1950-01-01")
    expect(page.locator("#reg-hits-table")).to_contain_text("1 Januari 1950")
    page.locator("#reg-hits-table button").first.click()
    expect(page.locator("#reg-chosen-name")).to_have_text("Siti Nurhaliza")

    expect(page.locator("#reg-session")).to_contain_text("sisa kuota JKN 60/60 · non-JKN 20/20")
    choose_session(page, "Poli Umum")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-number")).to_have_text("A001")
    expect(page.locator("#reg-ticket-poli")).to_have_text("Poli Umum")
    expect(page.locator("#reg-ticket-estimate")).to_have_text(re.compile(r"^\d{2}:\d{2} WIB$"))
    expect(page.locator("#reg-session")).to_contain_text("non-JKN 19/20")
    code = page.locator("#reg-ticket-code").inner_text()
    save_screenshot(page, "registration.png")

    page.click("#reg-submit")  # the same patient again in the same poli
    expect(page.locator("#reg-error")).to_have_text("Pasien sudah terdaftar di Poli Umum hari ini (nomor A001).")

    # The ticket opens with auto-print: count the browser's print requests instead of letting one run, since a
    # print still running when the test renders the PDF makes Chromium refuse it ("already being printed").
    page.context.add_init_script("window.print = () => { window.pantauPrints = (window.pantauPrints || 0) + 1; };")
    with page.context.expect_page() as opened:
        page.click("#reg-ticket-print")
    ticket = opened.value
    ticket.wait_for_load_state()
    ticket.wait_for_function("() => window.pantauPrints === 1")
    expect(ticket.locator("#ticket-number")).to_have_text("A001")
    expect(ticket.locator("#ticket-code")).to_have_text(code)
    expect(ticket.locator("#ticket-name")).to_have_text("SIT* N****")
    expect(ticket.locator("#ticket-qr svg path")).to_have_count(1)
    ticket.set_viewport_size({"width": 640, "height": 1000})
    save_screenshot(ticket, "ticket.png", full_page=True)
    assert abs(receipt_paper(ticket) - 80) < 0.5
    ticket.click("#ticket-paper-58")
    expect(ticket.locator("#ticket.pantau-ticket-58")).to_be_visible()
    assert abs(receipt_paper(ticket) - 58) < 0.5
    save_screenshot(ticket, "ticket-58.png", full_page=True)

    status = page.context.new_page()
    status.set_viewport_size(PHONE)
    status.goto(f"{base}/antrean/status/{code}")
    expect(status.locator("#status-number")).to_have_text("A001")
    expect(status.locator("#status-position-text")).to_have_text("Posisi Anda: 1")
    expect(status.locator("#status-name")).to_have_text("SIT* N****")
    expect(status.locator("#status-state")).to_have_text("Menunggu")
    assert "Nurhaliza" not in status.content()
    save_screenshot(status, "status.png", full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_new_patient_form_names_each_wrong_field_and_keeps_the_input(page, live_server):
    base, pantau = live_server
    desk_ticket = serve_at_desk(pantau, utcnow() - timedelta(minutes=10))  # P001, now at "Loket 1"
    open_desk(page, base)
    open_new_patient_form(page)
    page.fill("#reg-new-name", "Bayu Aji Nugroho")
    page.fill("#reg-new-birth", "1992-07-17")
    page.click("#reg-new-submit")
    expect(page.locator("#reg-new-sex-error")).to_have_text("Pilih jenis kelamin: L atau P.")
    expect(page.locator("#reg-new-phone-error")).to_have_text("Nomor HP wajib diisi.")
    expect(page.locator("#reg-new-name-error")).to_have_text("")

    page.get_by_label("Laki-laki (L)").check()
    page.fill("#reg-new-phone", "12345")
    page.click("#reg-new-submit")
    expect(page.locator("#reg-new-phone-error")).to_have_text(re.compile("Nomor HP harus diawali 08"))
    expect(page.locator("#reg-new-sex-error")).to_have_text("")
    expect(page.locator("#reg-new-name")).to_have_value("Bayu Aji Nugroho")  # nothing typed is lost

    page.fill("#reg-new-phone", "0812 3456 7890")
    page.click("#reg-new-submit")
    expect(page.locator("#reg-new-saved")).to_contain_text("Pasien baru tersimpan dengan nomor RM")
    expect(page.locator("#reg-chosen-name")).to_have_text("Bayu Aji Nugroho")

    page.get_by_label("JKN (BPJS)", exact=True).check()
    choose_session(page, "Poli Gigi")
    page.click("#reg-submit")
    expect(page.locator("#reg-error")).to_have_text("Pasien JKN harus memiliki nomor kartu BPJS di data pasien.")
    page.get_by_label("Non-JKN", exact=True).check()
    page.select_option("#reg-admission", label="P001 — Loket 1")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-number")).to_have_text("D001")
    with pantau.runtime.db.session() as s:
        visit_id = s.get(QueueTicket, desk_ticket).visit_id
    assert sorted(tasks(pantau, visit_id)) == [1, 2, 3]  # the desk's wait and service came from P001
    expect(page.locator("#reg-admission")).to_have_value("none")
    expect(page.locator("#reg-admission option:checked")).to_have_text("Tidak ada")


def test_a_poli_closed_meanwhile_is_refused_with_its_reason(page, live_server):
    base, pantau = live_server
    open_desk(page, base)
    search_mrn(page, "DEMO-00002")
    page.locator("#reg-hits-table button").first.click()
    choose_session(page, "Poli Anak")
    with pantau.runtime.db.session() as s:
        site_id = desk(pantau).site_id
        poli = s.scalar(select(Poli).where(Poli.site_id == site_id, Poli.code == "ANA"))
        close_poli(s, desk(pantau), poli.id, local_today(s, site_id), "Dokter sakit")
    page.click("#reg-submit")
    expect(page.locator("#reg-error")).to_have_text("Poli tutup hari ini: Dokter sakit")
    closed = page.locator("#reg-session .form-check").filter(has_text="Poli Anak").first
    expect(closed).to_contain_text("tutup: Dokter sakit")
    expect(closed.locator("input")).to_be_disabled()
    with pantau.runtime.db.session() as s:
        assert all(
            c.booked_non_jkn == 0 for c in s.scalars(select(ClinicSession).where(ClinicSession.poli_id == poli.id))
        )


def test_desk_without_kiosk_takes_and_prints_an_admission_number(page, live_server):
    base, _ = live_server
    open_desk(page, base)
    page.click("#reg-admission-take")
    expect(page.locator("#reg-admission-number")).to_have_text("P001")
    with page.context.expect_page() as opened:
        page.click("#reg-admission-print")
    slip = opened.value
    slip.wait_for_load_state()
    expect(slip.locator("#ticket-number")).to_have_text("P001")
    expect(slip.locator("#ticket-ahead")).to_have_text("0")


def test_nurse_cannot_open_the_registration_desk(page, live_server):
    base, _ = live_server
    sign_in(page, base, "perawat")
    expect(page.locator("#home-greeting")).to_be_visible()
    expect(page.locator("#nav-pages\\.registration")).to_have_count(0)
    open_page(page, f"{base}/pendaftaran")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")
