"""The finance reports (data/finance_reports.py) against figures worked out by hand from a small dataset, on both
backends. The dataset lives on a site of its own, so the demo seed's rows never count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from data.charges import NewCharge, add_charge_lines
from data.finance_reports import build_report, drill, filter_choices, period_bounds
from data.models import (
    Admission,
    BpjsClaim,
    Doctor,
    FinanceTarget,
    Invoice,
    Patient,
    Payment,
    Poli,
    Site,
    Ward,
    WardCensus,
)
from data.schedules import local_today
from domain.finance import ReportFilter

TODAY = date(2026, 4, 15)
MARCH = ReportFilter(date(2026, 3, 1), date(2026, 3, 31))


def _charge(n: int, day: date, unit: str, payer: str, price: int, qty: int = 1, **links) -> NewCharge:
    return NewCharge(day, unit, payer, f"T{n}", f"Layanan {n}", f"src-{n}", price, qty, **links)


def sep(n: int) -> str:
    return f"0301R001{n:011d}"


def _claim(site_id: int, n: int, episode: str, end: date, status: str, hospital: int, **fields) -> BpjsClaim:
    return BpjsClaim(site_id=site_id, sep_number=sep(n), episode=episode, service_start=end, service_end=end,
                     status=status, hospital_tariff=hospital, **fields)  # fmt: skip


def _invoice(site_id: int, n: int, payer: str, issued: date, total: int, paid: int = 0, status: str = "open"):
    return Invoice(site_id=site_id, number=f"INV-{n}", payer=payer, issued_on=issued, due_on=issued, total=total,
                   paid=paid, status=status)  # fmt: skip


def _census(ward_id: int, first: date, days: int, beds: int, occupied: int, moves: dict[int, tuple]) -> list:
    """``days`` census rows from ``first``; ``moves[day of month]`` = (discharged alive, deaths, los_days,
    deaths_48h)."""
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        alive, deaths, los, late = moves.get(day.day, (0, 0, 0, 0))
        rows.append(WardCensus(ward_id=ward_id, day=day, beds=beds, occupied=occupied, available=beds - occupied,
                               cleaning=0, out_of_service=0, discharges=alive, deaths=deaths, los_days=los,
                               deaths_48h=late))  # fmt: skip
    return rows


@pytest.fixture
def data(any_app):
    """Poli Anak, wards Melati and Anggrek, dr. Budi and dr. Citra, patient RM001; the lines, payments, targets,
    claims, invoices and census below."""
    with any_app.runtime.db.session() as s:
        site = Site(code="FIN-TEST", name="RS Uji")
        s.add(site)
        s.flush()
        poli = Poli(site_id=site.id, code="ANA", name="Poli Anak", queue_prefix="A")
        ward = Ward(site_id=site.id, code="MEL", name="Melati")
        ward2 = Ward(site_id=site.id, code="ANG", name="Anggrek")
        s.add_all([poli, ward, ward2])
        s.flush()
        doctor = Doctor(site_id=site.id, name="dr. Budi", poli_id=poli.id)
        doctor2 = Doctor(site_id=site.id, name="dr. Citra")
        patient = Patient(site_id=site.id, mrn="RM001", name="Ani", birth_date=date(1990, 1, 1), sex="P")
        s.add_all([doctor, doctor2, patient])
        s.flush()
        ids = {"site": site.id, "poli": poli.id, "ward": ward.id, "ward2": ward2.id, "doctor": doctor.id,
               "doctor2": doctor2.id, "patient": patient.id}  # fmt: skip
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
        _claims_and_invoices(s, site.id, ids)
        # Melati: March 10 beds, 8 occupied (248 patient days); discharges alive 3 + 5 + 2, deaths 1 + 1, days of
        # stay 20 + 22 + 8, one death after 48 h. February: 10 beds, 7 occupied, nobody leaves.
        # Anggrek: 1–10 March only, 4 beds, 2 occupied, 2 discharged alive after 6 days of stay in all.
        s.add_all(
            _census(ward.id, date(2026, 3, 1), 31, 10, 8, {5: (3, 1, 20, 1), 15: (5, 1, 22, 0), 25: (2, 0, 8, 0)})
        )
        s.add_all(_census(ward.id, date(2026, 2, 1), 28, 10, 7, {}))
        s.add_all(_census(ward2.id, date(2026, 3, 1), 10, 4, 2, {3: (2, 0, 6, 0)}))
    return any_app, ids


def _claims_and_invoices(s, site_id: int, ids: dict) -> None:
    budi, citra, poli, ward = ids["doctor"], ids["doctor2"], ids["poli"], ids["ward"]
    inpatient = {"ward_id": ward, "episode": "rawat_inap"}
    outpatient = {"poli_id": poli, "episode": "rawat_jalan"}

    def claim(n, where, end, status, hospital, code=None, inacbg=None, submitted=None, approved=None, **more):
        episode = where["episode"]
        place = {k: v for k, v in where.items() if k != "episode"}
        return _claim(site_id, n, episode, end, status, hospital, inacbg_code=code, inacbg_tariff=inacbg,
                      submitted_amount=submitted, approved_amount=approved, **place, **more)  # fmt: skip

    d = date
    s.add_all(
        [
            # March 2026 (service end): six claims
            claim(1, inpatient, d(2026, 3, 5), "paid", 10_000_000, "K-4-17-I", 8_000_000, 8_000_000, 8_000_000,
                  doctor_id=budi, submitted_on=d(2026, 3, 15), verified_on=d(2026, 3, 25), paid_on=d(2026, 4, 5)),
            claim(2, inpatient, d(2026, 3, 10), "eligible", 12_000_000, "K-4-17-II", 13_000_000, 13_000_000,
                  13_000_000, doctor_id=budi, submitted_on=d(2026, 3, 22), verified_on=d(2026, 4, 1)),
            claim(3, outpatient, d(2026, 3, 12), "not_eligible", 500_000, "Q-5-44-0", 300_000, 300_000,
                  doctor_id=citra, submitted_on=d(2026, 3, 16), verified_on=d(2026, 3, 30),
                  status_reason="Diagnosis tidak sesuai"),
            claim(4, outpatient, d(2026, 3, 20), "pending", 400_000, "Q-5-44-0", 300_000, 300_000, doctor_id=budi,
                  submitted_on=d(2026, 3, 30), status_reason="Lengkapi resume medis"),
            claim(5, inpatient, d(2026, 3, 25), "dispute", 9_000_000, "K-4-17-I", 8_000_000, 8_000_000,
                  doctor_id=citra, submitted_on=d(2026, 4, 1), status_reason="Beda kode"),
            claim(6, outpatient, d(2026, 3, 28), "coded", 250_000, doctor_id=budi),
            # November 2025: one near the limit (deadline 10 May 2026), one not yet, one submitted
            claim(7, outpatient, d(2025, 11, 10), "final", 200_000, "Q-5-44-0", 150_000),
            claim(8, outpatient, d(2025, 11, 20), "grouped", 200_000, "Q-5-44-0", 150_000),
            claim(9, outpatient, d(2025, 11, 1), "submitted", 200_000, "Q-5-44-0", 150_000, 150_000,
                  submitted_on=d(2025, 12, 1)),
            # March 2025 (last year) and February 2026 (previous period)
            claim(10, outpatient, d(2025, 3, 15), "paid", 120_000, "Q-5-44-0", 100_000, 100_000, 90_000,
                  submitted_on=d(2025, 3, 20), paid_on=d(2025, 4, 20)),
            claim(11, outpatient, d(2026, 2, 20), "not_eligible", 250_000, "Q-5-44-0", 200_000, 200_000,
                  submitted_on=d(2026, 2, 25)),
            # invoices, ages as of 31 March 2026 in the comments
            _invoice(site_id, 1, "umum", d(2026, 3, 1), 1_000_000, 400_000),  # 30 days: 600,000 in 0-30
            _invoice(site_id, 2, "umum", d(2026, 2, 28), 500_000),  # 31 days: 31-60
            _invoice(site_id, 3, "asuransi", d(2026, 1, 30), 2_000_000),  # 60 days: 31-60
            _invoice(site_id, 4, "asuransi", d(2026, 1, 29), 3_000_000, 1_000_000),  # 61 days: 2,000,000 in 61-90
            _invoice(site_id, 5, "perusahaan", d(2025, 12, 31), 700_000),  # 90 days: 61-90
            _invoice(site_id, 6, "perusahaan", d(2025, 12, 30), 800_000),  # 91 days: >90
            _invoice(site_id, 7, "umum", d(2026, 3, 10), 300_000, 300_000, "paid"),  # paid: not a receivable
            _invoice(site_id, 8, "umum", d(2026, 4, 2), 400_000),  # issued after the as-of day
            _invoice(site_id, 9, "jkn", d(2026, 3, 5), 5_000_000),  # JKN is owed through its claims
        ]
    )  # fmt: skip


def _table(report, key):
    return next(table for table in report.tables if table.key == key)


def _kpi(report, key):
    return next(kpi for kpi in report.kpis if kpi.key == key)


def test_finance_reports(data):
    """Every report and drill-down on one dataset (building it costs more than all the queries)."""
    pantau, ids = data
    with pantau.runtime.db.session() as s:
        _check_revenue(s, ids)
        _check_claims(s, ids)
        _check_margin(s, ids)
        _check_receivables(s, ids)
        _check_beds(s, ids)
        _check_a_running_month(s, ids)


def _check_revenue(s, ids: dict) -> None:
    site = ids["site"]
    report = build_report(s, site, "revenue", MARCH, today=TODAY)
    revenue = _kpi(report, "revenue")
    # 720,000 in March; February 50,000; March 2025 80,000; target 3,100,000 (all of March)
    assert (revenue.value, revenue.previous, revenue.last_year, revenue.target) == (720_000, 50_000, 80_000,
                                                                                    3_100_000)  # fmt: skip
    received = _kpi(report, "received")  # payment + deposit − refund; February: 1,000; March 2025: none
    assert (received.value, received.previous, received.last_year) == (20_000 + 500_000 - 100_000, 1_000, 0)
    lines = _kpi(report, "lines")
    assert (lines.value, lines.previous, lines.last_year) == (4, 1, 1)
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

    lines = drill(s, site, MARCH, "revenue_lines", {}, today=TODAY, offset=0, limit=10, sort="amount", descending=True)
    assert lines.count == 4
    assert [row[10] for row in lines.rows] == [600_000, 100_000, 20_000, 0]
    assert lines.rows[1][11] == "RM001" and lines.rows[0][11] == ""
    assert lines.rows[1][3:6] == ("Poli Anak", None, "dr. Budi")
    second = drill(s, site, MARCH, "revenue_lines", {}, today=TODAY, offset=1, limit=2, sort="amount")
    assert (second.count, [row[10] for row in second.rows]) == (4, [20_000, 100_000])
    one_day = drill(s, site, MARCH, "revenue_lines", {"day": "2026-03-02"}, today=TODAY, offset=0, limit=10)
    assert one_day.count == 2
    poli = drill(s, site, MARCH, "revenue_lines", {"poli_id": ids["poli"]}, today=TODAY, offset=0, limit=1, sort="code")
    assert (poli.count, poli.rows[0][6]) == (2, "T1")

    assert filter_choices(s, site) == {
        "polis": [(ids["poli"], "Poli Anak")],
        "wards": [(ids["ward2"], "Anggrek"), (ids["ward"], "Melati")],
        "doctors": [(ids["doctor"], "dr. Budi"), (ids["doctor2"], "dr. Citra")],
    }
    assert period_bounds(s, site) == (date(2025, 3, 15), date(2026, 4, 1))  # claim 10 … line 7


def _check_claims(s, ids: dict) -> None:
    site = ids["site"]
    report = build_report(s, site, "claims", MARCH, today=TODAY)
    kpis = {kpi.key: kpi for kpi in report.kpis}
    assert [kpi.key for kpi in report.kpis] == ["claims", "submitted_value", "approved_value", "acceptance_rate",
                                                "near_limit", "discharge_to_submission_days",
                                                "submission_to_payment_days"]  # fmt: skip
    # March: claims 1–6; submitted 8 + 13 + 0.3 + 0.3 + 8 = 29.6 M; approved 8 + 13 = 21 M
    assert (kpis["claims"].value, kpis["claims"].previous, kpis["claims"].last_year) == (6, 1, 1)
    assert (kpis["submitted_value"].value, kpis["submitted_value"].previous) == (29_600_000, 200_000)
    assert (kpis["approved_value"].value, kpis["approved_value"].last_year) == (21_000_000, 90_000)
    # accepted (eligible 2 + paid 1) ÷ decided (+ not eligible 3) = 2/3; February 0/1; March 2025 1/1
    rate = kpis["acceptance_rate"]
    assert (rate.value, rate.previous, rate.last_year) == (pytest.approx(66.6667, abs=1e-3), 0.0, 100.0)
    assert kpis["near_limit"].value == 0
    # discharge → submission: 10, 12, 4, 10, 7 days = 8.6; submission → payment: claim 1, 21 days
    lead = kpis["discharge_to_submission_days"]
    assert (lead.value, lead.previous, lead.last_year) == (pytest.approx(8.6), 5.0, 5.0)
    assert (kpis["submission_to_payment_days"].value, kpis["submission_to_payment_days"].last_year) == (21.0, 31.0)
    # value = submitted, or before submission the hospital tariff (claim 6: 250,000)
    by_status = _table(report, "by_status")
    assert by_status.rows == (
        ("coded", 1, 250_000),
        ("eligible", 1, 13_000_000),
        ("pending", 1, 300_000),
        ("not_eligible", 1, 300_000),
        ("dispute", 1, 8_000_000),
        ("paid", 1, 8_000_000),
    )
    assert by_status.total == (None, 6, 29_850_000)
    # days since submission on 15 April: 30 March → 16, 1 April → 14
    assert _table(report, "pending_disputed").rows == ((sep(4), "pending", "Lengkapi resume medis", 16),
                                                       (sep(5), "dispute", "Beda kode", 14))  # fmt: skip
    assert _table(report, "pending_disputed").row_keys == ({"sep": sep(4)}, {"sep": sep(5)})
    # lead times: [4, 7, 10, 10, 12] → median 10, p90 at rank 3.6 = 10 + 0.6 × 2 = 11.2;
    # verification [10, 10, 14] → mean 11.33, median 10, p90 at rank 1.8 = 10 + 0.8 × 4 = 13.2; payment [21]
    lead_times = _table(report, "lead_times").rows
    assert [row[0] for row in lead_times] == ["fin_lead_discharge_submission", "fin_lead_submission_verification",
                                              "fin_lead_submission_payment"]  # fmt: skip
    assert lead_times[0][1:] == (pytest.approx(8.6), 10, pytest.approx(11.2))
    assert lead_times[1][1:] == (pytest.approx(34 / 3), 10, pytest.approx(13.2))
    assert lead_times[2][1:] == (21, 21, 21)

    # November 2025 on 15 April 2026: claim 7 (final, deadline 10 May, 25 days) is near; 8 has 35 days; 9 is in
    november = build_report(s, site, "claims", ReportFilter(date(2025, 11, 1), date(2025, 11, 30)), today=TODAY)
    assert _kpi(november, "near_limit").value == 1
    assert _table(november, "near_limit").rows == ((sep(7), date(2025, 11, 10), date(2026, 5, 10), 25),)

    def count(**narrow) -> int:
        flt = ReportFilter(MARCH.start, MARCH.end, **narrow)
        return _kpi(build_report(s, site, "claims", flt, today=TODAY), "claims").value

    assert count(unit="rawat_jalan") == 3  # claims 3, 4, 6
    assert count(unit="farmasi") == 0
    assert count(payer="umum") == 0  # claims are JKN by nature: an empty report, not an error
    assert count(payer="jkn", doctor_id=ids["doctor2"]) == 2
    assert count(ward_id=ids["ward"]) == 3

    pending = drill(s, site, MARCH, "claims", {"status": "pending"}, today=TODAY, offset=0, limit=10)
    assert (pending.count, pending.rows[0][0], pending.rows[0][9]) == (1, sep(4), "Lengkapi resume medis")
    group = drill(s, site, MARCH, "claims", {"cbg": "K-4-17"}, today=TODAY, offset=0, limit=2, sort="hospital_tariff",
                  descending=True)  # fmt: skip
    assert (group.count, [row[4] for row in group.rows]) == (3, [12_000_000, 10_000_000])
    everything = drill(s, site, MARCH, "claims", {}, today=TODAY, offset=0, limit=10, sort="service_end")
    assert everything.count == 6
    last = everything.rows[-1]  # claim 6, coded: days to its deadline of 28 September 2026; submitted ones: none
    assert (last[0], last[1], last[10]) == (sep(6), "rawat_jalan", (date(2026, 9, 28) - local_today(s, site)).days)
    assert everything.rows[0][10] is None


def _check_margin(s, ids: dict) -> None:
    site = ids["site"]
    report = build_report(s, site, "margin", MARCH, today=TODAY)
    kpis = {kpi.key: (kpi.value, kpi.previous, kpi.last_year) for kpi in report.kpis}
    # claims 1–5 have an INA-CBG tariff: hospital 10 + 12 + 0.5 + 0.4 + 9 = 31.9 M, INA-CBG 29.6 M
    assert kpis == {
        "cases": (5, 1, 1),
        "hospital_tariff": (31_900_000, 250_000, 120_000),
        "inacbg_tariff": (29_600_000, 200_000, 100_000),
        "margin": (-2_300_000, -50_000, -20_000),
    }
    per_cbg = _table(report, "per_cbg")
    # K-4-17 (claims 1, 2, 5): 31 M vs 29 M = −2 M, −6.45 % of the hospital tariff; Q-5-44 (3, 4): −300,000, −33.3 %
    assert [row[:5] for row in per_cbg.rows] == [("K-4-17", 3, 31_000_000, 29_000_000, -2_000_000),
                                                 ("Q-5-44", 2, 900_000, 600_000, -300_000)]  # fmt: skip
    assert per_cbg.rows[0][5] == pytest.approx(-6.4516, abs=1e-3)
    assert per_cbg.rows[1][5] == pytest.approx(-33.3333, abs=1e-3)
    assert per_cbg.total[:5] == (None, 5, 31_900_000, 29_600_000, -2_300_000)
    assert per_cbg.row_keys == ({"cbg": "K-4-17"}, {"cbg": "Q-5-44"})
    per_doctor = _table(report, "per_doctor")
    # dr. Budi: claims 1, 2, 4 = 22.4 M vs 21.3 M; dr. Citra: 3, 5 = 9.5 M vs 8.3 M
    assert [row[:5] for row in per_doctor.rows] == [("dr. Budi", 3, 22_400_000, 21_300_000, -1_100_000),
                                                    ("dr. Citra", 2, 9_500_000, 8_300_000, -1_200_000)]  # fmt: skip
    assert per_doctor.rows[1][5] == pytest.approx(-12.6316, abs=1e-3)
    cases = drill(s, site, MARCH, "claims", per_doctor.row_keys[0], today=TODAY, offset=0, limit=10)
    assert cases.count == 3  # not claim 6, which has no INA-CBG tariff yet


def _check_receivables(s, ids: dict) -> None:
    site = ids["site"]
    report = build_report(s, site, "receivables", MARCH, today=TODAY)
    ageing = _table(report, "ageing")
    assert [column.key for column in ageing.columns] == ["payer", "0-30", "31-60", "61-90", ">90", "total"]
    # JKN: claims 2 (13 M) and 4 (0.3 M) submitted 9 and 1 days before, claim 9 (150,000) 120 days before;
    # claims 3 (not eligible), 1 (paid) and 5 (submitted 1 April) do not count
    assert ageing.rows == (
        ("jkn", 13_300_000, 0, 0, 150_000, 13_450_000),
        ("umum", 600_000, 500_000, 0, 0, 1_100_000),
        ("asuransi", 0, 2_000_000, 2_000_000, 0, 4_000_000),
        ("perusahaan", 0, 0, 700_000, 800_000, 1_500_000),
    )
    assert ageing.total == (None, 13_900_000, 2_500_000, 2_700_000, 950_000, 20_050_000)
    outstanding = _kpi(report, "outstanding")
    # as of 28 February: invoices 2–6 (6 M) and claim 9; as of 31 March 2025: nothing
    assert (outstanding.value, outstanding.previous, outstanding.last_year) == (20_050_000, 6_150_000, 0)
    # revenue 1 January–31 March = 720,000 + 50,000 → 770,000 / 90 a day
    # previous: 6,150,000 owed on 28 February, 50,000 earned 1 December–28 February; last year: nothing owed
    days = _kpi(report, "days_in_ar")
    assert (days.value, days.previous, days.last_year) == (pytest.approx(20_050_000 * 90 / 770_000),
                                                           pytest.approx(6_150_000 * 90 / 50_000), 0.0)  # fmt: skip

    one = drill(
        s, site, MARCH, "receivables", {"payer": "asuransi", "bucket": "31-60"}, today=TODAY, offset=0, limit=10
    )
    assert one.count == 1
    assert one.rows[0] == ("INV-3", "asuransi", date(2026, 1, 30), 60, 2_000_000, 0, 2_000_000)
    young = drill(s, site, MARCH, "receivables", {"bucket": "0-30"}, today=TODAY, offset=0, limit=10, sort="age_days")
    assert [row[0] for row in young.rows] == [sep(4), sep(2), "INV-1"]  # 1, 9 and 30 days
    everything = drill(
        s, site, MARCH, "receivables", {}, today=TODAY, offset=1, limit=2, sort="outstanding", descending=True
    )
    assert everything.count == 9  # invoices 1–6, claims 2, 4, 9
    assert [row[6] for row in everything.rows] == [2_000_000, 2_000_000]


def _check_beds(s, ids: dict) -> None:
    site = ids["site"]
    report = build_report(s, site, "beds", MARCH, today=TODAY)
    kpis = {kpi.key: kpi for kpi in report.kpis}
    # hospital, March: bed-days 310 + 40 = 350, patient days 248 + 20 = 268, discharges 12 + 2 = 14, days of stay
    # 50 + 6 = 56, deaths 2, after 48 h 1 → BOR 76.57 %, AvLOS 4, TOI 82/14, BTO 14 ÷ (350/31), NDR 71.4, GDR 142.9
    assert kpis["bor"].value == pytest.approx(268 / 350 * 100)
    assert kpis["avlos"].value == pytest.approx(4.0)
    assert kpis["toi"].value == pytest.approx(82 / 14)
    assert kpis["bto"].value == pytest.approx(1.24)
    assert kpis["ndr"].value == pytest.approx(1000 / 14)
    assert kpis["gdr"].value == pytest.approx(2000 / 14)
    assert (kpis["bor"].previous, kpis["avlos"].previous, kpis["bor"].last_year) == (70.0, None, None)
    assert [kpi.kind for kpi in report.kpis] == ["percent", "days", "days", "times", "permille", "permille"]
    # Melati, March: BOR 248/310 = 80 %, AvLOS 50/12, TOI 62/12, BTO 1.2, NDR 1/12, GDR 2/12 (‰)
    rows = _table(report, "by_ward_month").rows
    assert rows[0] == ("Anggrek", date(2026, 3, 1), 4.0, 20, 2, 50.0, 3.0, 10.0, 0.5, 0.0, 0.0)
    assert rows[1][:6] == ("Melati", date(2026, 3, 1), 10.0, 248, 12, 80.0)
    assert rows[1][6:] == pytest.approx((50 / 12, 62 / 12, 1.2, 1000 / 12, 2000 / 12))
    chart = _table(report, "barber_johnson")
    assert chart.rows[0] == ("Anggrek", 10.0, 3.0, 50.0, 0.5)
    assert chart.rows[1][0] == "Melati" and chart.rows[1][1:] == pytest.approx((62 / 12, 50 / 12, 80.0, 1.2))
    assert chart.total[0] is None and chart.total[1:] == pytest.approx((82 / 14, 4.0, 268 / 350 * 100, 1.24))

    two_months = build_report(s, site, "beds", ReportFilter(date(2026, 2, 1), date(2026, 3, 31)), today=TODAY)
    months = [(row[0], row[1], row[5]) for row in _table(two_months, "by_ward_month").rows]
    assert months == [("Anggrek", date(2026, 3, 1), 50.0), ("Melati", date(2026, 2, 1), 70.0),
                      ("Melati", date(2026, 3, 1), 80.0)]  # fmt: skip
    anggrek = build_report(s, site, "beds", ReportFilter(MARCH.start, MARCH.end, ward_id=ids["ward2"]), today=TODAY)
    assert _kpi(anggrek, "bor").value == 50.0


def test_a_report_records_the_midnight_census_up_to_yesterday_first(any_app):
    """Room and care revenue and the bed indicators come from the midnight census, which nothing else records on
    a day nobody opens the bed board: the demo's stays are in their beds, and no census has been taken."""
    with any_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id)
        yesterday = today - timedelta(days=1)
        assert s.scalar(select(func.count()).select_from(Admission).where(Admission.site_id == site_id))
        recorded = select(func.count()).select_from(WardCensus).where(WardCensus.day == yesterday)
        assert s.scalar(recorded) == 0
        build_report(s, site_id, "beds", ReportFilter(yesterday, yesterday), today=today)
        wards = s.scalar(select(func.count()).select_from(Ward).where(Ward.site_id == site_id))
        assert s.scalar(recorded) == wards


def _check_a_running_month(s, ids: dict) -> None:
    """March seen on 10 March: its comparisons and target cover 1–10 March, and the ages count to the 10th."""
    site, tenth = ids["site"], date(2026, 3, 10)
    revenue = _kpi(build_report(s, site, "revenue", MARCH, today=tenth), "revenue")
    # February's 50,000 came on the 15th and March 2025's 80,000 on the 20th: neither within the first ten days;
    # the target is ten of March's 31 days of 3,100,000
    assert (revenue.previous, revenue.last_year, revenue.target) == (0, 0, 1_000_000)
    by_day = _table(build_report(s, site, "revenue", MARCH, today=tenth), "by_day")
    assert [row[0] for row in by_day.rows] == [date(2026, 3, n) for n in range(1, 11)]  # no zeros for days to come
    ageing = _table(build_report(s, site, "receivables", MARCH, today=tenth), "ageing")
    # invoices 1 and 2 are 9 and 10 days old, 3 and 4 39 and 40, 5 and 6 69 and 70; invoice 8 and claims 2, 4 and
    # 5 come later; claim 9 is 99 days old
    assert ageing.rows == (
        ("jkn", 0, 0, 0, 150_000, 150_000),
        ("umum", 1_100_000, 0, 0, 0, 1_100_000),
        ("asuransi", 0, 4_000_000, 0, 0, 4_000_000),
        ("perusahaan", 0, 0, 1_500_000, 0, 1_500_000),
    )
    young = drill(s, site, MARCH, "receivables", {"bucket": "0-30"}, today=tenth, offset=0, limit=10, sort="age_days")
    assert [(row[0], row[3]) for row in young.rows] == [("INV-1", 9), ("INV-2", 10)]
