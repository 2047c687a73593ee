"""Ward central station: every bed of one ward on one screen, live, with NEWS2 and alarms."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from components.bed_tile import bed_tile
from components.ward_live import alarm_list, connection_state, live_grid
from data.cuff_readings import carried_cuff_readings
from data.models import Ward
from data.runtime import current_runtime
from data.staff_assignments import wards_of
from data.wards import find_ward, list_wards, ward_beds
from domain.clock import utcnow
from i18n.web import t

dash.register_page(
    __name__,
    path="/bangsal",
    path_template="/bangsal/<ward>",
    name_key="nav_ward",
    title="Bangsal · Pantau",
    roles=["nurse", "doctor", "admin", "display"],  # display: a read-only station on a wall (api/live.py)
    order=10,
    nav=True,
)


def _toolbar(wards: list, ward_code: str) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dbc.Nav(
                    [
                        dbc.NavLink(
                            w.name, href=f"/bangsal/{w.code}", active=w.code == ward_code, id=f"ward-tab-{w.code}"
                        )
                        for w in wards
                    ],
                    pills=True,
                ),
                width="auto",
            ),
            dbc.Col(connection_state(), className="ms-auto", width="auto"),
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-volume-up me-1"), html.Span(t("ward_sound_off"))],
                            id="ward-sound",
                            color="secondary",
                            outline=True,
                            size="sm",
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-fullscreen me-1"), t("ward_kiosk")],
                            id="ward-kiosk",
                            color="secondary",
                            outline=True,
                            size="sm",
                        ),
                    ]
                ),
                width="auto",
            ),
        ],
        className="align-items-center g-2 mb-2",
    )


def _own_first(wards: list[Ward], own: list[Ward]) -> list[Ward]:
    """The user's own wards (``/admin/pengguna``) first, so the list opens on hers; then the others."""
    own_ids = {w.id for w in own}
    return [w for w in wards if w.id in own_ids] + [w for w in wards if w.id not in own_ids]


def layout(ward: str | None = None, **_query: str) -> html.Div:
    with current_runtime().db.session() as session:
        wards = _own_first(list_wards(session, current_user.site_id), wards_of(session, current_user.id))
        chosen = find_ward(session, current_user.site_id, ward) if ward else (wards[0] if wards else None)
        if chosen is None:
            return dbc.Alert(t("ward_unknown"), color="warning", id="ward-unknown")
        beds = ward_beds(session, chosen.id)
        carried = carried_cuff_readings(session, [b.id for b in beds if b.patient_id is not None], utcnow())
    return html.Div(
        [
            _toolbar(wards, chosen.code),
            html.Div(
                [
                    live_grid(
                        [bed_tile(b, read_only=current_user.is_display, carried=carried.get(b.id)) for b in beds],
                        chosen.code,
                    ),
                    html.Aside(
                        [html.H2(t("ward_alarms"), className="h6"), alarm_list()],
                        className="ward-alarms",
                    ),
                ],
                className="ward-layout",
            ),
        ],
        className="ward-station",
    )
