"""Demo only: switch a bed's simulated scenario or inject an artefact while the demo runs."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.dropdown import dropdown
from data.runtime import current_runtime
from data.simulator_commands import ARTEFACTS, SCENARIOS
from data.wards import list_wards, ward_beds
from i18n.web import t

dash.register_page(
    __name__,
    path="/admin/simulator",
    name_key="nav_simulator",
    title="Simulator · Pantau",
    roles=["admin"],
    order=95,
    nav=True,
    nav_group="admin",
)


class Ids:
    """Component ids shared with callbacks/admin_simulator.py."""

    BED = "sim-bed"
    SCENARIO = "sim-scenario"
    ARTEFACT = "sim-artefact"
    APPLY = "sim-apply"
    INJECT = "sim-inject"
    FEEDBACK = "sim-feedback"


def layout(**_query: str) -> dbc.Card:
    if not current_runtime().settings.demo:
        return dbc.Alert(t("sim_not_demo"), color="secondary", id="sim-not-demo")
    with current_runtime().db.session() as session:
        beds = [b.code for w in list_wards(session, current_user.site_id) for b in ward_beds(session, w.id)]
    return dbc.Card(
        [
            dbc.CardHeader(t("sim_title")),
            dbc.CardBody(
                [
                    dbc.Alert(t("sim_demo_note"), color="info"),
                    dbc.Label(t("sim_bed"), html_for=Ids.BED),
                    dropdown(
                        id=Ids.BED, options=beds, value=beds[0] if beds else None, clearable=False, className="mb-3"
                    ),
                    dbc.Label(t("sim_scenario")),
                    dbc.RadioItems(
                        id=Ids.SCENARIO,
                        options=[{"label": t(f"scenario_{s}"), "value": s} for s in SCENARIOS],
                        value="stable",
                        inline=True,
                        className="mb-2",
                    ),
                    dbc.Button(t("sim_apply_scenario"), id=Ids.APPLY, color="primary", className="mb-3"),
                    html.Hr(),
                    dbc.Label(t("sim_artefact")),
                    dbc.RadioItems(
                        id=Ids.ARTEFACT,
                        options=[{"label": t(f"artefact_{a}"), "value": a} for a in ARTEFACTS],
                        value="spo2_off",
                        inline=True,
                        className="mb-2",
                    ),
                    dbc.Button(t("sim_inject"), id=Ids.INJECT, color="warning", outline=True),
                    html.Div(id=Ids.FEEDBACK, className="mt-3"),
                ]
            ),
        ],
        style={"maxWidth": "48rem"},
    )
