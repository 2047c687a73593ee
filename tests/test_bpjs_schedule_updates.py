"""A doctor's week reported to BPJS (``updatejadwaldokter``) through the outbox: the payload from the plan, the
worker sending it to the sandbox, its own line in the outbox, and the sync page's view of a row with no visit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bridge.bpjs.sandbox import EXTENSION, create_sandbox
from bridge.bpjs_worker import BpjsWorker
from components.bpjs_sync import failures_table
from data.bpjs_outbox import claim_next, mark_failed, outbox_summary
from data.bpjs_schedule_updates import KIND, queue_schedule_update
from data.bpjs_status import stalled_since
from data.models import BpjsOutbox, Doctor, DoctorSchedule, Poli
from domain.clock import utcnow
from i18n import translate
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve
from tests.test_bpjs_worker import drain


def _seeded_doctor(s) -> tuple[Doctor, Poli, list[DoctorSchedule]]:
    """A seeded doctor with a BPJS code and a poli, with the doctor's plan rows there."""
    plan = s.scalars(select(DoctorSchedule).where(DoctorSchedule.active.is_(True)).order_by(DoctorSchedule.id)).first()
    doctor, poli = s.get(Doctor, plan.doctor_id), s.get(Poli, plan.poli_id)
    rows = s.scalars(
        select(DoctorSchedule).where(
            DoctorSchedule.doctor_id == doctor.id, DoctorSchedule.poli_id == poli.id, DoctorSchedule.active.is_(True)
        )
    ).all()
    return doctor, poli, rows


def test_the_payload_is_the_doctors_week_at_the_poli(any_app):
    with any_app.runtime.db.session() as s:
        doctor, poli, plans = _seeded_doctor(s)
        plans[0].active = False  # a retired row is not reported
        row = queue_schedule_update(s, doctor.site_id, doctor.id, poli.id)
        assert row.visit_id is None and row.booking_code is None and row.kind == KIND and row.state == "pending"
        expected = sorted(
            (p.weekday + 1, p.start_time.strftime("%H:%M"), p.end_time.strftime("%H:%M")) for p in plans[1:]
        )
        assert sorted((j["hari"], j["buka"], j["tutup"]) for j in row.payload["jadwal"]) == expected
        assert row.payload["kodepoli"] == poli.bpjs_code and str(row.payload["kodedokter"]) == doctor.bpjs_code
        assert all(1 <= j["hari"] <= 7 for j in row.payload["jadwal"])


def test_a_plan_past_its_validity_is_not_reported(any_app):
    with any_app.runtime.db.session() as s:
        doctor, poli, plans = _seeded_doctor(s)
        yesterday = utcnow().date() - timedelta(days=2)
        for plan in plans:
            plan.valid_until = yesterday
        assert queue_schedule_update(s, doctor.site_id, doctor.id, poli.id) is None


def test_nothing_is_queued_without_bpjs_codes(any_app):
    with any_app.runtime.db.session() as s:
        doctor, poli, _ = _seeded_doctor(s)
        doctor.bpjs_code = None
        assert queue_schedule_update(s, doctor.site_id, doctor.id, poli.id) is None
        assert s.scalar(select(BpjsOutbox).where(BpjsOutbox.kind == KIND)) is None


def test_the_worker_sends_the_week_to_the_sandbox(any_app):
    sandbox_app = create_sandbox(CONS_ID, SECRET, USER_KEY, failure_rate=0.0, seed=3)
    with any_app.runtime.db.session() as s:
        doctor, poli, plans = _seeded_doctor(s)
        site_id, code = doctor.site_id, int(doctor.bpjs_code)
        row_id = queue_schedule_update(s, site_id, doctor.id, poli.id).id
        expected = {(code, p.weekday + 1): f"{p.start_time:%H:%M}-{p.end_time:%H:%M}" for p in plans}
    with serve(sandbox_app) as url:
        drain(BpjsWorker(any_app.runtime.db, client_for(url), any_app.runtime.cipher))
    received = {
        (j["kodedokter"], j["hari"]): j["jadwal"]
        for j in sandbox_app.extensions[EXTENSION].snapshot()["jadwal_updates"]
    }
    assert received == expected
    with any_app.runtime.db.session() as s:
        row = s.get(BpjsOutbox, row_id)
        assert (row.state, row.response_code) == ("sent", 200)


def test_schedule_updates_keep_their_order_and_show_on_the_sync_page(any_app):
    with any_app.runtime.db.session() as s:
        doctor, poli, _ = _seeded_doctor(s)
        site_id = doctor.site_id
        first = queue_schedule_update(s, site_id, doctor.id, poli.id).id
        second = queue_schedule_update(s, site_id, doctor.id, poli.id).id
    now = utcnow() + timedelta(seconds=1)
    with any_app.runtime.db.session() as s:
        item = claim_next(s, now)
        assert (item.id, item.visit_id, item.booking_code) == (first, None, None)
        mark_failed(s, item, 201, "Dokter tidak ditemukan pada poli tersebut")
    with any_app.runtime.db.session() as s:
        assert claim_next(s, now + timedelta(minutes=5)) is None  # the later week waits behind the refused one
        assert stalled_since(s, site_id, now + timedelta(minutes=5)) is None  # waiting, not stalled
        (failure,) = outbox_summary(s, site_id).failures
        assert (failure["id"], failure["booking_code"], failure["poli"]) == (first, None, poli.bpjs_code)
        assert s.get(BpjsOutbox, second).state == "pending"


def test_the_failures_table_names_a_schedule_row():
    table = failures_table(
        [
            {
                "id": 7,
                "booking_code": None,
                "kind": KIND,
                "task": None,
                "poli": "INT",
                "code": 201,
                "message": "Dokter tidak ditemukan",
                "attempts": 1,
                "created_at": utcnow(),
            }
        ],
        "Asia/Jakarta",
        can_retry=False,
    )
    cells = table.children[1].children[0].children
    assert cells[1].children == translate("bsync_schedule_update", "id") == "jadwal dokter"
    assert "updatejadwaldokter" in cells[2].children
