"""Home page: refresh the service-health list; the nurse's ward summary on her ward choice and every few seconds."""

from __future__ import annotations

from dash import Input, Output, html
from flask_login import current_user

from callbacks.registry import page_callback
from components.health import health_items
from components.nurse_home import ward_summary
from data.health import check_all
from data.nurse_home import nurse_wards, ward_home
from data.runtime import current_runtime
from domain.clock import utcnow
from i18n.web import t
from pages.home import Ids

PAGE = "pages.home"


@page_callback(
    PAGE,
    Output(Ids.HEALTH, "children"),
    Input(Ids.HEALTH_INTERVAL, "n_intervals"),
    prevent_initial_call=True,
)
def refresh_health(_n: int) -> list:
    return health_items(check_all(current_runtime()))


@page_callback(
    PAGE,
    Output(Ids.SUMMARY, "children"),
    Input(Ids.WARD, "value"),
    Input(Ids.INTERVAL, "n_intervals"),
)
def refresh_ward(ward_code: str | None, _n: int) -> html.Div | html.P | None:
    """The chosen ward's summary; only a ward she is assigned to (the choice comes from the browser). No ward:
    nothing (the page says so)."""
    if not ward_code:
        return None
    runtime = current_runtime()
    with runtime.db.session() as session:
        ward = next((w for w in nurse_wards(session, current_user.id) if w.code == ward_code), None)
        if ward is None:
            return html.P(t("nurse_no_ward"), className="text-body-secondary")
        home = ward_home(session, runtime.live, ward, utcnow())
    return ward_summary(home)
