"""The tariff master (domain/tariff_rules.py, data/tariffs.py): Rupiah parsing, field rules, overlaps, ending."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from data.charges import add_charge_lines, price_of, priced_charge
from data.models import AuditLog, Tariff
from data.tariffs import (
    DEMO_TARIFFS,
    create_tariff,
    end_tariff,
    procedure_choices,
    seed_demo_tariffs,
    tariff_list,
    update_tariff,
)
from domain.errors import FieldErrors, InputError
from domain.tariff_rules import check_tariff, overlaps, parse_rupiah
from testkit.front_desk import desk_actor


def _form(**changes: str) -> dict[str, str]:
    form = {
        "code": "tst-lab",
        "name": "Tes laboratorium",
        "unit": "penunjang",
        "care_class": "",
        "payer": "",
        "amount": "Rp 85.000",
        "valid_from": "2026-01-01",
        "valid_until": "",
    }
    return {**form, **changes}


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("150.000", 150_000), ("150000", 150_000), ("Rp 150.000", 150_000), ("Rp150.000", 150_000),
     ("rp. 1.250.000", 1_250_000), (" 0 ", 0), ("7.500", 7_500), ("Rp 1,250,000", 1_250_000), ("7,500", 7_500)],
)  # fmt: skip
def test_rupiah_is_read_the_indonesian_and_the_english_way(typed, amount):
    assert parse_rupiah(typed) == amount


@pytest.mark.parametrize(
    ("typed", "key"),
    [("150.000,50", "tar_err_amount_decimal"), ("150,5", "tar_err_amount_decimal"), ("1.5", "tar_err_amount_decimal"),
     ("1,50", "tar_err_amount_decimal"), ("1,000.50", "tar_err_amount_decimal"),
     ("-5000", "tar_err_amount_negative"), ("Rp -5.000", "tar_err_amount_negative"),
     ("15.00.000", "tar_err_amount_format"), ("1.5000", "tar_err_amount_format"),
     ("seratus", "tar_err_amount_format"), ("", "tar_err_amount_required"),
     ("99.000.000.000", "tar_err_amount_high")],
)  # fmt: skip
def test_decimals_negatives_and_garbage_are_refused(typed, key):
    with pytest.raises(InputError) as caught:
        parse_rupiah(typed)
    assert caught.value.key == key


def test_every_wrong_field_is_named_at_once():
    with pytest.raises(FieldErrors) as caught:
        check_tariff(_form(code="x", name=" ", unit="kantin", care_class="5", payer="bank", amount="1,5",
                           valid_from="2026-03-01", valid_until="2026-02-01"))  # fmt: skip
    assert {f: e.key for f, e in caught.value.errors.items()} == {
        "code": "tar_err_code",
        "name": "tar_err_name_required",
        "unit": "tar_err_unit",
        "care_class": "tar_err_class",
        "payer": "tar_err_payer",
        "amount": "tar_err_amount_decimal",
        "valid_until": "tar_err_until_before_from",
    }
    value = check_tariff(_form(care_class="VIP", payer="jkn"))
    assert (value.code, value.amount, value.care_class, value.payer, value.valid_until) == (
        "TST-LAB",
        85_000,
        "VIP",
        "jkn",
        None,
    )


def test_periods_overlap_inclusively():
    jan, feb, mar = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    assert overlaps(jan, feb, feb, None)  # sharing 1 February
    assert not overlaps(jan, date(2026, 1, 31), feb, None)
    assert overlaps(mar, None, jan, None)
    assert not overlaps(mar, None, jan, date(2026, 2, 28))


def test_an_overlapping_row_is_refused_with_the_existing_dates(any_app):
    with any_app.runtime.db.session() as s:
        actor = desk_actor(s)
        first = create_tariff(s, actor, _form())
        with pytest.raises(FieldErrors) as caught:
            create_tariff(s, actor, _form(valid_from="2026-06-01", amount="95.000"))
        assert caught.value.errors["valid_from"].key == "tar_err_overlap"
        assert caught.value.errors["valid_from"].params == {"start": "01-01-2026", "end": "…"}
        create_tariff(s, actor, _form(care_class="VIP", valid_from="2026-06-01", amount="120.000"))  # another class
        end_tariff(s, actor, first.id, date(2026, 5, 31))
        create_tariff(s, actor, _form(valid_from="2026-06-01", amount="95.000"))
        assert price_of(s, actor.site_id, "TST-LAB", date(2026, 5, 31), care_class="3").amount == 85_000
        assert price_of(s, actor.site_id, "TST-LAB", date(2026, 6, 1), care_class="3").amount == 95_000
        assert price_of(s, actor.site_id, "TST-LAB", date(2026, 6, 1), care_class="VIP").amount == 120_000
        actions = s.scalars(select(AuditLog.action).where(AuditLog.target_type == "tariff").order_by(AuditLog.id)).all()
        assert actions[-4:] == ["tariff_create", "tariff_create", "tariff_end", "tariff_create"]


def test_a_tariff_that_priced_a_line_keeps_its_amount_and_cannot_end_before_it(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        row = create_tariff(s, actor, _form())
        update_tariff(s, actor, row.id, _form(amount="90.000", name="Tes lab baru"))  # not used yet: fine
        assert (row.amount, row.name) == (90_000, "Tes lab baru")
        line = priced_charge(s, actor.site_id, "TST-LAB", day=date(2026, 3, 10), payer="umum", source_id="t:1")
        add_charge_lines(s, actor.site_id, [line])
        with pytest.raises(FieldErrors) as caught:
            update_tariff(s, actor, row.id, _form(amount="100.000", valid_from="2026-02-01", valid_until="2026-03-01"))
        assert {f: e.key for f, e in caught.value.errors.items()} == {
            "amount": "tar_err_amount_used",
            "valid_from": "tar_err_from_used",
            "valid_until": "tar_err_until_used",
        }
        with pytest.raises(FieldErrors):
            end_tariff(s, actor, row.id, date(2026, 3, 9))
        end_tariff(s, actor, row.id, date(2026, 3, 10))
        assert row.valid_until == date(2026, 3, 10)
        with pytest.raises(InputError) as again:
            end_tariff(s, actor, row.id, date(2026, 3, 20))
        assert again.value.key == "tar_err_already_ended"
        update_tariff(s, actor, row.id, _form(amount="90.000", name="Darah lengkap", valid_until="2026-03-10"))
        assert row.name == "Darah lengkap"


def test_the_list_filters_and_the_procedure_picker(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        site = actor.site_id
        s.query(Tariff).filter(Tariff.site_id == site).delete()
        create_tariff(s, actor, _form())
        create_tariff(s, actor, _form(care_class="VIP", amount="120.000"))
        create_tariff(s, actor, _form(code="TST-OLD", name="Lama", valid_until="2026-01-31"))
        create_tariff(s, actor, _form(code="TST-OBAT", name="Obat", unit="farmasi"))
        create_tariff(s, actor, _form(code="RI-KAMAR", name="Kamar", unit="rawat_inap"))
        on = date(2026, 2, 1)
        assert [r.code for r in tariff_list(s, site, at=on)] == ["RI-KAMAR", "TST-LAB", "TST-LAB", "TST-OBAT"]
        assert [r.code for r in tariff_list(s, site, unit="penunjang")] == ["TST-LAB", "TST-LAB", "TST-OLD"]
        assert [(c.code, c.name) for c in procedure_choices(s, site, on)] == [("TST-LAB", "Tes laboratorium")]


def test_a_tariff_ending_on_the_sites_day_is_still_open_when_the_server_is_a_day_behind(sqlite_app, monkeypatch):
    monkeypatch.setattr("data.schedules.utcnow", lambda: datetime(2026, 3, 9, 17, 30, tzinfo=UTC))  # 10/3, 00:30 WIB
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        s.query(Tariff).filter(Tariff.site_id == actor.site_id).delete()
        create_tariff(s, actor, _form(valid_until="2026-03-10"))
        create_tariff(s, actor, _form(code="TST-OLD", valid_until="2026-03-09"))
        assert [(r.code, r.active) for r in tariff_list(s, actor.site_id)] == [("TST-LAB", True), ("TST-OLD", False)]


def test_the_demo_tariffs_seed_once(sqlite_app):
    with sqlite_app.runtime.db.session() as s:
        actor = desk_actor(s)
        s.query(Tariff).filter(Tariff.site_id == actor.site_id).delete()
        assert seed_demo_tariffs(s, actor, actor.site_id, date(2026, 1, 1)) == len(DEMO_TARIFFS)
        assert seed_demo_tariffs(s, actor, actor.site_id, date(2026, 1, 1)) == 0
        count = s.scalar(select(func.count()).select_from(Tariff).where(Tariff.site_id == actor.site_id))
        assert count == len(DEMO_TARIFFS)
        room = price_of(s, actor.site_id, "RI-KAMAR", date(2026, 4, 1), care_class="VIP", payer="jkn")
        assert (room.amount, room.unit) == (750_000, "rawat_inap")
        assert price_of(s, actor.site_id, "ADM-DAFTAR", date(2026, 4, 1)).amount == 35_000
