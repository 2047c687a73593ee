"""Home page: refresh the service-health list."""

from __future__ import annotations

from dash import Input, Output

from callbacks.registry import page_callback
from components.health import health_items
from data.health import check_all
from data.runtime import current_runtime
from pages.home import Ids


@page_callback(
    "pages.home",
    Output(Ids.HEALTH, "children"),
    Input(Ids.HEALTH_INTERVAL, "n_intervals"),
    prevent_initial_call=True,
)
def refresh_health(_n: int) -> list:
    return health_items(check_all(current_runtime()))
