"""Demo simulator control: publish the chosen scenario or artefact to the simulator's control topic."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx
from flask_login import current_user

from callbacks.registry import page_callback
from data.runtime import current_runtime
from data.simulator_commands import ARTEFACTS, SCENARIOS, send
from data.wards import bed_by_code
from i18n.web import t
from pages.admin_simulator import Ids

ARTEFACT_SECONDS = 30


@page_callback(
    "pages.admin_simulator",
    Output(Ids.FEEDBACK, "children"),
    Input(Ids.APPLY, "n_clicks"),
    Input(Ids.INJECT, "n_clicks"),
    State(Ids.BED, "value"),
    State(Ids.SCENARIO, "value"),
    State(Ids.ARTEFACT, "value"),
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
    if ctx.triggered_id == Ids.INJECT and artefact in ARTEFACTS:
        command, done = {"bed": bed, "artefact": artefact, "seconds": ARTEFACT_SECONDS}, t("sim_injected", bed=bed)
    elif scenario in SCENARIOS:
        command, done = {"bed": bed, "scenario": scenario}, t("sim_applied", bed=bed)
    else:
        return dbc.Alert(t("err_forbidden"), color="danger")
    if not send(runtime.broker, runtime.settings.site_code, command):
        return dbc.Alert(t("sim_send_failed"), color="danger", className="mb-0")
    return dbc.Alert(done, color="success", className="mb-0")
