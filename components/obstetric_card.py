"""The bed page's card for a woman's pregnancy or the six weeks after she gave birth, when NEWS2 does not score
her (``data.obstetric``): a switch and its save for nurses, midwives and doctors; read-only for others."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from i18n.web import t

# Ids read and written by callbacks/bed.py.
CHECK_ID = "obstetric-check"
SUBMIT_ID = "obstetric-submit"
FEEDBACK_ID = "obstetric-feedback"
YES = "yes"


def obstetric_card(obstetric: bool, *, may_record: bool) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(t("obstetric_title")),
            dbc.CardBody(
                [
                    html.Fieldset(
                        [
                            dbc.Checklist(
                                id=CHECK_ID,
                                options=[{"label": t("obstetric_label"), "value": YES}],
                                value=[YES] if obstetric else [],
                                switch=True,
                            ),
                            dbc.FormText(t("obstetric_hint")),
                            html.Div(
                                dbc.Button(t("obstetric_save"), id=SUBMIT_ID, color="secondary", size="sm"),
                                className="mt-2",
                            ),
                        ],
                        disabled=not may_record,
                        id="obstetric-form",
                    ),
                    None if may_record else html.P(t("obstetric_who"), className="small text-body-secondary mt-2 mb-0"),
                    html.Div(id=FEEDBACK_ID, className="mt-2"),
                ]
            ),
        ],
        className="mt-3",
        id="obstetric-card",
    )
