"""The cashier: invoices from unbilled charge lines, payments against them, inpatient deposits (docs/finance.md).

Every change is audited and safe with two cashiers at once: invoice numbers come from an atomic counter row,
lines are claimed by a guarded ``UPDATE … WHERE invoice_id IS NULL``, a payment by a guarded ``UPDATE`` that never
lets ``paid`` pass ``total``, and a deposit is spent or refunded under a lock on its admission's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Row, case, func, or_, select, update
from sqlalchemy.orm import Session

from data.audit import record_by
from data.charge_capture import charge_stay
from data.models import Admission, Bed, BedOccupancy, ChargeLine, Invoice, Patient, Payment, Poli, Site, Visit, Ward
from data.patients import LIVE_PATIENT, audit_search
from data.queue_tickets import next_number
from data.schedules import local_today, site_zone
from domain.actor import Actor
from domain.billing_rules import (
    REFUND_METHODS,
    check_billable,
    check_deposit,
    check_payment,
    clean_reason,
    due_on,
    invoice_counter,
    invoice_number,
)
from domain.errors import InputError
from domain.finance import payer_of_visit
from domain.formats import Rupiah

RECENT_VISIT_DAYS = 7  # a visit's bill is usually paid the same day; a week covers a late payer
RECENT_DISCHARGE_DAYS = 30
LOOKUP_LIMIT = 20


@dataclass(frozen=True)
class BillLine:
    """A charge line as the cashier reads it."""

    id: int
    service_date: date
    description: str
    payer: str
    quantity: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class InvoiceView:
    """An invoice with what is left to pay."""

    id: int
    number: str
    payer: str
    issued_on: date
    due_on: date
    total: int
    paid: int
    status: str
    visit_id: int | None
    admission_id: int | None

    @property
    def outstanding(self) -> int:
        return 0 if self.status == "void" else self.total - self.paid


@dataclass(frozen=True)
class Episode:
    """A visit or a stay at the cashier: who, where, what is still to bill, its invoices and (a stay's) deposit."""

    kind: str  # visit | admission
    id: int
    mrn: str
    name: str
    place: str
    day: date
    payer: str
    open: bool
    unbilled: int  # non-JKN lines not yet invoiced
    invoices: tuple[InvoiceView, ...]
    deposit: int | None  # None for a visit

    @property
    def outstanding(self) -> int:
        return sum(i.outstanding for i in self.invoices)


def _view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        invoice.id,
        invoice.number,
        invoice.payer,
        invoice.issued_on,
        invoice.due_on,
        invoice.total,
        invoice.paid,
        invoice.status,
        invoice.visit_id,
        invoice.admission_id,
    )


def _episode_filter(visit_id: int | None, admission_id: int | None):
    if (visit_id is None) == (admission_id is None):
        raise ValueError("give exactly one of visit_id and admission_id")
    return ChargeLine.visit_id == visit_id if visit_id is not None else ChargeLine.admission_id == admission_id


def unbilled_lines(
    session: Session, site_id: int, *, visit_id: int | None = None, admission_id: int | None = None
) -> list[BillLine]:
    """The episode's charge lines on no invoice (JKN lines too: the page shows they go to the claim)."""
    rows = session.execute(
        select(
            ChargeLine.id,
            ChargeLine.service_date,
            ChargeLine.description,
            ChargeLine.payer,
            ChargeLine.quantity,
            ChargeLine.unit_price,
            ChargeLine.amount,
        )
        .where(
            ChargeLine.site_id == site_id,
            _episode_filter(visit_id, admission_id),
            ChargeLine.invoice_id.is_(None),
        )
        .order_by(ChargeLine.service_date, ChargeLine.id)
    ).all()
    return [BillLine(*row) for row in rows]


def _episode_patient(session: Session, site_id: int, visit_id: int | None, admission_id: int | None) -> int:
    """The episode's patient; a stay's midnights passed are charged first (``charge_stay``)."""
    model, key = (Visit, visit_id) if visit_id is not None else (Admission, admission_id)
    episode = session.get(model, key)
    if episode is None or episode.site_id != site_id:
        raise InputError("cash_err_no_episode")
    if isinstance(episode, Admission):
        charge_stay(session, episode)
    return episode.patient_id


def _charge_stay_so_far(session: Session, admission_id: int) -> None:
    """Charge the midnights the stay has held a bed and that are not charged yet, before its amounts are shown: the
    census charges a day only once the day is over, and what the cashier sees is what the bill will hold."""
    charge_stay(session, session.get(Admission, admission_id))


def _choose_payer(payers: set[str], payer: str | None) -> str:
    if payer is not None:
        check_billable(payer)
        if payer not in payers:
            raise InputError("cash_err_nothing_to_bill")
        return payer
    billable = payers - {"jkn"}
    if not billable:
        raise InputError("cash_err_jkn" if payers else "cash_err_nothing_to_bill")
    if len(billable) > 1:
        raise InputError("cash_err_choose_payer")
    return billable.pop()


def create_invoice(
    session: Session,
    actor: Actor,
    *,
    visit_id: int | None = None,
    admission_id: int | None = None,
    payer: str | None = None,
    today: date | None = None,
) -> InvoiceView:
    """Bill the episode's unbilled lines of one payer (``payer``, or the only non-JKN payer among its lines).
    JKN lines are claimed, never billed; an empty bill is refused. Audited."""
    site_id = actor.site_id
    patient_id = _episode_patient(session, site_id, visit_id, admission_id)
    lines = unbilled_lines(session, site_id, visit_id=visit_id, admission_id=admission_id)
    payer = _choose_payer({line.payer for line in lines}, payer)
    chosen = [line for line in lines if line.payer == payer]
    if sum(line.amount for line in chosen) <= 0:
        raise InputError("cash_err_empty")
    issued_on = today or local_today(session, site_id)
    point, counter_day = invoice_counter(issued_on)
    invoice = Invoice(
        site_id=site_id,
        number=invoice_number(issued_on, next_number(session, site_id, point, counter_day)),
        payer=payer,
        patient_id=patient_id,
        visit_id=visit_id,
        admission_id=admission_id,
        issued_on=issued_on,
        due_on=due_on(payer, issued_on),
        total=sum(line.amount for line in chosen),
        paid=0,
        status="open",
        created_by=actor.user_id,
    )
    session.add(invoice)
    session.flush()
    claimed = session.execute(
        update(ChargeLine)
        .where(ChargeLine.id.in_([line.id for line in chosen]), ChargeLine.invoice_id.is_(None))
        .values(invoice_id=invoice.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != len(chosen):  # another cashier billed some of these lines a moment ago
        raise InputError("cash_err_lines_changed")
    record_by(
        session,
        actor,
        "invoice_created",
        target_type="invoice",
        target_id=invoice.id,
        detail={"number": invoice.number, "payer": payer, "total": invoice.total, "lines": len(chosen)},
    )
    return _view(invoice)


def _invoice(session: Session, actor: Actor, invoice_id: int, *, lock: bool = False) -> Invoice:
    statement = select(Invoice).where(Invoice.id == invoice_id, Invoice.site_id == actor.site_id)
    invoice = session.scalar(statement.with_for_update() if lock else statement)
    if invoice is None:
        raise InputError("cash_err_no_invoice")
    return invoice


def _pay(
    session: Session, actor: Actor, invoice: Invoice, *, method: str, amount: int, reference: str | None, paid_on: date
) -> InvoiceView:
    """Add ``amount`` to the invoice's ``paid`` only if it still fits (a guarded UPDATE: of two cashiers taking the
    last rupiah at once, the second is refused), and write the payment row."""
    settled = Invoice.paid + amount >= Invoice.total
    taken = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.status == "open", Invoice.paid + amount <= Invoice.total)
        .values(paid=Invoice.paid + amount, status=case((settled, "paid"), else_="open"))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(invoice)
    if not taken:
        _check_open(invoice)
        raise InputError("cash_err_overpay_now", outstanding=Rupiah(invoice.total - invoice.paid))
    session.add(
        Payment(
            site_id=invoice.site_id,
            kind="payment",
            method=method,
            invoice_id=invoice.id,
            admission_id=invoice.admission_id,
            patient_id=invoice.patient_id,
            payer=invoice.payer,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            received_by=actor.user_id,
        )
    )
    session.flush()
    record_by(
        session,
        actor,
        "payment_recorded",
        target_type="invoice",
        target_id=invoice.id,
        detail={"number": invoice.number, "method": method, "amount": amount, "status": invoice.status},
    )
    return _view(invoice)


def _check_open(invoice: Invoice) -> None:
    if invoice.status == "void":
        raise InputError("cash_err_invoice_void", number=invoice.number)
    if invoice.status == "paid":
        raise InputError("cash_err_invoice_paid", number=invoice.number)


def record_payment(
    session: Session,
    actor: Actor,
    invoice_id: int,
    *,
    method: str,
    amount: object,
    reference: str | None = None,
    paid_on: date,
) -> InvoiceView:
    """Take a payment at the desk (``amount`` as typed or an int). Refused with ``FieldErrors`` per field: no
    more than what is outstanding, a reference for QRIS and transfer, ``asuransi`` only on an insurer's bill."""
    invoice = _invoice(session, actor, invoice_id)
    _check_open(invoice)
    value, ref = check_payment(
        method=method, amount=amount, reference=reference, payer=invoice.payer, outstanding=invoice.total - invoice.paid
    )
    return _pay(session, actor, invoice, method=method, amount=value, reference=ref, paid_on=paid_on)


def _admission(session: Session, actor: Actor, admission_id: int) -> Admission:
    """The stay, its row locked until commit so its deposit is spent or refunded once."""
    admission = session.scalar(
        select(Admission).where(Admission.id == admission_id, Admission.site_id == actor.site_id).with_for_update()
    )
    if admission is None:
        raise InputError("cash_err_no_episode")
    return admission


def deposit_balance(session: Session, admission_id: int) -> int:
    """Deposits received for the stay, less what paid its bills and what was refunded."""
    signed = case((Payment.kind == "deposit", Payment.amount), else_=-Payment.amount)
    return int(
        session.scalar(
            select(func.coalesce(func.sum(signed), 0)).where(
                Payment.admission_id == admission_id,
                or_(Payment.kind.in_(("deposit", "refund")), Payment.method == "deposit"),
            )
        )
    )


def _deposit_row(
    session: Session,
    actor: Actor,
    admission: Admission,
    kind: str,
    method: str,
    amount: int,
    ref: str | None,
    day: date,
) -> None:
    session.add(
        Payment(
            site_id=admission.site_id,
            kind=kind,
            method=method,
            admission_id=admission.id,
            patient_id=admission.patient_id,
            payer="umum",
            amount=amount,
            paid_on=day,
            reference=ref,
            received_by=actor.user_id,
        )
    )
    session.flush()
    record_by(
        session,
        actor,
        "deposit_received" if kind == "deposit" else "deposit_refunded",
        target_type="admission",
        target_id=admission.id,
        detail={"method": method, "amount": amount},
    )


def record_deposit(
    session: Session,
    actor: Actor,
    admission_id: int,
    *,
    method: str,
    amount: object,
    reference: str | None = None,
    paid_on: date,
) -> int:
    """Receive an inpatient's deposit; returns the new balance. Audited."""
    admission = _admission(session, actor, admission_id)
    value, ref = check_deposit(method=method, amount=amount, reference=reference)
    _deposit_row(session, actor, admission, "deposit", method, value, ref, paid_on)
    return deposit_balance(session, admission.id)


def apply_deposit(session: Session, actor: Actor, invoice_id: int, *, paid_on: date) -> InvoiceView:
    """Pay a stay's bill from its deposit, as much as both allow (method ``deposit``). Audited."""
    invoice = _invoice(session, actor, invoice_id)
    _check_open(invoice)
    if invoice.admission_id is None:
        raise InputError("cash_err_not_inpatient")
    _admission(session, actor, invoice.admission_id)
    amount = min(deposit_balance(session, invoice.admission_id), invoice.total - invoice.paid)
    if amount <= 0:
        raise InputError("cash_err_no_deposit")
    return _pay(session, actor, invoice, method="deposit", amount=amount, reference=None, paid_on=paid_on)


def refund_deposit(
    session: Session, actor: Actor, admission_id: int, *, method: str, reference: str | None = None, paid_on: date
) -> int:
    """Return what is left of a stay's deposit (kind ``refund``); refused while one of its bills is still open,
    which the deposit should pay first. Returns the amount refunded. Audited."""
    admission = _admission(session, actor, admission_id)
    _, ref = check_deposit(method=method, amount=None, reference=reference, methods=REFUND_METHODS)
    open_bill = session.scalar(
        select(Invoice.number).where(Invoice.admission_id == admission.id, Invoice.status == "open").limit(1)
    )
    if open_bill is not None:
        raise InputError("cash_err_refund_open_bill", number=open_bill)
    amount = deposit_balance(session, admission.id)
    if amount <= 0:
        raise InputError("cash_err_no_deposit")
    _deposit_row(session, actor, admission, "refund", method, amount, ref, paid_on)
    return amount


def void_invoice(session: Session, actor: Actor, invoice_id: int, reason: str) -> InvoiceView:
    """Cancel a bill nothing has been paid on; its lines become unbilled again. Audited with the reason."""
    why = clean_reason(reason)
    invoice = _invoice(session, actor, invoice_id)
    _check_open(invoice)
    voided = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.status == "open", Invoice.paid == 0)
        .values(status="void")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(invoice)
    if not voided:
        _check_open(invoice)
        raise InputError("cash_err_void_paid", number=invoice.number)
    released = session.execute(
        update(ChargeLine)
        .where(ChargeLine.invoice_id == invoice.id)
        .values(invoice_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    record_by(
        session,
        actor,
        "invoice_voided",
        target_type="invoice",
        target_id=invoice.id,
        detail={"number": invoice.number, "reason": why, "lines": released},
    )
    return _view(invoice)


def _matching_patients(session: Session, site_id: int, query: str) -> tuple[list[int], list[int]]:
    """(patient ids by RM or name, visit ids by booking code)."""
    visits = list(
        session.scalars(
            select(Visit.id).where(Visit.site_id == site_id, Visit.booking_code.in_(sorted({query, query.upper()})))
        )
    )
    by_mrn = list(
        session.scalars(select(Patient.id).where(Patient.site_id == site_id, Patient.mrn == query, LIVE_PATIENT))
    )
    if by_mrn or visits or len(query) < 3:
        return by_mrn, visits
    pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    by_name = session.scalars(
        select(Patient.id)
        .where(Patient.site_id == site_id, func.lower(Patient.name).like(pattern), LIVE_PATIENT)
        .order_by(Patient.name)
        .limit(LOOKUP_LIMIT)
    )
    return list(by_name), visits


# An episode at the cashier: its id, the patient's RM and name, then a visit's poli, day, payer and status, or a
# stay's admission time, payer and discharge time.
_VISITS = (
    select(Visit.id, Patient.mrn, Patient.name, Poli.name, Visit.service_date, Visit.payer, Visit.status)
    .join(Patient, Patient.id == Visit.patient_id)
    .join(Poli, Poli.id == Visit.poli_id)
)
_STAYS = select(
    Admission.id, Patient.mrn, Patient.name, Admission.admitted_at, Admission.payer, Admission.discharged_at
).join(Patient, Patient.id == Admission.patient_id)


def cashier_lookup(
    session: Session, site_id: int, query: str, today: date, *, actor: Actor | None = None
) -> list[Episode]:
    """The episodes a cashier may settle for a search by RM, booking code or part of a name (3 letters or more):
    the patients' visits of the last week, their open stays and stays discharged in the last 30 days, each stay's
    midnights charged so far. The search is audited (by what it searched, never the text)."""
    query = " ".join((query or "").split())
    if not query:
        return []
    patient_ids, visit_ids = _matching_patients(session, site_id, query)
    if actor is not None:
        found = session.execute(
            select(Patient.id, Patient.mrn).where(
                Patient.id.in_(patient_ids) | Patient.id.in_(select(Visit.patient_id).where(Visit.id.in_(visit_ids)))
            )
        ).all()
        audit_search(session, actor, "cashier", found)
    if not patient_ids and not visit_ids:
        return []
    visits = session.execute(
        _VISITS.where(
            Visit.site_id == site_id,
            or_(
                Visit.id.in_(visit_ids),
                Visit.patient_id.in_(patient_ids) & (Visit.service_date >= today - timedelta(days=RECENT_VISIT_DAYS)),
            ),
        )
        .order_by(Visit.service_date.desc(), Visit.id.desc())
        .limit(LOOKUP_LIMIT)
    ).all()
    since = today - timedelta(days=RECENT_DISCHARGE_DAYS)
    stays = session.execute(
        _STAYS.where(
            Admission.site_id == site_id,
            Admission.patient_id.in_(patient_ids),
            or_(Admission.discharged_at.is_(None), Admission.discharged_at >= datetime.combine(since, time(), UTC)),
        )
        .order_by(Admission.admitted_at.desc())
        .limit(LOOKUP_LIMIT)
    ).all()
    for stay in stays:
        _charge_stay_so_far(session, stay.id)
    return [_visit_episode(session, site_id, row) for row in visits] + [
        _stay_episode(session, site_id, row) for row in stays
    ]


def episode(session: Session, site_id: int, kind: str, episode_id: int) -> Episode | None:
    """One visit or stay at the cashier (a stay's midnights charged so far), or ``None`` when it is not this
    site's."""
    if kind == "visit":
        row = session.execute(_VISITS.where(Visit.id == episode_id, Visit.site_id == site_id)).first()
        return None if row is None else _visit_episode(session, site_id, row)
    row = session.execute(_STAYS.where(Admission.id == episode_id, Admission.site_id == site_id)).first()
    if row is None:
        return None
    _charge_stay_so_far(session, row.id)
    return _stay_episode(session, site_id, row)


def _visit_episode(session: Session, site_id: int, row: Row) -> Episode:
    vid, mrn, name, poli, day, payer, status = row
    return _episode(session, site_id, "visit", vid, mrn, name, poli, day, payer_of_visit(payer), status == "active")


def _stay_episode(session: Session, site_id: int, row: Row) -> Episode:
    aid, mrn, name, admitted, payer, discharged = row
    day = admitted.astimezone(site_zone(session, site_id)).date()
    return _episode(
        session, site_id, "admission", aid, mrn, name, _ward_of(session, aid), day, payer, discharged is None
    )


def _ward_of(session: Session, admission_id: int) -> str:
    """The ward of the stay's latest bed ("" before it has one)."""
    return (
        session.scalar(
            select(Ward.name)
            .join(Bed, Bed.ward_id == Ward.id)
            .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
            .where(BedOccupancy.admission_id == admission_id)
            .order_by(BedOccupancy.since.desc(), BedOccupancy.id.desc())
            .limit(1)
        )
        or ""
    )


def _episode(
    session: Session,
    site_id: int,
    kind: str,
    episode_id: int,
    mrn: str,
    name: str,
    place: str,
    day: date,
    payer: str,
    is_open: bool,
) -> Episode:
    column = ChargeLine.visit_id if kind == "visit" else ChargeLine.admission_id
    unbilled = int(
        session.scalar(
            select(func.coalesce(func.sum(ChargeLine.amount), 0)).where(
                ChargeLine.site_id == site_id,
                column == episode_id,
                ChargeLine.invoice_id.is_(None),
                ChargeLine.payer != "jkn",
            )
        )
    )
    owner = Invoice.visit_id if kind == "visit" else Invoice.admission_id
    invoices = session.scalars(
        select(Invoice).where(Invoice.site_id == site_id, owner == episode_id).order_by(Invoice.id)
    )
    return Episode(
        kind=kind,
        id=episode_id,
        mrn=mrn,
        name=name,
        place=place,
        day=day,
        payer=payer,
        open=is_open,
        unbilled=unbilled,
        invoices=tuple(_view(i) for i in invoices),
        deposit=deposit_balance(session, episode_id) if kind == "admission" else None,
    )


@dataclass(frozen=True)
class Receipt:
    """What a kuitansi shows: the hospital, the patient (RM and name, never the NIK), the bill, its lines and the
    payments made on it."""

    hospital: str
    mrn: str
    name: str
    invoice: InvoiceView
    lines: tuple[BillLine, ...]
    payments: tuple[tuple[date, str, int, str | None], ...]  # paid on, method, amount, reference


def receipt(session: Session, actor: Actor, invoice_id: int) -> Receipt:
    """The receipt of a bill with something paid on it; printing it is audited."""
    invoice = _invoice(session, actor, invoice_id)
    if invoice.paid <= 0 or invoice.status == "void":
        raise InputError("cash_err_no_payment")
    patient = session.get(Patient, invoice.patient_id) if invoice.patient_id else None
    lines = session.execute(
        select(
            ChargeLine.id,
            ChargeLine.service_date,
            ChargeLine.description,
            ChargeLine.payer,
            ChargeLine.quantity,
            ChargeLine.unit_price,
            ChargeLine.amount,
        )
        .where(ChargeLine.invoice_id == invoice.id)
        .order_by(ChargeLine.service_date, ChargeLine.id)
    ).all()
    payments = session.execute(
        select(Payment.paid_on, Payment.method, Payment.amount, Payment.reference)
        .where(Payment.invoice_id == invoice.id, Payment.kind == "payment")
        .order_by(Payment.id)
    ).all()
    record_by(
        session,
        actor,
        "receipt_printed",
        target_type="invoice",
        target_id=invoice.id,
        detail={"number": invoice.number},
    )
    return Receipt(
        hospital=session.scalar(select(Site.name).where(Site.id == invoice.site_id)),
        mrn=patient.mrn if patient else "",
        name=patient.name if patient else "",
        invoice=_view(invoice),
        lines=tuple(BillLine(*row) for row in lines),
        payments=tuple(tuple(row) for row in payments),
    )
