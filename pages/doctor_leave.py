"""Doctor leave (cuti): record a leave with its substitute, handle the bookings it touches (move or cancel), list
the patients to contact, and withdraw a leave."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.dropdown import dropdown
from components.typed_date import typed_date_input
from i18n.web import t

dash.register_page(
    __name__,
    path="/jadwal/cuti",
    name_key="nav_doctor_leave",
    title="Cuti Dokter · Pantau",
    roles=["admin", "manager"],
    order=32,
    nav=True,
    nav_group="schedule",
)

FIELDS = ("doctor", "first_day", "last_day", "reason", "substitute")


class Ids:
    """Component ids shared with callbacks/doctor_leave.py."""

    VERSION = "leave-version"
    CREATED = "leave-created"  # the id of the leave just recorded: the page shows its bookings
    SUBMIT = "leave-submit"
    FEEDBACK = "leave-feedback"
    LEAVES = "leave-list"
    PICK = "leave-pick"
    BOOKINGS = "leave-bookings"
    ACTION_FEEDBACK = "leave-action-feedback"
    MOVE_ALL = "leave-move-all"
    WITHDRAW = "leave-withdraw"
    WITHDRAW_CONFIRM = "leave-withdraw-confirm"
    CONTACTS_SHOW = "leave-contacts-show"
    CONTACTS = "leave-contacts"
    MOVE_TARGET = "leave-move-target"  # pattern-matching types: {"type": …, "visit": id}
    MOVE = "leave-move"
    CANCEL = "leave-cancel-booking"

    @staticmethod
    def field(name: str) -> str:
        """An input of the leave form (``FIELDS``)."""
        return f"leave-{name}"

    @staticmethod
    def field_error(name: str) -> str:
        return f"leave-{name}-error"


def _form() -> dbc.Card:
    def labelled(name: str, control: object) -> html.Div:
        return html.Div(
            [
                dbc.Label(t(f"leave_{name}"), html_for=Ids.field(name)),
                control,
                html.Div(id=Ids.field_error(name), className="invalid-feedback d-block"),
            ],
            className="mb-2",
        )

    return dbc.Card(
        [
            dbc.CardHeader(t("leave_form_title")),
            dbc.CardBody(
                [
                    labelled("doctor", dropdown(id=Ids.field("doctor"))),
                    dbc.Row(
                        [
                            dbc.Col(labelled("first_day", typed_date_input(Ids.field("first_day")))),
                            dbc.Col(labelled("last_day", typed_date_input(Ids.field("last_day")))),
                        ]
                    ),
                    labelled("reason", dbc.Input(id=Ids.field("reason"), maxLength=200)),
                    labelled("substitute", dropdown(id=Ids.field("substitute"))),
                    dbc.Button(t("leave_submit"), id=Ids.SUBMIT, color="primary"),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def _bookings_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("leave_bookings_title")),
            dbc.CardBody(
                [
                    dbc.Label(t("leave_pick"), html_for=Ids.PICK),
                    dropdown(id=Ids.PICK, className="mb-2"),
                    dbc.ButtonGroup(
                        [
                            dbc.Button(t("leave_move_all"), id=Ids.MOVE_ALL, color="primary", outline=True),
                            dbc.Button(t("leave_contacts_show"), id=Ids.CONTACTS_SHOW, color="secondary", outline=True),
                            dbc.Button(t("leave_withdraw"), id=Ids.WITHDRAW, color="danger", outline=True),
                        ],
                        className="mb-3",
                    ),
                    dcc.ConfirmDialog(id=Ids.WITHDRAW_CONFIRM, message=t("leave_withdraw_confirm")),
                    html.Div(id=Ids.ACTION_FEEDBACK, className="mb-2"),
                    html.Div(id=Ids.BOOKINGS),
                    html.Div(id=Ids.CONTACTS, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=Ids.VERSION, data=0),
            dcc.Store(id=Ids.CREATED),
            html.H4(t("leave_title"), className="mb-3"),
            dbc.Row(
                [
                    dbc.Col(_form(), lg=4),
                    dbc.Col(
                        dbc.Card([dbc.CardHeader(t("leave_list_title")), html.Div(id=Ids.LEAVES)], className="mb-3"),
                        lg=8,
                    ),
                ]
            ),
            _bookings_card(),
        ]
    )
