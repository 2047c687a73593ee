"""The queue settings page in a real browser: an admin gives Poli Anak its age range, with each wrong bound named
next to its field; the front desk sees the range but cannot change it (and the server refuses it too)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data.models import Poli
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import open_page, sign_in
from tests.test_queue_actions import dash_post

pytestmark = pytest.mark.browser


def anak_ages(pantau) -> tuple[int | None, int | None]:
    with pantau.runtime.db.session() as s:
        poli = s.scalar(select(Poli).where(Poli.code == "ANA"))
        return poli.age_min_years, poli.age_max_years


def save_ages(page, low: str, high: str) -> None:
    page.fill("#qadmin-age-min", low)
    page.fill("#qadmin-age-max", high)
    page.click("#qadmin-age-save")


def test_admin_sets_an_age_range_and_each_wrong_bound_is_named(page, live_server):
    base, pantau = live_server
    before = anak_ages(pantau)
    sign_in(page, base, "admin")
    expect(page.locator("#home-greeting")).to_be_visible()
    open_page(page, f"{base}/admin/antrean")
    page.select_option("#qadmin-age-poli", label="Poli Anak")
    expect(page.locator("#qadmin-age-min")).to_have_value("" if before[0] is None else str(before[0]))

    save_ages(page, "tujuh", "151")
    expect(page.locator("#qadmin-age-min-error")).to_have_text("Isi usia dalam tahun penuh, 0–150, atau kosongkan.")
    expect(page.locator("#qadmin-age-max-error")).to_have_text("Isi usia dalam tahun penuh, 0–150, atau kosongkan.")
    save_ages(page, "18", "17")
    expect(page.locator("#qadmin-age-min-error")).to_have_text("")
    expect(page.locator("#qadmin-age-max-error")).to_have_text(
        "Usia maksimum tidak boleh lebih kecil dari usia minimum."
    )
    expect(page.locator("#qadmin-age-min")).to_have_value("18")  # nothing typed is lost
    assert anak_ages(pantau) == before

    save_ages(page, "０", " 17 ")
    expect(page.locator("#qadmin-age-message")).to_have_text("Rentang usia Poli Anak disimpan: 0–17 tahun.")
    expect(page.locator("#qadmin-ages-table tr", has_text="Poli Anak")).to_contain_text("0–17 tahun")
    assert anak_ages(pantau) == (0, 17)
    expect(page.locator("#qadmin-age-min")).to_have_value("0")  # what was stored, not what was typed
    expect(page.locator("#qadmin-age-max")).to_have_value("17")
    save_screenshot(page.locator("#qadmin-age-feedback").locator(".."), "admin-queue-age-range.png")


def test_front_desk_cannot_change_an_age_range(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        anak = s.scalar(select(Poli.id).where(Poli.code == "ANA"))
    values = {"qadmin-age-poli.value": str(anak), "qadmin-age-min.value": "40", "qadmin-age-max.value": ""}
    desk = sqlite_app.login("front_desk")
    answer = dash_post(desk, sqlite_app, "qadmin-age-feedback", "qadmin-age-save.n_clicks", values)
    assert "Hanya admin" in answer
    assert anak_ages(sqlite_app)[0] != 40
