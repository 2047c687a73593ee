"""Home page: a nurse lands on her ward (alarms, NEWS2 of 5 or more, observations due, her patients); every other
role sees who is signed in, the site, and the health of Pantau's services."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.health import health_items
from components.shell import nav_pages
from data.health import check_all
from data.nurse_home import nurse_wards
from data.runtime import current_runtime
from data.wards import list_wards
from domain.roles import EVERYONE
from i18n.web import t

dash.register_page(__name__, path="/", name_key="nav_home", title="Pantau", roles=list(EVERYONE), order=0, nav=True)

HEALTH_REFRESH_MS = 15_000
NURSE_REFRESH_MS = 10_000


class Ids:
    """Component ids shared with callbacks/home.py."""

    HEALTH = "home-health"
    HEALTH_INTERVAL = "home-health-interval"
    WARD = "nurse-home-ward"  # the ward shown (a picker when she works in several)
    SUMMARY = "nurse-home-summary"
    INTERVAL = "nurse-home-interval"


def _display_home() -> html.Div:
    settings = current_runtime().settings
    return html.Div(
        [
            html.Div(current_user.site_name, className="display-4 fw-semibold"),
            html.Div(
                "--:--:--",
                className="pantau-clock display-1 font-monospace mt-4",
                id="display-clock",
                **{"data-tz": settings.timezone, "data-lang": current_user.language, "data-date": "1"},
            ),
        ],
        className="text-center py-5",
    )


def _welcome() -> dbc.Card:
    settings = current_runtime().settings
    roles = ", ".join(t(f"role_{r}") for r in sorted(current_user.roles))
    shortcuts = [
        dbc.ListGroupItem(t(p["name_key"]), href=p["path"], action=True)
        for p in nav_pages(current_user.roles)
        if p["path"] != "/"
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(t("home_greeting", name=current_user.full_name), className="h4", id="home-greeting"),
                html.Dl(
                    [
                        html.Dt(t("home_roles")),
                        html.Dd(roles, id="home-roles"),
                        html.Dt(t("home_site")),
                        html.Dd(current_user.site_name),
                        html.Dt(t("home_timezone")),
                        html.Dd(settings.timezone),
                    ],
                    className="mb-3",
                ),
                *(
                    [html.H3(t("home_shortcuts"), className="h6"), dbc.ListGroup(shortcuts, tag="div")]
                    if shortcuts
                    else []
                ),
            ]
        ),
        className="h-100",
    )


def _health() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("home_health")),
            dbc.ListGroup(health_items(check_all(current_runtime())), flush=True, id=Ids.HEALTH),
            dcc.Interval(id=Ids.HEALTH_INTERVAL, interval=HEALTH_REFRESH_MS),
        ],
        className="h-100",
    )


def _ward_picker(wards: list) -> dbc.RadioItems:
    """One button per ward (the first shown); hidden when she works in one ward or none."""
    return dbc.RadioItems(
        id=Ids.WARD,
        value=wards[0].code if wards else None,
        options=[{"label": w.name, "value": w.code} for w in wards],
        className="btn-group mb-3" if len(wards) > 1 else "d-none",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-primary",
        labelCheckedClassName="active",
    )


def _no_ward() -> html.Div:
    """Not assigned to a ward yet: say so, and offer every ward's station."""
    with current_runtime().db.session() as session:
        wards = list_wards(session, current_user.site_id)
    return html.Div(
        [
            dbc.Alert(t("nurse_no_ward"), color="info", id="nurse-no-ward"),
            dbc.ListGroup(
                [dbc.ListGroupItem(w.name, href=f"/bangsal/{w.code}", action=True) for w in wards], tag="div"
            ),
        ]
    )


def _nurse_home() -> html.Div:
    with current_runtime().db.session() as session:
        wards = nurse_wards(session, current_user.id)
    roles = ", ".join(t(f"role_{r}") for r in sorted(current_user.roles))
    return html.Div(
        [
            html.H1(t("home_greeting", name=current_user.full_name), className="h4 mb-0", id="home-greeting"),
            html.Div(
                [html.Span(roles, id="home-roles"), f" · {t('nurse_home_title')}"],
                className="text-body-secondary small mb-3",
            ),
            None if wards else _no_ward(),
            _ward_picker(wards),
            html.Div(id=Ids.SUMMARY, className="mb-3"),
            dcc.Interval(id=Ids.INTERVAL, interval=NURSE_REFRESH_MS, disabled=not wards),
            dbc.Row(dbc.Col(_health(), lg=6)),  # is the monitoring itself running
        ]
    )


def layout(**_query: str) -> html.Div:
    if current_user.is_display:
        return _display_home()
    if "nurse" in current_user.roles:
        return _nurse_home()
    return dbc.Row([dbc.Col(_welcome(), lg=6, className="mb-3"), dbc.Col(_health(), lg=6, className="mb-3")])
