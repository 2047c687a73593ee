"""The cashier (data/billing.py, domain/billing_rules.py): invoices, payments, deposits, voids, on both backends."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from auth import users
from data import billing
from data.admissions import admit
from data.billing import (
    apply_deposit,
    cashier_lookup,
    create_invoice,
    deposit_balance,
    record_deposit,
    record_payment,
    refund_deposit,
    unbilled_lines,
    void_invoice,
)
from data.charges import NewCharge, add_charge_lines
from data.models import AuditLog, Bed, BedOccupancy, Invoice, Payment, Visit, Ward
from data.schedules import local_today
from domain.actor import Actor
from domain.billing_rules import due_on, invoice_number, parse_rupiah
from domain.errors import FieldErrors, InputError
from domain.formats import Rupiah
from testkit.front_desk import clear_tariffs, register_waiting

DAY = date(2026, 3, 2)


def cashier(session) -> Actor:
    user = users.find_user(session, "keuangan")
    return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def charge(code: str, price: int, payer: str, *, quantity: int = 1, **links) -> NewCharge:
    return NewCharge(DAY, "rawat_jalan", payer, code, f"Layanan {code}", f"test:{code}:{links}", unit_price=price,
                     quantity=quantity, **links)  # fmt: skip


def visit_with_lines(pantau, name: str, lines: list[tuple[str, int, str, int]]) -> tuple[int, str]:
    """A visit registered at the desk with charge lines (code, price, payer, quantity); (visit id, booking code)."""
    clear_tariffs(pantau)
    registration = register_waiting(pantau, name)
    with pantau.runtime.db.session() as s:
        visit = s.get(Visit, registration.visit_id)
        links = {"visit_id": visit.id, "patient_id": visit.patient_id}
        add_charge_lines(s, visit.site_id, [charge(c, p, payer, quantity=q, **links) for c, p, payer, q in lines])
    return registration.visit_id, registration.booking_code


def admission_with_lines(pantau, name: str, amount: int) -> int:
    visit_id, _ = visit_with_lines(pantau, name, [])
    with pantau.runtime.db.session() as s:
        actor = cashier(s)
        visit = s.get(Visit, visit_id)
        bed = s.scalar(
            select(Bed).join(Ward).where(Ward.site_id == actor.site_id, Bed.status == "available", Bed.active)
            .order_by(Bed.id).limit(1)
        )  # fmt: skip
        admission_id = admit(s, actor, patient_id=visit.patient_id, bed_id=bed.id, source="desk").admission_id
        links = {"admission_id": admission_id, "patient_id": visit.patient_id}
        add_charge_lines(s, actor.site_id, [charge("KAMAR", amount, "umum", **links)])
    return admission_id


def test_rules_numbers_due_dates_and_typed_rupiah():
    assert invoice_number(date(2026, 3, 31), 42) == "INV/2026/03/000042"
    assert due_on("umum", DAY) == DAY
    assert due_on("asuransi", DAY) == date(2026, 4, 1)
    assert due_on("jasa_raharja", date(2026, 12, 15)) == date(2027, 1, 14)
    typed = ("150000", "150.000", "Rp 150.000", "1.234.567,00", " 75 000 ", "Rp 1,234,567")
    assert [parse_rupiah(x) for x in typed] == [150_000, 150_000, 150_000, 1_234_567, 75_000, 1_234_567]
    for bad, key in (
        ("", "missing"),
        ("12,5", "format"),
        ("-5000", "format"),
        ("0", "positive"),
        ("1.2.3", "format"),
        ("1,2345", "format"),
        ("1.000,000", "format"),
    ):
        with pytest.raises(InputError) as err:
            parse_rupiah(bad)
        assert err.value.key == f"cash_err_amount_{key}"


def test_invoice_partial_then_full_payment(any_app):
    visit_id, _ = visit_with_lines(any_app, "Bayu Tagihan", [("REG", 25_000, "umum", 1), ("KONS", 75_000, "umum", 2),
                                                             ("LAB", 40_000, "jkn", 1)])  # fmt: skip
    with any_app.runtime.db.session() as s:
        actor = cashier(s)
        first = create_invoice(s, actor, visit_id=visit_id, today=DAY)
        assert (first.total, first.payer, first.due_on, first.number) == (175_000, "umum", DAY, "INV/2026/03/000001")
        # The JKN line stays unbilled: it is claimed, not invoiced.
        assert [(line.payer, line.amount) for line in unbilled_lines(s, actor.site_id, visit_id=visit_id)] == [
            ("jkn", 40_000)
        ]
        with pytest.raises(InputError) as err:
            create_invoice(s, actor, visit_id=visit_id, today=DAY)
        assert err.value.key == "cash_err_jkn"
        with pytest.raises(InputError) as err:
            create_invoice(s, actor, visit_id=visit_id, payer="jkn", today=DAY)
        assert err.value.key == "cash_err_jkn"

        with pytest.raises(FieldErrors) as err:
            record_payment(s, actor, first.id, method="qris", amount="100.000", paid_on=DAY)
        assert set(err.value.errors) == {"reference"}
        with pytest.raises(FieldErrors) as err:
            record_payment(s, actor, first.id, method="tunai", amount="175.001", paid_on=DAY)
        outstanding = err.value.errors["amount"].params["outstanding"]
        assert outstanding == 175_000 and isinstance(outstanding, Rupiah)  # written in the reader's language
        with pytest.raises(FieldErrors) as err:
            record_payment(s, actor, first.id, method="asuransi", amount=1000, paid_on=DAY)
        assert err.value.errors["method"].key == "cash_err_insurer_only"

        part = record_payment(s, actor, first.id, method="qris", amount="100.000", reference="QR-778", paid_on=DAY)
        assert (part.paid, part.outstanding, part.status) == (100_000, 75_000, "open")
        rest = record_payment(s, actor, first.id, method="tunai", amount="75000", paid_on=DAY)
        assert (rest.paid, rest.outstanding, rest.status) == (175_000, 0, "paid")
        with pytest.raises(InputError) as err:
            record_payment(s, actor, first.id, method="tunai", amount=1, paid_on=DAY)
        assert err.value.key == "cash_err_invoice_paid"
        payments = s.execute(select(Payment.method, Payment.amount, Payment.reference).order_by(Payment.id)).all()
        assert payments == [("qris", 100_000, "QR-778"), ("tunai", 75_000, None)]
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_type == "invoice")).all()
        assert actions == ["invoice_created", "payment_recorded", "payment_recorded"]


def test_numbers_run_per_month_and_void_frees_the_lines(any_app):
    a, _ = visit_with_lines(any_app, "Citra Satu", [("REG", 25_000, "umum", 1)])
    b, _ = visit_with_lines(any_app, "Dewi Dua", [("REG", 30_000, "asuransi", 1)])
    with any_app.runtime.db.session() as s:
        actor = cashier(s)
        one = create_invoice(s, actor, visit_id=a, today=DAY)
        with pytest.raises(InputError) as err:  # the desk's registration line (umum) and this one (asuransi)
            create_invoice(s, actor, visit_id=b, today=DAY)
        assert err.value.key == "cash_err_choose_payer"
        two = create_invoice(s, actor, visit_id=b, payer="asuransi", today=DAY)
        assert (one.number, two.number) == ("INV/2026/03/000001", "INV/2026/03/000002")
        assert two.due_on == date(2026, 4, 1)
        with pytest.raises(InputError) as err:
            void_invoice(s, actor, one.id, "   ")
        assert err.value.key == "cash_err_reason"
        voided = void_invoice(s, actor, one.id, "Salah penjamin")
        assert (voided.status, voided.outstanding) == ("void", 0)
        assert sum(line.amount for line in unbilled_lines(s, actor.site_id, visit_id=a)) == 25_000
        again = create_invoice(s, actor, visit_id=a, today=date(2026, 4, 1))
        assert (again.number, again.total) == ("INV/2026/04/000001", 25_000)
        record_payment(s, actor, two.id, method="asuransi", amount=10_000, paid_on=DAY)
        with pytest.raises(InputError) as err:
            void_invoice(s, actor, two.id, "Batal")
        assert err.value.key == "cash_err_void_paid"
        with pytest.raises(InputError) as err:
            create_invoice(s, actor, visit_id=b, payer="asuransi", today=DAY)
        assert err.value.key == "cash_err_nothing_to_bill"
        with pytest.raises(InputError) as err:  # only the unpriced registration line (Rp 0) is left
            create_invoice(s, actor, visit_id=b, payer="umum", today=DAY)
        assert err.value.key == "cash_err_empty"


def test_deposit_pays_the_stay_and_the_rest_is_refunded(any_app):
    admission_id = admission_with_lines(any_app, "Eko Deposit", 450_000)
    with any_app.runtime.db.session() as s:
        actor = cashier(s)
        assert record_deposit(s, actor, admission_id, method="tunai", amount="300.000", paid_on=DAY) == 300_000
        assert record_deposit(s, actor, admission_id, method="transfer", amount=500_000, reference="TRF-1",
                              paid_on=DAY) == 800_000  # fmt: skip
        stay = next(e for e in cashier_lookup(s, actor.site_id, "Eko Deposit", local_today(s, actor.site_id))
                    if e.kind == "admission")  # fmt: skip
        ward = s.scalar(select(Ward.name).join(Bed).join(BedOccupancy).where(BedOccupancy.admission_id == admission_id))
        assert (stay.id, stay.unbilled, stay.deposit, stay.place, stay.open) == (
            admission_id,
            450_000,
            800_000,
            ward,
            True,
        )
        bill = create_invoice(s, actor, admission_id=admission_id, today=DAY)
        with pytest.raises(InputError) as err:
            refund_deposit(s, actor, admission_id, method="tunai", paid_on=DAY)
        assert err.value.key == "cash_err_refund_open_bill"
        paid = apply_deposit(s, actor, bill.id, paid_on=DAY)
        assert (paid.paid, paid.status) == (450_000, "paid")
        assert deposit_balance(s, admission_id) == 350_000
        with pytest.raises(FieldErrors):
            refund_deposit(s, actor, admission_id, method="transfer", paid_on=DAY)  # no reference
        assert refund_deposit(s, actor, admission_id, method="tunai", paid_on=DAY) == 350_000
        assert deposit_balance(s, admission_id) == 0
        with pytest.raises(InputError) as err:
            refund_deposit(s, actor, admission_id, method="tunai", paid_on=DAY)
        assert err.value.key == "cash_err_no_deposit"
        kinds = s.execute(select(Payment.kind, Payment.method, Payment.amount).order_by(Payment.id)).all()
        assert kinds == [("deposit", "tunai", 300_000), ("deposit", "transfer", 500_000),
                         ("payment", "deposit", 450_000), ("refund", "tunai", 350_000)]  # fmt: skip


def test_a_small_deposit_pays_part_of_the_bill(sqlite_app):
    admission_id = admission_with_lines(sqlite_app, "Lina Sebagian", 450_000)
    with sqlite_app.runtime.db.session() as s:
        actor = cashier(s)
        record_deposit(s, actor, admission_id, method="qris", amount="100.000", reference="QR-9", paid_on=DAY)
        bill = create_invoice(s, actor, admission_id=admission_id, today=DAY)
        part = apply_deposit(s, actor, bill.id, paid_on=DAY)
        assert (part.paid, part.outstanding, part.status, deposit_balance(s, admission_id)) == (
            100_000,
            350_000,
            "open",
            0,
        )
        with pytest.raises(InputError) as err:
            apply_deposit(s, actor, bill.id, paid_on=DAY)
        assert err.value.key == "cash_err_no_deposit"
        with pytest.raises(FieldErrors) as err:
            record_deposit(s, actor, admission_id, method="asuransi", amount="-5", paid_on=DAY)
        assert set(err.value.errors) == {"method", "amount"}


def test_lookup_finds_episodes_with_what_is_owed(any_app):
    visit_id, booking = visit_with_lines(any_app, "Fajar Kasir", [("REG", 25_000, "umum", 1), ("LAB", 9_000, "jkn", 1)])
    with any_app.runtime.db.session() as s:
        actor = cashier(s)
        today = s.get(Visit, visit_id).service_date
        by_booking = cashier_lookup(s, actor.site_id, booking.lower(), today, actor=actor)
        by_name = cashier_lookup(s, actor.site_id, "fajar kas", today)
        assert [(e.kind, e.id, e.unbilled) for e in by_booking] == [("visit", visit_id, 25_000)]
        assert [e.id for e in by_name] == [visit_id]
        patient_id = s.get(Visit, visit_id).patient_id
        (search,) = s.scalars(select(AuditLog).where(AuditLog.action == "patient_search")).all()  # the one with actor
        assert (search.detail["by"], search.detail["patient_ids"], search.target_id) == (
            "cashier",
            [patient_id],
            str(patient_id),
        )
        assert cashier_lookup(s, actor.site_id, "fa", today) == []  # too short for a name
        assert cashier_lookup(s, actor.site_id, "%", today) == []


def test_two_cashiers_racing_get_distinct_numbers_and_never_overpay(postgres_app, monkeypatch):
    visits = [
        visit_with_lines(postgres_app, f"Gita {n}", [("REG", 50_000, "umum", 1)])[0]
        for n in ("Ana", "Beti", "Cici", "Dodi")
    ]
    barrier, numbers, errors = threading.Barrier(4), [], []

    def bill(visit_id: int) -> None:
        with postgres_app.runtime.db.session() as s:
            actor = cashier(s)
            barrier.wait()
            numbers.append(create_invoice(s, actor, visit_id=visit_id, today=DAY).number)

    threads = [threading.Thread(target=bill, args=(v,)) for v in visits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == [f"INV/2026/03/00000{n}" for n in range(1, 5)]

    with postgres_app.runtime.db.session() as s:
        invoice_id = s.scalar(select(Invoice.id).where(Invoice.visit_id == visits[0]))
    # Both cashiers have read the bill (Rp 50.000 outstanding) and checked their Rp 30.000 against it before either
    # takes it: only the guarded UPDATE can refuse the second. Without this wait a loaded machine sometimes let the
    # first commit before the second read the bill, which the form's own check then refused (cash_err_overpay).
    both_checked = threading.Barrier(2, timeout=30)
    checked = billing.check_payment

    def check_then_wait(**fields: object) -> tuple:
        outcome = checked(**fields)
        both_checked.wait()
        return outcome

    monkeypatch.setattr(billing, "check_payment", check_then_wait)

    def pay() -> None:
        try:
            with postgres_app.runtime.db.session() as s:
                record_payment(s, cashier(s), invoice_id, method="tunai", amount=30_000, paid_on=DAY)
        except InputError as err:
            errors.append(err.key)

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with postgres_app.runtime.db.session() as s:
        invoice = s.get(Invoice, invoice_id)
        assert (invoice.paid, invoice.status) == (30_000, "open")
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.invoice_id == invoice_id)) == 1
        totals = s.scalars(select(Invoice.total).where(Invoice.visit_id.in_(visits))).all()
        assert totals == [50_000] * 4
    assert errors == ["cash_err_overpay_now"]


SEARCH_CALLBACK = {  # what the browser posts when the cashier searches (callbacks/cashier.search)
    "output": "cash-results.children",
    "outputs": {"id": "cash-results", "property": "children"},
    "inputs": [
        {"id": "cash-search-go", "property": "n_clicks", "value": 1},
        {"id": "cash-search", "property": "n_submit", "value": None},
        *(
            {"id": f"cash-done-{name}", "property": "data", "value": 0}
            for name in ("invoice", "pay", "void", "deposit")
        ),
    ],
    "state": [{"id": "cash-search", "property": "value", "value": "Kasirindo"}],
    "changedPropIds": ["cash-search-go.n_clicks"],
}


def test_only_finance_and_admin_reach_the_cashier(sqlite_app):
    visit_with_lines(sqlite_app, "Indah Kasirindo", [("REG", 25_000, "umum", 1)])
    for role in ("front_desk", "nurse", "doctor", "pharmacy", "manager", "display"):
        client = sqlite_app.login(role)
        assert client.get("/keuangan/kasir").status_code == 403, role
        assert client.post("/_dash-update-component", json=SEARCH_CALLBACK).status_code == 403, role
    for role in ("finance", "admin"):
        client = sqlite_app.login(role)
        assert client.get("/keuangan/kasir").status_code == 200
        response = client.post("/_dash-update-component", json=SEARCH_CALLBACK)
        assert response.status_code == 200
        assert "Indah Kasirindo" in response.get_data(as_text=True)
        assert "Rp 25.000" in response.get_data(as_text=True)
