"""The registration desk in a real browser: find a patient, book a poli, print the ticket, follow the status page;
register a new patient with the form's per-field messages; a poli closed meanwhile; the admission-desk number."""

from __future__ import annotations

import itertools
import random
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import func, select

from components.typed_date import TYPED_DATE_WORDS
from data.models import ClinicSession, Patient, Poli, QueueTicket
from data.patients import ENCRYPTED_FIELDS, read_patient
from data.schedules import close_poli, local_today
from domain.clock import utcnow
from domain.formats import day_first, long_date, parse_day_first
from i18n import translate
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import collect_console_errors, open_nav, open_page, settled, sign_in
from tests.test_registration import NAMES, PHONES, desk, expected_form, identifier, serve_at_desk, set_ages, tasks

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
    search_mrn(page, "DEMO-00001", "02-01-1950")
    expect(page.locator("#reg-search-error")).to_have_text(
        "Tanggal lahir tidak cocok dengan data pasien nomor rekam medis ini."
    )
    search_mrn(page, "DEMO-00001", "01-01-1950")
    expect(page.locator("#reg-hits-table")).to_contain_text("1 Januari 1950")
    page.locator("#reg-hits-table button").first.click()
    expect(page.locator("#reg-chosen-name")).to_have_text("Siti Nurhaliza")

    expect(page.locator("#reg-session")).to_contain_text("sisa kuota JKN 60/60 · non-JKN 20/20")
    choose_session(page, "Poli Umum")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-number")).to_have_text("A001")
    expect(page.locator("#reg-ticket-poli")).to_have_text("Poli Umum")
    expect(page.locator("#reg-ticket-estimate")).to_have_text(re.compile(r"^\d{2}\.\d{2} WIB$"))
    expect(page.locator("#reg-session")).to_contain_text("non-JKN 19/20")
    expect(page.locator("#reg-ticket-holder")).to_have_text("Siti Nurhaliza · No. RM DEMO-00001")
    code = page.locator("#reg-ticket-code").inner_text()
    save_screenshot(page, "registration.png")

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

    page.bring_to_front()
    page.click("#reg-submit")  # the same patient again in the same poli: refused, and no ticket is left to print
    expect(page.locator("#reg-error")).to_have_text("Pasien sudah terdaftar di Poli Umum hari ini (nomor A001).")
    expect(page.locator("#reg-ticket")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_new_patient_form_names_each_wrong_field_and_keeps_the_input(page, live_server):
    base, pantau = live_server
    desk_ticket = serve_at_desk(pantau, utcnow() - timedelta(minutes=10))  # P001, now at "Loket 1"
    open_desk(page, base)
    open_new_patient_form(page)
    page.fill("#reg-new-name", "Bayu Aji Nugroho")
    page.locator("#reg-new-birth").press_sequentially("07/02/92")  # a two-digit year: which century is a guess
    expect(page.locator("#reg-new-birth-words")).to_have_text(re.compile("^Belum terbaca: tulis hari-bulan-tahun"))
    page.fill("#reg-new-nik", "123")
    page.click("#reg-new-submit")
    expect(page.locator("#reg-new-birth-error")).to_have_text(re.compile("^Tanggal lahir tidak terbaca"))
    expect(page.locator("#reg-new-nik-error")).to_contain_text("NIK")  # named with it, not after the date is mended
    expect(page.locator("#reg-new-birth")).to_have_value("07/02/92")  # kept, to be mended
    page.fill("#reg-new-nik", "")
    expect(page.locator("#reg-new-sex-error")).to_have_text("Pilih jenis kelamin: L atau P.")
    expect(page.locator("#reg-new-phone-error")).to_have_text("Nomor HP wajib diisi.")
    expect(page.locator("#reg-new-name-error")).to_have_text("")
    page.fill("#reg-new-birth", "")
    page.locator("#reg-new-birth").press_sequentially("07/02/1992")  # day first, whatever the browser's language
    expect(page.locator("#reg-new-birth-words")).to_have_text("7 Februari 1992")

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
    expect(page.locator("#reg-new-birth")).to_have_value("07-02-1992")  # the saved date, written back day first
    with pantau.runtime.db.session() as s:
        born = s.scalar(select(Patient.birth_date).where(Patient.name == "Bayu Aji Nugroho"))
    assert born == date(1992, 2, 7)

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


# ---- issue 11: the desk tells the truth ------------------------------------------------------------------------

TYPED_FIELDS = ("name", "phone", "nik", "bpjs")
REQUIRED = {"name": "err_full_name_required", "phone": "reg_phone_required"}
LOCKED = "#reg-new-fieldset[disabled]"


def no_nul(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return strategy.map(lambda text: text.replace("\x00", ""))


def submit_new_patient(page, button: str = "#reg-new-submit") -> None:
    """Click and wait for the new-patient callback's answer (the page is reused, so an old message may be there)."""
    with page.expect_response(
        lambda r: "_dash-update-component" in r.url and "reg-new-feedback" in r.request.post_data
    ):
        page.click(button)
    settled(page)


def saved_record(pantau, page):
    mrn = re.search(r"\d{6}", page.locator("#reg-new-saved").inner_text())[0]
    with pantau.runtime.db.session() as s:
        patient_id = s.scalar(select(Patient.id).where(Patient.mrn == mrn))
        return read_patient(
            s, pantau.runtime.cipher, patient_id, actor_id=None, actor_name="t", purpose="test", fields=ENCRYPTED_FIELDS
        )


def test_new_patient_form_stores_what_it_shows_or_refuses_by_the_field(page, live_server):
    """Generated input, as staff type and paste it: either every wrong field says why next to itself and keeps
    what was typed, or the form locks showing exactly the values stored."""
    base, pantau = live_server
    births = (date(1961, 1, 1) + timedelta(days=n) for n in itertools.count())  # no two alike: no duplicate warning
    open_desk(page, base)
    open_new_patient_form(page)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
    @example(form={"name": "", "phone": "0812", "nik": "abcdefghijklmnop", "bpjs": ""})  # a blank hides no other
    @given(
        form=st.fixed_dictionaries(
            {
                "name": no_nul(NAMES),
                "phone": no_nul(PHONES),
                "nik": no_nul(identifier("nik")),
                "bpjs": no_nul(identifier("bpjs")),
            }
        )
    )
    def one_form(form: dict[str, str]) -> None:
        if page.locator(LOCKED).count():
            page.click("#reg-new-another")
            expect(page.locator(LOCKED)).to_have_count(0)
        for field in TYPED_FIELDS:
            page.fill(f"#reg-new-{field}", form[field])
        page.fill("#reg-new-birth", day_first(next(births)))
        page.get_by_label("Perempuan (P)").check()
        typed = {f: page.input_value(f"#reg-new-{f}") for f in TYPED_FIELDS}  # what the browser really holds
        stored, keys = expected_form(typed)
        keys |= {f: key for f, key in REQUIRED.items() if not typed[f].strip()}
        submit_new_patient(page)
        if page.locator("#reg-new-saved").count():
            assert not keys, keys
            record = saved_record(pantau, page)
            shown = {f: page.input_value(f"#reg-new-{f}") for f in TYPED_FIELDS}
            assert (
                shown
                == {f: getattr(record, f) or "" for f in TYPED_FIELDS}
                == {f: stored[f] or "" for f in TYPED_FIELDS}
            )
            expect(page.locator(LOCKED)).to_have_count(1)
            return
        if not keys:  # a number an earlier example stored
            keys = {f: f"err_{f}_exists" for f in ("nik", "bpjs") if page.locator(f"#reg-new-{f}-error").inner_text()}
            assert keys
        for field in TYPED_FIELDS:
            message = translate(keys[field], "id", min=10, max=15) if field in keys else ""
            expect(page.locator(f"#reg-new-{field}-error")).to_have_text(message)
            expect(page.locator(f"#reg-new-{field}")).to_have_value(typed[field])  # nothing typed is lost

    one_form()


def test_a_saved_form_locks_and_a_repeat_makes_no_twin(page, live_server):
    base, pantau = live_server
    open_desk(page, base)
    open_new_patient_form(page)
    page.fill("#reg-new-name", "  Rina   Kartika Sari ")
    page.fill("#reg-new-birth", "12-04-1990")
    page.get_by_label("Perempuan (P)").check()
    page.fill("#reg-new-phone", "081234567")  # nine digits
    page.fill("#reg-new-nik", "３１７１ ０１２３ ０１９０ ０００２")
    submit_new_patient(page)
    expect(page.locator("#reg-new-phone-error")).to_have_text(
        "Nomor HP harus diawali 08 atau +62 dan berisi 10–15 digit."
    )
    page.fill("#reg-new-phone", "+62 812-3456-7890")
    with page.expect_response(lambda r: "reg-new-feedback" in (r.request.post_data or "")):
        page.dblclick("#reg-new-submit")
    expect(page.locator("#reg-new-saved")).to_contain_text("Pasien baru tersimpan dengan nomor RM")
    settled(page)
    mrn = re.search(r"\d{6}", page.locator("#reg-new-saved").inner_text())[0]
    expect(page.locator("#reg-chosen-name")).to_have_text("Rina Kartika Sari")
    for field, value in (("name", "Rina Kartika Sari"), ("phone", "081234567890"), ("nik", "3171012301900002")):
        expect(page.locator(f"#reg-new-{field}")).to_have_value(value)
    expect(page.locator("#reg-new-submit")).to_be_disabled()

    # The same form sent again (a stale tab, a retry): the first patient, not a twin.
    page.evaluate("document.getElementById('reg-new-fieldset').disabled = false")
    submit_new_patient(page)
    expect(page.locator("#reg-new-saved")).to_have_text(
        f"Formulir ini sudah tersimpan sebagai pasien nomor RM {mrn}; tidak dibuat pasien baru."
    )
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.name == "Rina Kartika Sari")) == 1

    # Another new patient with the same name and birth date: a warning naming the existing one, then a choice.
    page.click("#reg-new-another")
    expect(page.locator("#reg-new-name")).to_have_value("")
    page.fill("#reg-new-name", "rina kartika sari")
    page.fill("#reg-new-birth", "12-04-1990")
    page.get_by_label("Perempuan (P)").check()
    page.fill("#reg-new-phone", "081298765432")
    submit_new_patient(page)
    expect(page.locator("#reg-new-duplicate")).to_be_visible()
    expect(page.locator("#reg-new-duplicate-table")).to_contain_text(mrn)
    save_screenshot(page, "registration-duplicate.png")
    submit_new_patient(page, "#reg-new-confirm")
    expect(page.locator("#reg-new-saved")).not_to_contain_text(mrn)
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.birth_date == date(1990, 4, 12))) == 2


def test_the_ticket_belongs_to_its_patient_and_goes_when_another_is_chosen_or_booking_fails(page, live_server):
    base, _ = live_server
    open_desk(page, base)
    search_mrn(page, "DEMO-00001")
    page.locator("#reg-hits-table button").first.click()
    choose_session(page, "Poli Umum")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-holder")).to_have_text("Siti Nurhaliza · No. RM DEMO-00001")

    search_mrn(page, "DEMO-00002")
    expect(page.locator("#reg-hits-table")).to_contain_text("DEMO-00002")  # not the previous search's row
    page.locator("#reg-hits-table button").first.click()
    expect(page.locator("#reg-chosen-name")).not_to_have_text("Siti Nurhaliza")
    expect(page.locator("#reg-ticket")).to_have_count(0)
    expect(page.locator("#reg-registered")).to_have_count(0)
    page.get_by_label("JKN (BPJS)", exact=True).check()
    choose_session(page, "Poli Gigi")
    page.fill("#reg-referral", "")
    page.click("#reg-submit")
    expect(page.locator("#reg-error")).to_be_visible()
    expect(page.locator("#reg-ticket")).to_have_count(0)


def test_an_adult_at_poli_anak_is_warned_and_booked_only_when_confirmed(page, live_server):
    base, pantau = live_server
    set_ages(pantau, "ANA", 0, 17)
    open_desk(page, base)
    search_mrn(page, "DEMO-00001", "01-01-1950")
    page.locator("#reg-hits-table button").first.click()
    choose_session(page, "Poli Anak")
    page.click("#reg-submit")
    expect(page.locator("#reg-age-warning")).to_contain_text("di luar rentang usia Poli Anak (0–17 tahun)")
    expect(page.locator("#reg-ticket")).to_have_count(0)
    with pantau.runtime.db.session() as s:
        anak = s.scalar(select(Poli.id).where(Poli.code == "ANA"))
        assert sum(s.scalars(select(ClinicSession.booked_non_jkn).where(ClinicSession.poli_id == anak))) == 0
    save_screenshot(page, "registration-age-warning.png")
    page.click("#reg-age-confirm")
    expect(page.locator("#reg-ticket-holder")).to_have_text("Siti Nurhaliza · No. RM DEMO-00001")
    expect(page.locator("#reg-age-warning")).to_be_hidden()


def test_a_typed_birth_date_is_read_back_in_the_users_language(page, live_server):
    """The date as read says its month by name in the page's language, and the field asks for day-month-year in it."""
    base, _ = live_server
    sign_in(page, base, "loket")
    expect(page.locator("#home-greeting")).to_be_visible()
    for lang, placeholder, words in (("en", "DD-MM-YYYY", "1 February 1950"), ("id", "HH-BB-TTTT", "1 Februari 1950")):
        page.goto(f"{base}/lang/{lang}")
        page.goto(f"{base}/pendaftaran")
        field = page.locator("#reg-search-birth")
        expect(field).to_have_attribute("placeholder", placeholder)
        field.press_sequentially("01/02/1950")
        expect(page.locator("#reg-search-birth-words")).to_have_text(words)


def test_the_browser_reads_a_typed_date_as_the_server_does(page):
    """The words under a typed date come from the browser's own reading (components/typed_date.py); for dates
    and near-dates alike it agrees with the server's (domain.formats.parse_day_first)."""
    days = [
        date(1, 1, 1),
        date(9999, 12, 31),
        *(date.fromordinal(random.Random(n).randint(600_000, 800_000)) for n in range(150)),
    ]
    typed = [
        *(text for day in days for text in (day_first(day), f"{day.day}/{day.month}/{day.year:04d}", day.isoformat())),
        *("", " 7-2-1992 ", "07021992", "07.02.1992", "07 02 1992", "29-02-2024", "29-02-2023", "31-04-2026"),
        *(
            "00-01-2026",
            "01-00-2026",
            "01-01-0000",
            "07-02-92",
            "1992/02/07",
            "7-2-1992-1",
            "١٢-٠٣-١٩٨٥",
            "12-03-1985x",
        ),
    ]
    hint = translate("typed_date_unreadable", "id")

    def server(text: str) -> str:
        if not text.strip():
            return ""
        try:
            return long_date(parse_day_first(text))
        except ValueError:
            return hint

    browser = page.evaluate(f"texts => texts.map({TYPED_DATE_WORDS})", typed)
    assert [(text, said) for text, said in zip(typed, browser, strict=True) if said != server(text)] == []
