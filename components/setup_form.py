"""The list-and-form card of a hospital setup page (wards, beds, polis, doctors): a table of rows, a picker that
opens a row in the form (or a blank one for a new row), each field with its message beside it, save and retire
buttons, and the row version the form showed (a stale save is a conflict, not an overwrite)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from components.dropdown import dropdown
from domain.errors import FieldErrors, InputError
from i18n.web import t


@dataclass(frozen=True)
class SetupFormIds:
    """Component ids of one setup form, all starting with ``prefix`` (e.g. ``"setup-ward"``)."""

    prefix: str

    @property
    def table(self) -> str:
        return f"{self.prefix}-table"

    @property
    def pick(self) -> str:
        return f"{self.prefix}-pick"

    @property
    def version(self) -> str:
        return f"{self.prefix}-version"

    @property
    def save(self) -> str:
        return f"{self.prefix}-save"

    @property
    def retire(self) -> str:
        return f"{self.prefix}-retire"

    @property
    def retire_confirm(self) -> str:
        return f"{self.prefix}-retire-confirm"

    @property
    def feedback(self) -> str:
        return f"{self.prefix}-feedback"

    def field(self, name: str) -> str:
        return f"{self.prefix}-{name.replace('_', '-')}"

    def error(self, name: str) -> str:
        return f"{self.field(name)}-error"


def setup_field(ids: SetupFormIds, name: str, label: str, control: Component, hint: str | None = None) -> html.Div:
    """A labelled field whose message (``ids.error(name)``) shows beside it when the control is marked invalid."""
    parts = [dbc.Label(label, html_for=ids.field(name)), control, dbc.FormFeedback(id=ids.error(name), type="invalid")]
    if hint:
        parts.append(dbc.FormText(hint, className="d-block"))
    return html.Div(parts, className="mb-2")


def text_input(ids: SetupFormIds, name: str, max_length: int, **props: object) -> dbc.Input:
    return dbc.Input(id=ids.field(name), maxLength=max_length, autoComplete="off", **props)


def choice_input(ids: SetupFormIds, name: str, options: Sequence[tuple[str, str]]) -> dbc.Select:
    """A select of ``(value, label)`` pairs."""
    return dbc.Select(id=ids.field(name), options=[{"value": v, "label": label} for v, label in options])


def setup_card(
    ids: SetupFormIds,
    title: str,
    pick_label: str,
    fields: Sequence[html.Div],
    extra: Sequence[Component] = (),
) -> dbc.Card:
    """The form card: the row picker (blank = a new row), the fields, save / retire, and the outcome."""
    return dbc.Card(
        [
            dbc.CardHeader(title),
            dbc.CardBody(
                [
                    dbc.Label(pick_label, html_for=ids.pick),
                    dropdown(id=ids.pick, placeholder=t("setup_pick_new"), className="mb-3"),
                    dcc.Store(id=ids.version),
                    *fields,
                    html.Div(
                        [
                            dbc.Button(t("setup_save"), id=ids.save, color="primary", className="me-2"),
                            dbc.Button(t("setup_retire"), id=ids.retire, color="danger", outline=True, disabled=True),
                            *extra,
                        ],
                        className="mt-3",
                    ),
                    dcc.ConfirmDialog(id=ids.retire_confirm),
                    html.Div(id=ids.feedback, className="mt-3"),
                ]
            ),
        ],
        className="mb-3",
    )


def list_card(ids: SetupFormIds, title: str) -> dbc.Card:
    """The card the rows' table is rendered into."""
    return dbc.Card([dbc.CardHeader(title), html.Div(id=ids.table)], className="mb-3")


def rows_table(
    table_id: str, headers: Sequence[str], rows: Sequence[Sequence[object]], retired: Sequence[bool]
) -> Component:
    """A small table; retired rows greyed. An empty list says so."""
    if not rows:
        return html.P(t("setup_empty"), className="text-body-secondary m-3")
    head = html.Thead(html.Tr([html.Th(h) for h in headers]))
    body = [
        html.Tr([html.Td(cell) for cell in row], className="text-body-secondary" if gone else None)
        for row, gone in zip(rows, retired, strict=True)
    ]
    return dbc.Table([head, html.Tbody(body)], hover=True, responsive=True, size="sm", className="mb-0", id=table_id)


def field_messages(fields: Sequence[str], exc: InputError | None) -> tuple[list[bool], list[str]]:
    """For each form field: whether it is wrong, and its message (from ``FieldErrors``; none for other errors)."""
    errors = exc.errors if isinstance(exc, FieldErrors) else {}
    return [f in errors for f in fields], [t(errors[f].key, **errors[f].params) if f in errors else "" for f in fields]
