"""BPJS claims for the finance office (and admins): the list with its computed deadlines, the claim form, "Buat
klaim" for JKN episodes without a claim, and the monthly claim-status file. Managers see everything read-only.
Filled by callbacks/claims.py."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.claims import Ids as ClaimIds
from components.claims import claim_form, claims_grid, filters, import_card, new_claim_card, stores
from domain.roles import may_open
from i18n.web import t

ROLES = ["finance", "manager", "admin"]
WRITE_ROLES = ("finance", "admin")
dash.register_page(
    __name__,
    path="/keuangan/klaim",
    name_key="claim_nav",
    title="Klaim BPJS · Pantau",
    roles=ROLES,
    order=56,
    nav=True,
    nav_group="reports",
)
Ids = ClaimIds


def may_write() -> bool:
    """Whether the signed-in user may change claims (a manager only reads)."""
    return may_open(current_user.roles, WRITE_ROLES)


def layout(**_query: str) -> html.Div:
    can_write = may_write()
    return html.Div(
        [
            html.H1(t("claim_title"), className="h4"),
            filters(None, None),
            html.Div(id=Ids.COUNT, className="small text-body-secondary mb-1"),
            claims_grid(),
            dbc.Row(
                [
                    dbc.Col(claim_form(can_write), lg=8 if can_write else 12),
                    dbc.Col([new_claim_card(can_write), import_card(can_write)], lg=4),
                ],
                className="mt-3",
            ),
            *stores(),
        ]
    )
