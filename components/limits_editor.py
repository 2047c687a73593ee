"""The bed's alarm-limit editor: the unit profile beside this bed's overrides, a per-field message, the
"custom limits" note with its reset button, and the dialog that asks why a limit is widened."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.dialog import dialog
from components.hidden_label import hidden_label
from domain.alarm_limit_ranges import REASON_MAX, SIDES, Side
from domain.alarms import PARAMETERS, Bounds, Limits
from domain.decimal_input import format_decimal
from i18n.web import t

CUSTOM_NOTE_CLASS = "alert alert-warning d-flex align-items-center gap-2 py-2 mb-2"
HIDDEN = "d-none"
# Ids of the editor's parts that callbacks/bed.py reads and writes; LIMIT_ID and LIMIT_ERROR_ID are the types of
# each field's pattern-matching ids (``limit_id``, ``limit_error_id``).
SAVE_ID = "limits-save"
FEEDBACK_ID = "limits-feedback"
CONFIRM_ID = "limits-confirm"
CONFIRM_SAVE_ID = "limits-confirm-save"
CANCEL_ID = "limits-cancel"
REASON_ID = "limits-reason"
REASON_ERROR_ID = "limits-reason-error"
WIDENED_ID = "limits-widened"
RESET_ID = "limits-reset"
CUSTOM_NOTE_ID = "limits-custom-note"
LIMIT_ID = "limit"
LIMIT_ERROR_ID = "limit-error"


def limit_id(param: str, side: Side) -> dict[str, str]:
    return {"type": LIMIT_ID, "param": param, "side": side}


def limit_error_id(param: str, side: Side) -> dict[str, str]:
    return {"type": LIMIT_ERROR_ID, "param": param, "side": side}


def custom_note_class(custom: bool) -> str:
    return CUSTOM_NOTE_CLASS if custom else HIDDEN


def _fmt(value: float | None) -> str:
    return "—" if value is None else format_decimal(value)


def limit_text(value: float | None) -> str:
    """A limit as its field shows it: empty for "the profile's", else the stored number (``domain.decimal_input``)."""
    return "" if value is None else format_decimal(value)


def _field(param: str, side: Side, value: float | None) -> html.Td:
    # Text, not type="number": a number field hands Dash nothing for "36,8" (the Indonesian decimal comma), and
    # nothing there means "use the profile's limit" — the nurse's limit would be dropped without a word.
    return html.Td(
        [
            hidden_label(f"{t(f'param_{param}')}: {t(f'limits_{side}')}", limit_id(param, side)),
            dbc.Input(id=limit_id(param, side), value=limit_text(value), inputMode="decimal", maxLength=8, size="sm"),
            dbc.FormFeedback(id=limit_error_id(param, side), type="invalid"),
        ]
    )


def _confirm_dialog() -> dbc.Modal:
    return dialog(
        [
            dbc.ModalHeader(dbc.ModalTitle(t("limits_confirm_title"))),
            dbc.ModalBody(
                [
                    html.P(t("limits_confirm_text"), className="mb-1"),
                    html.Ul(id=WIDENED_ID),
                    dbc.Label(t("limits_reason"), html_for=REASON_ID, className="small mb-0"),
                    dbc.Textarea(id=REASON_ID, maxLength=REASON_MAX, rows=2),
                    dbc.FormFeedback(id=REASON_ERROR_ID, type="invalid"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(t("limits_cancel"), id=CANCEL_ID, color="secondary"),
                    dbc.Button(t("limits_confirm"), id=CONFIRM_SAVE_ID, color="warning"),
                ]
            ),
        ],
        id=CONFIRM_ID,
        is_open=False,
    )


def limits_editor(profile: str, base: Limits, bed_overrides: dict[str, Bounds], *, occupied: bool) -> dbc.Card:
    """``occupied``: a patient lies in the bed. A bed's own limits are its patient's (``data.alarm_limits``), so an
    empty bed's editor shows the profile, disabled, with the reason."""
    rows = [
        html.Tr(
            [
                html.Td(t(f"param_{p}")),
                html.Td(f"{_fmt(base[p][0])} – {_fmt(base[p][1])}", className="text-body-secondary"),
                *[_field(p, side, v) for side, v in zip(SIDES, bed_overrides.get(p, (None, None)), strict=True)],
            ]
        )
        for p in PARAMETERS
    ]
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("limits_param", "limits_profile", "limits_low", "limits_high")]))
    note = html.Div(
        [
            html.Strong(t("limits_custom_note")),
            dbc.Button(t("limits_reset"), id=RESET_ID, color="secondary", size="sm", className="ms-auto"),
        ],
        id=CUSTOM_NOTE_ID,
        className=custom_note_class(bool(bed_overrides)),
    )
    empty = None if occupied else dbc.Alert(t("limits_empty_bed"), color="secondary", className="py-2 mb-2")
    return dbc.Card(
        [
            dbc.CardHeader(t("limits_title", profile=t(f"profile_{profile}"))),
            html.Fieldset(
                [
                    dbc.CardBody([empty, note], className="pb-0"),
                    dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-0"),
                    dbc.CardBody(
                        [
                            html.Small(t("limits_hint"), className="text-body-secondary d-block mb-2"),
                            dbc.Button(t("limits_save"), id=SAVE_ID, color="primary", size="sm"),
                            html.Div(id=FEEDBACK_ID, className="mt-2"),
                        ]
                    ),
                ],
                disabled=not occupied,
                id="limits-form",
            ),
            _confirm_dialog(),
        ]
    )
