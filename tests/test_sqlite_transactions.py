"""Two counters acting on the same ticket at the same instant: one wins and the other is refused cleanly
(``InputError``, never an ``IntegrityError`` or "database is locked"), on the embedded SQLite file database as on
PostgreSQL; and what ``Database.session(write_lock=True)`` (SQLite: ``BEGIN IMMEDIATE``) means for the rest."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import date
from functools import partial

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from auth.users import find_user
from data import queue_actions
from data.db import Database
from data.migrate import alembic_config, upgrade
from data.models import QueueTicket, VisitTask
from data.queue_registration import Registration, register_patient, register_visit
from data.schedules import local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from testkit.names import numbered_name
from tests.test_queue_actions import FEEDBACK, UMU, Clinic, build_clinic, dash_post, today_session
from tests.waiting import returns_within

ROUNDS = 20


def at_once(*jobs: Callable[[], object]) -> list[object]:
    """Run each job in its own thread, all released at the same instant. Returns each outcome: the job's
    result, the ``InputError`` key, or another error's name."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(n: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes[n] = job()
        except InputError as err:
            outcomes[n] = err.key
        except Exception as err:  # recorded: the test says which
            outcomes[n] = type(err).__name__

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def in_transaction(db: Database, action: Callable, *args: object, **kwargs: object) -> Callable[[], object]:
    """``action(session, *args, **kwargs)`` in a transaction of its own, as a counter runs it."""

    def job() -> object:
        with db.session(write_lock=True) as s:
            return action(s, *args, **kwargs)

    return job


def refusals(outcomes: list[object]) -> list[object]:
    return [o for o in outcomes if not isinstance(o, queue_actions.CounterResult)]


def called_ticket(clinic: Clinic, n: int) -> tuple[int, int]:
    """A new patient called to a counter of its own (``Ruang n``): (visit id, ticket id)."""
    reg = clinic.visit(session="UMU1" if n % 2 else "UMU2")
    called, _ = clinic.call(counter=f"Ruang {n}")
    assert called.ticket_id == reg.ticket_id
    return reg.visit_id, reg.ticket_id


def served_ticket(clinic: Clinic, n: int) -> tuple[int, int]:
    visit_id, ticket_id = called_ticket(clinic, n)
    clinic.act(queue_actions.start, ticket_id)
    return visit_id, ticket_id


def task_rows(db: Database, task: int) -> Counter:
    with db.session() as s:
        return Counter(s.scalars(select(VisitTask.visit_id).where(VisitTask.task_id == task)))


@pytest.fixture
def clinic(any_app) -> Clinic:
    return build_clinic(any_app)


# ---- two counters, one ticket ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prepare", "action", "task", "status"),
    [(called_ticket, queue_actions.start, 4, "serving"), (served_ticket, queue_actions.finish, 5, "done")],
    ids=["start", "finish"],
)
def test_two_counters_acting_on_one_ticket_at_once_one_is_refused(clinic, prepare, action, task, status):
    visits = []
    for n in range(1, ROUNDS + 1):
        visit_id, ticket_id = prepare(clinic, n)
        job = in_transaction(clinic.db, action, clinic.actor, ticket_id, clinic.tick())
        outcomes = at_once(job, job)
        assert refusals(outcomes) == ["err_ticket_state"], f"round {n}: {outcomes}"
        visits.append(visit_id)
        with clinic.db.session() as s:
            assert s.get(QueueTicket, ticket_id).status == status
    assert task_rows(clinic.db, task) == dict.fromkeys(visits, 1)


def test_two_counters_calling_the_last_patient_at_once_one_gets_nobody(clinic):
    for n in range(1, ROUNDS + 1):
        reg = clinic.visit(session="UMU1" if n % 2 else "UMU2")
        call = partial(in_transaction, clinic.db, queue_actions.call_next, clinic.actor, UMU, now=clinic.tick())
        outcomes = at_once(call(counter=f"A{n}"), call(counter=f"B{n}"))
        assert refusals(outcomes) == [], f"round {n}: {outcomes}"
        assert sorted([o.ticket_id for o in outcomes], key=bool) == [None, reg.ticket_id], f"round {n}: {outcomes}"
    with clinic.db.session() as s:
        assert s.scalar(select(func.count()).where(QueueTicket.status == "waiting")) == 0


def test_one_counter_calling_twice_at_once_calls_one_patient(clinic):
    """A double click (or two tabs) at one counter: the second call finds the first patient at the counter. On
    PostgreSQL both may pass the busy check (it takes no lock); the unique index of open tickets per counter
    refuses the second."""
    for n in range(1, ROUNDS + 1):
        clinic.visit(session="UMU1" if n % 2 else "UMU2")
        clinic.visit(session="UMU2" if n % 2 else "UMU1")
        job = in_transaction(clinic.db, queue_actions.call_next, clinic.actor, UMU, f"Ruang {n}", clinic.tick())
        outcomes = at_once(job, job)
        assert refusals(outcomes) == ["err_counter_busy"], f"round {n}: {outcomes}"
        with clinic.db.session() as s:
            assert s.scalar(select(func.count()).where(QueueTicket.counter == f"Ruang {n}")) == 1


def walk_in(pantau, session_id: int, n: int) -> Registration:
    """A patient registered at the desk into today's ``session_id``."""
    with pantau.runtime.db.session() as s:
        desk = find_user(s, "loket")
        actor = Actor(desk.id, desk.username, desk.site_id, None)
        patient = register_patient(
            s, pantau.runtime.cipher, actor, name=numbered_name("Pasien Klik", n), birth_date=date(1990, 1, n % 28 + 1),
            sex="L", phone="081211112222", today=local_today(s, actor.site_id),
        )  # fmt: skip
        return register_visit(s, actor, patient_id=patient.id, session_id=session_id, payer="non_jkn", now=utcnow())


def test_a_double_click_on_start_over_http_starts_the_patient_once(any_app, login):
    """Two tabs at one counter press "Mulai" at the same instant, through the real callback (which reads the
    counter's line before it acts): one starts the patient, the other is told why not."""
    session_id = today_session(any_app)
    tabs = login("nurse"), login("nurse")
    for n in range(1, ROUNDS + 1):
        reg = walk_in(any_app, session_id, n)
        choice = {"counter-choice.data": {"point": UMU, "counter": f"Ruang {n}"}}
        call = {**choice, "counter-call-next.n_clicks": 1}
        assert f"{reg.label} dipanggil" in dash_post(tabs[0], any_app, FEEDBACK, "counter-call-next.n_clicks", call)
        press = {**choice, "counter-current-ticket.data": {"id": reg.ticket_id}, "counter-start.n_clicks": 1}
        replies = at_once(
            *[partial(dash_post, tab, any_app, FEEDBACK, "counter-start.n_clicks", press) for tab in tabs]
        )
        started = [r for r in replies if "mulai dilayani" in str(r)]
        refused = [r for r in replies if "sedang berstatus" in str(r) or "Tampilan sudah berubah" in str(r)]
        assert (len(started), len(refused)) == (1, 1), f"round {n}: {replies}"
    assert sorted(task_rows(any_app.runtime.db, 4).values()) == [1] * ROUNDS


# ---- what BEGIN IMMEDIATE means for the rest of the data layer -------------------------------------------------


def sqlite_file(pantau) -> str:
    return pantau.runtime.db.engine.url.database


def other_process(path: str) -> sqlite3.Connection:
    """A plain sqlite3 connection that never waits for a lock: another program on the same file."""
    return sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)


def test_a_write_locked_session_holds_the_lock_from_its_first_read_and_readers_go_on(sqlite_app):
    db = sqlite_app.runtime.db
    with db.session(write_lock=True) as s:
        s.scalar(select(func.count()).select_from(QueueTicket))
        with closing(other_process(sqlite_file(sqlite_app))) as other:
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            assert other.execute("SELECT count(*) FROM app_user").fetchone()[0] > 0  # WAL: readers are not blocked
        with db.session() as reader:  # a plain session (the same thread, too) reads without waiting
            assert find_user(reader, "loket") is not None
    with closing(other_process(sqlite_file(sqlite_app))) as other:
        other.execute("BEGIN IMMEDIATE")  # committed: free again
        other.execute("ROLLBACK")


def test_plain_sessions_and_ping_do_not_wait_for_a_writer(sqlite_app):
    db = sqlite_app.runtime.db
    with closing(other_process(sqlite_file(sqlite_app))) as writer:
        writer.execute("BEGIN IMMEDIATE")

        def read() -> bool:
            with db.session() as s:
                return find_user(s, "loket") is not None

        assert returns_within(5, db.ping, "ping while a writer holds the lock")  # not after the 30 s busy timeout
        assert returns_within(5, read, "a plain session while a writer holds the lock")
        writer.execute("ROLLBACK")


def test_migrations_go_down_and_up_again_on_sqlite(tmp_path):
    """Every migration (batch mode included): base -> head -> base -> head."""
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    db = Database(url)
    try:
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade(url)
        with db.session() as s:
            assert s.scalar(text("SELECT version_num FROM alembic_version")) == head(url)
        assert {"queue_ticket", "visit_task", "vital_sample"} <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()
