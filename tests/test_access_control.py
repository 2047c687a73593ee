"""Every page × every role, and every Dash endpoint, refuses what DESIGN §8 does not grant."""

from __future__ import annotations

import dash
import pytest

from domain.roles import ROLES
from i18n import catalogue_keys

# Written out by hand (not read from the page registry) so that a changed `roles=` shows up here.
EXPECTED_ACCESS = {
    "/": set(ROLES),
    "/admin/pengguna": {"admin"},
    "/admin/audit": {"admin"},
    "/admin/monitor": {"admin"},
    "/admin/fasilitas": {"admin"},
    "/admin/bangsal": {"admin"},
    "/admin/poli": {"admin"},
    "/admin/dokter": {"admin"},
    "/admin/simulator": {"admin"},
    "/admin/loket": {"admin"},
    "/admin/impor": {"admin"},
    "/bangsal": {"nurse", "doctor", "admin", "display"},  # display: a read-only ward station
    "/bed": {"nurse", "doctor", "admin"},
    "/pendaftaran": {"front_desk", "admin"},
    "/pasien": {"front_desk", "admin", "nurse", "doctor"},
    "/pasien/rekam": {"front_desk", "admin", "nurse", "doctor"},
    "/antrean/konter": {"front_desk", "nurse", "doctor", "pharmacy", "admin"},
    "/papan": {"display", "admin", "front_desk"},
    "/laporan/antrean": {"manager", "admin"},
    "/bpjs/sinkronisasi": {"admin", "manager", "front_desk"},
    "/admin/antrean": {"admin", "front_desk"},
    "/admin/bpjs/pemetaan": {"admin"},
    "/admin/sinkron-fasilitas": {"admin"},
    "/rawat-inap": {"nurse", "doctor", "admin", "front_desk"},
    "/rawat-inap/tempat-tidur": {"nurse", "doctor", "admin", "manager", "front_desk"},
    "/jadwal": {"front_desk", "doctor", "nurse", "admin", "manager"},
    "/jadwal/saya": {"doctor"},
    "/jadwal/hari-ini": {"front_desk", "doctor", "nurse", "admin", "manager"},
    "/admin/jadwal": {"admin", "manager"},
    "/jadwal/cuti": {"admin", "manager"},
    "/laporan/ketepatan-dokter": {"manager", "admin"},
    "/keuangan": {"manager", "admin", "finance"},
    "/keuangan/impor": {"finance", "admin"},
    "/keuangan/kasir": {"finance", "admin"},
    "/keuangan/klaim": {"finance", "manager", "admin"},
    "/keuangan/target": {"manager", "admin", "finance"},
    "/admin/tarif": {"admin", "finance"},
    "/tindakan": {"nurse", "doctor", "front_desk", "admin"},
    "/404": set(ROLES),
}
_USERS_OUTPUTS = (  # callbacks/admin_users.render_users
    ("admin-users-table", "children"),
    ("admin-edit-user", "options"),
    ("admin-edit-wards", "options"),
    ("admin-edit-polis", "options"),
    ("admin-tv-board", "options"),
    ("admin-tv-table", "children"),
    ("admin-tv-pick", "options"),
)
ADMIN_CALLBACK = {
    "output": ".." + "...".join(f"{i}.{p}" for i, p in _USERS_OUTPUTS) + "..",
    "outputs": [{"id": i, "property": p} for i, p in _USERS_OUTPUTS],
    "inputs": [{"id": "admin-users-version", "property": "data", "value": 0}],
    "changedPropIds": ["admin-users-version.data"],
    "state": [],
}


def addresses(path: str) -> list[str]:
    """Every address of the page registered at ``path``: itself, with a trailing slash (Dash's router ignores it,
    so the guard must too), and its path template filled with demo values."""
    from tests.test_browser_console import _real_path  # here: that module imports this one (via test_queue_board)

    entry = next(p for p in dash.page_registry.values() if p["path"] == path)
    found = [path] if path == "/" else [path, f"{path}/"]
    return found + ([_real_path(entry)] if entry.get("path_template") else [])


def router_request(path: str) -> dict:
    """What Dash's page router posts when the browser navigates to ``path``."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def test_matrix_covers_every_registered_page(sqlite_app):
    assert {p["path"] for p in dash.page_registry.values()} == set(EXPECTED_ACCESS)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_pages(role, login):
    client = login(role)
    for path, allowed in EXPECTED_ACCESS.items():
        if path == "/404":  # an address of its own only inside the app (tests/test_error_pages.py)
            continue
        for address in addresses(path):
            direct = client.get(address)
            assert direct.status_code == (200 if role in allowed else 403), (role, address)
            if role not in allowed:
                assert 'id="forbidden">Tidak punya akses' in direct.get_data(as_text=True)
        routed = client.post("/_dash-update-component", json=router_request(path))
        assert routed.status_code == 200
        assert ("forbidden" in routed.get_data(as_text=True)) is (role not in allowed), (role, path)
        assert ("forbidden-switch-user" in routed.get_data(as_text=True)) is (role not in allowed), (role, path)


def components(node):
    """Every component in a piece of Dash's layout JSON, depth first."""
    if isinstance(node, list):
        for child in node:
            yield from components(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from components(node["props"].get("children"))


def navbar_entries(client) -> tuple[list[str], dict[str, list[str]]]:
    """The signed-in navbar: ids of its plain page links, and each group menu's item ids."""
    layout = client.get("/_dash-layout").get_json()
    found = list(components(layout))
    links = [c["props"]["id"] for c in found if c["type"] == "NavLink" and c["props"].get("id", "").startswith("nav-")]
    menus = {
        c["props"]["id"]["group"]: [item["props"]["id"] for item in c["props"]["children"]]
        for c in found
        if c["type"] == "DropdownMenu" and isinstance(c["props"].get("id"), dict)
    }
    return links, menus


@pytest.mark.parametrize("role", ROLES)
def test_navbar_shows_each_allowed_page_once_and_no_single_item_menu(role, login):
    links, menus = navbar_entries(login(role))
    nav = [p for p in dash.page_registry.values() if p.get("nav")]
    allowed = {f"nav-{p['module']}" for p in nav if role in EXPECTED_ACCESS[p["path"]]}
    listed = links + [item for items in menus.values() for item in items]
    assert sorted(listed) == sorted(allowed)
    assert all(len(items) > 1 for items in menus.values()), menus


def test_admin_navbar_groups_pages_by_their_nav_group(login):
    links, menus = navbar_entries(login("admin"))
    assert links == ["nav-pages.home", "nav-pages.ward", "nav-pages.patients"]
    assert menus == {
        "reports": [
            "nav-pages.finance",
            "nav-pages.cashier",
            "nav-pages.claims",
            "nav-pages.finance_targets",
            "nav-pages.finance_import",
            "nav-pages.queue_report",
            "nav-pages.doctor_punctuality",
        ],
        "queue": ["nav-pages.registration", "nav-pages.counter", "nav-pages.board", "nav-pages.admin_queue"],
        "bpjs": ["nav-pages.bpjs_sync", "nav-pages.admin_bpjs_mapping"],
        "admin": [
            "nav-pages.admin_facility",
            "nav-pages.admin_wards",
            "nav-pages.admin_polis",
            "nav-pages.admin_doctors",
            "nav-pages.admin_tariffs",
            "nav-pages.admin_users",
            "nav-pages.admin_devices",
            "nav-pages.admin_counters",
            "nav-pages.admin_facility_sync",
            "nav-pages.admin_simulator",
            "nav-pages.admin_audit",
            "nav-pages.admin_import",
        ],
        "schedule": [
            "nav-pages.schedule_today",
            "nav-pages.schedule_week",
            "nav-pages.doctor_leave",
            "nav-pages.admin_schedule",
        ],
        "inpatient": ["nav-pages.inpatient", "nav-pages.bed_board", "nav-pages.procedures"],
    }


def test_nurse_gets_plain_links_and_the_schedules(login):
    assert navbar_entries(login("nurse")) == (
        ["nav-pages.home", "nav-pages.ward", "nav-pages.patients", "nav-pages.counter"],
        {
            "schedule": ["nav-pages.schedule_today", "nav-pages.schedule_week"],
            "inpatient": ["nav-pages.inpatient", "nav-pages.bed_board", "nav-pages.procedures"],
        },
    )


def test_every_nav_group_has_a_label_in_both_languages(sqlite_app):
    groups = {p["nav_group"] for p in dash.page_registry.values() if p.get("nav_group")}
    assert groups
    for lang in ("id", "en"):
        assert {f"navgroup_{g}" for g in groups} <= catalogue_keys(lang), lang


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_admin_callback_refused_for_other_roles_even_when_crafted(role, login):
    response = login(role).post("/_dash-update-component", json=ADMIN_CALLBACK)
    assert response.status_code == 403
    assert "admin-users-grid" not in response.get_data(as_text=True)


def test_admin_callback_answers_admin(any_app, login):
    response = login("admin").post("/_dash-update-component", json=ADMIN_CALLBACK)
    assert response.status_code == 200
    assert "perawat" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method,path", [("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"), ("POST", "/_dash-update-component")]
)
def test_anonymous_dash_endpoints_get_401_and_no_data(any_app, client, method, path):
    response = client.open(path, method=method, json=ADMIN_CALLBACK if method == "POST" else None)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "admin-users" not in body and "perawat" not in body


def test_anonymous_page_redirects_to_login(client):
    response = client.get("/admin/pengguna")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/pengguna")


def test_unknown_callback_is_refused(login):
    body = dict(ADMIN_CALLBACK, output="made-up.children")
    assert login("admin").post("/_dash-update-component", json=body).status_code == 403


def test_healthz_is_public_and_reports_each_dependency(any_app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert set(checks) == {"database", "live_store", "mqtt"} and all(c["ok"] for c in checks.values())


def test_healthz_answers_503_when_a_dependency_is_down(tmp_path, mqtt_url):
    from testkit.servers import free_port
    from tests.fixtures_app import build_app, make_settings

    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    pantau = build_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", dead_redis, mqtt_url))
    response = pantau.client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["live_store"]["ok"] is False
    assert response.get_json()["checks"]["database"]["ok"] is True


def test_display_token_signs_in_a_read_only_board(login, client):
    assert login("display").get("/admin/pengguna").status_code == 403
    assert client.get("/tv/not-a-token").status_code == 404
