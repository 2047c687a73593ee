"""Counter actions on both databases: calling order, recall and skip, task times 4–7 and 99 in order with their
BPJS outbox rows, pharmacy and referral hand-offs, refusals that change nothing, parallel calls on PostgreSQL;
then the counter and queue-settings callbacks over HTTP, which refuse what the user's roles do not allow."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from auth.users import find_user
from components.queue_line import left_open_card, waiting_table
from data import live_keys, queue_actions
from data.models import AuditLog, BpjsOutbox, ClinicSession, Doctor, Poli, QueueTicket, Visit, VisitTask
from data.queue_registration import register_patient, register_visit
from data.queue_tickets import issue_ticket, recorded_tasks
from data.queue_views import board_snapshot, counter_view, running_text
from data.schedules import day_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from testkit.names import numbered_name

ZONE = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 1, 12)
OPENS = datetime.combine(DAY, time(10, 0), tzinfo=ZONE).astimezone(UTC)  # mid-morning of a practice day
UMU, ANA = "poli:UMU", "poli:ANA"
RACIKAN, NON_RACIKAN = "farmasi:racikan", "farmasi:nonracikan"
FEEDBACK = "counter-feedback.children"


@dataclass
class Clinic:
    """A practice day built by hand (08:00–14:00 WIB), independent of the wall clock, with its own clock."""

    db: object
    cipher: object
    actor: Actor
    sessions: dict[str, int]
    now: datetime = OPENS
    patients: int = 0
    registered: list[int] = field(default_factory=list)

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def visit(self, payer: str = "jkn", session: str = "UMU1", *, arrived: bool = True):
        """A patient registered at the desk (task 3 now) into one of the day's sessions."""
        self.patients += 1
        with self.db.session() as s:
            patient = register_patient(
                s,
                self.cipher,
                self.actor,
                name=numbered_name("Pasien Uji", self.patients),
                birth_date=date(1980, 1, self.patients % 28 + 1),
                sex="P",
                phone="081234567890",
                bpjs=f"{1000000000000 + self.patients}" if payer == "jkn" else "",
                nik=f"{3171000000000000 + self.patients}" if payer == "jkn" else "",
                today=DAY,
            )
            return register_visit(
                s,
                self.actor,
                patient_id=patient.id,
                session_id=self.sessions[session],
                payer=payer,
                now=self.tick(),
                referral_number=f"0301R0011126B{self.patients:06d}" if payer == "jkn" else None,
                arrived=arrived,
            )

    def act(self, action, *args, **kwargs):
        """One counter action in its own transaction at the next minute; returns (result, its time)."""
        at = self.tick()
        with self.db.session() as s:
            return action(s, self.actor, *args, at, **kwargs), at

    def call(self, point: str = UMU, counter: str = "Ruang 1", **kwargs):
        at = self.tick()
        with self.db.session() as s:
            return queue_actions.call_next(s, self.actor, point, counter, at, **kwargs), at


def _session(s, site_id: int, poli: str, doctor: Doctor) -> int:
    cs = ClinicSession(
        site_id=site_id,
        poli_id=s.scalar(select(Poli.id).where(Poli.code == poli)),
        doctor_id=doctor.id,
        service_date=DAY,
        start_time=time(8),
        end_time=time(14),
        starts_at=datetime.combine(DAY, time(8), tzinfo=ZONE).astimezone(UTC),
        ends_at=datetime.combine(DAY, time(14), tzinfo=ZONE).astimezone(UTC),
        quota_jkn=30,
        quota_non_jkn=10,
    )
    s.add(cs)
    s.flush()
    return cs.id


def build_clinic(pantau) -> Clinic:
    """Two doctors at Poli Umum and one at Poli Anak, on a fixed day."""
    with pantau.runtime.db.session() as s:
        nurse = find_user(s, "perawat")
        actor = Actor(nurse.id, nurse.username, nurse.site_id, "127.0.0.1")
        doctors = {}
        for code in ("UMU", "ANA"):
            poli_id = s.scalar(select(Poli.id).where(Poli.code == code))
            doctors[code] = s.scalars(select(Doctor).where(Doctor.poli_id == poli_id).order_by(Doctor.id)).all()
        sessions = {
            "UMU1": _session(s, nurse.site_id, "UMU", doctors["UMU"][0]),
            "UMU2": _session(s, nurse.site_id, "UMU", doctors["UMU"][1]),
            "ANA": _session(s, nurse.site_id, "ANA", doctors["ANA"][0]),
        }
    return Clinic(pantau.runtime.db, pantau.runtime.cipher, actor, sessions)


@pytest.fixture
def clinic(any_app) -> Clinic:
    return build_clinic(any_app)


def ticket(clinic: Clinic, ticket_id: int) -> QueueTicket:
    with clinic.db.session() as s:
        row = s.get(QueueTicket, ticket_id)
        s.expunge(row)
        return row


def tasks(clinic: Clinic, visit_id: int) -> dict[int, datetime]:
    with clinic.db.session() as s:
        return recorded_tasks(s, visit_id)


def outbox(clinic: Clinic, visit_id: int) -> list[tuple[str, dict]]:
    with clinic.db.session() as s:
        rows = s.execute(
            select(BpjsOutbox.kind, BpjsOutbox.payload).where(BpjsOutbox.visit_id == visit_id).order_by(BpjsOutbox.id)
        )
        return [tuple(r) for r in rows]


def test_call_next_takes_the_lowest_number_and_each_counter_its_own(clinic):
    first, second, third = (clinic.visit() for _ in range(3))
    called, at = clinic.call(counter="Ruang 1")
    assert (called.ticket_id, called.label) == (first.ticket_id, "A001")
    assert [(e.kind, e.label, e.destination) for e in called.events] == [("call", "A001", "Ruang 1")]
    row = ticket(clinic, first.ticket_id)
    assert (row.status, row.counter, row.call_count, row.called_at) == ("called", "Ruang 1", 1, at)
    assert clinic.call(counter="Ruang 2")[0].ticket_id == second.ticket_id
    with pytest.raises(InputError) as busy:
        clinic.call(counter="Ruang 1")
    assert busy.value.key == "err_counter_busy" and busy.value.params == {"label": "A001"}
    assert ticket(clinic, third.ticket_id).status == "waiting"
    assert tasks(clinic, first.visit_id).keys() == {3}  # calling is not a task of its own


def test_call_next_for_one_doctor_only_takes_that_doctors_patients(clinic):
    clinic.visit(session="UMU1")
    other = clinic.visit(session="UMU2")
    called, _ = clinic.call(counter="Ruang 2", session_id=clinic.sessions["UMU2"])
    assert called.ticket_id == other.ticket_id
    assert clinic.call(counter="Ruang 3", session_id=clinic.sessions["UMU2"])[0].ticket_id is None


def test_recall_counts_calls_and_skip_waits_for_enough_calls(clinic):
    reg = clinic.visit()
    clinic.call()
    with pytest.raises(InputError) as early, clinic.db.session() as s:
        queue_actions.skip(s, clinic.actor, reg.ticket_id, 2)
    assert early.value.key == "err_skip_too_soon" and early.value.params == {"calls": 1, "needed": 2}
    recalled, _ = clinic.act(queue_actions.recall, reg.ticket_id)
    assert [e.kind for e in recalled.events] == ["call"]
    assert ticket(clinic, reg.ticket_id).call_count == 2
    with clinic.db.session() as s:
        queue_actions.skip(s, clinic.actor, reg.ticket_id, 2)
        view = counter_view(s, clinic.actor.site_id, UMU, "Ruang 1", clinic.now)
    assert view.current is None and [e.label for e in view.late] == ["A001"] and view.waiting == []
    came_back, _ = clinic.act(queue_actions.call_ticket, reg.ticket_id, "Ruang 1")
    assert came_back.label == "A001" and ticket(clinic, reg.ticket_id).call_count == 3


def test_start_records_task_4_and_the_doctors_actual_start_once(clinic):
    first, second = clinic.visit(), clinic.visit()
    clinic.call()
    _, started = clinic.act(queue_actions.start, first.ticket_id)
    clinic.act(queue_actions.finish, first.ticket_id)
    clinic.call()
    clinic.act(queue_actions.start, second.ticket_id)
    assert tasks(clinic, first.visit_id)[4] == started
    assert ticket(clinic, first.ticket_id).started_at == started
    with clinic.db.session() as s:
        assert s.get(ClinicSession, clinic.sessions["UMU1"]).started_at == started  # the first patient's start
        assert s.get(ClinicSession, clinic.sessions["UMU2"]).started_at is None


def test_finish_records_task_5_and_closes_the_visit(clinic):
    reg = clinic.visit()
    clinic.call()
    clinic.act(queue_actions.start, reg.ticket_id)
    _, finished = clinic.act(queue_actions.finish, reg.ticket_id)
    assert tasks(clinic, reg.visit_id)[5] == finished
    assert ticket(clinic, reg.ticket_id).status == "done"
    with clinic.db.session() as s:
        assert s.get(Visit, reg.visit_id).status == "done"


@pytest.mark.parametrize(("kind", "prefix", "recipe"), [(RACIKAN, "R", "racikan"), (NON_RACIKAN, "N", "non racikan")])
def test_pharmacy_hand_off_then_drug_preparation_and_done(clinic, kind, prefix, recipe):
    reg = clinic.visit()
    times = {3: clinic.now}
    clinic.call()
    times[4] = clinic.act(queue_actions.start, reg.ticket_id)[1]
    result, times[5] = clinic.act(queue_actions.finish, reg.ticket_id, pharmacy=kind)
    assert {e.point for e in result.events} == {UMU, kind}
    with clinic.db.session() as s:
        drugs = s.scalars(select(QueueTicket).where(QueueTicket.visit_id == reg.visit_id, QueueTicket.point == kind))
        drugs = drugs.one()
        assert (drugs.label, drugs.status) == (f"{prefix}001", "waiting")
        assert s.get(Visit, reg.visit_id).status == "active"
    sent = [payload for k, payload in outbox(clinic, reg.visit_id) if k == "farmasi_add"]
    assert sent == [{"kodebooking": reg.booking_code, "jenisresep": recipe, "nomorantrean": 1, "keterangan": ""}]
    called, _ = clinic.call(point=kind, counter="Farmasi 1")
    assert called.ticket_id == drugs.id
    times[6] = clinic.act(queue_actions.start, drugs.id)[1]
    times[7] = clinic.act(queue_actions.finish, drugs.id)[1]
    assert tasks(clinic, reg.visit_id) == times  # exactly the action times, strictly increasing
    assert sorted(times.values()) == [times[k] for k in sorted(times)]
    updates = [p for k, p in outbox(clinic, reg.visit_id) if k == "updatewaktu"]
    assert [(p["taskid"], p["waktu"]) for p in updates] == [(k, int(v.timestamp() * 1000)) for k, v in times.items()]
    with clinic.db.session() as s:
        assert s.get(Visit, reg.visit_id).status == "done"


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


def test_the_pharmacy_line_goes_on_past_midnight_and_starts_clean_in_the_morning(clinic):
    in_service, second, gone_home = (clinic.visit() for _ in range(3))
    for reg in (in_service, second, gone_home):
        clinic.call()
        clinic.act(queue_actions.start, reg.ticket_id)
        clinic.act(queue_actions.finish, reg.ticket_id, pharmacy=NON_RACIKAN)
    clinic.now = _at(DAY, 23, 50)  # an evening whose pharmacy line runs late
    drugs = clinic.call(point=NON_RACIKAN, counter="Farmasi 1")[0]
    clinic.act(queue_actions.start, drugs.ticket_id)
    next_day = DAY + timedelta(days=1)
    clinic.now = _at(next_day, 0, 10)
    with clinic.db.session() as s:
        view = counter_view(s, clinic.actor.site_id, NON_RACIKAN, "Farmasi 1", clinic.now)
        board = board_snapshot(s, clinic.actor.site_id, "farmasi", clinic.now)
    assert (view.current.label, view.current.earlier) == ("N001", DAY)  # still in hand after midnight
    assert [(e.label, e.earlier) for e in view.waiting] == [("N002", DAY), ("N003", DAY)]
    shown = str(waiting_table(view.waiting, "Asia/Jakarta"))
    assert shown.count("dari 12/01") == 2 and "counter-waiting-N002-20260112" in shown  # new numbers start at 1
    assert board["calls"][0]["label"] == "N001"
    assert {w["point"]: w["count"] for w in board["waiting"]}[NON_RACIKAN] == 2
    done_at = clinic.act(queue_actions.finish, drugs.ticket_id)[1]
    assert tasks(clinic, in_service.visit_id)[7] == done_at  # the drugs handed over: task 7, the visit closed
    assert clinic.call(point=NON_RACIKAN, counter="Farmasi 1")[0].label == "N002"  # the night's line goes on

    clinic.now = _at(next_day, 6, 0)  # the morning: numbers nobody closed do not come first
    assert clinic.call(point=NON_RACIKAN, counter="Farmasi 2")[0].ticket_id is None
    with clinic.db.session() as s:
        view = counter_view(s, clinic.actor.site_id, NON_RACIKAN, "Farmasi 2", clinic.now)
    assert view.waiting == [] and view.current is None
    with clinic.db.session() as s:
        left = s.scalar(
            select(QueueTicket.status).where(
                QueueTicket.visit_id == gone_home.visit_id, QueueTicket.point == NON_RACIKAN
            )
        )
    assert left == "waiting"  # not closed behind anyone's back: the night before's report still shows it open


def test_numbers_nobody_closed_are_listed_the_next_morning_and_closed_as_no_shows(clinic):
    """A desk that went home with patients still booked, waiting or skipped left their numbers open for good: off
    every line, never cancelled, never told to BPJS. The next day's counter lists them until each is cancelled."""
    served, skipped, waiting = clinic.visit(), clinic.visit(), clinic.visit()
    clinic.visit(arrived=False)  # a Mobile JKN booking whose patient never came
    other_poli = clinic.visit(session="ANA")
    clinic.call(counter="Ruang 1")
    clinic.act(queue_actions.start, served.ticket_id)
    clinic.call(counter="Ruang 3")
    with clinic.db.session() as s:
        queue_actions.skip(s, clinic.actor, skipped.ticket_id, 1)
    next_day = DAY + timedelta(days=1)

    def view_at(moment: datetime, point: str = UMU):
        with clinic.db.session() as s:
            return counter_view(s, clinic.actor.site_id, point, "Ruang 2", moment)

    night = view_at(_at(next_day, 0, 30))  # the night's line still holds who was in service, waiting or skipped
    assert [e.label for e in night.waiting] == ["A001", "A003"] and [e.label for e in night.late] == ["A002"]
    assert [(e.label, e.status) for e in night.left_open] == [("A004", "booked")]  # never came: no line holds it
    morning = view_at(_at(next_day, 6, 0))
    assert morning.waiting == [] and morning.late == []
    assert [(e.label, e.status, e.earlier) for e in morning.left_open] == [
        ("A001", "serving", DAY),  # never finished
        ("A002", "skipped", DAY),
        ("A003", "waiting", DAY),
        ("A004", "booked", DAY),
    ]
    anak = ticket(clinic, other_poli.ticket_id).label
    assert [e.label for e in view_at(_at(next_day, 6, 0), ANA).left_open] == [anak]  # each poli lists its own
    shown = str(left_open_card(morning.left_open))
    assert "Belum ditutup dari hari sebelumnya (4)" in shown and shown.count("dari 12/01") == 4
    assert "counter-left-open-A003-20260112" in shown and left_open_card([]) is None
    assert "counter-finish-late-row" in str(left_open_card(morning.left_open[:1]))  # finished, not cancelled
    assert "counter-finish-late-row" not in str(left_open_card(morning.left_open[1:]))

    clinic.now = _at(next_day, 7, 0)
    _, cancelled = clinic.act(queue_actions.cancel, waiting.ticket_id, reason="Tidak hadir")
    assert tasks(clinic, waiting.visit_id)[99] == cancelled
    assert [k for k, _ in outbox(clinic, waiting.visit_id)][-1] == "batal"  # BPJS hears of it
    assert [e.label for e in view_at(clinic.now).left_open] == ["A001", "A002", "A004"]
    with clinic.db.session() as s, pytest.raises(InputError) as future:  # 09.00 after a 10.0x start: tomorrow's
        queue_actions.finish_left_open(s, clinic.actor, served.ticket_id, time(9, 0), clinic.now)
    assert future.value.key == "counter_err_finish_time"
    with clinic.db.session() as s:
        queue_actions.finish_left_open(s, clinic.actor, served.ticket_id, time(10, 40), clinic.now)
    assert tasks(clinic, served.visit_id)[5] == _at(DAY, 10, 40)  # when the record says, not when it was clicked
    assert ticket(clinic, served.ticket_id).status == "done"
    assert [e.label for e in view_at(clinic.now).left_open] == ["A002", "A004"]
    assert view_at(_at(DAY + timedelta(days=30), 7, 0)).left_open != []
    assert view_at(_at(DAY + timedelta(days=31), 7, 0)).left_open == []  # a month on, the list lets them go


def test_a_night_service_left_unfinished_ends_after_midnight_when_its_time_is_earlier_than_its_start(clinic):
    reg = clinic.visit()
    clinic.call()
    clinic.act(queue_actions.start, reg.ticket_id)
    clinic.act(queue_actions.finish, reg.ticket_id, pharmacy=NON_RACIKAN)
    clinic.now = _at(DAY, 23, 49)
    drugs = clinic.call(point=NON_RACIKAN, counter="Farmasi 1")[0]
    clinic.act(queue_actions.start, drugs.ticket_id)  # 23.51, and nobody pressed "finish"
    two_days_on = _at(DAY + timedelta(days=2), 7, 0)
    with clinic.db.session() as s:
        view = counter_view(s, clinic.actor.site_id, NON_RACIKAN, "Farmasi 1", two_days_on)
        assert [(e.label, e.status) for e in view.left_open] == [("N001", "serving")]
        queue_actions.finish_left_open(s, clinic.actor, drugs.ticket_id, time(0, 20), two_days_on)
    assert tasks(clinic, reg.visit_id)[7] == _at(DAY + timedelta(days=1), 0, 20)  # the night's, not the day's 00.20


def test_referral_books_the_other_poli_with_task_3_at_the_finish_time(clinic):
    reg = clinic.visit()
    clinic.call()
    clinic.act(queue_actions.start, reg.ticket_id)
    result, finished = clinic.act(queue_actions.finish, reg.ticket_id, refer_session_id=clinic.sessions["ANA"])
    assert ANA in {e.point for e in result.events}
    with clinic.db.session() as s:
        referred = s.scalars(select(Visit).where(Visit.referred_from_id == reg.visit_id)).one()
        label = s.scalar(select(QueueTicket.label).where(QueueTicket.visit_id == referred.id))
        assert (referred.source, referred.session_id, label) == ("referral", clinic.sessions["ANA"], "B001")
        assert s.get(Visit, reg.visit_id).status == "done"
    assert tasks(clinic, referred.id) == {3: finished}
    assert tasks(clinic, reg.visit_id)[5] == finished


def test_cancel_records_task_99_returns_the_quota_and_reports_batal(clinic):
    reg = clinic.visit()
    with clinic.db.session() as s:
        assert s.get(ClinicSession, clinic.sessions["UMU1"]).booked_jkn == 1
    clinic.call()
    _, cancelled = clinic.act(queue_actions.cancel, reg.ticket_id, reason="Tidak hadir")
    assert tasks(clinic, reg.visit_id)[99] == cancelled
    with clinic.db.session() as s:
        assert s.get(ClinicSession, clinic.sessions["UMU1"]).booked_jkn == 0
        assert s.get(Visit, reg.visit_id).status == "cancelled"
    assert ticket(clinic, reg.ticket_id).status == "cancelled"
    kinds = [k for k, _ in outbox(clinic, reg.visit_id)]
    assert kinds == ["antrean_add", "updatewaktu", "updatewaktu", "batal"]


def test_a_typed_reason_with_control_characters_is_stored_without_them(clinic):
    """A NUL pasted into the reason made PostgreSQL refuse the audit row (a server error); full-width letters are
    stored as the letters they are."""
    reg = clinic.visit()
    clinic.call()
    clinic.act(queue_actions.cancel, reg.ticket_id, reason="  Ｔidak\x00 hadir\x07 ")
    with clinic.db.session() as s:
        detail = s.scalars(select(AuditLog.detail).where(AuditLog.action == "queue_ticket_cancelled")).one()
    assert detail["reason"] == "Tidak hadir"


def _counts(clinic: Clinic) -> tuple[int, int]:
    with clinic.db.session() as s:
        return s.scalar(select(func.count()).select_from(VisitTask)), s.scalar(
            select(func.count()).select_from(BpjsOutbox)
        )


@pytest.mark.parametrize(
    ("steps", "refused", "key"),
    [
        ([], queue_actions.finish, "err_ticket_state"),  # finish before start
        (["start"], queue_actions.start, "err_ticket_state"),  # start twice
        (["start"], queue_actions.cancel, "err_ticket_state"),  # a served patient is no no-show
    ],
)
def test_out_of_order_actions_are_refused_and_change_nothing(clinic, steps, refused, key):
    reg = clinic.visit()
    clinic.call()
    for _ in steps:
        clinic.act(queue_actions.start, reg.ticket_id)
    before, status = _counts(clinic), ticket(clinic, reg.ticket_id).status
    extra = {"reason": "x"} if refused is queue_actions.cancel else {}
    with pytest.raises(InputError) as refusal:
        clinic.act(refused, reg.ticket_id, **extra)
    assert refusal.value.key == key
    assert _counts(clinic) == before and ticket(clinic, reg.ticket_id).status == status


def test_a_task_out_of_order_is_refused_by_the_task_rules(clinic):
    """A ticket in the line whose visit never recorded its arrival (task 3) cannot start service (task 4)."""
    with clinic.db.session() as s:
        patient = register_patient(
            s,
            clinic.cipher,
            clinic.actor,
            name="Belum Datang",
            birth_date=date(1990, 2, 2),
            sex="L",
            phone="081299990000",
            today=DAY,
        )
        booked = register_visit(
            s,
            clinic.actor,
            patient_id=patient.id,
            session_id=clinic.sessions["UMU1"],
            payer="non_jkn",
            now=clinic.tick(),
            arrived=False,
        )
        s.get(QueueTicket, booked.ticket_id).status = "waiting"  # a line entry without its arrival time
    clinic.call()
    with pytest.raises(InputError) as refusal:
        clinic.act(queue_actions.start, booked.ticket_id)
    assert refusal.value.key == "err_task_order" and refusal.value.params == {"task": 4, "expected": 1}
    assert tasks(clinic, booked.visit_id) == {} and ticket(clinic, booked.ticket_id).status == "called"


def test_only_jkn_visits_are_reported_to_bpjs(clinic):
    private, insured = clinic.visit(payer="non_jkn"), clinic.visit(payer="jkn")
    for reg in (private, insured):
        clinic.call()
        clinic.act(queue_actions.start, reg.ticket_id)
        clinic.act(queue_actions.finish, reg.ticket_id, pharmacy=NON_RACIKAN)
    assert tasks(clinic, private.visit_id).keys() == {3, 4, 5}
    assert outbox(clinic, private.visit_id) == []
    assert [k for k, _ in outbox(clinic, insured.visit_id)] == [
        "antrean_add",
        "updatewaktu",
        "updatewaktu",
        "updatewaktu",
        "farmasi_add",
    ]


def test_parallel_calls_on_postgres_never_hand_out_a_ticket_twice(postgres_app):
    any_clinic = build_clinic(postgres_app)
    registered = {any_clinic.visit().ticket_id for _ in range(10)}
    start = threading.Barrier(8)
    got: list[int | None] = []
    errors: list[BaseException] = []

    def counter(n: int) -> None:
        try:
            start.wait()
            with any_clinic.db.session() as s:
                result = queue_actions.call_next(s, any_clinic.actor, UMU, f"Ruang {n}", any_clinic.now)
            got.append(result.ticket_id)
        except Exception as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=counter, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(got) == 8 and len(set(got)) == 8 and set(got) <= registered
    with any_clinic.db.session() as s:
        called = s.execute(select(QueueTicket.id, QueueTicket.counter).where(QueueTicket.status == "called")).all()
    assert {i for i, _ in called} == set(got) and len({c for _, c in called}) == 8


# --- the callbacks over HTTP: the server decides, whatever the browser sends ------------------------------------


def dash_post(client, pantau, output: str, trigger: str, values: dict[str, object]):
    """Post one Dash callback request as the renderer would, for the callback whose outputs include ``output``."""
    key = next(k for k in pantau.dash.callback_map if output in k)
    spec = pantau.dash.callback_map[key]

    def wire(item: dict) -> dict | list:
        if item["id"].startswith("{"):  # a pattern-matching input with no components on the page
            return []
        name = f"{item['id']}.{item['property']}"
        return {"id": item["id"], "property": item["property"], "value": values.get(name)}

    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key.strip(".").split("...")]
    body = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [wire(i) for i in spec["inputs"]],
        "state": [wire(i) for i in spec["state"]],
        "changedPropIds": [trigger],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def today_session(pantau, poli: str = "UMU") -> int:
    with pantau.runtime.db.session() as s:
        site_id = find_user(s, "perawat").site_id
        return next(x.id for x in day_sessions(s, site_id, local_today(s, site_id)) if x.poli_code == poli)


def test_counter_refuses_a_point_the_role_may_not_run(sqlite_app, login):
    with sqlite_app.runtime.db.session() as s:
        site_id = find_user(s, "perawat").site_id
        drugs = issue_ticket(s, site_id, RACIKAN, local_today(s, site_id), now=utcnow()).id
    nurse = login("nurse")
    chosen = {"counter-point.value": RACIKAN, "counter-name.value": "Farmasi 1", "counter-open.n_clicks": 1}
    opened = dash_post(nurse, sqlite_app, "counter-setup-feedback", "counter-open.n_clicks", chosen)
    assert "tidak berwenang" in opened and '"counter-choice"' not in opened
    forged = {"counter-choice.data": {"point": RACIKAN, "counter": "Farmasi 1"}, "counter-call-next.n_clicks": 1}
    refused = dash_post(nurse, sqlite_app, FEEDBACK, "counter-call-next.n_clicks", forged)
    assert "tidak berwenang" in refused
    with sqlite_app.runtime.db.session() as s:
        assert s.get(QueueTicket, drugs).status == "waiting"
    pharmacist = login("pharmacy")
    called = dash_post(pharmacist, sqlite_app, FEEDBACK, "counter-call-next.n_clicks", forged)
    assert "R001 dipanggil ke Farmasi 1" in called


def test_counter_actions_over_http_call_start_and_finish_to_the_pharmacy(sqlite_app, login):
    session_id = today_session(sqlite_app)
    with sqlite_app.runtime.db.session() as s:
        nurse_row = find_user(s, "perawat")
        actor = Actor(nurse_row.id, nurse_row.username, nurse_row.site_id, None)
        patient = register_patient(
            s,
            sqlite_app.runtime.cipher,
            actor,
            name="Rina Uji",
            birth_date=date(1991, 3, 4),
            sex="P",
            phone="081211112222",
            today=local_today(s, actor.site_id),
        )
        reg = register_visit(s, actor, patient_id=patient.id, session_id=session_id, payer="non_jkn", now=utcnow())
    nurse = login("nurse")
    choice = {"counter-choice.data": {"point": UMU, "counter": "Ruang 1"}}
    called = {**choice, "counter-call-next.n_clicks": 1}
    assert "A001 dipanggil ke Ruang 1" in dash_post(nurse, sqlite_app, FEEDBACK, "counter-call-next.n_clicks", called)
    stale = {**choice, "counter-start.n_clicks": 1, "counter-current-ticket.data": {"id": reg.ticket_id + 99}}
    assert "Tampilan sudah berubah" in dash_post(nurse, sqlite_app, FEEDBACK, "counter-start.n_clicks", stale)
    shown = {**choice, "counter-current-ticket.data": {"id": reg.ticket_id, "label": "A001"}}
    early = {**shown, "counter-finish.n_clicks": 1}
    assert "sedang berstatus dipanggil" in dash_post(nurse, sqlite_app, FEEDBACK, "counter-finish.n_clicks", early)
    started = {**shown, "counter-start.n_clicks": 1}
    assert "A001 mulai dilayani" in dash_post(nurse, sqlite_app, FEEDBACK, "counter-start.n_clicks", started)
    finish = {**shown, "counter-finish.n_clicks": 1, "counter-finish-to.value": RACIKAN}
    assert "farmasi racikan" in dash_post(nurse, sqlite_app, FEEDBACK, "counter-finish.n_clicks", finish)
    with sqlite_app.runtime.db.session() as s:
        assert recorded_tasks(s, reg.visit_id).keys() == {3, 4, 5}
        assert s.scalar(select(QueueTicket.label).where(QueueTicket.point == RACIKAN)) == "R001"


def test_running_text_is_for_admins_and_closing_a_poli_tells_every_board(sqlite_app, login):
    site_id = 1
    with sqlite_app.runtime.live.subscribe(live_keys.queue_channel(site_id)) as events:
        desk = login("front_desk")
        text = {"qadmin-running-text.value": "Selamat datang", "qadmin-running-save.n_clicks": 1}
        refused = dash_post(desk, sqlite_app, "qadmin-running-feedback", "qadmin-running-save.n_clicks", text)
        assert "Hanya admin" in refused
        with sqlite_app.runtime.db.session() as s:
            assert running_text(s, site_id) == ""
        admin = login("admin")
        saved = dash_post(admin, sqlite_app, "qadmin-running-feedback", "qadmin-running-save.n_clicks", text)
        assert "disimpan" in saved
        assert json.loads(events.get(timeout=2)[1])["point"] == "*"
        gigi = today_session(sqlite_app, "GIG")  # its own transaction first: it may add today's sessions
        with sqlite_app.runtime.db.session() as s:
            assert running_text(s, site_id) == "Selamat datang"
            poli = s.get(ClinicSession, gigi).poli_id
        close = {"qadmin-poli.value": str(poli), "qadmin-reason.value": "Dokter sakit", "qadmin-close.n_clicks": 1}
        closed = dash_post(desk, sqlite_app, "qadmin-close-feedback", "qadmin-close.n_clicks", close)
        assert "Poli Gigi ditutup hari ini" in closed
        assert json.loads(events.get(timeout=2)[1]) == {
            "kind": "change",
            "point": "*",
            "label": "",
            "number": 0,
            "prefix": "",
            "destination": "",
        }
    with sqlite_app.runtime.db.session() as s:
        reasons = s.scalars(select(ClinicSession.closed_reason).where(ClinicSession.poli_id == poli)).all()
        assert reasons and set(reasons) == {"Dokter sakit"}
    unknown = {**close, "qadmin-poli.value": "999"}
    unnamed = dash_post(desk, sqlite_app, "qadmin-close-feedback", "qadmin-close.n_clicks", unknown)
    assert "Pilih poli yang punya jadwal" in unnamed


def test_a_refresh_that_would_show_the_same_lines_leaves_the_counter_page_alone(sqlite_app, login):
    """The 5 s refresh re-sends nothing when nothing changed (a list replaced under the cursor can swallow a
    click); a change shows at the next refresh."""
    session_id = today_session(sqlite_app)
    nurse = login("nurse")
    tick = {"counter-choice.data": {"point": UMU, "counter": "Ruang 1"}, "counter-interval.n_intervals": 1}

    def refresh(shown: str | None) -> dict:
        values = {**tick, "counter-shown.data": shown}
        return json.loads(dash_post(nurse, sqlite_app, "counter-shown", "counter-interval.n_intervals", values))[
            "response"
        ]

    first = refresh(None)
    assert "counter-waiting" in first
    key = first["counter-shown"]["data"]
    assert refresh(key) == {"counter-shown": {"data": key}}
    with sqlite_app.runtime.db.session() as s:
        desk = find_user(s, "loket")
        actor = Actor(desk.id, desk.username, desk.site_id, None)
        patient = register_patient(
            s, sqlite_app.runtime.cipher, actor, name="Dewi Segar", birth_date=date(1990, 5, 6), sex="P",
            phone="081233334444", today=local_today(s, actor.site_id),
        )  # fmt: skip
        register_visit(s, actor, patient_id=patient.id, session_id=session_id, payer="non_jkn", now=utcnow())
    changed = refresh(key)
    assert "Dewi Segar" in json.dumps(changed["counter-waiting"]) and changed["counter-shown"]["data"] != key
