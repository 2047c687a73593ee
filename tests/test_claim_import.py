"""The monthly claim-status file (data/claim_import.py): dry run errors with line numbers, apply, idempotence."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from data.claim_import import ClaimImportRefused, apply_claim_file, check_claim_file
from data.claims import move_claim, open_claim, update_claim
from data.models import BpjsClaim, BpjsClaimEvent
from tests.test_claims import SEP, finance_actor, jkn_visit

SEP2 = "0101R0010126V000124"
HEADER = "no_sep;status;tarif_inacbg;diajukan;disetujui;topup;tanggal;alasan\n"


@pytest.fixture
def submitted(any_app):
    """Two claims submitted on 2 Nov 2026 (INA-CBG Rp 185.500)."""
    pantau, actor = any_app, finance_actor(any_app)
    ids = []
    with pantau.runtime.db.session() as s:
        for sep in (SEP, SEP2):
            claim_id = open_claim(s, actor, visit_id=jkn_visit(s, actor.site_id, date(2026, 10, 20)), sep_number=sep)
            fields = {"inacbg_code": "Q-5-44-0", "hospital_tariff": "200000", "inacbg_tariff": "185500",
                      "topup_amount": "0"}  # fmt: skip
            update_claim(s, actor, claim_id, 1, fields)
            for version, status in enumerate(("grouped", "final", "submitted"), start=2):
                move_claim(s, actor, claim_id, version, status, on=date(2026, 11, 2))
            ids.append(claim_id)
    return pantau, actor, ids


def test_dry_run_lists_every_bad_line(submitted):
    pantau, actor, _ids = submitted
    raw = (
        HEADER
        + f"{SEP};Layak;185.500;185.500;180.000;0;2026-11-20;\n"  # fine
        + "0101R0010126V000999;Dibayar;;;;;2026-11-20;\n"  # unknown SEP
        + f"{SEP2};Selesai;;;;;20/11/2026;\n"  # unknown status word
        + f"{SEP};Layak;;;;;2026-11-20;\n"  # the same SEP twice
    ).encode()
    raw2 = (HEADER + f"{SEP2};Dibayar;;abc;;;31/02/2026;\n" + f"{SEP};Diajukan;;;;;2026-11-20;\n").encode()
    with pantau.runtime.db.session() as s:
        report = check_claim_file(s, actor, raw)
        assert [(e.line, e.column, e.key) for e in report.errors] == [
            (3, "no_sep", "claim_imp_err_unknown_sep"),
            (4, "status", "claim_imp_err_status"),
            (5, "no_sep", "import_err_repeated"),
        ]
        report = check_claim_file(s, actor, raw2)
        assert [(e.line, e.column, e.key) for e in report.errors] == [
            (2, "diajukan", "claim_err_amount"),
            (2, "tanggal", "claim_imp_err_date"),
        ]
        assert report.moved == 0 and report.unchanged == 1  # line 3: already submitted
    with pantau.runtime.db.session() as s, pytest.raises(ClaimImportRefused):
        apply_claim_file(s, actor, raw, check_claim_file(s, actor, raw).sha256)
    with pantau.runtime.db.session() as s:
        assert {c.status for c in s.scalars(select(BpjsClaim))} == {"submitted"}  # nothing saved


def test_apply_walks_intermediate_states_and_is_idempotent(submitted):
    pantau, actor, (first, second) = submitted
    raw = (
        HEADER
        + f"{SEP};Dibayar;185.500;185.500;180.000;12.000;25/11/2026;\n"
        + f"{SEP2};Pending;;;;;2026-11-21;Resume medis belum lengkap\n"
    ).encode()
    with pantau.runtime.db.session() as s:
        report = check_claim_file(s, actor, raw)
        assert report.ok and (report.rows, report.moved) == (2, 2)
        with pytest.raises(Exception, match="import_err_not_checked"):
            apply_claim_file(s, actor, raw, "0" * 64)
    with pantau.runtime.db.session() as s:
        apply_claim_file(s, actor, raw, report.sha256)
    with pantau.runtime.db.session() as s:
        paid, pending = s.get(BpjsClaim, first), s.get(BpjsClaim, second)
        assert (paid.status, paid.approved_amount, paid.topup_amount, paid.paid_on, paid.verified_on) == (
            "paid", 180_000, 12_000, date(2026, 11, 25), date(2026, 11, 25)
        )  # fmt: skip
        assert (pending.status, pending.status_reason) == ("pending", "Resume medis belum lengkap")
        events = s.execute(
            select(BpjsClaimEvent.status, BpjsClaimEvent.source).where(BpjsClaimEvent.claim_id == first)
            .order_by(BpjsClaimEvent.id)
        ).all()  # fmt: skip
        assert [tuple(e) for e in events][-3:] == [("verified", "import"), ("eligible", "import"), ("paid", "import")]
        count = len(events)
    with pantau.runtime.db.session() as s:
        again = check_claim_file(s, actor, raw)
        assert again.already and again.ok
        assert apply_claim_file(s, actor, raw, again.sha256).already
    with pantau.runtime.db.session() as s:
        assert s.scalar(select(BpjsClaim.version).where(BpjsClaim.id == first)) == paid.version
        n = len(s.scalars(select(BpjsClaimEvent).where(BpjsClaimEvent.claim_id == first)).all())
        assert n == count
        # An impossible move (paid → pending) is refused with its line.
        bad = (HEADER + f"{SEP};Pending;;;;;2026-11-26;x\n").encode()
        errors = check_claim_file(s, actor, bad).errors
        assert [(e.line, e.key, e.params) for e in errors] == [
            (2, "claim_imp_err_transition", {"old": "paid", "new": "pending"})
        ]


def test_an_xlsx_file_with_date_cells_and_indonesian_words(submitted):
    pantau, actor, (first, second) = submitted
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(";"))
    sheet.append([SEP, "Terverifikasi", None, None, None, None, datetime(2026, 11, 16), None])
    sheet.append([SEP2, "TIDAK  LAYAK", 185500, 185500, 0, 0, datetime(2026, 11, 18), "Diagnosis tidak sesuai"])
    out = io.BytesIO()
    book.save(out)
    with pantau.runtime.db.session() as s:
        report = check_claim_file(s, actor, out.getvalue())
        assert report.ok and report.moved == 2
        apply_claim_file(s, actor, out.getvalue(), report.sha256)
    with pantau.runtime.db.session() as s:
        verified, refused = s.get(BpjsClaim, first), s.get(BpjsClaim, second)
        assert (verified.status, verified.verified_on) == ("verified", date(2026, 11, 16))
        assert (refused.status, refused.approved_amount, refused.status_reason) == (
            "not_eligible", 0, "Diagnosis tidak sesuai"
        )  # fmt: skip
