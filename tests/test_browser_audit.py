"""The audit viewer (/admin/audit) in a real browser: an admin filters by a user and by a patient's RM (the filter
kept in the address), pages forward through rows fetched from the server, sorts actions as their names read,
downloads the filtered rows as CSV (the file holds exactly them) and finds the download itself in the log; a nurse
gets 403 on the page and on its callbacks."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import AuditLog, Patient, Site
from domain.clock import utcnow
from tests.fixtures_browser import save_screenshot
from tests.test_browser_console import CallbackWatch
from tests.test_browser_shell import choose, open_nav, settled, sign_in

pytestmark = pytest.mark.browser

MRN = "AUD-777001"
NURSE_ROWS = 260  # more than two of the grid's 100-row blocks


def _seed(pantau) -> int:
    """A patient with three rows about it (a read, a search that listed it, an admission) and the nurse's
    ``NURSE_ROWS`` bed views over the last hours; returns the patient's id."""
    now = utcnow()
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        patient = Patient(site_id=site_id, mrn=MRN, name="PASIEN JEJAK", birth_date=date(1975, 3, 1), sex="P")
        s.add(patient)
        s.flush()
        about = [
            dict(action="patient_read", target_type="patient", target_id=str(patient.id), username="dokter"),
            dict(action="patient_search", username="loket", detail={"by": "name", "patient_ids": [1, patient.id]}),
            dict(action="patient_admitted", target_type="admission", target_id="91", detail={"patient_id": patient.id}),
        ]
        views = [
            dict(action="alarm_acknowledged", target_type="bed", target_id=f"ICU-{n % 4 + 1:02d}", username="perawat")
            for n in range(NURSE_ROWS)
        ]
        s.add_all(
            AuditLog(site_id=site_id, ip="10.1.2.3", at=now - timedelta(minutes=5 + n), **fields)
            for n, fields in enumerate([*about, *views])
        )
        return patient.id


def _grid(page):
    return page.locator(".audit-grid")


def _type_filter(page, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Enter")  # the text filters apply on Enter or leaving the field


def test_admin_filters_pages_and_exports_the_audit_trail(page, live_server):
    base, pantau = live_server
    patient_id = _seed(pantau)
    watch = CallbackWatch(page)
    page.set_viewport_size({"width": 1500, "height": 950})
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_nav(page, "pages.admin_audit")
    expect(_grid(page).locator(".ag-row").first).to_be_visible(timeout=30_000)

    _type_filter(page, "#audit-username", "perawat")
    expect(page).to_have_url(re.compile(r"/admin/audit\?pengguna=perawat$"))
    expect(page.locator("#audit-count")).to_have_text(f"{NURSE_ROWS} catatan")
    expect(_grid(page).locator(".ag-row[row-index='0']")).to_contain_text("Alarm dikonfirmasi")  # named, not coded
    expect(_grid(page).locator(".ag-row[row-index='0']")).to_contain_text("perawat")
    save_screenshot(page, "audit-viewer.png", full_page=True)

    page.locator("#audit-action").click()  # the action filter lists names, and finds one by its code too
    page.keyboard.type("patient_sea")
    expect(page.get_by_role("option")).to_have_text(["Pencarian pasien"])
    page.get_by_role("option", name="Pencarian pasien").click()
    expect(page).to_have_url(re.compile(r"/admin/audit\?pengguna=perawat&aksi=patient_search$"))
    expect(page.locator("#audit-count")).to_have_text("0 catatan")  # the nurse searched for nobody
    page.click("#audit-clear")
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    _type_filter(page, "#audit-username", "perawat")
    expect(page.locator("#audit-count")).to_have_text(f"{NURSE_ROWS} catatan")

    viewport = _grid(page).locator(".ag-body-viewport")
    for _ in range(4):  # page forward: each scroll to the end asks the server for the next block
        viewport.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_timeout(300)
    last = _grid(page).locator(f".ag-row[row-index='{NURSE_ROWS - 1}']")
    expect(last).to_be_visible(timeout=15_000)
    expect(last).to_contain_text("Tempat tidur ICU-")  # the kind of object by its name
    choose(page, "audit-target-type", "Tempat tidur")  # the kinds by name too
    expect(page).to_have_url(re.compile(r"/admin/audit\?pengguna=perawat&objek=bed$"))
    expect(page.locator("#audit-count")).to_have_text(f"{NURSE_ROWS} catatan")
    page.click("#audit-clear")
    expect(page.locator("#audit-target-type")).not_to_contain_text("Tempat tidur")

    page.fill("#audit-username", "")
    _type_filter(page, "#audit-mrn", "AUD-000000")  # no such RM: a message, the typed RM kept, no rows
    expect(page.locator("#audit-error")).to_contain_text("Tidak ada pasien dengan No. RM AUD-000000")
    expect(page.locator("#audit-mrn")).to_have_value("AUD-000000")
    expect(page).to_have_url(re.compile(r"/admin/audit\?rm=AUD-000000$"))  # written before the next filter

    _type_filter(page, "#audit-mrn", MRN)
    expect(page).to_have_url(re.compile(rf"/admin/audit\?rm={MRN}$"))
    expect(page.locator("#audit-error")).to_have_count(0)
    expect(page.locator("#audit-count")).to_have_text("3 catatan")
    rows = _grid(page).locator(".ag-center-cols-container .ag-row")
    expect(rows).to_have_count(3)
    _grid(page).locator(".ag-header-cell[col-id='action']").click()  # sorted as the names read, not the codes
    for n, action in enumerate(("Data pasien dibuka", "Pasien dirawat inap", "Pencarian pasien")):
        expect(_grid(page).locator(f".ag-row[row-index='{n}']")).to_contain_text(action)

    page.reload()  # the address alone reproduces the filter
    expect(page.locator("#audit-mrn")).to_have_value(MRN, timeout=30_000)
    expect(page.locator("#audit-count")).to_have_text("3 catatan")
    settled(page)

    with page.expect_download() as download:
        page.click("#audit-export")
    assert download.value.suggested_filename.startswith("jejak-audit-")
    table = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert table[0] == ["Waktu", "Pengguna", "Aksi", "Kode aksi", "Objek", "Kode objek", "Alamat klien", "Rincian"]
    assert sorted(r[2:4] for r in table[1:]) == [
        ["Data pasien dibuka", "patient_read"],
        ["Pasien dirawat inap", "patient_admitted"],
        ["Pencarian pasien", "patient_search"],
    ]
    assert [f"Pasien {patient_id}", f"patient:{patient_id}"] in [r[4:6] for r in table[1:]]
    expect(page.locator("#audit-export-note")).to_contain_text("3 catatan diunduh")

    with pantau.runtime.db.session() as s:
        exported = s.scalars(select(AuditLog).where(AuditLog.action == "audit_exported")).all()
    assert [(e.username, e.detail["filter"], e.detail["rows"]) for e in exported] == [("admin", {"mrn": MRN}, 3)]

    page.click("#audit-clear")  # every row again: the export is the newest of them
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.locator("#audit-mrn")).to_have_value("")
    expect(_grid(page).locator(".ag-row[row-index='0']")).to_contain_text("Jejak audit diunduh")
    expect(_grid(page).locator(".ag-row[row-index='0']")).to_contain_text('"mrn":"AUD-777001"')
    page.go_back()  # Back returns to the patient's filter, controls and rows alike
    expect(page.locator("#audit-mrn")).to_have_value(MRN)
    expect(page.locator("#audit-count")).to_have_text("3 catatan")
    watch.settle(page)
    assert not watch.problems, watch.problems


EXPORT_CALLBACK = {  # callbacks/admin_audit.export, as a crafted request would send it
    "output": "..audit-download.data...audit-export-status.children..",
    "outputs": [{"id": "audit-download", "property": "data"}, {"id": "audit-export-status", "property": "children"}],
    "inputs": [{"id": "audit-export", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["audit-export.n_clicks"],
    "state": [{"id": "audit-filter", "property": "data", "value": {"view": {}, "patient_id": None}}],
}


def test_a_nurse_gets_403_on_the_page_and_its_callbacks(login):
    nurse = login("nurse")
    page = nurse.get("/admin/audit")
    assert page.status_code == 403
    assert 'id="forbidden"' in page.get_data(as_text=True)
    crafted = nurse.post("/_dash-update-component", json=EXPORT_CALLBACK)
    assert crafted.status_code == 403
    assert "audit_exported" not in crafted.get_data(as_text=True)
    answered = login("admin").post("/_dash-update-component", json=EXPORT_CALLBACK)
    assert answered.status_code == 200 and "jejak-audit-" in answered.get_data(as_text=True)


def test_an_export_without_a_recent_check_asks_for_one_and_exports_nothing(app, login):
    admin = login("admin")
    with admin.session_transaction() as session:
        session["auth_at"] = 0  # the last password check is long past
    answered = admin.post("/_dash-update-component", json=EXPORT_CALLBACK)
    assert answered.status_code == 200
    body = answered.get_data(as_text=True)
    assert "Konfirmasi dulu bahwa ini Anda" in body and "jejak-audit-" not in body
    assert '"reauth-modal"' in body  # the shell's confirmation dialog opens
    with app.runtime.db.session() as s:
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "audit_exported")) is None
