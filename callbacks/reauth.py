"""The shell's step-up dialog (``components.shell.reauth_dialog``, opened by ``auth.reauth.confirm_needed``):
checks the password or code, marks this session as checked, and closes; the user then repeats the action."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from auth.guards import SHELL_OWNER
from auth.reauth import (
    ANSWER_ID,
    CANCEL_ID,
    DONE_ID,
    FEEDBACK_ID,
    MODAL_ID,
    SUBMIT_ID,
    confirm_identity,
    mark_checked,
)
from auth.session import current_actor
from callbacks.registry import page_callback
from data.runtime import current_runtime
from i18n.web import t


def _alert(text: str, colour: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0 py-2", id="reauth-error")


@page_callback(
    SHELL_OWNER,
    Output(MODAL_ID, "is_open"),
    Output(FEEDBACK_ID, "children"),
    Output(ANSWER_ID, "value"),
    Output(DONE_ID, "is_open"),
    Input(SUBMIT_ID, "n_clicks"),
    Input(ANSWER_ID, "n_submit"),
    Input(CANCEL_ID, "n_clicks"),
    State(ANSWER_ID, "value"),
    prevent_initial_call=True,
)
def answer(_clicks: int | None, _submits: int | None, _cancel: int | None, typed: str | None) -> tuple:
    """Cancel closes the dialog; a right answer closes it and says to repeat the action; a wrong one says so and
    keeps the dialog open (a throttled one says how long to wait)."""
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    if ctx.triggered_id == CANCEL_ID:
        return False, "", "", False
    if not (typed or "").strip():
        return no_update, _alert(t("thr_confirm_required"), "warning"), no_update, no_update
    runtime = current_runtime()
    with runtime.db.session() as db:
        result = confirm_identity(db, current_actor(), typed[:256], settings=runtime.settings)
    if result.outcome == "throttled":
        return no_update, _alert(t("thr_wait", seconds=result.wait_seconds), "danger"), no_update, no_update
    if not result.ok:
        return no_update, _alert(t("thr_confirm_wrong"), "danger"), no_update, no_update
    mark_checked()
    return False, "", "", True
