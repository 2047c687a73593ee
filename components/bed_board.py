"""The bed board's pieces: counts by care class and status, and a ward's bed tiles (masked names only)."""

from __future__ import annotations

from collections import Counter

import dash_bootstrap_components as dbc
from dash import html

from data.inpatient_views import BoardBed, News2Shown, WardBoard
from domain.hospital import BED_STATES
from domain.news2 import NOT_APPLICABLE
from i18n.web import t

STATUS_COLOURS = {"available": "success", "occupied": "primary", "cleaning": "warning", "out_of_service": "secondary"}


def counts_table(counts: Counter, table_id: str) -> dbc.Table:
    """Beds per care class (rows) and status (columns), with totals."""
    classes = sorted({care for care, _ in counts})
    head = html.Thead(
        html.Tr(
            [html.Th(t("bedboard_col_class"))]
            + [html.Th(t(f"bedboard_state_{s}")) for s in BED_STATES]
            + [html.Th(t("bedboard_col_total"))]
        )
    )
    rows = [
        html.Tr(
            [html.Td(care)]
            + [html.Td(counts[(care, s)], className=f"count-{s}") for s in BED_STATES]
            + [html.Td(sum(counts[(care, s)] for s in BED_STATES))]
        )
        for care in classes
    ]
    totals = html.Tr(
        [html.Th(t("bedboard_col_total"))]
        + [html.Th(sum(n for (_, st), n in counts.items() if st == s), className=f"total-{s}") for s in BED_STATES]
        + [html.Th(sum(counts.values()))],
    )
    return dbc.Table([head, html.Tbody([*rows, totals])], size="sm", bordered=True, className="mb-0", id=table_id)


def _news2(news2: News2Shown | None) -> html.Div:
    """The score in the ward station's colours (green low, orange low-medium and medium, red high, grey when a
    parameter is missing), so a deteriorating patient stands out on the board too."""
    if news2 is None:
        return html.Div("NEWS2 —", className="small")
    if news2.risk == NOT_APPLICABLE:
        text, title = t("news2_not_applicable"), t("news2_not_applicable_why")
    else:
        text, title = news2.text, "NEWS2" if news2.complete else t("ward_news2_incomplete")
    return html.Div(
        html.Span(text, className=f"badge news2-{news2.risk or 'incomplete'}", title=title), className="small"
    )


def _tile(bed: BoardBed, news2: News2Shown | None) -> html.Div:
    details = (
        [
            html.Div(bed.patient_mask, className="fw-semibold"),
            html.Div(t("inpatient_los_days", n=bed.los_days), className="small"),
            _news2(news2),
        ]
        if bed.patient_mask
        else []
    )
    return html.Div(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(
                        [
                            html.Span(bed.code, className="fw-bold me-2"),
                            dbc.Badge(t(f"bedboard_state_{bed.status}"), color=STATUS_COLOURS[bed.status]),
                        ]
                    ),
                    html.Div(f"{t('bedboard_col_class')} {bed.care_class}", className="small text-body-secondary"),
                    *details,
                ],
                className="p-2",
            ),
            className=f"h-100 border-{STATUS_COLOURS[bed.status]}",
        ),
        className="col",
        id=f"bedboard-bed-{bed.code}",
        **{"data-status": bed.status},
    )


def ward_card(board: WardBoard, news2: dict[str, News2Shown]) -> dbc.Card:
    """One ward: its counts and its tiles."""
    return dbc.Card(
        [
            dbc.CardHeader(f"{board.name} ({board.code})"),
            dbc.CardBody(
                [
                    counts_table(board.counts, f"bedboard-counts-{board.code}"),
                    html.Div(
                        [_tile(bed, news2.get(bed.code)) for bed in board.beds],
                        className="row row-cols-2 row-cols-md-4 row-cols-xl-6 g-2 mt-2",
                    ),
                ]
            ),
        ],
        className="mb-3",
    )
