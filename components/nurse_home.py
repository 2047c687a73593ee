"""The nurse home's ward summary: active alarms, NEWS2 of 5 or more, observations due, and every occupied bed;
each row links to the bed page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.local_time import local_when
from data.nurse_home import PatientRow, WardHome
from domain.news2 import NOT_APPLICABLE
from i18n.web import t

DUE_COLOURS = {"overdue": "danger", "due": "warning", "continuous": "info", "ok": "success", "prescribed": "secondary"}
RISK_COLOURS = {"high": "danger", "medium": "warning", "low-medium": "warning", "low": "success"}
DARK_TEXT = {"warning", "info"}  # white on these light colours is unreadable (WCAG contrast)


def _news2_badge(row: PatientRow) -> dbc.Badge | str:
    if row.risk == NOT_APPLICABLE:
        return _badge(
            t("news2_not_applicable"), "secondary", className="nurse-news2", title=t("news2_not_applicable_why")
        )
    if row.news2 is None:
        return "—"
    text = f"NEWS2 {row.news2}" + ("" if row.news2_complete else "*")
    colour = RISK_COLOURS.get(row.risk or "", "secondary")
    return _badge(
        text,
        colour,
        className="nurse-news2",
        title=None if row.news2_complete else t("ward_news2_incomplete"),
    )


def _badge(text: str, colour: str, **props: object) -> dbc.Badge:
    """A badge whose text stays readable on its colour."""
    return dbc.Badge(text, color=colour, text_color="dark" if colour in DARK_TEXT else None, **props)


def _due_text(row: PatientRow) -> str:
    state = row.due.state
    if state == "continuous":
        return t("nurse_obs_continuous")
    if row.last_observed is None:
        return t("nurse_obs_none_yet")
    if state == "prescribed":
        return t("nurse_obs_prescribed")
    if not row.news2_complete or row.news2 is None:
        return t("nurse_obs_incomplete")
    return t(f"nurse_obs_{state}", when=local_when(row.due.due_at))


def _due_badge(row: PatientRow) -> dbc.Badge:
    return _badge(_due_text(row), DUE_COLOURS[row.due.state], className="nurse-due text-wrap")


def _bed_link(row: PatientRow) -> html.A:
    return html.A([html.Strong(row.bed), f" · {row.patient_mask}"], href=f"/bed/{row.bed}", className="nurse-bed")


def _list(title: str, rows: list[PatientRow], detail, list_id: str, empty_key: str) -> dbc.Card:
    """A card of rows, each the bed link and ``detail(row)``; a quiet line when there are none."""
    items = [
        dbc.ListGroupItem(
            html.Div(
                [_bed_link(row), html.Span(detail(row), className="ms-auto")],
                className="d-flex gap-2",
                **{"data-bed": row.bed},
            )
        )
        for row in rows
    ]
    body = dbc.ListGroup(items, flush=True) if items else html.P(t(empty_key), className="text-body-secondary m-3")
    return dbc.Card([dbc.CardHeader(f"{title} ({len(rows)})"), body], id=list_id, className="h-100")


def _alarms(row: PatientRow) -> list:
    return [
        _badge(t(f"alarm_{a['condition']}"), "danger" if a.get("priority") == "high" else "warning", className="me-1")
        for a in row.alarms
    ]


def _everyone(home: WardHome) -> dbc.Card:
    head = html.Thead(html.Tr([html.Th(t(k)) for k in ("nurse_col_bed", "nurse_col_news2", "nurse_col_obs")]))
    body = html.Tbody(
        [
            html.Tr([html.Td(_bed_link(r)), html.Td(_news2_badge(r)), html.Td(_due_badge(r))], **{"data-bed": r.bed})
            for r in home.patients
        ]
    )
    table = (
        dbc.Table([head, body], size="sm", hover=True, responsive=True, className="mb-0")
        if home.patients
        else html.P(t("nurse_no_patients"), className="text-body-secondary m-3")
    )
    return dbc.Card([dbc.CardHeader(f"{t('nurse_patients')} ({len(home.patients)})"), table], id="nurse-patients")


def ward_summary(home: WardHome) -> html.Div:
    """Everything the nurse needs first on her ward, most urgent on top."""
    warning = None if home.live else dbc.Alert(t("nurse_live_unavailable"), color="warning", className="py-2")
    return html.Div(
        [
            warning,
            dbc.Row(
                [
                    dbc.Col(_list(t("ward_alarms"), home.alarming, _alarms, "nurse-alarms", "nurse_no_alarms"), lg=4),
                    dbc.Col(
                        _list(
                            t("nurse_high_news2"), home.high_news2, _news2_badge, "nurse-news2", "nurse_no_high_news2"
                        ),
                        lg=4,
                    ),
                    dbc.Col(
                        _list(
                            t("nurse_obs_due_title"), home.observations_due, _due_badge, "nurse-due", "nurse_none_due"
                        ),
                        lg=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            _everyone(home),
        ]
    )
