"""The finance page (/keuangan) and its callbacks answer managers, admins and the finance office only: the other
roles get no page, no report callback and no export, even posting straight to ``/_dash-update-component``."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from sqlalchemy import select

from components.shell import THEME_STORE
from data.charges import NewCharge, add_charge_lines
from data.models import AuditLog, Site
from data.schedules import local_today
from domain.finance import month_period
from tests.test_access_control import router_request

REFUSED = ("front_desk", "nurse", "doctor", "pharmacy", "display")
ALLOWED = ("manager", "finance", "admin")
FILTERS = (
    ("finpg-tabs", "value"),
    ("finpg-range", "start_date"),
    ("finpg-range", "end_date"),
    ("finpg-unit", "value"),
    ("finpg-poli", "value"),
    ("finpg-ward", "value"),
    ("finpg-doctor", "value"),
    ("finpg-payer", "value"),
)


def _output_key(outputs: list[tuple[str, str]]) -> str:
    if len(outputs) == 1:
        return f"{outputs[0][0]}.{outputs[0][1]}"
    return ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."


def _filter_values(start: date, end: date, payer: str | None = None) -> list:
    return ["revenue", start.isoformat(), end.isoformat(), None, None, None, None, payer]


def report_request(start: date, end: date, payer: str | None = None) -> dict:
    """What the browser posts when the filter changes (callbacks/finance.show_report)."""
    outputs = [("finpg-url", "search"), ("finpg-content", "children"), ("finpg-period", "children")]
    values = _filter_values(start, end, payer)
    inputs = [{"id": i, "property": p, "value": v} for (i, p), v in zip(FILTERS, values, strict=True)]
    return {
        "output": _output_key(outputs),
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [*inputs, {"id": THEME_STORE, "property": "data", "value": "light"}],
        "changedPropIds": ["finpg-payer.value"],
        "state": [{"id": "finpg-url", "property": "search", "value": ""}],  # opened as plain /keuangan
    }


def export_request(fmt: str, start: date, end: date, payer: str | None = None) -> dict:
    """What the browser posts when an export button is clicked (callbacks/finance.export)."""
    values = _filter_values(start, end, payer)
    return {
        "output": "finpg-download.data",
        "outputs": {"id": "finpg-download", "property": "data"},
        "inputs": [
            {"id": f"finpg-export-{f}", "property": "n_clicks", "value": 1 if f == fmt else None}
            for f in ("xlsx", "csv", "pdf")
        ],
        "changedPropIds": [f"finpg-export-{fmt}.n_clicks"],
        "state": [{"id": i, "property": p, "value": v} for (i, p), v in zip(FILTERS, values, strict=True)],
    }


def _month(app) -> tuple[int, date, date]:
    with app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        today = local_today(s, site_id)
    start, end = month_period(today.year, today.month)
    return site_id, start, end


def _charges(app, site_id: int, day: date) -> None:
    with app.runtime.db.session() as s:
        add_charge_lines(
            s,
            site_id,
            [
                NewCharge(day, "rawat_jalan", "jkn", "KONS", "Konsultasi", "acc-1", 150_000),
                NewCharge(day, "farmasi", "umum", "OBAT", "Obat", "acc-2", 12_500, quantity=4),
            ],
        )


def _export_audits(app) -> list[AuditLog]:
    with app.runtime.db.session() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "finance_export")).all()
        s.expunge_all()
        return list(rows)


@pytest.mark.parametrize("role", REFUSED)
def test_other_roles_get_no_page_no_report_and_no_export(role, login, app):
    _, start, end = _month(app)
    client = login(role)
    page = client.get("/keuangan")
    assert page.status_code == 403
    assert 'id="forbidden"' in page.get_data(as_text=True)
    routed = client.post("/_dash-update-component", json=router_request("/keuangan"))
    assert "forbidden" in routed.get_data(as_text=True)
    assert client.post("/_dash-update-component", json=report_request(start, end)).status_code == 403
    exported = client.post("/_dash-update-component", json=export_request("xlsx", start, end))
    assert exported.status_code == 403
    assert "content" not in exported.get_data(as_text=True)
    assert _export_audits(app) == []


def test_manager_finance_and_admin_read_the_report_and_export_it(login, app):
    site_id, start, end = _month(app)
    _charges(app, site_id, start)
    for role in ALLOWED:
        client = login(role)
        assert client.get("/keuangan").status_code == 200
        answer = client.post("/_dash-update-component", json=report_request(start, end))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        body = answer.get_json()["response"]
        assert "finpg-url" not in body  # /keuangan already says this month's revenue: no history entry added
        text = json.dumps(body["finpg-content"]["children"])
        assert "Rp 200.000" in text  # 150.000 + 4 × 12.500
        jkn_only = client.post("/_dash-update-component", json=report_request(start, end, "jkn")).get_json()
        assert "Rp 150.000" in json.dumps(jkn_only["response"]["finpg-content"]["children"])
        assert jkn_only["response"]["finpg-url"]["search"] == (
            f"?laporan=revenue&dari={start.isoformat()}&sampai={end.isoformat()}&penjamin=jkn"
        )

    exported = login("finance").post("/_dash-update-component", json=export_request("csv", start, end, "jkn"))
    assert exported.status_code == 200
    download = exported.get_json()["response"]["finpg-download"]["data"]
    assert download["filename"] == f"keuangan-revenue-{start.isoformat()}-{end.isoformat()}.csv"
    csv = base64.b64decode(download["content"]).decode("utf-8-sig")
    assert "150" in csv and "Staf Keuangan (demo)" in csv
    (audit,) = _export_audits(app)
    assert audit.username == "keuangan"
    assert audit.detail == {
        "report": "revenue",
        "format": "csv",
        "period": [start.isoformat(), end.isoformat()],
        "filters": {"payer": "jkn"},
    }
