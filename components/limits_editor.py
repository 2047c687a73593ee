"""The bed's alarm-limit editor: the unit profile beside this bed's overrides."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from domain.alarms import PARAMETERS, Bounds, Limits
from i18n.web import t


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def limits_editor(profile: str, base: Limits, bed_overrides: dict[str, Bounds]) -> dbc.Card:
    rows = []
    for p in PARAMETERS:
        low, high = bed_overrides.get(p, (None, None))
        rows.append(
            html.Tr(
                [
                    html.Td(t(f"param_{p}")),
                    html.Td(f"{_fmt(base[p][0])} – {_fmt(base[p][1])}", className="text-body-secondary"),
                    html.Td(
                        dbc.Input(
                            id={"type": "limit", "param": p, "side": "low"},
                            value=low,
                            type="number",
                            size="sm",
                            step="any",
                        )
                    ),
                    html.Td(
                        dbc.Input(
                            id={"type": "limit", "param": p, "side": "high"},
                            value=high,
                            type="number",
                            size="sm",
                            step="any",
                        )
                    ),
                ]
            )
        )
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("limits_param", "limits_profile", "limits_low", "limits_high")]))
    return dbc.Card(
        [
            dbc.CardHeader(t("limits_title", profile=t(f"profile_{profile}"))),
            dbc.Table([head, html.Tbody(rows)], size="sm", className="mb-0"),
            dbc.CardBody(
                [
                    html.Small(t("limits_hint"), className="text-body-secondary d-block mb-2"),
                    dbc.Button(t("limits_save"), id="limits-save", color="primary", size="sm"),
                    html.Div(id="limits-feedback", className="mt-2"),
                ]
            ),
        ]
    )
