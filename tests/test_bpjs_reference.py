"""BPJS reference data: pulled from the sandbox over real HTTP (idempotent, failures keep the old data), the
worker's daily and on-demand pulls, mapping codes onto polis and doctors (audited), today's schedule against
BPJS's jadwal, and the admin page's role checks."""

from __future__ import annotations

import threading
import time as clock
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select, update

from bridge.bpjs import AntreanClient, BpjsResult
from bridge.bpjs.sandbox import DOCTORS, EXTENSION, create_sandbox
from bridge.bpjs_reference_pull import CHECK_SECONDS, ReferencePuller, pull_reference
from bridge.bpjs_worker import BpjsWorker
from data.bpjs_reference import (
    BPJS_LIBUR,
    DIFFERENT,
    MISSING_IN_BPJS,
    MISSING_IN_PANTAU,
    NOT_PULLED,
    OFF_PLAN,
    SAME,
    UNMAPPED,
    compare_schedule,
    doctor_mappings,
    doctor_options,
    map_doctor,
    map_poli,
    pull_state,
    request_pull,
    schedule_status,
)
from data.doctor_schedules import update_session
from data.models import (
    AuditLog,
    BpjsRefDokter,
    BpjsRefJadwal,
    BpjsRefPoli,
    BpjsRefPull,
    ClinicSession,
    Doctor,
    DoctorSchedule,
    Poli,
    Site,
)
from data.schedules import day_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from testkit.servers import free_port
from tests.test_access_control import router_request
from tests.test_bpjs_client import CONS_ID, SECRET, USER_KEY, client_for, serve


@pytest.fixture
def sandbox():
    """The BPJS sandbox over real HTTP: (its Flask app, its base URL)."""
    app = create_sandbox(CONS_ID, SECRET, USER_KEY)
    with serve(app) as url:
        yield app, url


def site_day(pantau):
    with pantau.runtime.db.session() as s:
        site = s.scalar(select(Site.id))
        return site, local_today(s, site)


def admin_actor(pantau, site: int) -> Actor:
    return Actor(None, "uji-admin", site, "127.0.0.1")


def stored(pantau, site: int) -> dict:
    """The reference tables as plain values."""
    with pantau.runtime.db.session() as s:
        return {
            "polis": {
                r.kode_subspesialis: (r.nama_subspesialis, r.gone_at is None)
                for r in s.scalars(select(BpjsRefPoli).where(BpjsRefPoli.site_id == site))
            },
            "doctors": {
                r.kode: (r.nama, r.gone_at is None)
                for r in s.scalars(select(BpjsRefDokter).where(BpjsRefDokter.site_id == site))
            },
            "jadwal": sorted(
                (r.tanggal, r.kodepoli, r.kodedokter, r.jadwal, r.kapasitas, r.libur)
                for r in s.scalars(select(BpjsRefJadwal).where(BpjsRefJadwal.site_id == site))
            ),
        }


def test_pull_stores_the_sandbox_reference_and_a_second_pull_changes_nothing(any_app, sandbox):
    _, url = sandbox
    site, day = site_day(any_app)
    first = pull_reference(any_app.runtime.db, client_for(url), site, day)
    assert first.ok and first.message == "OK"
    assert (first.polis, first.doctors, first.jadwal) == (5, 6, 12)  # 6 doctors in 5 mapped polis, today + tomorrow
    data = stored(any_app, site)
    assert data["polis"]["ANA"] == ("ANAK", True) and set(data["polis"]) == {"UMU", "ANA", "INT", "GIG", "OBG"}
    assert data["doctors"]["31002"] == ("dr. Budi Santoso, Sp.A (demo)", True) and len(data["doctors"]) == 6
    assert {row[0] for row in data["jadwal"]} == {day, day + timedelta(days=1)}
    assert ("31003", "08:00-16:00", 60, False) in {row[2:] for row in data["jadwal"]}

    second = pull_reference(any_app.runtime.db, client_for(url), site, day, utcnow() + timedelta(minutes=5))
    assert second.ok and stored(any_app, site) == data
    with any_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BpjsRefJadwal)) == 12
        state = pull_state(s, site)
    assert state.ok and state.succeeded_at == state.attempted_at and not state.pending


def test_a_refused_or_unreachable_bpjs_keeps_the_old_data_and_says_why(sqlite_app, sandbox):
    app, url = sandbox
    site, day = site_day(sqlite_app)
    db = sqlite_app.runtime.db
    assert pull_reference(db, client_for(url), site, day).ok
    before = stored(sqlite_app, site)
    with db.session() as s:
        succeeded = pull_state(s, site).succeeded_at

    app.extensions[EXTENSION].failure_rate = 1.0  # every answer: 404 "Gagal dicoba kembali"
    transient = pull_reference(db, client_for(url), site, day)
    assert not transient.ok and (transient.polis, transient.doctors, transient.jadwal) == (0, 0, 0)
    assert transient.problems[0] == "ref/poli: 404 Gagal dicoba kembali" and len(transient.problems) == 12
    assert stored(sqlite_app, site) == before

    app.extensions[EXTENSION].failure_rate = 0.0
    refused = pull_reference(db, AntreanClient(url, CONS_ID, "salah", USER_KEY, timeout=5), site, day)
    assert refused.problems[0] == "ref/poli: 201 Authentication failed: signature tidak valid"

    unreachable = pull_reference(db, client_for(f"http://127.0.0.1:{free_port()}"), site, day)
    assert len(unreachable.problems) == 1  # stopped at the first transport error, not one timeout per request
    assert "tidak dapat dihubungi" in unreachable.message
    assert stored(sqlite_app, site) == before
    with db.session() as s:
        state = pull_state(s, site)
    assert state.ok is False and state.message == unreachable.message and state.succeeded_at == succeeded


class FirstAnswerTransient(AntreanClient):
    """Answers 404 "Gagal dicoba kembali" to the first request of each path, as a busy BPJS does."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.refused: set[str] = set()

    def request(self, method, path, payload=None):
        if path not in self.refused:
            self.refused.add(path)
            return BpjsResult(404, "Gagal dicoba kembali", None)
        return super().request(method, path, payload)


def test_a_transient_answer_is_tried_once_more(sqlite_app, sandbox):
    _, url = sandbox
    site, day = site_day(sqlite_app)
    client = FirstAnswerTransient(url, CONS_ID, SECRET, USER_KEY, timeout=5)
    result = pull_reference(sqlite_app.runtime.db, client, site, day)
    assert result.ok and (result.polis, result.doctors, result.jadwal) == (5, 6, 12)
    assert len(client.refused) == 12


def test_codes_that_bpjs_stops_listing_are_flagged_not_deleted(sqlite_app, sandbox, monkeypatch):
    _, url = sandbox
    site, day = site_day(sqlite_app)
    db = sqlite_app.runtime.db
    pull_reference(db, client_for(url), site, day)
    monkeypatch.delitem(DOCTORS, 31006)
    assert pull_reference(db, client_for(url), site, day).ok
    assert stored(sqlite_app, site)["doctors"]["31006"] == ("dr. Hendra Gunawan (demo)", False)
    with db.session() as s:
        assert "31006" not in {o.code for o in doctor_options(s, site)}
        hendra = next(m for m in doctor_mappings(s, site) if m.bpjs_code == "31006")
    assert hendra.state == "gone"
    monkeypatch.undo()
    pull_reference(db, client_for(url), site, day)
    assert stored(sqlite_app, site)["doctors"]["31006"][1] is True


def audit_rows(pantau, action: str) -> list[dict]:
    with pantau.runtime.db.session() as s:
        return [r.detail for r in s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def test_mapping_changes_the_codes_and_is_audited(any_app, sandbox):
    _, url = sandbox
    site, day = site_day(any_app)
    pull_reference(any_app.runtime.db, client_for(url), site, day)
    actor = admin_actor(any_app, site)
    with any_app.runtime.db.session() as s:
        polis = {p.code: p.id for p in s.scalars(select(Poli))}
        doctors = {d.bpjs_code: d.id for d in s.scalars(select(Doctor))}
    db = any_app.runtime.db
    with db.session() as s:
        assert map_poli(s, actor, polis["UMU"], "") is True
        assert map_poli(s, actor, polis["UMU"], None) is False  # nothing changed: no audit row
    with db.session() as s:
        assert s.get(Poli, polis["UMU"]).bpjs_code is None
        assert map_poli(s, actor, polis["UMU"], "UMU") is True
    assert audit_rows(any_app, "bpjs_poli_mapped") == [{"from": "UMU", "to": None}, {"from": None, "to": "UMU"}]

    with pytest.raises(InputError) as taken, db.session() as s:
        map_poli(s, actor, polis["UMU"], "ANA")
    assert (taken.value.key, taken.value.params) == ("bref_err_code_taken", {"code": "ANA", "name": "Poli Anak"})
    with pytest.raises(InputError) as unknown, db.session() as s:
        map_doctor(s, actor, doctors["31001"], "99999")
    assert unknown.value.key == "bref_err_unknown_doctor"
    with pytest.raises(InputError) as elsewhere, db.session() as s:
        map_poli(s, Actor(None, "lain", site + 1), polis["UMU"], "UMU")
    assert elsewhere.value.key == "bref_err_no_poli"

    with db.session() as s:
        map_doctor(s, actor, doctors["31006"], None)
        map_doctor(s, actor, doctors["31001"], "31006")
    with db.session() as s:
        assert s.get(Doctor, doctors["31001"]).bpjs_code == "31006"
    assert audit_rows(any_app, "bpjs_doctor_mapped") == [
        {"from": "31006", "to": None},
        {"from": "31001", "to": "31006"},
    ]


@pytest.mark.parametrize(
    "pantau,bpjs,libur,pulled,status",
    [
        (["08:00-16:00"], ["08:00-16:00"], False, True, SAME),
        (["08:00-16:00"], ["10:00-13:00"], False, True, DIFFERENT),
        (["08:00-12:00", "14:00-16:00"], ["14:00-16:00", "08:00-12:00"], False, True, SAME),
        (["08:00-16:00"], [], False, True, MISSING_IN_BPJS),
        (["08:00-16:00"], [], True, True, BPJS_LIBUR),
        ([], ["08:00-16:00"], False, True, MISSING_IN_PANTAU),
        (["08:00-16:00"], [], False, False, NOT_PULLED),
    ],
)
def test_schedule_status(pantau, bpjs, libur, pulled, status):
    assert schedule_status(pantau, bpjs, libur, pulled) == status


@pytest.mark.parametrize(
    "pantau,off_plan,bpjs,status",
    [
        ([], ["00:00-08:00"], [], OFF_PLAN),  # the plan moved on; the ended session stays for its patients
        (["08:00-16:00"], ["00:00-08:00"], ["08:00-16:00"], SAME),  # BPJS need not list the kept one
        (["08:00-16:00"], ["00:00-08:00"], ["00:00-08:00", "08:00-16:00"], SAME),  # nor is listing it wrong
        ([], ["08:00-16:00"], ["08:00-16:00"], SAME),  # a retired plan's booked session still runs today
        (["14:00-18:00"], ["08:00-12:00"], ["08:00-12:00"], DIFFERENT),  # BPJS was not told of the move
        (["08:00-16:00"], [], ["08:00-16:00", "16:00-20:00"], DIFFERENT),  # BPJS offers hours Pantau lacks
    ],
)
def test_schedule_status_of_sessions_off_the_plan(pantau, off_plan, bpjs, status):
    assert schedule_status(pantau, bpjs, False, True, off_plan) == status


def move_todays_practice(pantau, site: int, doctor_code: str, start: str, end: str) -> None:
    """Count a booking in today's session of the doctor (HFIS code), then move the doctor's plan for today's
    weekday to other hours through the admin's service: the booked session is kept off the plan, the new hours
    open beside it."""
    db = pantau.runtime.db
    with db.session() as s:
        day = local_today(s, site)
        doctor_id = s.scalar(select(Doctor.id).where(Doctor.bpjs_code == doctor_code))
        [today] = [c for c in day_sessions(s, site, day) if c.doctor_id == doctor_id]
        s.execute(update(ClinicSession).where(ClinicSession.id == today.id).values(booked_non_jkn=1))
        plan = s.scalar(
            select(DoctorSchedule).where(DoctorSchedule.doctor_id == doctor_id, DoctorSchedule.weekday == day.weekday())
        )
        plan_id, version = plan.id, plan.version
        values = {
            "doctor_id": doctor_id,
            "poli_id": plan.poli_id,
            "weekday": str(plan.weekday),
            "start": start,
            "end": end,
            "quota_jkn": str(plan.quota_jkn),
            "quota_non_jkn": str(plan.quota_non_jkn),
        }
    with db.session() as s:
        update_session(s, admin_actor(pantau, site), plan_id, values, version)


def statuses(pantau, site: int, day) -> dict[str, tuple]:
    with pantau.runtime.db.session() as s:
        return {c.doctor: (c.pantau, c.bpjs, c.status) for c in compare_schedule(s, site, day)}


def test_comparison_flags_an_hour_changed_at_bpjs(sqlite_app, sandbox):
    _, url = sandbox
    site, day = site_day(sqlite_app)
    db = sqlite_app.runtime.db
    with db.session() as s:  # Pantau's weekly schedule = the sandbox's default 08:00-16:00
        s.execute(update(DoctorSchedule).values(start_time=time(8), end_time=time(16)))
    client = client_for(url)
    pull_reference(db, client, site, day)
    assert {v[2] for v in statuses(sqlite_app, site, day).values()} == {SAME}

    change = {"hari": str(day.isoweekday()), "buka": "10:00", "tutup": "13:00"}
    assert client.update_jadwal_dokter(
        {"kodepoli": "INT", "kodesubspesialis": "INT", "kodedokter": 31003, "jadwal": [change]}
    ).ok
    pull_reference(db, client, site, day)
    checks = statuses(sqlite_app, site, day)
    assert checks["dr. Ratna Dewi, Sp.PD (demo)"] == (("08:00-16:00",), ("10:00-13:00",), DIFFERENT)
    assert [v[2] for k, v in checks.items() if "Ratna" not in k] == [SAME] * 5

    with db.session() as s:  # an unmapped doctor: Pantau cannot compare, and BPJS's slot has no Pantau match
        s.execute(update(Doctor).where(Doctor.bpjs_code == "31004").values(bpjs_code=None))
    checks = statuses(sqlite_app, site, day)
    assert checks["drg. Agus Pratama (demo)"] == ((), ("08:00-16:00",), MISSING_IN_PANTAU)
    with db.session() as s:
        unmapped = [c for c in compare_schedule(s, site, day) if c.status == UNMAPPED]
    assert [(c.poli, c.doctor, c.pantau) for c in unmapped] == [
        ("Poli Gigi", "drg. Agus Pratama (demo)", ("08:00-16:00",))
    ]


def test_a_session_kept_off_the_plan_for_its_bookings_is_no_mismatch(sqlite_app, sandbox):
    _, url = sandbox
    site, day = site_day(sqlite_app)
    db = sqlite_app.runtime.db
    with db.session() as s:
        s.execute(update(DoctorSchedule).values(start_time=time(8), end_time=time(16)))
    client = client_for(url)
    move_todays_practice(sqlite_app, site, "31004", "16:00", "20:00")
    pull_reference(db, client, site, day)
    agus = "drg. Agus Pratama (demo)"
    with db.session() as s:
        [check] = [c for c in compare_schedule(s, site, day) if c.doctor == agus]
    assert (check.pantau, check.off_plan, check.bpjs, check.status) == (
        ("16:00-20:00",),
        ("08:00-16:00",),
        ("08:00-16:00",),
        DIFFERENT,
    )  # BPJS has not been told of the move yet

    change = {"hari": str(day.isoweekday()), "buka": "16:00", "tutup": "20:00"}
    assert client.update_jadwal_dokter(
        {"kodepoli": "GIG", "kodesubspesialis": "GIG", "kodedokter": 31004, "jadwal": [change]}
    ).ok
    pull_reference(db, client, site, day)
    assert statuses(sqlite_app, site, day)[agus] == (("16:00-20:00",), ("16:00-20:00",), SAME)
    assert set(v[2] for v in statuses(sqlite_app, site, day).values()) == {SAME}


def test_puller_runs_daily_after_failures_and_on_request(sqlite_app, sandbox):
    app, url = sandbox
    site, _ = site_day(sqlite_app)
    db = sqlite_app.runtime.db
    ticks = [0.0]
    puller = ReferencePuller(db, client_for(url), sqlite_app.settings.site_code, clock=lambda: ticks[0])

    def step(at):
        ticks[0] += CHECK_SECONDS
        return puller.step(at)

    start = utcnow()
    assert step(start).ok  # never pulled: due at once
    assert puller.step(start) is None  # checked a moment ago
    assert step(start + timedelta(minutes=1)) is None  # pulled today already
    with db.session() as s:
        request_pull(s, admin_actor(sqlite_app, site), start + timedelta(minutes=2))
        assert pull_state(s, site).pending
    assert step(start + timedelta(minutes=2, seconds=1)).ok
    with db.session() as s:
        assert not pull_state(s, site).pending
    assert audit_rows(sqlite_app, "bpjs_reference_pull_requested") == [None]

    app.extensions[EXTENSION].failure_rate = 1.0
    assert not step(start + timedelta(days=1)).ok  # a new day: due
    assert step(start + timedelta(days=1, minutes=5)) is None
    app.extensions[EXTENSION].failure_rate = 0.0
    assert step(start + timedelta(days=1, minutes=16)).ok  # retried after a failure

    lost = ReferencePuller(db, client_for(url), "NO-SUCH-SITE", clock=lambda: ticks[0])
    assert lost.step() is None  # logged, never raised into the worker loop


def test_worker_run_serves_an_on_demand_request(sqlite_app, sandbox):
    _, url = sandbox
    site, day = site_day(sqlite_app)
    db, client = sqlite_app.runtime.db, client_for(url)
    pull_reference(db, client, site, day)
    worker = BpjsWorker(
        db, client, sqlite_app.runtime.cipher, reference=ReferencePuller(db, client, sqlite_app.settings.site_code)
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        with db.session() as s:
            request_pull(s, admin_actor(sqlite_app, site), utcnow())
        deadline = clock.monotonic() + 20
        while clock.monotonic() < deadline:
            with db.session() as s:
                state = pull_state(s, site)
            if not state.pending:
                break
            clock.sleep(0.2)
    finally:
        stop.set()
        thread.join(10)
    assert not state.pending and state.ok and state.attempted_at >= state.requested_at


MAPPING_CALLBACK = {
    "output": "bref-mapping.children",
    "outputs": {"id": "bref-mapping", "property": "children"},
    "inputs": [{"id": "bref-ref-version", "property": "data", "value": 0}],
    "changedPropIds": [],
    "state": [],
}
PULL_CALLBACK = {
    "output": "..bref-pull-status.children...bref-poll.disabled...bref-pull.disabled...bref-ref-version.data..",
    "outputs": [
        {"id": "bref-pull-status", "property": "children"},
        {"id": "bref-poll", "property": "disabled"},
        {"id": "bref-pull", "property": "disabled"},
        {"id": "bref-ref-version", "property": "data"},
    ],
    "inputs": [
        {"id": "bref-pull", "property": "n_clicks", "value": 1},
        {"id": "bref-poll", "property": "n_intervals", "value": None},
    ],
    "changedPropIds": ["bref-pull.n_clicks"],
    "state": [{"id": "bref-ref-version", "property": "data", "value": 0}],
}


def test_page_and_callbacks_refuse_other_roles(sqlite_app, login):
    for role in ("manager", "nurse", "front_desk", "doctor"):
        client = login(role)
        assert client.get("/admin/bpjs/pemetaan").status_code == 403, role
        routed = client.post("/_dash-update-component", json=router_request("/admin/bpjs/pemetaan"))
        assert "forbidden" in routed.text, role
        for callback in (MAPPING_CALLBACK, PULL_CALLBACK):
            assert client.post("/_dash-update-component", json=callback).status_code == 403, role
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BpjsRefPull)) == 0


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/admin/bpjs/pemetaan")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/admin/bpjs/pemetaan")
    assert client.post("/_dash-update-component", json=PULL_CALLBACK).status_code == 401


def test_admin_sees_the_empty_reference_and_can_ask_for_a_pull(sqlite_app, login):
    client = login("admin")
    assert client.get("/admin/bpjs/pemetaan").status_code == 200
    mapping = client.post("/_dash-update-component", json=MAPPING_CALLBACK)
    assert mapping.status_code == 200 and "bref-empty" in mapping.text
    pulled = client.post("/_dash-update-component", json=PULL_CALLBACK).get_json()["response"]
    assert pulled["bref-poll"]["disabled"] is False and pulled["bref-pull"]["disabled"] is True
    with sqlite_app.runtime.db.session() as s:
        assert pull_state(s, s.scalar(select(Site.id))).pending
    assert len(audit_rows(sqlite_app, "bpjs_reference_pull_requested")) == 1
