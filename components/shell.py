"""The app shell: navbar by role, clock in the site's zone, theme and language switches, user menu.

A page shows in the navbar when its ``register_page`` metadata says ``nav=True``; ``nav_group="queue"`` puts it in
the "Antrean" menu (label key ``navgroup_queue``). A group of which the user may open a single page is a plain link.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from auth import reauth
from components.dialog import dialog
from data.runtime import current_runtime
from domain.roles import may_open
from i18n import LANGUAGES
from i18n.web import current_language, t

THEME_STORE = "shell-theme"  # "light" or "dark": the theme shown, for callbacks that draw in its colours
REQUEST_FAILED_TEXTS = "shell-request-failed-texts"  # read by assets/pantau.js
DATE_PICKER_WORDS = "shell-date-picker-words"  # read by assets/date_picker_words.js


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


def logout_form(label: str, *, button_id: str, class_name: str) -> html.Form:
    """A sign-out button: a POST form whose button carries this session's CSRF token (a link would sign out on any
    GET: a prefetch, an image, another site's page); built per request, as every layout that holds one is."""
    return html.Form(
        html.Button(label, type="submit", name="csrf_token", value=generate_csrf(), id=button_id, className=class_name),
        method="post",
        action="/logout",
        className="m-0",
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
            dbc.DropdownMenuItem(
                t("mfa_menu"), href="/akun/mfa", external_link=True, disabled=current_user.is_display, id="shell-mfa"
            ),
            dbc.DropdownMenuItem(divider=True),
            logout_form(t("logout"), button_id="shell-logout", class_name="dropdown-item"),
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


def nav_entries(pages: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """``pages`` (in menu order) as navbar entries, (group or None, its pages), each group where its first page is."""
    entries: dict[tuple[str | None, str], list[dict]] = {}
    for page in pages:
        group = page.get("nav_group")
        entries.setdefault((group, group or page["module"]), []).append(page)
    return [(group, grouped) for (group, _), grouped in entries.items()]


def _nav_link(page: dict) -> dbc.NavItem:
    return dbc.NavItem(dbc.NavLink(t(page["name_key"]), href=page["path"], active="exact", id=f"nav-{page['module']}"))


def _nav_menu(group: str, pages: list[dict]) -> dbc.DropdownMenu:
    return dbc.DropdownMenu(
        [dbc.DropdownMenuItem(t(p["name_key"]), href=p["path"], id=f"nav-{p['module']}") for p in pages],
        label=t(f"navgroup_{group}"),
        nav=True,
        id={"type": "nav-group", "group": group},
        class_name=f"nav-group nav-group-{group}",
    )


def _nav_entry(group: str | None, pages: list[dict]) -> dbc.NavItem | dbc.DropdownMenu:
    return _nav_link(pages[0]) if group is None or len(pages) == 1 else _nav_menu(group, pages)


def navbar() -> dbc.Navbar:
    settings = current_runtime().settings
    entries = [_nav_entry(group, pages) for group, pages in nav_entries(nav_pages(current_user.roles))]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.I(className="bi bi-heart-pulse-fill text-danger me-2"), "Pantau"], href="/"),
                html.Span(
                    current_user.site_name,
                    className="pantau-site-name navbar-text small text-body-secondary me-3 d-none d-xl-inline-block",
                    title=current_user.site_name,
                ),
                dbc.Nav(entries, navbar=True, className="me-auto"),
                dbc.Nav(
                    [
                        dbc.NavItem(_clock(settings.timezone), className="navbar-text text-nowrap me-3"),
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
        dark=False,  # not "navbar-dark": its text follows the theme (light text was unreadable in the light theme)
        className="pantau-navbar border-bottom mb-3",
        id="shell-navbar",
    )


def reauth_dialog() -> html.Div:
    """The step-up dialog a sensitive callback opens (``auth.reauth.confirm_needed``, which fills in the text for a
    password or a code), answered by ``callbacks.reauth``; and the note that the user may now repeat the action."""
    return html.Div(
        [
            dialog(
                [
                    dbc.ModalHeader(dbc.ModalTitle(t("thr_confirm_title"))),
                    dbc.ModalBody(
                        [
                            html.P(id=reauth.INTRO_ID, className="text-body-secondary"),
                            dbc.Label(id=reauth.LABEL_ID, html_for=reauth.ANSWER_ID),
                            dbc.Input(
                                id=reauth.ANSWER_ID,
                                type="password",
                                autocomplete="current-password",
                                maxLength=256,
                                size="lg",
                            ),
                            html.Div(id=reauth.FEEDBACK_ID, className="mt-2", role="alert"),
                        ]
                    ),
                    dbc.ModalFooter(
                        [
                            dbc.Button(t("thr_cancel"), id=reauth.CANCEL_ID, color="secondary"),
                            dbc.Button(t("thr_confirm_submit"), id=reauth.SUBMIT_ID, color="primary"),
                        ]
                    ),
                ],
                id=reauth.MODAL_ID,
                is_open=False,
                backdrop="static",
            ),
            dbc.Toast(
                t("thr_confirm_done"),
                id=reauth.DONE_ID,
                header=t("thr_confirm_title"),
                icon="success",
                is_open=False,
                dismissable=True,
                duration=8000,
                className="pantau-reauth-done position-fixed top-0 end-0 m-3",
                style={"zIndex": 1080},
            ),
        ]
    )


def confirm_first_alert() -> dbc.Alert:
    """What a sensitive callback answers while the dialog asks for the password or code: nothing was changed."""
    return dbc.Alert(t("thr_confirm_first"), color="warning", className="mb-0", id="reauth-confirm-first")


def _words_for_script(element_id: str, words: dict[str, str]) -> html.Div:
    """A hidden element carrying words a script in ``assets/`` shows, in the user's language: ``data-<name>`` for
    each ``name: text`` of ``words``."""
    return html.Div(id=element_id, hidden=True, **{f"data-{name}": text for name, text in words.items()})


def _request_failed_texts() -> html.Div:
    """The words assets/pantau.js shows when a Dash request fails (a server error, a refusal, no answer): they come
    from the catalogue in the user's language; the server's own reason comes with the failed answer."""
    return _words_for_script(
        REQUEST_FAILED_TEXTS,
        {
            "not-saved": t("request_failed_not_saved"),
            "offline": t("request_failed_offline"),
            "not-updated": t("request_failed_not_updated"),
            "reference": t("error_reference", reference="{reference}"),
            "close": t("request_failed_close"),
        },
    )


def _date_picker_words() -> html.Div:
    """The labels assets/date_picker_words.js gives the date pickers' own buttons, which Dash 4 labels in English
    with no way to set them: a screen reader reads them."""
    return _words_for_script(
        DATE_PICKER_WORDS,
        {
            "previous-month": t("date_previous_month"),
            "next-month": t("date_next_month"),
            "close-calendar": t("date_close_calendar"),
            "clear": t("date_clear"),
        },
    )


def shell_layout() -> html.Div:
    """Dash's ``app.layout``: built per request so the navbar matches the signed-in user."""
    if not current_user.is_authenticated:
        return html.Div(dash.page_container)
    return html.Div(
        [
            navbar(),
            dcc.Store(id="shell-lang", data=current_language()),
            dcc.Store(id=THEME_STORE),
            html.Main(dash.page_container, className="container-fluid"),
            reauth_dialog(),
            _request_failed_texts(),
            _date_picker_words(),
        ]
    )
