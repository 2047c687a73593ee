"""The app shell: navbar by role, clock in the site's zone, theme and language switches, user menu."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from auth.roles import may_open
from data.runtime import current_runtime
from i18n import LANGUAGES
from i18n.web import current_language, t


def nav_pages(roles: frozenset[str]) -> list[dict]:
    """Pages that appear in the navbar for a user holding ``roles``, in menu order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav") and may_open(roles, p.get("roles"))]
    return sorted(pages, key=lambda p: (p.get("order") or 0, p["path"]))


def _clock(timezone: str) -> html.Span:
    # Filled in the browser every second by assets/pantau.js (no server round trip).
    return html.Span(
        "--:--:--",
        className="pantau-clock font-monospace",
        id="shell-clock",
        **{"data-tz": timezone, "data-lang": current_language()},
    )


def _user_menu() -> dbc.DropdownMenu:
    roles = ", ".join(t(f"role_{r}") for r in sorted(current_user.roles))
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(
                [
                    html.Div(current_user.full_name, className="fw-semibold"),
                    html.Small(roles, className="text-body-secondary"),
                ],
                header=True,
            ),
            dbc.DropdownMenuItem(
                t("password_title"), href="/akun/kata-sandi", external_link=True, disabled=current_user.is_display
            ),
            dbc.DropdownMenuItem(divider=True),
            dbc.DropdownMenuItem(t("logout"), href="/logout", external_link=True, id="shell-logout"),
        ],
        label=[html.I(className="bi bi-person-circle me-1"), current_user.username],
        align_end=True,
        nav=True,
        id="shell-user-menu",
    )


def _language_menu() -> dbc.DropdownMenu:
    lang = current_language()
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(
                label, href=f"/lang/{code}", external_link=True, active=code == lang, id=f"shell-lang-{code}"
            )
            for code, label in LANGUAGES.items()
        ],
        label=[html.I(className="bi bi-translate me-1"), lang.upper()],
        align_end=True,
        nav=True,
        id="shell-language-menu",
    )


def navbar() -> dbc.Navbar:
    settings = current_runtime().settings
    links = [
        dbc.NavItem(dbc.NavLink(t(p["name_key"]), href=p["path"], active="exact", id=f"nav-{p['module']}"))
        for p in nav_pages(current_user.roles)
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.I(className="bi bi-heart-pulse-fill text-danger me-2"), "Pantau"], href="/"),
                html.Span(current_user.site_name, className="navbar-text small text-body-secondary me-3"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                dbc.Nav(
                    [
                        dbc.NavItem(_clock(settings.timezone), className="navbar-text me-3"),
                        dbc.NavItem(
                            dbc.Button(
                                html.I(className="bi bi-circle-half"),
                                id="shell-theme-toggle",
                                color="link",
                                className="nav-link",
                                title=t("theme_toggle"),
                            )
                        ),
                        _language_menu(),
                        _user_menu(),
                    ],
                    navbar=True,
                    className="align-items-center",
                ),
            ],
            fluid=True,
        ),
        color="body-tertiary",
        className="pantau-navbar border-bottom mb-3",
        id="shell-navbar",
    )


def shell_layout() -> html.Div:
    """Dash's ``app.layout``: built per request so the navbar matches the signed-in user."""
    if not current_user.is_authenticated:
        return html.Div(dash.page_container)
    return html.Div(
        [
            navbar(),
            dcc.Store(id="shell-lang", data=current_language()),
            html.Main(dash.page_container, className="container-fluid"),
        ]
    )
