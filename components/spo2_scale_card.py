"""The bed page's card of NEWS2's SpO2 scale: the scale the patient is scored on, who chose it and why, and for a
doctor the form that changes it (``data.spo2_scale``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.local_time import local_when
from data.spo2_scale import ScaleOrder
from domain.spo2_scale import REASON_MAX, SCALES
from i18n.web import t

# Ids read and written by callbacks/bed.py.
CHOICE_ID = "spo2-scale"
REASON_ID = "spo2-scale-reason"
REASON_ERROR_ID = "spo2-scale-reason-error"
SUBMIT_ID = "spo2-scale-submit"
FEEDBACK_ID = "spo2-scale-feedback"
SHOWN_ID = "spo2-scale-shown"


def scale_shown(scale: int, order: ScaleOrder | None) -> list[html.Div]:
    """The scale the patient is scored on now, and the doctor's choice that set it (none: Scale 1 from admission)."""
    shown = [html.Div(t(f"spo2_scale_{scale}_now"), className="fw-semibold", **{"data-scale": str(scale)})]
    if order is not None:
        made = t("spo2_scale_chosen_by", by=order.by or "?", when=local_when(order.at))
        why = f" — {order.reason}" if order.reason else ""
        shown.append(html.Div(made + why, className="small text-body-secondary", id="spo2-scale-order"))
    return shown


def spo2_scale_card(scale: int | None, order: ScaleOrder | None, *, may_choose: bool) -> dbc.Card:
    """The card of the patient in the bed, on ``scale`` (None: the bed is empty, nothing to choose). The form is
    disabled, with the reason, for a role that does not choose the scale."""
    empty = scale is None
    note = "spo2_scale_empty_bed" if empty else None if may_choose else "spo2_scale_doctors_choose"
    return dbc.Card(
        [
            dbc.CardHeader(t("spo2_scale_title")),
            dbc.CardBody(
                [
                    html.Div(None if empty else scale_shown(scale, order), id=SHOWN_ID),
                    html.Fieldset(
                        [
                            dbc.Label(t("spo2_scale_choice"), className="small mb-0 mt-2"),
                            dbc.RadioItems(
                                id=CHOICE_ID,
                                options=[{"label": t(f"spo2_scale_{s}"), "value": s} for s in SCALES],
                                value=scale,
                                inline=True,
                            ),
                            dbc.Label(t("spo2_scale_reason"), html_for=REASON_ID, className="small mb-0 mt-2"),
                            dbc.Input(id=REASON_ID, maxLength=REASON_MAX, size="sm"),
                            dbc.FormFeedback(id=REASON_ERROR_ID, type="invalid"),
                            dbc.FormText(t("spo2_scale_reason_hint")),
                            html.Div(
                                dbc.Button(t("spo2_scale_save"), id=SUBMIT_ID, color="secondary", size="sm"),
                                className="mt-2",
                            ),
                        ],
                        disabled=note is not None,
                        id="spo2-scale-form",
                    ),
                    html.P(t(note), className="small text-body-secondary mt-2 mb-0") if note else None,
                    html.Div(id=FEEDBACK_ID, className="mt-2"),
                ]
            ),
        ],
        className="mt-3",
        id="spo2-scale-card",
    )
