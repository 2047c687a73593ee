"""The cashier's desk: find a visit or a stay, bill its charge lines, take payments (cash, QRIS, transfer, insurer),
keep an inpatient's deposit, void a bill nothing was paid on. Filled by callbacks/cashier.py."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from domain.billing_rules import DEPOSIT_METHODS, DESK_METHODS, REASON_MAX, REFERENCE_MAX
from i18n.web import t

dash.register_page(
    __name__,
    path="/keuangan/kasir",
    name_key="cash_nav",
    title="Kasir · Pantau",
    roles=["finance", "admin"],
    order=56,
    nav=True,
    nav_group="reports",
)


class Ids:
    """Component ids shared with callbacks/cashier.py."""

    SEARCH = "cash-search"
    SEARCH_GO = "cash-search-go"
    RESULTS = "cash-results"
    SELECTED = "cash-selected"
    DONE_INVOICE = "cash-done-invoice"
    DONE_PAY = "cash-done-pay"
    DONE_VOID = "cash-done-void"
    DONE_DEPOSIT = "cash-done-deposit"
    DETAIL = "cash-detail"
    HEAD = "cash-episode-head"
    LINES = "cash-lines"
    CREATE_ROW = "cash-create-row"
    PAYER = "cash-payer"
    CREATE = "cash-create"
    CREATE_MSG = "cash-create-msg"
    INVOICES = "cash-invoices"
    PAY_CARD = "cash-pay-card"
    PAY_TITLE = "cash-pay-title"
    METHOD = "cash-method"
    AMOUNT = "cash-amount"
    REFERENCE = "cash-reference"
    PAY = "cash-pay-go"
    PAY_MSG = "cash-pay-msg"
    REASON = "cash-void-reason"
    VOID = "cash-void-go"
    VOID_MSG = "cash-void-msg"
    DEPOSIT_CARD = "cash-deposit-card"
    DEPOSIT_BALANCE = "cash-deposit-balance"
    DEP_METHOD = "cash-dep-method"
    DEP_AMOUNT = "cash-dep-amount"
    DEP_REFERENCE = "cash-dep-reference"
    DEP_RECEIVE = "cash-dep-receive"
    DEP_APPLY = "cash-dep-apply"
    DEP_REFUND = "cash-dep-refund"
    DEP_MSG = "cash-dep-msg"
    OPEN = "cash-open"  # pattern: {"type": OPEN, "kind": "visit" | "admission", "id": n}
    PICK = "cash-pick"  # pattern: {"type": PICK, "invoice": n}
    RECEIPT = "cash-receipt"  # pattern: {"type": RECEIPT, "invoice": n}
    DOWNLOAD = "cash-download"


def error_id(field: str) -> str:
    """The message element beside a field (``cash-amount`` → ``cash-amount-error``)."""
    return f"{field}-error"


def _field(label: str, control, field_id: str, hint: str = "") -> html.Div:
    parts = [dbc.Label(label, html_for=field_id), control, dbc.FormFeedback(id=error_id(field_id), type="invalid")]
    if hint:
        parts.append(dbc.FormText(hint))
    return html.Div(parts, className="mb-2")


def _methods(codes: tuple[str, ...]) -> list[dict]:
    return [{"value": code, "label": t(f"cash_method_{code}")} for code in codes]


def _pay_card() -> dbc.Card:
    amount = dbc.Input(id=Ids.AMOUNT, type="text", inputMode="numeric", maxLength=20, autoComplete="off")
    reference = dbc.Input(id=Ids.REFERENCE, type="text", maxLength=REFERENCE_MAX, autoComplete="off")
    reason = dbc.Input(id=Ids.REASON, type="text", maxLength=REASON_MAX, autoComplete="off")
    return dbc.Card(
        [
            dbc.CardHeader(html.Span(id=Ids.PAY_TITLE)),
            dbc.CardBody(
                [
                    _field(
                        t("cash_method_label"),
                        dbc.Select(id=Ids.METHOD, options=_methods(DESK_METHODS), value="tunai"),
                        Ids.METHOD,
                    ),
                    _field(t("cash_amount_label"), amount, Ids.AMOUNT, t("cash_amount_hint")),
                    _field(t("cash_reference_label"), reference, Ids.REFERENCE, t("cash_reference_hint")),
                    dbc.Button(t("cash_pay_button"), id=Ids.PAY, color="primary", className="mb-2"),
                    html.Div(id=Ids.PAY_MSG, role="status"),
                    html.Hr(),
                    _field(t("cash_void_reason_label"), reason, Ids.REASON, t("cash_void_hint")),
                    dbc.Button(t("cash_void_button"), id=Ids.VOID, color="danger", outline=True, className="mb-2"),
                    html.Div(id=Ids.VOID_MSG, role="status"),
                ]
            ),
        ],
        id=Ids.PAY_CARD,
        className="mb-3",
        style={"display": "none"},
    )


def _deposit_card() -> dbc.Card:
    amount = dbc.Input(id=Ids.DEP_AMOUNT, type="text", inputMode="numeric", maxLength=20, autoComplete="off")
    reference = dbc.Input(id=Ids.DEP_REFERENCE, type="text", maxLength=REFERENCE_MAX, autoComplete="off")
    method = dbc.Select(id=Ids.DEP_METHOD, options=_methods(DEPOSIT_METHODS), value="tunai")
    return dbc.Card(
        [
            dbc.CardHeader(t("cash_deposit_title")),
            dbc.CardBody(
                [
                    html.P([t("cash_deposit_balance"), " ", html.Strong(id=Ids.DEPOSIT_BALANCE)]),
                    _field(t("cash_method_label"), method, Ids.DEP_METHOD),
                    _field(t("cash_amount_label"), amount, Ids.DEP_AMOUNT, t("cash_deposit_amount_hint")),
                    _field(t("cash_reference_label"), reference, Ids.DEP_REFERENCE, t("cash_reference_hint")),
                    html.Div(
                        [
                            dbc.Button(t("cash_deposit_receive"), id=Ids.DEP_RECEIVE, color="primary"),
                            dbc.Button(t("cash_deposit_apply"), id=Ids.DEP_APPLY, color="secondary"),
                            dbc.Button(t("cash_deposit_refund"), id=Ids.DEP_REFUND, color="warning", outline=True),
                        ],
                        className="d-flex flex-wrap gap-2 mb-2",
                    ),
                    html.Div(id=Ids.DEP_MSG, role="status"),
                ]
            ),
        ],
        id=Ids.DEPOSIT_CARD,
        className="mb-3",
        style={"display": "none"},
    )


def _detail() -> html.Div:
    create = html.Div(  # shown or hidden by its style; the inner row keeps Bootstrap's d-flex (!important)
        html.Div(
            [
                dbc.Label(t("cash_payer_label"), html_for=Ids.PAYER, className="mb-0"),
                dbc.Select(id=Ids.PAYER, options=[], style={"maxWidth": "16rem"}),
                dbc.Button(t("cash_create_invoice"), id=Ids.CREATE, color="primary"),
            ],
            className="d-flex flex-wrap align-items-center gap-2 mb-2",
        ),
        id=Ids.CREATE_ROW,
    )
    return html.Div(
        [
            html.Div(id=Ids.HEAD),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Card(
                                [
                                    dbc.CardHeader(t("cash_lines_title")),
                                    dbc.CardBody([html.Div(id=Ids.LINES), create, html.Div(id=Ids.CREATE_MSG)]),
                                ],
                                className="mb-3",
                            ),
                            dbc.Card(
                                [dbc.CardHeader(t("cash_invoices_title")), dbc.CardBody(html.Div(id=Ids.INVOICES))],
                                className="mb-3",
                            ),
                        ],
                        lg=8,
                    ),
                    dbc.Col([_pay_card(), _deposit_card()], lg=4),
                ],
                className="g-3",
            ),
        ],
        id=Ids.DETAIL,
        style={"display": "none"},
    )


def layout(**_query: str) -> html.Div:
    search = dbc.InputGroup(
        [
            dbc.Input(
                id=Ids.SEARCH,
                type="search",
                placeholder=t("cash_search_placeholder"),
                maxLength=100,
                autoComplete="off",
                debounce=True,
            ),
            dbc.Button([html.I(className="bi bi-search me-1"), t("cash_search_button")], id=Ids.SEARCH_GO),
        ]
    )
    return html.Div(
        [
            html.H1(t("cash_title"), className="h4 mb-3"),
            dbc.Label(t("cash_search_label"), html_for=Ids.SEARCH),
            search,
            dbc.FormText(t("cash_search_hint")),
            html.Div(id=Ids.RESULTS, className="mt-3"),
            _detail(),
            dcc.Download(id=Ids.DOWNLOAD),
            dcc.Store(id=Ids.SELECTED),
            dcc.Store(id=Ids.DONE_INVOICE, data=0),
            dcc.Store(id=Ids.DONE_PAY, data=0),
            dcc.Store(id=Ids.DONE_VOID, data=0),
            dcc.Store(id=Ids.DONE_DEPOSIT, data=0),
        ],
        className="cashier",
    )
