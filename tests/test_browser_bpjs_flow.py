"""A JKN visit from the front desk to BPJS, in a real browser: the desk registers a new JKN patient, the nurse's
counter starts and finishes the visit (tasks 3 → 4 → 5), the sync worker sends the outbox to the BPJS sandbox,
and the sandbox's own view shows the booking with its three tasks in order."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_worker import BpjsWorker
from testkit.chromium import LOCALE, TIMEZONE, VIEWPORT
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_worker import drain
from tests.test_browser_registration import choose_session, open_desk, open_new_patient_form
from tests.test_browser_shell import open_counter, sign_in

pytestmark = pytest.mark.browser


def test_a_jkn_visit_reaches_bpjs_with_its_tasks_in_order(page, browser, live_server):
    base, pantau = live_server
    open_desk(page, base)
    open_new_patient_form(page)
    page.fill("#reg-new-name", "Wulan Sari Dewi")
    page.fill("#reg-new-birth", "14-03-2019")  # a child: Poli Anak takes 0-17 years
    page.get_by_label("Perempuan (P)").check()
    page.fill("#reg-new-phone", "0813 2222 3333")
    page.fill("#reg-new-nik", "3273015403190002")
    page.fill("#reg-new-bpjs", "0001987654321")
    page.click("#reg-new-submit")
    expect(page.locator("#reg-chosen-name")).to_have_text("Wulan Sari Dewi")
    choose_session(page, "Poli Anak")
    page.get_by_label("JKN (BPJS)", exact=True).check()
    page.fill("#reg-referral", "0301R0011126B000042")
    page.click("#reg-submit")
    expect(page.locator("#reg-ticket-number")).to_have_text("B001")
    code = page.locator("#reg-ticket-code").inner_text()
    nurse_context = browser.new_context(viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE)  # the nurse's PC
    try:
        nurse = nurse_context.new_page()
        sign_in(nurse, base, "perawat")
        open_counter(nurse, base, "poli:ANA", "Ruang Anak")
        expect(nurse.locator("#counter-current-label")).to_have_text("B001")
        nurse.click("#counter-start")
        expect(nurse.locator("#counter-message")).to_have_text("B001 mulai dilayani.")
        nurse.click("#counter-finish")
        expect(nurse.locator("#counter-current-empty")).to_be_visible()
    finally:
        nurse_context.close()

    sandbox = create_sandbox(CONS_ID, SECRET, USER_KEY)
    with serve(sandbox) as url:
        drain(BpjsWorker(pantau.runtime.db, client_for(url), pantau.runtime.cipher))
        page.goto(f"{url}/sandbox/")
        row = page.locator("tr", has_text=code)
        expect(row).to_have_count(1)
        expect(row).to_contain_text("JKN")
        tasks = row.locator("td").nth(6).locator("div").all_inner_texts()  # "3 · 21:04:05.123", in order received
        assert [t.split(" · ")[0] for t in tasks] == ["3", "4", "5"], tasks
        times = [t.split(" · ")[1] for t in tasks]
        assert times == sorted(times) and len(set(times)) == 3
