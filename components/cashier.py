"""The cashier page's tables: episodes found, one episode's unbilled lines, its invoices (``Rp 1.234.567``)."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from dash import html
from fpdf import FPDF

from components.finance_format import cell_text
from data.billing import BillLine, Episode, InvoiceView, Receipt
from domain.formats import long_date, rupiah
from domain.terbilang import MAX_NUMBER, terbilang
from i18n.web import current_language, money, t

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
    return html.Td("–" if amount is None else money(amount), className="text-end text-nowrap")


def episode_label(episode: Episode) -> str:
    """``Rawat jalan · Poli Umum`` or ``Rawat inap``."""
    if episode.kind == "visit":
        return t("cash_visit", place=episode.place)
    place = episode.place or "–"
    return t("cash_admission_open", place=place) if episode.open else t("cash_admission_closed", place=place)


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
        action = []
        if invoice.status == "open":
            pay = dbc.Button(t("cash_pay"), id={"type": "cash-pick", "invoice": invoice.id}, size="sm", color="primary")
            action.append(pay)
        if invoice.paid > 0 and invoice.status != "void":
            action.append(
                html.Button(  # an icon button: its name is in aria-label (dbc.Button takes none)
                    html.I(className="bi bi-printer", **{"aria-hidden": "true"}),
                    id={"type": "cash-receipt", "invoice": invoice.id},
                    type="button",
                    className="btn btn-sm btn-outline-secondary ms-1",
                    title=t("cash_receipt"),
                    **{"aria-label": t("cash_receipt")},
                )
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


def _latin1(text: str) -> str:
    """The PDF's built-in Helvetica speaks Latin-1; anything else becomes ``?`` rather than failing the receipt."""
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(receipt: Receipt, printed_by: str, printed_at: datetime, lang: str) -> bytes:
    """A kuitansi on A5: the hospital, the patient, the bill's lines, the payments, the amount paid in words."""
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    invoice = receipt.invoice

    def line(text: str, size: int = 9, style: str = "", align: str = "L") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, size * 0.5, _latin1(text), align=align, new_x="LMARGIN", new_y="NEXT")

    line(receipt.hospital, 13, "B", "C")
    line(t("cash_receipt_title"), 11, "B", "C")
    line(invoice.number, 9, "", "C")
    pdf.ln(3)
    line(f"{t('cash_col_mrn')}: {receipt.mrn}    {t('cash_col_name')}: {receipt.name}")
    line(f"{t('cash_col_payer')}: {t(f'fin_payer_{invoice.payer}')}    "
         f"{t('cash_col_issued')}: {long_date(invoice.issued_on, lang)}")  # fmt: skip
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 8)
    for item in receipt.lines:
        pdf.cell(90, 5, _latin1(f"{item.description} x{item.quantity}"))
        pdf.cell(0, 5, rupiah(item.amount, lang), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(90, 6, _latin1(t("cash_col_total")))
    pdf.cell(0, 6, rupiah(invoice.total, lang), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 8)
    for paid_on, method, amount, reference in receipt.payments:
        text = f"{long_date(paid_on, lang)} · {t(f'cash_method_{method}')}" + (f" ({reference})" if reference else "")
        pdf.cell(90, 5, _latin1(text))
        pdf.cell(0, 5, rupiah(amount, lang), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(90, 6, _latin1(t("cash_col_paid")))
    pdf.cell(0, 6, rupiah(invoice.paid, lang), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(90, 6, _latin1(t("cash_col_outstanding")))
    pdf.cell(0, 6, rupiah(invoice.outstanding, lang), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.paid <= MAX_NUMBER:
        pdf.ln(2)
        line(t("cash_receipt_words", words=terbilang(invoice.paid)), 9, "I")
    pdf.ln(8)
    line(f"{t('cash_receipt_printed')} {printed_by}, {long_date(printed_at.date(), lang)} {printed_at:%H.%M}", 8)
    pdf.ln(12)
    line("(______________________)", 9, "", "R")
    line(t("cash_receipt_cashier"), 8, "", "R")
    return bytes(pdf.output())
