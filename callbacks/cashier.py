"""The cashier page: search, open an episode, bill it, take payments and deposits, void a bill. Each action
writes through data/billing.py (on SQLite under the write lock, so two desks take turns as PostgreSQL's row locks
make them), answers next to its form, and bumps its own "done" store so the episode is redrawn; a refused action
leaves what was typed in place."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, no_update
from flask_login import current_user

from auth.session import current_actor
from callbacks.registry import page_callback
from components.cashier import episode_head, invoices_table, lines_table, receipt_pdf, results_table
from components.input_error import input_error_text
from data import billing
from data.runtime import current_runtime
from data.schedules import local_today, site_zone
from domain.clock import utcnow
from domain.errors import FieldErrors, InputError
from domain.formats import thousands
from i18n.web import current_language, money, t
from pages.cashier import Ids, error_id

OWNER = "pages.cashier"
HIDDEN, SHOWN = {"display": "none"}, {}
PAY_FIELDS = (Ids.METHOD, Ids.AMOUNT, Ids.REFERENCE)
DEPOSIT_FIELDS = (Ids.DEP_METHOD, Ids.DEP_AMOUNT, Ids.DEP_REFERENCE)
FIELD_NAMES = ("method", "amount", "reference")


def _alert(text: str, colour: str, element_id: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, className="mb-0 py-2", id=element_id)


def _field_outputs(fields: tuple[str, ...]) -> list[Output]:
    return [Output(f, "invalid") for f in fields] + [Output(error_id(f), "children") for f in fields]


def _field_marks(err: InputError | None) -> list:
    """(invalid flags, messages) for method/amount/reference: each wrong field marked with its own message; an
    error of no one field (a void bill, a lost race) marks none."""
    errors = err.errors if isinstance(err, FieldErrors) else {}
    flags = [name in errors for name in FIELD_NAMES]
    texts = [input_error_text(errors[name]) if name in errors else "" for name in FIELD_NAMES]
    return flags + texts


@page_callback(
    OWNER,
    Output(Ids.RESULTS, "children"),
    Input(Ids.SEARCH_GO, "n_clicks"),
    Input(Ids.SEARCH, "n_submit"),
    Input(Ids.DONE_INVOICE, "data"),
    Input(Ids.DONE_PAY, "data"),
    Input(Ids.DONE_VOID, "data"),
    Input(Ids.DONE_DEPOSIT, "data"),
    State(Ids.SEARCH, "value"),
    prevent_initial_call=True,
)
def search(_clicks: int | None, _submit: int | None, *done_and_query):
    """Find episodes; after a change to one of them, the same search again so the list shows what is owed now
    (audited only when the person searched)."""
    query = done_and_query[-1]
    asked = ctx.triggered_id in (Ids.SEARCH_GO, Ids.SEARCH)
    if not (query or "").strip():
        return _alert(t("cash_search_empty"), "warning", "cash-search-error") if asked else no_update
    with current_runtime().db.session(write_lock=True) as session:  # audited; stays' midnights may be charged
        today = local_today(session, current_user.site_id)
        actor = current_actor() if asked else None
        found = billing.cashier_lookup(session, current_user.site_id, query, today, actor=actor)
    return results_table(found)


def _clicked() -> dict | None:
    """The pattern-matched button really clicked (redrawn buttons also fire, with no clicks)."""
    return ctx.triggered_id if ctx.triggered and ctx.triggered[0]["value"] else None


@page_callback(
    OWNER,
    Output(Ids.SELECTED, "data"),
    Input({"type": Ids.OPEN, "kind": ALL, "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def open_episode(_clicks: list):
    """Open an episode (no invoice chosen yet). A callback of its own, apart from ``pick_invoice``: the episode
    list redrawn after an action must not supersede a click on an invoice's button."""
    chosen = _clicked()
    return no_update if chosen is None else {"kind": chosen["kind"], "id": chosen["id"], "invoice": None}


@page_callback(
    OWNER,
    Output(Ids.SELECTED, "data", allow_duplicate=True),
    Input({"type": Ids.PICK, "invoice": ALL}, "n_clicks"),
    State(Ids.SELECTED, "data"),
    prevent_initial_call=True,
)
def pick_invoice(_clicks: list, selected: dict | None):
    """Choose one of the open episode's invoices to pay."""
    chosen = _clicked()
    return no_update if chosen is None or not selected else {**selected, "invoice": chosen["invoice"]}


@page_callback(
    OWNER,
    Output(Ids.DETAIL, "style"),
    Output(Ids.HEAD, "children"),
    Output(Ids.LINES, "children"),
    Output(Ids.PAYER, "options"),
    Output(Ids.PAYER, "value"),
    Output(Ids.CREATE_ROW, "style"),
    Output(Ids.INVOICES, "children"),
    Output(Ids.PAY_CARD, "style"),
    Output(Ids.PAY_TITLE, "children"),
    Output(Ids.AMOUNT, "value"),
    Output(Ids.REFERENCE, "value"),
    Output(Ids.DEPOSIT_CARD, "style"),
    Output(Ids.DEPOSIT_BALANCE, "children"),
    Output(Ids.DEP_AMOUNT, "value"),
    Output(Ids.DEP_REFERENCE, "value"),
    Input(Ids.SELECTED, "data"),
    Input(Ids.DONE_INVOICE, "data"),
    Input(Ids.DONE_PAY, "data"),
    Input(Ids.DONE_VOID, "data"),
    Input(Ids.DONE_DEPOSIT, "data"),
    prevent_initial_call=True,
)
def show_episode(selected: dict | None, *_done: int):
    """Draw the chosen episode as it is now: the payment form prefilled with what is left on the chosen bill, the
    deposit form emptied (this runs on a selection or after a change was saved, never after a refusal)."""
    if not selected:
        return (HIDDEN, *([no_update] * 14))
    site_id = current_user.site_id
    with current_runtime().db.session(write_lock=True) as session:  # a stay's midnights may be charged now
        episode = billing.episode(session, site_id, selected["kind"], selected["id"])
        if episode is None:
            return (HIDDEN, *([no_update] * 14))
        key = {f"{episode.kind}_id": episode.id}
        lines = billing.unbilled_lines(session, site_id, **key)
    payers = sorted({line.payer for line in lines} - {"jkn"})
    invoice = next((i for i in episode.invoices if i.id == selected.get("invoice") and i.status == "open"), None)
    return (
        SHOWN,
        episode_head(episode),
        lines_table(lines),
        [{"value": p, "label": t(f"fin_payer_{p}")} for p in payers],
        payers[0] if payers else None,
        SHOWN if payers else HIDDEN,
        invoices_table(episode.invoices, invoice.id if invoice else None),
        SHOWN if invoice else HIDDEN,
        t("cash_pay_title", number=invoice.number, outstanding=money(invoice.outstanding)) if invoice else "",
        thousands(invoice.outstanding, current_language()) if invoice else "",
        "",
        SHOWN if episode.kind == "admission" else HIDDEN,
        money(episode.deposit or 0),
        "",
        "",
    )


@page_callback(
    OWNER,
    Output(Ids.CREATE_MSG, "children"),
    Output(Ids.DONE_INVOICE, "data"),
    Input(Ids.CREATE, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.PAYER, "value"),
    State(Ids.DONE_INVOICE, "data"),
    prevent_initial_call=True,
)
def create_invoice(_clicks: int | None, selected: dict | None, payer: str | None, done: int):
    if not selected:
        return no_update, no_update
    key = {f"{selected['kind']}_id": selected["id"]}
    try:
        with current_runtime().db.session(write_lock=True) as session:
            invoice = billing.create_invoice(session, current_actor(), payer=payer or None, **key)
    except InputError as err:
        return _alert(input_error_text(err), "danger", "cash-create-error"), no_update
    text = t("cash_invoice_created", number=invoice.number, total=money(invoice.total))
    return _alert(text, "success", "cash-create-done"), (done or 0) + 1


@page_callback(
    OWNER,
    Output(Ids.PAY_MSG, "children"),
    *_field_outputs(PAY_FIELDS),
    Output(Ids.DONE_PAY, "data"),
    Input(Ids.PAY, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.METHOD, "value"),
    State(Ids.AMOUNT, "value"),
    State(Ids.REFERENCE, "value"),
    State(Ids.DONE_PAY, "data"),
    prevent_initial_call=True,
)
def pay(_clicks: int | None, selected: dict | None, method: str, amount: str, reference: str, done: int):
    if not selected or not selected.get("invoice"):
        return _alert(t("cash_pick_invoice"), "warning", "cash-pay-error"), *_field_marks(None), no_update
    try:
        with current_runtime().db.session(write_lock=True) as session:
            today = local_today(session, current_user.site_id)
            invoice = billing.record_payment(
                session, current_actor(), selected["invoice"], method=method, amount=amount, reference=reference,
                paid_on=today,
            )  # fmt: skip
    except InputError as err:
        text = t("cash_err_fields") if isinstance(err, FieldErrors) else input_error_text(err)
        return _alert(text, "danger", "cash-pay-error"), *_field_marks(err), no_update
    if invoice.status == "paid":
        text = t("cash_paid_full", number=invoice.number)
    else:
        text = t("cash_paid_partly", number=invoice.number, outstanding=money(invoice.outstanding))
    return _alert(text, "success", "cash-pay-done"), *_field_marks(None), (done or 0) + 1


@page_callback(
    OWNER,
    Output(Ids.VOID_MSG, "children"),
    Output(Ids.REASON, "invalid"),
    Output(error_id(Ids.REASON), "children"),
    Output(Ids.DONE_VOID, "data"),
    Input(Ids.VOID, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.REASON, "value"),
    State(Ids.DONE_VOID, "data"),
    prevent_initial_call=True,
)
def void(_clicks: int | None, selected: dict | None, reason: str | None, done: int):
    if not selected or not selected.get("invoice"):
        return _alert(t("cash_pick_invoice"), "warning", "cash-void-error"), False, "", no_update
    try:
        with current_runtime().db.session(write_lock=True) as session:
            invoice = billing.void_invoice(session, current_actor(), selected["invoice"], reason or "")
    except InputError as err:
        on_field = err.key.startswith("cash_err_reason")
        text = input_error_text(err)
        return (no_update if on_field else _alert(text, "danger", "cash-void-error")), on_field, text, no_update
    return _alert(t("cash_voided", number=invoice.number), "success", "cash-void-done"), False, "", (done or 0) + 1


@page_callback(
    OWNER,
    Output(Ids.DEP_MSG, "children"),
    *_field_outputs(DEPOSIT_FIELDS),
    Output(Ids.DONE_DEPOSIT, "data"),
    Input(Ids.DEP_RECEIVE, "n_clicks"),
    Input(Ids.DEP_APPLY, "n_clicks"),
    Input(Ids.DEP_REFUND, "n_clicks"),
    State(Ids.SELECTED, "data"),
    State(Ids.DEP_METHOD, "value"),
    State(Ids.DEP_AMOUNT, "value"),
    State(Ids.DEP_REFERENCE, "value"),
    State(Ids.DONE_DEPOSIT, "data"),
    prevent_initial_call=True,
)
def deposit(_receive, _apply, _refund, selected: dict | None, method: str, amount: str, reference: str, done: int):
    """Receive a deposit, pay the chosen bill from it, or refund what is left."""
    if not selected or selected.get("kind") != "admission":
        return no_update, *_field_marks(None), no_update
    actor, action = current_actor(), ctx.triggered_id
    try:
        with current_runtime().db.session(write_lock=True) as session:
            today = local_today(session, actor.site_id)
            if action == Ids.DEP_RECEIVE:
                balance = billing.record_deposit(
                    session, actor, selected["id"], method=method, amount=amount, reference=reference, paid_on=today
                )
                text = t("cash_deposit_received", balance=money(balance))
            elif action == Ids.DEP_APPLY:
                if not selected.get("invoice"):
                    raise InputError("cash_pick_invoice")
                invoice = billing.apply_deposit(session, actor, selected["invoice"], paid_on=today)
                text = t("cash_deposit_applied", number=invoice.number, outstanding=money(invoice.outstanding))
            else:
                refunded = billing.refund_deposit(
                    session, actor, selected["id"], method=method, reference=reference, paid_on=today
                )
                text = t("cash_deposit_refunded", amount=money(refunded))
    except InputError as err:
        text = t("cash_err_fields") if isinstance(err, FieldErrors) else input_error_text(err)
        return _alert(text, "danger", "cash-dep-error"), *_field_marks(err), no_update
    return _alert(text, "success", "cash-dep-done"), *_field_marks(None), (done or 0) + 1


@page_callback(
    OWNER,
    Output(Ids.DOWNLOAD, "data"),
    Input({"type": Ids.RECEIPT, "invoice": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def print_receipt(_clicks: list):
    """The kuitansi of the clicked bill as a PDF (audited)."""
    chosen = _clicked()
    if chosen is None:
        return no_update
    actor = current_actor()
    try:
        with current_runtime().db.session() as session:
            found = billing.receipt(session, actor, chosen["invoice"])
            printed_at = utcnow().astimezone(site_zone(session, actor.site_id))
    except InputError:
        return no_update  # voided at another desk a moment ago: the redrawn table has no button any more
    pdf = receipt_pdf(found, current_user.full_name, printed_at, current_language())
    return dcc.send_bytes(pdf, f"kuitansi-{found.invoice.number.replace('/', '-')}.pdf")
