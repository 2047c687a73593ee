"""Service-health list (database, live store, MQTT broker) for the home page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from data.health import Check
from i18n.web import t

_ICON_OK = "bi-check-circle-fill text-success"
_ICON_DOWN = "bi-x-octagon-fill text-danger"


def health_items(checks: list[Check]) -> list[dbc.ListGroupItem]:
    return [
        dbc.ListGroupItem(
            [
                html.Span(
                    [
                        html.I(className=f"bi {_ICON_OK if c.ok else _ICON_DOWN} me-2"),
                        t(f"health_{c.name}"),
                        html.Small(f" · {t('backend_' + c.backend)}", className="text-body-secondary"),
                    ]
                ),
                dbc.Badge(
                    t("health_ok", ms=c.ms) if c.ok else t("health_down"),
                    color="success" if c.ok else "danger",
                    className="ms-auto",
                    id={"type": "health-badge", "name": c.name},
                ),
            ],
            className="d-flex align-items-center",
        )
        for c in checks
    ]
