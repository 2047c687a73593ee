"""The admin users page in a real browser: a password the admin types is held to the password policy, and every
refused field is shown beside it, all at once, with everything typed kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from auth import users
from tests.fixtures_app import post_login
from tests.fixtures_browser import save_screenshot
from tests.test_browser_shell import choose, open_nav, settled, sign_in

pytestmark = pytest.mark.browser


def test_a_weak_typed_password_is_refused_beside_its_field(page, live_server):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    page.fill("#admin-new-username", "bidan.rina")
    page.fill("#admin-new-fullname", "Bidan Rina")
    page.get_by_label("Perawat").first.check()
    for weak, reason in (
        ("aaaaaaaaaa", "pengulangan karakter"),
        ("Bidan.Rina-2026", "tidak boleh memuat nama pengguna"),
        ("password123", "paling sering dipakai"),
    ):
        page.fill("#admin-new-password", weak)
        page.click("#admin-new-submit")
        expect(page.locator("#admin-new-password-error")).to_contain_text(reason)
        expect(page.locator("#admin-new-password")).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(page.locator("#admin-new-feedback")).to_be_empty()
        expect(page.locator("#admin-new-username")).to_have_value("bidan.rina")  # nothing typed is lost
        expect(page.locator("#admin-new-fullname")).to_have_value("Bidan Rina")
        expect(page.locator("#admin-new-password")).to_have_value(weak)
    expect(page.locator("#admin-users-grid")).not_to_contain_text("bidan.rina")
    save_screenshot(page, "admin-users-weak-password.png", full_page=True)

    page.fill("#admin-new-password", "jeruk nipis di meja jaga")
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text("Pengguna bidan.rina dibuat")
    expect(page.locator("#admin-new-password-error")).to_be_empty()
    expect(page.locator("#admin-new-password")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#admin-users-grid")).to_contain_text("Bidan Rina")
    response = post_login(pantau.client(), "bidan.rina", "jeruk nipis di meja jaga")
    assert response.headers["Location"] == "/akun/kata-sandi"


def test_every_wrong_field_of_a_new_user_is_named_at_once(page, live_server):
    base, _ = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    page.fill("#admin-new-username", "Budi Santoso")
    page.fill("#admin-new-fullname", "   ")
    page.fill("#admin-new-password", "aaaaaaaaaa")
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-username-error")).to_contain_text("Nama pengguna 3–64 karakter")
    expect(page.locator("#admin-new-fullname-error")).to_have_text("Nama lengkap wajib diisi.")
    expect(page.locator("#admin-new-roles-error")).to_have_text("Pilih minimal satu peran.")
    expect(page.locator("#admin-new-password-error")).to_contain_text("pengulangan karakter")
    for field in ("username", "fullname", "password"):
        expect(page.locator(f"#admin-new-{field}")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#admin-new-feedback")).to_be_empty()
    expect(page.locator("#admin-new-username")).to_have_value("Budi Santoso")  # nothing typed is lost
    expect(page.locator("#admin-new-password")).to_have_value("aaaaaaaaaa")
    save_screenshot(page, "admin-users-every-field-wrong.png", full_page=True)

    page.fill("#admin-new-username", "budi.santoso")
    page.fill("#admin-new-fullname", "Budi Santoso")
    page.get_by_label("Loket pendaftaran").first.check()
    page.fill("#admin-new-password", "")  # a temporary one is made
    page.click("#admin-new-submit")
    expect(page.locator("#admin-new-feedback")).to_contain_text("Pengguna budi.santoso dibuat")
    for field in ("username", "fullname", "roles", "password"):
        expect(page.locator(f"#admin-new-{field}-error")).to_be_empty()
    expect(page.locator("#admin-new-username")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#admin-users-grid")).to_contain_text("budi.santoso")


def test_an_admin_is_told_beside_each_field_why_her_own_account_keeps_its_admin_role_and_stays_active(
    page, live_server
):
    base, pantau = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    choose(page, "admin-edit-user", "admin")
    # The account's own roles are in the form before anything is changed: a person sees them first.
    expect(page.locator("#admin-edit-roles").get_by_label("Admin")).to_be_checked()
    expect(page.locator("#admin-edit-active")).to_be_checked()
    page.locator("#admin-edit-roles").get_by_label("Admin").uncheck()
    page.locator("#admin-edit-roles").get_by_label("Perawat").check()
    page.locator("#admin-edit-active").uncheck()
    page.click("#admin-edit-save")
    expect(page.locator("#admin-edit-roles-error")).to_have_text(
        "Anda tidak dapat mencabut peran admin dari akun Anda sendiri."
    )
    expect(page.locator("#admin-edit-active-error")).to_have_text("Anda tidak dapat menonaktifkan akun Anda sendiri.")
    expect(page.locator("#admin-edit-feedback")).to_contain_text("Belum ada yang disimpan")
    expect(page.locator("#admin-edit-active")).not_to_be_checked()  # what was chosen stays, to correct
    save_screenshot(
        page.locator("#admin-edit-feedback").locator("xpath=ancestor::div[contains(@class,'card')][1]"),
        "admin-edit-own-account-refused.png",
    )
    with pantau.runtime.db.session() as s:
        admin = users.find_user(s, "admin")
        assert admin.active and admin.role_names == {"admin"}

    choose(page, "admin-edit-user", "perawat")  # another user: the first one's messages go
    expect(page.locator("#admin-edit-roles-error")).to_be_empty()
    expect(page.locator("#admin-edit-active-error")).to_be_empty()


@pytest.mark.parametrize(
    ("lang", "search", "none_found"), [("id", "Cari", "Tidak ada pilihan"), ("en", "Search", "No options")]
)
def test_a_dropdown_speaks_the_pages_language(page, live_server, lang: str, search: str, none_found: str):
    base, _ = live_server
    sign_in(page, base, "admin")
    page.goto(f"{base}/lang/{lang}")
    open_nav(page, "pages.admin_users")
    page.locator("#admin-edit-wards").click()
    field = page.get_by_placeholder(search, exact=True)
    expect(field).to_be_visible()
    field.fill("zzzz")
    expect(page.get_by_text(none_found)).to_be_visible()


def test_a_place_picked_leaves_the_save_button_free(page, live_server):
    """A ward picked closes its list: left open, the list lay over the Save button, and the press meant for Save
    gave the account the ward or poli under it instead."""
    base, _ = live_server
    sign_in(page, base, "admin")
    open_nav(page, "pages.admin_users")
    choose(page, "admin-edit-user", "perawat")
    settled(page)
    wards = page.locator("#admin-edit-wards")
    wards.click()
    page.get_by_role("option").first.click()
    expect(wards).to_have_attribute("aria-expanded", "false")
    save = page.locator("#admin-edit-save")
    box = save.bounding_box()
    at_centre = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('#admin-edit-save') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert at_centre, "something lies over the Save button"
    save.click()
    expect(page.locator("#admin-edit-feedback")).to_contain_text("Perubahan untuk perawat disimpan.")
