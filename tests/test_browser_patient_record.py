"""Patient records in a real browser: the front desk finds a patient, corrects the phone and a wrong NIK (with
the field's message and the NIK confirmation) and deletes a duplicate; an admin merges two records and the visits
move; a nurse reads the record without any control to change it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from playwright.sync_api import expect

from data.models import Patient, Visit
from data.patients import create_patient, decrypt_field
from domain.formats import day_first
from i18n import translate
from testkit.front_desk import desk_actor, register_waiting
from tests.fixtures_browser import save_screenshot
from tests.form_fuzz import BROWSER_EXAMPLES, bad_number, bad_text, fill, submit
from tests.test_browser_registration import search_mrn
from tests.test_browser_shell import open_nav, open_page, settled, sign_in

pytestmark = pytest.mark.browser

BORN = date(1985, 3, 12)
NIK = "3171015203850001"  # a woman born 12-03-1985 in DKI Jakarta
WRONG_SEX_NIK = "3171011203850001"  # the same date written as a man's


def add_patient(pantau, mrn: str, name: str, born: date = BORN, **identifiers: str) -> int:
    with pantau.runtime.db.session() as s:
        patient = create_patient(
            s, pantau.runtime.cipher, site_id=desk_actor(s).site_id, mrn=mrn, name=name, birth_date=born, sex="P",
            **identifiers,
        )  # fmt: skip
        return patient.id


def field(page, name: str):
    return page.locator(f"#pat-field-{name}")


def test_front_desk_corrects_phone_and_nik_and_deletes_a_duplicate(page, live_server):
    base, pantau = live_server
    keep_id = add_patient(pantau, "RM-7001", "Rina Wati", nik="3171015203850002", phone="081211112222")
    duplicate_id = add_patient(pantau, "RM-7002", "rina  wati")
    sign_in(page, base, "loket")
    open_nav(page, "pages.registration")  # the desk's chosen patient links to the record
    search_mrn(page, "RM-7001")
    page.locator("#reg-hits-table").get_by_role("button").first.click()
    expect(page.locator("#reg-record-link")).to_have_attribute("href", "/pasien/RM-7001")
    open_nav(page, "pages.patients")
    page.fill("#pat-search-text", "RM-7001")
    page.click("#pat-search-submit")
    page.locator("#pat-hits-table").get_by_role("link", name="RM-7001").click()
    page.wait_for_url(f"{base}/pasien/RM-7001")
    settled(page)
    expect(page.locator("#pat-duplicates")).to_contain_text("RM-7002")
    expect(page.locator("#pat-duplicates").get_by_role("button")).to_have_count(0)  # merging is an admin's

    expect(field(page, "birth_date")).to_have_value("12-03-1985")  # day first, whatever the browser's language
    expect(page.locator("#pat-field-birth_date-words")).to_have_text("12 Maret 1985")
    field(page, "phone").fill("(021) 555-1234")
    field(page, "nik").fill("12345")
    page.click("#pat-save")
    expect(page.locator("#pat-field-nik-error")).to_have_text(translate("err_nik_format"))
    expect(field(page, "phone")).to_have_value("(021) 555-1234")  # nothing typed is lost

    field(page, "nik").fill(WRONG_SEX_NIK)
    page.click("#pat-save")
    expect(page.locator("#pat-field-nik-error")).to_contain_text(translate("pat_mismatch_sex"))
    expect(page.locator("#pat-nik-confirm")).to_be_visible()
    field(page, "nik").fill(NIK)  # the question was about the number before: its "save anyway" goes
    expect(page.locator("#pat-nik-confirm")).to_be_hidden()
    field(page, "nik").fill(WRONG_SEX_NIK)
    page.click("#pat-save")
    expect(page.locator("#pat-nik-confirm")).to_be_visible()
    page.click("#pat-nik-confirm-save")
    expect(page.locator("#pat-saved")).to_be_visible()
    expect(field(page, "phone")).to_have_value("0215551234")
    with pantau.runtime.db.session() as s:
        kept = s.get(Patient, keep_id)
        assert decrypt_field(pantau.runtime.cipher, kept, "nik") == WRONG_SEX_NIK
        assert decrypt_field(pantau.runtime.cipher, kept, "phone") == "0215551234"

    open_page(page, f"{base}/pasien/RM-7002")
    page.click("#pat-delete-open")
    page.click("#pat-delete-confirm")
    expect(page.locator("#pat-delete-reason-error")).to_have_text(translate("pat_err_reason_required"))
    page.fill("#pat-delete-reason", "Terdaftar dua kali, sama dengan RM-7001")
    page.click("#pat-delete-confirm")
    expect(page.locator("#pat-deleted")).to_be_visible()
    with pantau.runtime.db.session() as s:
        assert s.get(Patient, duplicate_id).deleted_at is not None

    open_page(page, f"{base}/pasien")
    page.locator("#pat-search-by").get_by_text(translate("reg_search_by_name")).click()
    page.fill("#pat-search-text", "rina")
    page.fill("#pat-search-birth", day_first(BORN))
    page.click("#pat-search-submit")
    expect(page.locator("#pat-hits-table tbody tr")).to_have_count(1)
    expect(page.locator("#pat-hits-table")).to_contain_text("RM-7001")


def test_admin_merges_two_records_and_the_visits_move(page, live_server):
    base, pantau = live_server
    registration = register_waiting(pantau, "Dewi Lestari")  # born 15 December 1984, waiting at the poli
    keep_id = add_patient(pantau, "RM-8001", "Dewi Lestari", born=date(1984, 12, 15))
    with pantau.runtime.db.session() as s:
        duplicate_id = s.get(Visit, registration.visit_id).patient_id
    sign_in(page, base, "admin")
    open_page(page, f"{base}/pasien/RM-8001")
    expect(page.locator("#pat-visits")).to_have_text(translate("pat_no_visits"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#pat-duplicates").get_by_role("button", name=translate("pat_merge")).click()
    expect(page.locator("#pat-merged")).to_be_visible()
    open_page(page, f"{base}/pasien/RM-8001")
    expect(page.locator("#pat-visits")).to_contain_text(registration.booking_code)
    with pantau.runtime.db.session() as s:
        assert s.get(Visit, registration.visit_id).patient_id == keep_id
        assert s.get(Patient, duplicate_id).merged_into_id == keep_id
    save_screenshot(page, "patient-record.png", full_page=True)


def test_nurse_reads_the_record_without_edit_controls(page, live_server):
    base, _pantau = live_server
    sign_in(page, base, "perawat")
    open_page(page, f"{base}/pasien/DEMO-00001")
    expect(page.locator("#pat-demographics")).to_be_visible()
    expect(page.locator("#pat-admissions")).to_contain_text(translate("pat_admission_open"))
    expect(page.locator("#pat-admissions a[href^='/bed/']")).to_have_count(1)
    for control in ("#pat-save", "#pat-fieldset", "#pat-delete-open", "#pat-purge"):
        expect(page.locator(control)).to_have_count(0)


TEXT_FIELDS = ("name", "nik", "bpjs", "phone", "address")
EDIT_FIELDS = {name: f"#pat-field-{name}" for name in TEXT_FIELDS}
EDIT_ERRORS = {name: f"#pat-field-{name}-error" for name in TEXT_FIELDS}


def _typed() -> st.SearchStrategy[dict[str, str]]:
    """Good values for every field of the record, then bad or blank input in up to two of them."""
    good = {
        "name": st.sampled_from(["Rina Wati", "Rina  Wati-Sari", "ＲＩＮＡ wati"]),
        "nik": st.sampled_from([NIK, "3171-0152-0385-0001", WRONG_SEX_NIK, ""]),
        "bpjs": st.sampled_from(["0001234567890", "0001 2345 67890", ""]),
        "phone": st.sampled_from(["0812-3456-7890", "+62 21 555 1234", "(0274) 123456", ""]),
        "address": st.sampled_from(["Jl. Melati 5, Bandung", ""]),
    }
    bad = st.one_of(st.just(""), bad_text(40), bad_number())
    broken = st.dictionaries(st.sampled_from(TEXT_FIELDS), bad, max_size=2)
    return st.tuples(st.fixed_dictionaries(good), broken).map(lambda pair: pair[0] | pair[1])


def test_record_form_saves_what_it_shows_or_refuses_by_the_field(page, live_server):
    base, pantau = live_server
    patient_id = add_patient(pantau, "RM-9001", "Rina Wati", nik=NIK)
    sign_in(page, base, "loket")
    open_page(page, f"{base}/pasien/RM-9001")

    def stored() -> tuple[int, dict[str, str]]:
        with pantau.runtime.db.session() as s:
            patient = s.get(Patient, patient_id)
            numbers = {f: decrypt_field(pantau.runtime.cipher, patient, f) or "" for f in TEXT_FIELDS if f != "name"}
            return patient.version, {"name": patient.name, **numbers}

    @BROWSER_EXAMPLES
    @given(typed=_typed())
    def example(typed: dict[str, str]) -> None:
        held = fill(page, EDIT_FIELDS, typed)
        version, before = stored()
        shown = submit(page, "#pat-save", "#pat-feedback", EDIT_FIELDS, EDIT_ERRORS)
        question_text = page.locator("#pat-nik-confirm-text")  # drawn only while the question is open
        question = question_text.text_content() if question_text.count() else ""
        asked = bool(question) and question == shown.refused.get("nik")  # asked, and said under the NIK too
        after_version, after = stored()
        if shown.refused:
            event("asked about the NIK" if asked else "refused")
            assert (after_version, after) == (version, before), f"saved although refused: {held!r}"
            assert shown.values == held, "what was typed must stay in the fields"
            if asked:
                expect(page.locator("#pat-nik-confirm")).to_be_visible()
            return
        assert not question, f"a question without a message under the NIK: {held!r}"
        event("saved")
        assert shown.values == after, f"the page shows what was stored: {held!r}"

    example()
