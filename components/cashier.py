"""The cashier page's tables: episodes found, one episode's unbilled lines, its invoices (``Rp 1.234.567``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from components.finance_format import cell_text
from data.billing import BillLine, Episode, InvoiceView
from domain.formats import long_date, rupiah
from i18n.web import current_language, t

STATUS_COLOURS = {"open": "warning", "paid": "success", "void": "secondary"}


def _table(heads: list[str], rows: list[html.Tr], table_id: str) -> dbc.Table:
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)],
        id=table_id,
        hover=True,
        responsive=True,
        size="sm",
        className="align-middle mb-2",
    )


def _money(amount: int | None) -> html.Td:
    return html.Td("–" if amount is None else rupiah(amount), className="text-end text-nowrap")


def episode_label(episode: Episode) -> str:
    """``Rawat jalan · Poli Umum`` or ``Rawat inap``."""
    if episode.kind == "visit":
        return t("cash_visit", place=episode.place)
    return t("cash_admission_open") if episode.open else t("cash_admission_closed")


def results_table(episodes: list[Episode]) -> dbc.Table | dbc.Alert:
    """The episodes a search found, each with an "open" button."""
    if not episodes:
        return dbc.Alert(t("cash_no_results"), color="secondary", id="cash-no-results")
    lang = current_language()
    heads = ["cash_col_mrn", "cash_col_name", "cash_col_episode", "cash_col_day", "cash_col_payer",
             "cash_col_unbilled", "cash_col_outstanding", "cash_col_deposit", "cash_col_action"]  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(e.mrn),
                html.Td(e.name),
                html.Td(episode_label(e)),
                html.Td(long_date(e.day, lang), className="text-nowrap"),
                html.Td(t(f"fin_payer_{e.payer}")),
                _money(e.unbilled),
                _money(e.outstanding),
                _money(e.deposit),
                html.Td(
                    dbc.Button(
                        t("cash_open"), id={"type": "cash-open", "kind": e.kind, "id": e.id}, size="sm", color="primary"
                    )
                ),
            ],
            **{"data-episode": f"{e.kind}-{e.id}"},
        )
        for e in episodes
    ]
    return _table([t(h) for h in heads], rows, "cash-results-table")


def episode_head(episode: Episode) -> html.Div:
    """Who and which episode the page is showing."""
    lang = current_language()
    return html.Div(
        [
            html.H2(f"{episode.name} · {episode.mrn}", className="h5 mb-1", id="cash-episode-name"),
            html.P(
                f"{episode_label(episode)} · {long_date(episode.day, lang)} · {t(f'fin_payer_{episode.payer}')}",
                className="text-body-secondary mb-3",
            ),
        ]
    )


def lines_table(lines: list[BillLine]) -> dbc.Table | html.P:
    """The unbilled lines with their total; JKN lines are marked as going to the BPJS claim."""
    if not lines:
        return html.P(t("cash_no_lines"), className="text-body-secondary", id="cash-no-lines")
    lang = current_language()
    heads = ["cash_col_date", "cash_col_item", "cash_col_payer", "cash_col_qty", "cash_col_price", "cash_col_amount"]
    rows = [
        html.Tr(
            [
                html.Td(cell_text(line.service_date, "date", lang), className="text-nowrap"),
                html.Td(line.description),
                html.Td(t("cash_jkn_note") if line.payer == "jkn" else t(f"fin_payer_{line.payer}")),
                html.Td(line.quantity, className="text-end"),
                _money(line.unit_price),
                _money(line.amount),
            ]
        )
        for line in lines
    ]
    total = html.Tr(
        [html.Td(t("cash_total_row"), colSpan=5), _money(sum(line.amount for line in lines))], className="fw-semibold"
    )
    return _table([t(h) for h in heads], [*rows, total], "cash-lines-table")


def invoices_table(invoices: tuple[InvoiceView, ...], selected: int | None) -> dbc.Table | html.P:
    """The episode's invoices, each open one with a "pay" button."""
    if not invoices:
        return html.P(t("cash_no_invoices"), className="text-body-secondary", id="cash-no-invoices")
    lang = current_language()
    heads = ["cash_col_number", "cash_col_issued", "cash_col_due", "cash_col_payer", "cash_col_total",
             "cash_col_paid", "cash_col_outstanding", "cash_col_status", "cash_col_action"]  # fmt: skip
    rows = []
    for invoice in invoices:
        status = dbc.Badge(
            t(f"cash_status_{invoice.status}"),
            color=STATUS_COLOURS[invoice.status],
            text_color="dark" if invoice.status == "open" else None,
            className="cash-status",
        )
        action = (
            dbc.Button(t("cash_pay"), id={"type": "cash-pick", "invoice": invoice.id}, size="sm", color="primary")
            if invoice.status == "open"
            else ""
        )
        rows.append(
            html.Tr(
                [
                    html.Td(invoice.number, className="text-nowrap"),
                    html.Td(cell_text(invoice.issued_on, "date", lang), className="text-nowrap"),
                    html.Td(cell_text(invoice.due_on, "date", lang), className="text-nowrap"),
                    html.Td(t(f"fin_payer_{invoice.payer}")),
                    _money(invoice.total),
                    _money(invoice.paid),
                    _money(invoice.outstanding),
                    html.Td(status, className="text-nowrap"),
                    html.Td(action, className="text-nowrap"),
                ],
                className="table-active" if invoice.id == selected else None,
                **{"data-invoice": invoice.number},
            )
        )
    return _table([t(h) for h in heads], rows, "cash-invoices-table")
