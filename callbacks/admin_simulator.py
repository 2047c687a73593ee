"""Demo simulator control: publish the chosen scenario or artefact to the simulator's control topic."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx
from flask_login import current_user

from bridge.sim_control import ARTEFACTS, SCENARIOS, send
from callbacks.registry import page_callback
from data.runtime import current_runtime
from data.wards import bed_by_code
from i18n.web import t

ARTEFACT_SECONDS = 30


@page_callback(
    "pages.admin_simulator",
    Output("sim-feedback", "children"),
    Input("sim-apply", "n_clicks"),
    Input("sim-inject", "n_clicks"),
    State("sim-bed", "value"),
    State("sim-scenario", "value"),
    State("sim-artefact", "value"),
    prevent_initial_call=True,
)
def control_simulator(_apply: int, _inject: int, bed: str, scenario: str, artefact: str) -> dbc.Alert:
    runtime = current_runtime()
    if not runtime.settings.demo:  # the page says so too; the callback is reachable without the page
        return dbc.Alert(t("sim_not_demo"), color="secondary", className="mb-0")
    with runtime.db.session() as session:
        known = bed_by_code(session, current_user.site_id, bed or "") is not None
    if not known:  # a command for a bed nobody has would vanish in the simulator without a word
        return dbc.Alert(t("bed_unknown"), color="danger", className="mb-0")
    if ctx.triggered_id == "sim-inject" and artefact in ARTEFACTS:
        command, done = {"bed": bed, "artefact": artefact, "seconds": ARTEFACT_SECONDS}, t("sim_injected", bed=bed)
    elif scenario in SCENARIOS:
        command, done = {"bed": bed, "scenario": scenario}, t("sim_applied", bed=bed)
    else:
        return dbc.Alert(t("err_forbidden"), color="danger")
    if not send(runtime.broker, runtime.settings.site_code, command):
        return dbc.Alert(t("sim_send_failed"), color="danger", className="mb-0")
    return dbc.Alert(done, color="success", className="mb-0")
