"""Procedures charged at the counter or bed (data/procedures.py): once per form, reversed once, priced for the
episode's class and payer, filed under its unit, ward or poli."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from data.charges import NewCharge, add_charge_lines, price_of
from data.models import Admission, AuditLog, ChargeDaily, ChargeLine, Tariff
from data.procedures import (
    charge_procedure,
    episode,
    find_episodes,
    procedure_lines,
    reverse_procedure,
    ticket_visit,
)
from data.schedules import local_today
from data.tariffs import create_tariff
from domain.errors import FieldErrors, InputError
from testkit.front_desk import desk_actor, register_waiting

DAY = date(2026, 3, 2)


def _tariff(s, actor, code, unit, amount, care_class=""):
    form = {"code": code, "name": f"Layanan {code}", "unit": unit, "care_class": care_class, "payer": "",
            "amount": str(amount), "valid_from": "2026-01-01", "valid_until": ""}  # fmt: skip
    create_tariff(s, actor, form)


def test_a_stay_is_charged_once_per_form_and_reversed_once(any_app):
    with any_app.runtime.db.session() as s:
        actor = desk_actor(s)
        stay = s.scalar(select(Admission).where(Admission.discharged_at.is_(None)).order_by(Admission.id).limit(1))
        stay.payer = "asuransi"
        chosen = episode(s, actor.site_id, admission_id=stay.id)
        _tariff(s, actor, "TST-INFUS", "rawat_inap", 55_000)
        _tariff(s, actor, "TST-INFUS", "rawat_inap", 80_000, care_class=chosen.care_class)  # the bed's class wins
        form = {"code": "TST-INFUS", "quantity": "2", "doctor_id": None, "day": DAY, "admission_id": stay.id}
        assert charge_procedure(s, actor, token="form-token-1", **form) is True
        assert charge_procedure(s, actor, token="form-token-1", **form) is False  # a double click
        [line] = procedure_lines(s, actor.site_id, chosen)
        assert (line.quantity, line.unit_price, line.amount, line.reversed) == (2, 80_000, 160_000, False)
        row = s.get(ChargeLine, line.id)
        assert (row.unit, row.payer, row.ward_id, row.poli_id, row.admission_id, row.source_id) == (
            "rawat_inap",
            "asuransi",
            chosen.ward_id,
            None,
            stay.id,
            "proc:form-token-1",
        )
        assert chosen.ward_id is not None
        with pytest.raises(FieldErrors) as no_reason:
            reverse_procedure(s, actor, line.id, "  ")
        assert no_reason.value.errors["reason"].key == "proc_err_reason"
        reverse_procedure(s, actor, line.id, "Salah input")
        with pytest.raises(InputError) as twice:
            reverse_procedure(s, actor, line.id, "Salah input lagi")
        assert twice.value.key == "proc_err_already_reversed"
        assert [x.reversed for x in procedure_lines(s, actor.site_id, chosen)] == [True]
        net = s.scalar(
            select(ChargeDaily.amount).where(
                ChargeDaily.site_id == actor.site_id, ChargeDaily.service_date == DAY, ChargeDaily.payer == "asuransi",
                ChargeDaily.ward_id == chosen.ward_id,
            )
        )  # fmt: skip
        assert net == 0  # 160.000 charged, 160.000 reversed on the same day
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_type == "charge_line")).all()
        assert actions == ["procedure_charge", "procedure_reverse"]


def test_a_visit_is_charged_to_its_poli_and_payer_and_only_procedure_lines_reverse(sqlite_app):
    registration = register_waiting(sqlite_app, "Pasien Tindakan", poli="UMU")
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        visit_id = registration.visit_id
        s.query(Tariff).filter(Tariff.code == "TST-NEBU").delete()
        _tariff(s, actor, "TST-NEBU", "rawat_jalan", 65_000)
        chosen = episode(s, actor.site_id, visit_id=visit_id)
        with pytest.raises(FieldErrors) as wrong:
            charge_procedure(s, actor, token="form-token-2", code="", quantity="0", doctor_id="999999", day=DAY,
                             visit_id=visit_id)  # fmt: skip
        assert {f: e.key for f, e in wrong.value.errors.items()} == {
            "code": "proc_err_code", "quantity": "proc_err_quantity", "doctor": "proc_err_doctor"
        }  # fmt: skip
        with pytest.raises(FieldErrors) as unpriced:
            charge_procedure(s, actor, token="form-token-3", code="TST-NONE", quantity="1", doctor_id="", day=DAY,
                             visit_id=visit_id)  # fmt: skip
        assert unpriced.value.errors["code"].key == "proc_err_no_tariff"
        charge_procedure(s, actor, token="form-token-2", code="TST-NEBU", quantity="1", doctor_id="", day=DAY,
                         visit_id=visit_id)  # fmt: skip
        row = s.scalar(select(ChargeLine).where(ChargeLine.source_id == "proc:form-token-2"))
        assert (row.unit, row.payer, row.poli_id, row.ward_id, row.amount) == (
            "rawat_jalan",
            "umum",
            chosen.poli_id,
            None,
            65_000,
        )
        assert ticket_visit(s, actor.site_id, registration.ticket_id) == visit_id  # the counter's link
        mrn_hits = find_episodes(s, actor, chosen.mrn.lower(), local_today(s, actor.site_id))
        assert [e.visit_id for e in mrn_hits] == [visit_id]
        search = s.scalars(select(AuditLog).where(AuditLog.action == "patient_search")).all()[-1]
        assert (search.detail["by"], search.detail["mrns"]) == ("episode", [chosen.mrn])
        assert price_of(s, actor.site_id, "TST-NEBU", DAY).amount == 65_000
        add_charge_lines(s, actor.site_id, [NewCharge(DAY, "farmasi", "umum", "FAR-X", "Obat", "test:1", 5_000)])
        other = s.scalar(select(ChargeLine.id).where(ChargeLine.source_id == "test:1"))
        with pytest.raises(InputError) as refused:
            reverse_procedure(s, actor, other, "bukan tindakan")
        assert refused.value.key == "proc_err_line"
