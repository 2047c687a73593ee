"""Admin: the weekly practice plan (add, change, stop a doctor's sessions) and the year's holidays (collective
leave days added or removed, national holidays kept open)."""

from __future__ import annotations

from collections.abc import Callable

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from components.typed_date import typed_date_input
from components.typed_time import typed_time_input
from data.runtime import current_runtime
from data.schedule_views import doctors, polis
from data.schedules import local_today
from domain.formats import weekday_name
from i18n.web import current_language, t

dash.register_page(
    __name__,
    path="/admin/jadwal",
    name_key="nav_admin_schedule",
    title="Atur Jadwal Dokter · Pantau",
    roles=["admin", "manager"],
    order=33,
    nav=True,
    nav_group="schedule",
)

# The form's fields, in the order the callbacks read them; each has an input and a message line under it.
FIELDS = (
    "doctor_id",
    "poli_id",
    "weekday",
    "start",
    "end",
    "quota_jkn",
    "quota_non_jkn",
    "capacity",
    "valid_from",
    "valid_until",
)
# The service names some errors by the thing, the form by its input.
ERROR_FIELD = {"doctor": "doctor_id", "poli": "poli_id"}


class Ids:
    """Component ids shared with callbacks/admin_schedule.py."""

    VERSION = "admin-schedule-version"
    EDITING = "admin-schedule-editing"  # {"id", "version"} of the session in the form, or None for a new one
    PLAN_VERSIONS = "admin-schedule-plan-versions"  # {plan id: row version} of the table's rows
    FORM_TITLE = "admin-schedule-form-title"
    OPEN_ON_HOLIDAYS = "admin-schedule-open-on-holidays"
    SAVE = "admin-schedule-save"
    NEW = "admin-schedule-new"
    FEEDBACK = "admin-schedule-feedback"
    FILTER_POLI = "admin-schedule-filter-poli"
    TABLE = "admin-schedule-table"
    EDIT = "admin-schedule-edit"  # pattern {"type": EDIT, "plan": id}
    RETIRE = "admin-schedule-retire"  # pattern {"type": RETIRE, "plan": id}
    HOLIDAY_VERSION = "admin-holiday-version"
    HOLIDAY_YEAR = "admin-holiday-year"
    HOLIDAY_DAY = "admin-holiday-day"
    HOLIDAY_NAME = "admin-holiday-name"
    HOLIDAY_ADD = "admin-holiday-add"
    HOLIDAY_FEEDBACK = "admin-holiday-feedback"
    HOLIDAY_TABLE = "admin-holiday-table"
    KEEP_OPEN = "admin-holiday-keep-open"  # pattern {"type": KEEP_OPEN, "day": iso}
    REMOVE = "admin-holiday-remove"  # pattern {"type": REMOVE, "day": iso}

    @staticmethod
    def field(name: str) -> str:
        return f"admin-schedule-{name.replace('_', '-')}"

    @staticmethod
    def field_error(name: str) -> str:
        return f"admin-schedule-{name.replace('_', '-')}-error"


def _input(name: str, **props: object) -> list:
    return [
        dbc.Label(t(f"schedule_field_{name}"), html_for=Ids.field(name)),
        dbc.Input(id=Ids.field(name), autoComplete="off", **props),
        html.Div(id=Ids.field_error(name), className="invalid-feedback d-block"),
    ]


def _typed(name: str, typed_input: Callable[[str], html.Div]) -> list:
    return [
        dbc.Label(t(f"schedule_field_{name}"), html_for=Ids.field(name)),
        typed_input(Ids.field(name)),
        html.Div(id=Ids.field_error(name), className="invalid-feedback d-block"),
    ]


def _select(name: str, options: list[dict]) -> list:
    return [
        dbc.Label(t(f"schedule_field_{name}"), html_for=Ids.field(name)),
        dbc.Select(id=Ids.field(name), options=options, placeholder=t("schedule_choose")),
        html.Div(id=Ids.field_error(name), className="invalid-feedback d-block"),
    ]


def _form(doctor_options: list[dict], poli_options: list[dict]) -> dbc.Card:
    lang = current_language()
    days = [{"label": weekday_name(n, lang), "value": str(n)} for n in range(7)]
    return dbc.Card(
        [
            dbc.CardHeader(t("schedule_form_new"), id=Ids.FORM_TITLE),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(_select("doctor_id", doctor_options), md=6),
                            dbc.Col(_select("poli_id", poli_options), md=6),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(_select("weekday", days), md=4),
                            dbc.Col(_typed("start", typed_time_input), md=4),
                            dbc.Col(_typed("end", typed_time_input), md=4),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(_input("quota_jkn", inputMode="numeric", maxLength=4), md=4),
                            dbc.Col(_input("quota_non_jkn", inputMode="numeric", maxLength=4), md=4),
                            dbc.Col(
                                _input(
                                    "capacity",
                                    inputMode="numeric",
                                    maxLength=4,
                                    placeholder=t("schedule_capacity_hint"),
                                ),
                                md=4,
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(_typed("valid_from", typed_date_input), md=6),
                            dbc.Col(_typed("valid_until", typed_date_input), md=6),
                        ],
                        className="g-2 mb-2",
                    ),
                    dbc.Checkbox(
                        id=Ids.OPEN_ON_HOLIDAYS,
                        label=t("schedule_field_open_on_holidays"),
                        value=False,
                        className="mb-3",
                    ),
                    dbc.Button(t("schedule_save"), id=Ids.SAVE, color="primary", className="me-2"),
                    dbc.Button(t("schedule_new"), id=Ids.NEW, color="secondary", outline=True),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _holiday_card(year: int) -> dbc.Card:
    years = [{"label": str(y), "value": str(y)} for y in range(year - 1, year + 3)]
    return dbc.Card(
        [
            dbc.CardHeader(t("holiday_title")),
            dbc.CardBody(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(t("holiday_year"), html_for=Ids.HOLIDAY_YEAR),
                                    dbc.Select(id=Ids.HOLIDAY_YEAR, options=years, value=str(year)),
                                ],
                                md=3,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(t("holiday_day"), html_for=Ids.HOLIDAY_DAY),
                                    typed_date_input(Ids.HOLIDAY_DAY),
                                ],
                                md=3,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(t("holiday_name"), html_for=Ids.HOLIDAY_NAME),
                                    dbc.Input(id=Ids.HOLIDAY_NAME, maxLength=100, placeholder=t("holiday_name_hint")),
                                ],
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Button(t("holiday_add"), id=Ids.HOLIDAY_ADD, color="primary"),
                                md=2,
                                className="d-flex align-items-end",
                            ),
                        ],
                        className="g-2 mb-2",
                    ),
                    html.Div(id=Ids.HOLIDAY_FEEDBACK, className="mb-2"),
                    html.Div(id=Ids.HOLIDAY_TABLE),
                ]
            ),
        ]
    )


def layout(**_query: str) -> html.Div:
    site_id = current_user.site_id
    with current_runtime().db.session() as session:
        doctor_options = [{"label": d.name, "value": str(d.id)} for d in doctors(session, site_id)]
        poli_options = [{"label": p.name, "value": str(p.id)} for p in polis(session, site_id)]
        year = local_today(session, site_id).year
    return html.Div(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.EDITING, data=None),
            dcc.Store(id=Ids.PLAN_VERSIONS, data={}),
            dcc.Store(id=Ids.HOLIDAY_VERSION, data=0),
            html.H1(t("admin_schedule_title"), className="h3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(_form(doctor_options, poli_options), lg=5),
                    dbc.Col(
                        dbc.Card(
                            [
                                dbc.CardHeader(t("schedule_plan_title")),
                                dbc.CardBody(
                                    [
                                        dbc.Label(t("schedule_poli"), html_for=Ids.FILTER_POLI),
                                        dbc.Select(
                                            id=Ids.FILTER_POLI,
                                            options=poli_options,
                                            placeholder=t("schedule_all_polis"),
                                            className="mb-2",
                                        ),
                                        html.Div(id=Ids.TABLE),
                                    ]
                                ),
                            ],
                            className="mb-3",
                        ),
                        lg=7,
                    ),
                ]
            ),
            _holiday_card(year),
        ]
    )
