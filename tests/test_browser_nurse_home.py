"""The nurse home in a real browser: a nurse assigned to a ward lands on it, sees a patient with NEWS2 of 5 or more
and the observations due, and each row opens the bed page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from data import live_keys
from data.models import User, Ward
from data.staff_assignments import set_staff_wards
from domain.actor import Actor
from tests.axe import audit, switch_theme
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import settled, sign_in

pytestmark = pytest.mark.browser


def _assign(pantau, username: str, ward_codes: list[str]) -> None:
    with pantau.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        wards = s.scalars(select(Ward.id).where(Ward.site_id == user.site_id, Ward.code.in_(ward_codes))).all()
        set_staff_wards(s, Actor(user.id, username, user.site_id, "127.0.0.1"), user.id, wards)


def test_the_nurse_lands_on_her_ward(page, live_server):
    base, pantau = live_server
    _assign(pantau, "perawat", ["ICU"])
    # The clinical step scored ICU-03 at 6 (what the ward station shows); the other beds are not scored yet.
    pantau.runtime.live.set_latest(
        live_keys.latest("ICU-03"), {"news2": 6, "news2_complete": "1", "news2_risk": "medium"}
    )
    sign_in(page, base, "perawat")
    expect(page.locator("#nurse-news2 [data-bed='ICU-03']")).to_contain_text("NEWS2 6")
    due = page.locator("#nurse-due [data-bed]")
    expect(due.first).to_be_visible()
    expect(page.locator("#nurse-due")).to_contain_text("NEWS2 belum lengkap")  # unscored beds: due now
    expect(page.locator("#nurse-patients")).to_contain_text("ICU-03")
    expect(page.locator("#nurse-home-ward")).to_be_hidden()  # one ward: nothing to choose
    settled(page)
    save_screenshot(page, "nurse-home.png", full_page=True)
    findings = audit(page)
    switch_theme(page)
    expect(page.locator("#nurse-news2 [data-bed='ICU-03']")).to_be_visible()
    assert not findings + audit(page, colours_only=True)  # readable in both themes
    page.locator("#nurse-news2 [data-bed='ICU-03'] a").click()
    expect(page).to_have_url(re.compile(r"/bed/ICU-03$"))
    expect(page.locator("#bed-admitted")).to_contain_text("hari rawat ke-")


def test_a_nurse_without_a_ward_is_told_and_offered_the_wards(page, live_server):
    base, pantau = live_server
    _assign(pantau, "perawat", [])  # the demo's nurse works in the ICU; an admin takes her off it
    sign_in(page, base, "perawat")
    expect(page.locator("#nurse-no-ward")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("ICU", re.I)).first).to_be_visible()
