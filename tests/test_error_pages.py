"""Every page and every error path answers the right status with Pantau's own page, in the user's language, or
JSON for a data request; unknown addresses answer 404; the patient's public status page never sends anyone to
the staff sign-in. The page × role table is tests/test_access_control.py's ``EXPECTED_ACCESS``."""

from __future__ import annotations

import logging
import re

import psycopg2
import pytest
from playwright.sync_api import expect
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, ServiceUnavailable, TooManyRequests

from api import queue_public
from domain.roles import ROLES
from testkit.front_desk import register_waiting
from tests.fixtures_app import build_app, make_settings, post_login
from tests.fixtures_browser import save_screenshot
from tests.test_access_control import EXPECTED_ACCESS, addresses
from tests.test_browser_shell import sign_in

ANONYMOUS = "anonymous"
UNKNOWN_ADDRESSES = [
    "/tidak-ada",
    "/404",  # the Dash page drawn for an unknown path inside the app, not an address of its own
    "/favicon.ico",
    "/admin/pengguna/lagi",
    "/bed/ICU-03/lagi",  # a path template with one segment too many
    "/antrean/konter/x/y",
]
JUNK_CODES = ["AB/CD", "..%2F..%2Flogin", "%2Fadmin", "<script>", "x" * 200, "ＡＢＣ１２３", "%00"]
# What only Werkzeug's or Dash's own answers contain: an error page must be none of them.
FOREIGN = ("The server could not", "You don't have the permission", "Traceback", "_dash-renderer")


def raising(error: Exception):
    """A function that raises ``error`` whatever it is given: a test-only view, or a service made to fail."""

    def view(*_args: object, **_kwargs: object) -> None:
        raise error

    return view


def assert_pantau_page(response, status: int, anchor: str, text: str) -> str:
    """``response`` is Pantau's error page for ``status``: its heading (element id ``anchor``) says ``text``."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:300]
    assert response.mimetype == "text/html"
    assert f'id="{anchor}">{text}</h1>' in body, body[-1500:]
    assert "Pantau" in body and not any(mark in body for mark in FOREIGN)
    return body


@pytest.mark.parametrize("who", [*ROLES, ANONYMOUS])
def test_unknown_addresses_answer_404_with_pantaus_page(client, login, who):
    if who != ANONYMOUS:
        client = login(who)
    for address in UNKNOWN_ADDRESSES:
        body = assert_pantau_page(client.get(address), 404, "not-found", "Halaman tidak ditemukan")
        # what to do next: home when signed in, the staff sign-in otherwise (never a redirect to it)
        assert ('id="error-home"' in body) is (who != ANONYMOUS), (who, address)
        assert ('id="error-sign-in" href="/login"' in body) is (who == ANONYMOUS), (who, address)


def test_anonymous_is_sent_to_sign_in_for_every_staff_page(client):
    for path in EXPECTED_ACCESS:
        if path == "/404":
            continue
        for address in addresses(path):
            response = client.get(address)
            assert response.status_code == 302, address
            assert response.headers["Location"].startswith("/login?next="), address


def test_refused_pages_are_pantaus_403_page_with_a_way_out(login):
    client = login("nurse")
    response = client.get("/admin/pengguna", headers={"Referer": "http://localhost/bangsal"})
    body = assert_pantau_page(response, 403, "forbidden", "Tidak punya akses")
    assert 'id="error-back" href="/bangsal"' in body
    assert 'id="error-home" href="/"' in body
    assert 'action="/logout"' in body and 'id="error-switch-user" type="submit"' in body  # a POST form
    assert client.head("/admin/pengguna").status_code == 403  # a HEAD is a GET without the body


def test_ticket_printout_refuses_a_nurse_with_pantaus_page_in_her_language(sqlite_app, login):
    booking = register_waiting(sqlite_app, "Siti Aminah").booking_code
    client = login("nurse")
    body = assert_pantau_page(client.get(f"/antrean/tiket/{booking}"), 403, "forbidden", "Tidak punya akses")
    assert '<html lang="id"' in body and "Masuk sebagai pengguna lain" in body
    assert client.get("/lang/en").status_code == 302
    body = assert_pantau_page(client.get(f"/antrean/tiket/{booking}"), 403, "forbidden", "No access")
    assert '<html lang="en"' in body and "Sign in as someone else" in body
    assert "<svg" not in body  # none of the ticket
    assert login("front_desk").get(f"/antrean/tiket/{booking}").status_code == 200


def test_status_page_answers_its_own_not_found_for_junk_codes(sqlite_app, client):
    for code in JUNK_CODES:
        response = client.get(f"/antrean/status/{code}")
        assert response.status_code == 404, code
        assert "Location" not in response.headers, code
        assert 'id="status-unknown"' in response.get_data(as_text=True), code
    for address in ("/antrean/status", "/antrean/status/"):
        assert 'id="status-unknown"' in client.get(address, follow_redirects=True).get_data(as_text=True), address
    booking = register_waiting(sqlite_app, "Siti Aminah").booking_code
    assert client.get(f"/antrean/status/{booking.lower()}").status_code == 200


def test_dash_and_flask_routes_keep_working(sqlite_app, login):
    booking = register_waiting(sqlite_app, "Siti Aminah").booking_code
    client = login("admin")
    index = client.get("/").get_data(as_text=True)
    suite = re.search(r'src="(/_dash-component-suites/[^"]+)"', index).group(1)
    for address in (
        "/_dash-layout",
        "/_dash-dependencies",
        "/_reload-hash",
        "/_favicon.ico",
        "/assets/pantau.css",
        suite,
        "/healthz",
        "/akun/kata-sandi",
        f"/antrean/tiket/{booking}",
        f"/antrean/status/{booking}",
    ):
        assert client.get(address).status_code == 200, address
    assert client.get("/login").status_code == 302  # signed in already


def test_data_requests_get_json_errors(sqlite_app, login):
    client = login("nurse")
    for address, status in (("/api/tidak-ada", 404), ("/antrean/tiket/ABC123", 403), ("/tidak-ada", 404)):
        response = client.get(address, headers={"Accept": "application/json"})
        assert response.status_code == status, address
        assert set(response.get_json()) == {"error"}, address
    response = client.post("/api/beds/XX-99/alarms/pause", json={"seconds": 120})
    assert response.status_code == 404 and response.get_json() == {"error": "Tidak ditemukan."}
    signed_out = sqlite_app.client().get("/stream/session")
    assert signed_out.status_code == 401 and "error" in signed_out.get_json()


def test_method_and_size_errors_are_pantaus_page(client):
    response = client.post("/healthz")
    assert_pantau_page(response, 405, "error-title", "Alamat ini tidak menerima permintaan seperti itu")
    assert "GET" in response.headers["Allow"]
    too_big = client.post("/login", data={"username": "x" * (5 * 1024 * 1024)})
    body = assert_pantau_page(too_big, 413, "error-title", "Kiriman terlalu besar")
    assert "4 MB" in body


@pytest.mark.parametrize(
    "error,title",
    [
        (BadRequest(), "Permintaan tidak dapat dibaca"),
        (TooManyRequests(retry_after=60), "Terlalu banyak permintaan"),
        (ServiceUnavailable(), "Layanan sedang tidak tersedia"),
        (RequestEntityTooLarge(), "Kiriman terlalu besar"),
    ],
)
def test_each_http_error_raised_by_a_view_is_pantaus_page(sqlite_app, error, title, login):
    sqlite_app.server.add_url_rule("/uji/galat", "test_error", raising(error))
    response = login("nurse").get("/uji/galat")
    assert_pantau_page(response, error.code, "error-title", title)
    if error.code == 429:
        assert response.headers["Retry-After"] == "60"


def test_sign_in_over_its_rate_limit_is_pantaus_429_page(tmp_path, mqtt_url):
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'p.db'}", "memory://", mqtt_url, login_rate_limit="1/minute"
    )
    pantau = build_app(settings)
    try:
        client = pantau.client()
        client.environ_base["HTTP_REFERER"] = "http://localhost/login?next=/"
        assert post_login(client, "perawat", "bukan-ini").status_code == 401
        body = assert_pantau_page(
            post_login(client, "perawat", "bukan-ini"), 429, "error-title", "Terlalu banyak permintaan"
        )
        assert 'id="error-back" href="/login?next=/"' in body
    finally:
        pantau.runtime.close()


def test_an_unexpected_failure_shows_pantaus_page_and_logs_no_patient_data(
    sqlite_app, monkeypatch, caplog, client, login
):
    secret = "NIK 3171234567890123 Siti Aminah"
    monkeypatch.setattr(queue_public, "booking_status", raising(RuntimeError(secret)))
    sqlite_app.server.add_url_rule("/api/uji/gagal", "test_failure", raising(RuntimeError(secret)))
    booking = register_waiting(sqlite_app, "Siti Aminah").booking_code
    with caplog.at_level(logging.INFO):
        response = client.get(f"/antrean/status/{booking}")
    body = assert_pantau_page(response, 500, "error-title", "Terjadi kesalahan pada sistem")
    reference = re.search(r'id="error-reference">[^<]*: ([0-9a-f]{8})<', body).group(1)
    assert secret not in body and "RuntimeError" not in body
    logged = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert logged and logged[0].error == "RuntimeError"
    assert secret not in " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)

    answer = login("admin").get("/api/uji/gagal")
    assert answer.status_code == 500
    assert answer.get_json()["error"] == "Terjadi kesalahan pada sistem" and secret not in answer.get_data(as_text=True)


def brightness(page, selector: str, prop: str) -> float:
    """The computed colour ``prop`` of ``selector``, as 0 (black) to 1 (white)."""
    rgb = page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")
    red, green, blue = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def test_a_failure_that_takes_the_signed_in_user_with_it_still_shows_pantaus_page(sqlite_app, monkeypatch, login):
    client = login("nurse")
    # the database going away between two requests: the user can no longer be loaded
    monkeypatch.setattr(sqlite_app.server.login_manager, "_user_callback", raising(RuntimeError("database is down")))
    body = assert_pantau_page(client.get("/"), 500, "error-title", "Terjadi kesalahan pada sistem")
    assert 'id="error-reference"' in body


def test_a_database_away_is_a_503_to_try_again_not_a_failure(sqlite_app, monkeypatch, caplog, login):
    """The database unreachable while the signed-in user is loaded (a live screen reconnecting during an outage):
    503 with Retry-After, so the screen tries again, and Pantau's "unavailable" page or JSON, not the 500 of a
    defect. Logged as a warning with its reference."""
    client = login("nurse")
    away = OperationalError("SELECT app_user", {}, psycopg2.OperationalError("server closed the connection"))
    monkeypatch.setattr(sqlite_app.server.login_manager, "_user_callback", raising(away))
    with caplog.at_level(logging.INFO):
        page = client.get("/")
        stream = client.get("/stream/session")
    body = assert_pantau_page(page, 503, "error-title", "Layanan sedang tidak tersedia")
    assert page.headers["Retry-After"] == "5" and 'id="error-reference"' in body
    assert stream.status_code == 503 and stream.headers["Retry-After"] == "5"
    assert stream.get_json()["error"] == "Layanan sedang tidak tersedia"
    assert {(r.levelname, r.getMessage()) for r in caplog.records if getattr(r, "reference", None)} == {
        ("WARNING", "database unavailable")
    }


@pytest.mark.browser
def test_the_403_page_follows_the_light_theme(page, live_server):
    base, pantau = live_server
    booking = register_waiting(pantau, "Siti Aminah").booking_code
    sign_in(page, base, "perawat")
    page.click("#shell-theme-toggle")  # dark by default: the user picks light in the app
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    page.goto(f"{base}/antrean/tiket/{booking}")
    expect(page.locator("#forbidden")).to_have_text("Tidak punya akses")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    assert brightness(page, "body", "backgroundColor") > 0.9
    assert brightness(page, "main", "backgroundColor") > 0.9
    assert brightness(page, "#forbidden", "color") < 0.3
    save_screenshot(page, "error-403-light.png")


@pytest.mark.browser
def test_a_patient_with_a_mistyped_address_stays_on_public_pages(page, live_server):
    base, _ = live_server
    page.goto(f"{base}/antrean/status/AB/CD")
    expect(page.locator("#status-unknown")).to_be_visible()
    page.goto(f"{base}/antrean/statsu/ABC123")
    expect(page.locator("#not-found")).to_have_text("Halaman tidak ditemukan")
    expect(page.locator("#error-sign-in")).to_be_visible()
    save_screenshot(page, "error-404-anonymous.png")
    assert "/login" not in page.url
