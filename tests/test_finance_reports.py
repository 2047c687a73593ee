"""The finance reports (data/finance_reports.py) against figures worked out by hand from a small dataset, on both
backends. The dataset lives on a site of its own, so the demo seed's rows never count."""

from __future__ import annotations

from datetime import date

import pytest

from data.charges import NewCharge, add_charge_lines
from data.finance_reports import build_report, drill, filter_choices, period_bounds
from data.models import Doctor, FinanceTarget, Patient, Payment, Poli, Site, Ward
from domain.finance import ReportFilter

TODAY = date(2026, 4, 15)
MARCH = ReportFilter(date(2026, 3, 1), date(2026, 3, 31))


def _charge(n: int, day: date, unit: str, payer: str, price: int, qty: int = 1, **links) -> NewCharge:
    return NewCharge(day, unit, payer, f"T{n}", f"Layanan {n}", f"src-{n}", price, qty, **links)


@pytest.fixture
def data(any_app):
    """Poli Anak, ward Melati, dr. Budi, patient RM001; the lines, payments and targets below."""
    with any_app.runtime.db.session() as s:
        site = Site(code="FIN-TEST", name="RS Uji")
        s.add(site)
        s.flush()
        poli = Poli(site_id=site.id, code="ANA", name="Poli Anak", queue_prefix="A")
        ward = Ward(site_id=site.id, code="MEL", name="Melati")
        s.add_all([poli, ward])
        s.flush()
        doctor = Doctor(site_id=site.id, name="dr. Budi", poli_id=poli.id)
        patient = Patient(site_id=site.id, mrn="RM001", name="Ani", birth_date=date(1990, 1, 1), sex="P")
        s.add_all([doctor, patient])
        s.flush()
        ids = {"site": site.id, "poli": poli.id, "ward": ward.id, "doctor": doctor.id, "patient": patient.id}
        add_charge_lines(
            s,
            site.id,
            [
                # March 2026: 100,000 + 20,000 + 600,000 + 0 (unpriced) = 720,000 in 4 lines
                _charge(
                    1,
                    date(2026, 3, 2),
                    "rawat_jalan",
                    "jkn",
                    100_000,
                    poli_id=poli.id,
                    doctor_id=doctor.id,
                    patient_id=patient.id,
                ),
                _charge(2, date(2026, 3, 2), "farmasi", "umum", 5_000, 4, poli_id=poli.id),
                _charge(3, date(2026, 3, 10), "rawat_inap", "jkn", 300_000, 2, ward_id=ward.id, doctor_id=doctor.id),
                NewCharge(date(2026, 3, 10), "penunjang", "asuransi", "LAB9", "LAB9", "src-4", 0, priced=False),
                _charge(5, date(2026, 2, 15), "rawat_jalan", "jkn", 50_000, poli_id=poli.id),  # February
                _charge(6, date(2025, 3, 20), "rawat_jalan", "umum", 80_000),  # March 2025
                _charge(7, date(2026, 4, 1), "rawat_jalan", "umum", 999_000),  # outside March
            ],
        )
        s.add_all(
            [
                Payment(
                    site_id=site.id,
                    kind="payment",
                    method="tunai",
                    payer="umum",
                    amount=20_000,
                    paid_on=date(2026, 3, 2),
                ),
                Payment(
                    site_id=site.id,
                    kind="deposit",
                    method="transfer",
                    payer="umum",
                    amount=500_000,
                    paid_on=date(2026, 3, 10),
                ),
                Payment(
                    site_id=site.id,
                    kind="refund",
                    method="tunai",
                    payer="umum",
                    amount=100_000,
                    paid_on=date(2026, 3, 11),
                ),
                Payment(
                    site_id=site.id,
                    kind="payment",
                    method="tunai",
                    payer="umum",
                    amount=1_000,
                    paid_on=date(2026, 2, 28),
                ),
                FinanceTarget(site_id=site.id, month=date(2026, 2, 1), metric="revenue", unit="", amount=2_800_000),
                FinanceTarget(site_id=site.id, month=date(2026, 3, 1), metric="revenue", unit="", amount=3_100_000),
            ]
        )
    return any_app, ids


def _table(report, key):
    return next(table for table in report.tables if table.key == key)


def _kpi(report, key):
    return next(kpi for kpi in report.kpis if kpi.key == key)


def test_revenue_report_and_lines(data):
    pantau, ids = data
    site = ids["site"]
    with pantau.runtime.db.session() as s:
        report = build_report(s, site, "revenue", MARCH, today=TODAY)
        revenue = _kpi(report, "revenue")
        # 720,000 in March; February 50,000; March 2025 80,000; target 3,100,000 (all of March)
        assert (revenue.value, revenue.previous, revenue.last_year, revenue.target) == (720_000, 50_000, 80_000,
                                                                                        3_100_000)  # fmt: skip
        assert _kpi(report, "received").value == 20_000 + 500_000 - 100_000
        assert _kpi(report, "lines").value == 4
        assert _kpi(report, "unpriced").value == 1
        by_day = _table(report, "by_day")
        assert len(by_day.rows) == 31
        assert by_day.rows[1] == (date(2026, 3, 2), 120_000, 20_000)
        assert by_day.rows[9] == (date(2026, 3, 10), 600_000, 500_000)
        assert by_day.rows[10] == (date(2026, 3, 11), 0, -100_000)
        assert by_day.total == (None, 720_000, 420_000)
        assert by_day.row_keys[1] == {"day": "2026-03-02"}
        # unit shares of 720,000: 600/720 = 83.33 %, 100/720 = 13.89 %, 20/720 = 2.78 %, 0
        by_unit = _table(report, "by_unit")
        assert [row[:2] for row in by_unit.rows] == [("rawat_inap", 600_000), ("rawat_jalan", 100_000),
                                                     ("farmasi", 20_000), ("penunjang", 0)]  # fmt: skip
        assert by_unit.rows[0][2] == pytest.approx(83.3333, abs=1e-3)
        assert by_unit.rows[2][2] == pytest.approx(2.7778, abs=1e-3)
        assert by_unit.total == (None, 720_000, 100.0)
        by_payer = _table(report, "by_payer")  # JKN 700,000 = 97.22 %, umum 20,000, asuransi 0
        assert [row[:2] for row in by_payer.rows] == [("jkn", 700_000), ("umum", 20_000), ("asuransi", 0)]
        assert by_payer.rows[0][2] == pytest.approx(97.2222, abs=1e-3)
        assert by_payer.row_keys[0] == {"payer": "jkn"}
        assert _table(report, "by_poli").rows == (("Poli Anak", 120_000, 2),)
        assert _table(report, "by_ward").rows == (("Melati", 600_000, 1),)
        by_doctor = _table(report, "by_doctor")
        assert by_doctor.rows == (("dr. Budi", 700_000, 2),)
        assert by_doctor.row_keys == ({"doctor_id": ids["doctor"]},)

        # one unit: its revenue, no received money (payments have no unit), no site-wide target
        outpatient = build_report(s, site, "revenue", ReportFilter(MARCH.start, MARCH.end, unit="rawat_jalan"),
                                  today=TODAY)  # fmt: skip
        revenue = _kpi(outpatient, "revenue")
        assert (revenue.value, revenue.previous, revenue.last_year, revenue.target) == (100_000, 50_000, 80_000, None)
        assert _kpi(outpatient, "received").value is None
        # targets pro-rated: 1–10 March = 3,100,000 × 10/31; 25 Feb–5 Mar = 2,800,000 × 4/28 + 3,100,000 × 5/31
        ten_days = build_report(s, site, "revenue", ReportFilter(date(2026, 3, 1), date(2026, 3, 10)), today=TODAY)
        assert _kpi(ten_days, "revenue").target == 1_000_000
        across = build_report(s, site, "revenue", ReportFilter(date(2026, 2, 25), date(2026, 3, 5)), today=TODAY)
        assert _kpi(across, "revenue").target == 400_000 + 500_000

        lines = drill(s, site, MARCH, "revenue_lines", {}, offset=0, limit=10, sort="amount", descending=True)
        assert lines.count == 4
        assert [row[10] for row in lines.rows] == [600_000, 100_000, 20_000, 0]
        assert lines.rows[1][11] == "RM001" and lines.rows[0][11] == ""
        assert lines.rows[1][3:6] == ("Poli Anak", None, "dr. Budi")
        second = drill(s, site, MARCH, "revenue_lines", {}, offset=1, limit=2, sort="amount")
        assert (second.count, [row[10] for row in second.rows]) == (4, [20_000, 100_000])
        one_day = drill(s, site, MARCH, "revenue_lines", {"day": "2026-03-02"}, offset=0, limit=10)
        assert one_day.count == 2
        poli = drill(s, site, MARCH, "revenue_lines", {"poli_id": ids["poli"]}, offset=0, limit=1, sort="code")
        assert (poli.count, poli.rows[0][6]) == (2, "T1")

        assert filter_choices(s, site) == {
            "polis": [(ids["poli"], "Poli Anak")],
            "wards": [(ids["ward"], "Melati")],
            "doctors": [(ids["doctor"], "dr. Budi")],
        }
        assert period_bounds(s, site) == (date(2025, 3, 20), date(2026, 4, 1))
