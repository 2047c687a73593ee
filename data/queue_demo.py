"""Demo only: a clinic that runs by itself, so the queue boards, counters and dashboard have something to show.

``DemoClinic.step(now)`` moves every counter of the day one step through the REAL queue services (walk-ins at the
registration desk, ``call_next``, ``start``, ``finish`` with pharmacy referrals, the odd no-show) and lets a
fictional patient walk in now and then. It keeps no state a restart would lose: whether a called patient has
arrived, or a service is over, follows from the ticket's own times and a draw seeded by the ticket's id, so
several processes may step the same clinic (the loser of a race gets an ``InputError``, which is logged).

``run_morning`` replays the part of today's sessions that already passed (from their start, at most
``MORNING_HOURS`` back) minute by minute with the same steps, when today has fewer than ``MORNING_VISITS`` demo
visits; the doctors' starts it records are the draws of ``DOCTOR_LATE``, not an artefact of the replay.

Every patient it creates is fictional and marked ``is_demo``, with obviously fake numbers: phone 0812-0000-xxxx,
BPJS card 9999…, NIK 99…, referral DEMO…."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from data.models import BedOccupancy, ClinicSession, Patient, Poli, QueueTicket, Visit
from data.patients import LIVE_PATIENT
from data.queue_actions import call_next, cancel, finish, start
from data.queue_registration import register_patient, register_visit, take_admission_ticket
from data.queue_tickets import QueueEvent, publish
from data.runtime import Runtime
from data.schedules import ensure_sessions, local_today
from data.seed import CHILD_MAX_YEARS
from domain.actor import Actor
from domain.errors import InputError
from domain.queue_points import (
    ADMISSION,
    PHARMACY_COMPOUNDED,
    PHARMACY_POINTS,
    PHARMACY_READY,
    poli_code_of,
    poli_point,
)

log = logging.getLogger(__name__)

MORNING_VISITS = 20
OUTPATIENTS = 40  # fictional returning patients the demo keeps on file
MORNING_HOURS = 8  # one whole session: starting later would make every doctor look late
MORNING_STEP = timedelta(minutes=1)
MORNING_ARRIVALS = (3.0, 6.0)  # demo minutes between walk-ins while replaying the morning
LIVE_ARRIVALS = (1.0, 2.0)  # and while the demo runs
EARLY_ARRIVAL = timedelta(minutes=30)  # patients come this long before the doctor's session
NEW_PATIENT_SHARE = 0.4
CARD_SHARE = 0.75  # patients with a (fake) BPJS card come as JKN
NO_SHOW_SHARE = 0.06
NO_SHOW_AFTER = 3.0  # demo minutes a called patient is waited for
PHARMACY_SHARE, COMPOUNDED_SHARE = 0.55, 0.3
WALK = (0.5, 2.0)  # demo minutes from being called to the counter
SERVICE = {"loket": (2.0, 5.0), "poli": (5.0, 15.0), PHARMACY_COMPOUNDED: (8.0, 15.0), PHARMACY_READY: (3.0, 8.0)}
DOCTOR_LATE = (0.0, 15.0)
DESK, PHARMACY_COUNTERS = "Loket 1", {PHARMACY_COMPOUNDED: "Loket Farmasi 1", PHARMACY_READY: "Loket Farmasi 2"}

MEN = ("Agus", "Bayu", "Dedi", "Eko", "Fajar", "Gilang", "Hadi", "Irfan", "Joko", "Krisna", "Lukman", "Rizky")
WOMEN = ("Ani", "Citra", "Dian", "Endah", "Fitri", "Gita", "Hesti", "Indah", "Kartika", "Mega", "Ratih", "Wulan")
FAMILIES = ("Hidayat", "Kusuma", "Lubis", "Nasution", "Pratama", "Saputra", "Siregar", "Wibowo", "Setiawan", "Harahap")


def draw(key: str, low: float, high: float) -> float:
    """A number in ``[low, high)`` that every process draws alike for the same key (e.g. a ticket's id)."""
    return random.Random(key).uniform(low, high)  # noqa: S311 - demo timings, not security


@dataclass(frozen=True)
class _Session:
    id: int
    poli_code: str
    starts_at: datetime
    ends_at: datetime
    has_room: bool
    booked: int
    counter: str


@dataclass(frozen=True)
class _AtCounter:
    id: int
    point: str
    status: str
    called_at: datetime
    started_at: datetime | None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fits(poli_code: str, today: date) -> tuple[str | None, date, date]:
    """Who comes to which poli: (sex or None, born after, born on or before). Children (up to Poli Anak's upper
    age, ``CHILD_MAX_YEARS``) go to Poli Anak and nowhere else; adults to every other poli."""
    adult = _years_before(today, CHILD_MAX_YEARS + 1)
    if poli_code == "ANA":
        return None, adult, today - timedelta(days=1)
    if poli_code == "OBG":
        return "P", _years_before(today, 45), adult
    return None, _years_before(today, 85), adult


class DemoClinic:
    """One step at a time, through the same service functions the counters use. ``speed`` is demo minutes per
    real minute (``PANTAU_SIMULATOR_SPEED``); the morning replay runs at 1 with past ``now`` values."""

    def __init__(
        self,
        runtime: Runtime,
        site_id: int,
        *,
        speed: float,
        arrivals: tuple[float, float] = LIVE_ARRIVALS,
        publish_events: bool = True,
    ) -> None:
        self.runtime, self.site_id, self.speed = runtime, site_id, speed
        self.arrivals, self.publish_events = arrivals, publish_events
        self.actor = Actor(user_id=None, username="demo-antrean", site_id=site_id)
        self.rng = random.Random()  # noqa: S311 - demo choices
        self.next_arrival: datetime | None = None

    def demo_minutes(self, minutes: float) -> timedelta:
        return timedelta(minutes=minutes / self.speed)

    # ------------------------------------------------------------------------------------------------ one step

    def step(self, now: datetime) -> int:
        """Move every counter at most one step and maybe let a patient walk in; returns the actions done."""
        sessions, busy = self._today(now)
        done = self._first_patients(sessions, now)
        for point, counter, clinic_session in self._counters(sessions):
            ticket = busy.get((point, counter))
            done += bool(self._advance(point, counter, clinic_session, ticket, sessions, now))
        if self.next_arrival is None or now >= self.next_arrival:
            done += bool(self._walk_in(sessions, now))
            self.next_arrival = now + self.demo_minutes(self.rng.uniform(*self.arrivals))
        return done

    def _today(self, now: datetime) -> tuple[list[_Session], dict[tuple[str, str], _AtCounter]]:
        with self.runtime.db.session() as s:
            day = local_today(s, self.site_id, now)
            ensure_sessions(s, self.site_id, day)
            rows = s.execute(
                select(ClinicSession, Poli.code, Poli.name)
                .join(Poli, Poli.id == ClinicSession.poli_id)
                .where(
                    ClinicSession.site_id == self.site_id,
                    ClinicSession.service_date == day,
                    ClinicSession.closed_reason.is_(None),
                )
                .order_by(Poli.code, ClinicSession.start_time, ClinicSession.id)
            ).all()
            per_poli, seen = Counter(code for _, code, _ in rows), Counter()
            sessions = []
            for cs, code, name in rows:  # one room per doctor: "Poli Umum 1", "Poli Umum 2"
                seen[code] += 1
                room = cs.booked_jkn < cs.quota_jkn or cs.booked_non_jkn < cs.quota_non_jkn
                counter = f"{name} {seen[code]}" if per_poli[code] > 1 else name
                booked = cs.booked_jkn + cs.booked_non_jkn
                sessions.append(_Session(cs.id, code, cs.starts_at, cs.ends_at, room, booked, counter))
            busy = {
                (t.point, t.counter): _AtCounter(t.id, t.point, t.status, t.called_at, t.started_at)
                for t in s.scalars(
                    select(QueueTicket).where(
                        QueueTicket.site_id == self.site_id,
                        QueueTicket.service_date == day,
                        QueueTicket.status.in_(("called", "serving")),
                    )
                )
            }
        return sessions, busy

    @staticmethod
    def _counters(sessions: list[_Session]) -> list[tuple[str, str, _Session | None]]:
        counters = [(ADMISSION, DESK, None)]
        counters += [(poli_point(cs.poli_code), cs.counter, cs) for cs in sessions]
        counters += [(point, name, None) for point, name in PHARMACY_COUNTERS.items()]
        return counters

    def _advance(
        self,
        point: str,
        counter: str,
        clinic_session: _Session | None,
        ticket: _AtCounter | None,
        sessions: list[_Session],
        now: datetime,
    ) -> bool:
        if ticket is None:
            return self._call(point, counter, clinic_session, now)
        if ticket.status == "called":
            return self._arrive(ticket, now)
        return self._serve(ticket, sessions, now)

    def _call(self, point: str, counter: str, clinic_session: _Session | None, now: datetime) -> bool:
        """A free counter calls its next number (a poli's only once its doctor has arrived)."""
        session_id = None
        if clinic_session is not None:
            late = self.demo_minutes(draw(f"late:{clinic_session.id}", *DOCTOR_LATE))
            if now < clinic_session.starts_at + late:
                return False
            session_id = clinic_session.id
        return bool(self._act(lambda s: call_next(s, self.actor, point, counter, now, session_id=session_id)))

    def _arrive(self, ticket: _AtCounter, now: datetime) -> bool:
        """A called patient reaches the counter after a short walk; a few never come to the poli."""
        if poli_code_of(ticket.point) and draw(f"noshow:{ticket.id}", 0, 1) < NO_SHOW_SHARE:
            if now < ticket.called_at + self.demo_minutes(NO_SHOW_AFTER):
                return False
            return bool(self._act(lambda s: cancel(s, self.actor, ticket.id, now, "tidak hadir (demo)")))
        if now < ticket.called_at + self.demo_minutes(draw(f"walk:{ticket.id}", *WALK)):
            return False
        return bool(self._act(lambda s: start(s, self.actor, ticket.id, now)))

    def _serve(self, ticket: _AtCounter, sessions: list[_Session], now: datetime) -> bool:
        """When the service time is over: the desk registers the new patient, a poli finishes (sending some
        patients on to the pharmacy), the pharmacy hands over the drugs."""
        kind = ticket.point if ticket.point in PHARMACY_POINTS else "poli" if poli_code_of(ticket.point) else "loket"
        if now < ticket.started_at + self.demo_minutes(draw(f"service:{ticket.id}", *SERVICE[kind])):
            return False
        if ticket.point == ADMISSION:
            return self._register_new_patient(ticket.id, sessions, now)
        pharmacy = None
        if kind == "poli" and draw(f"drugs:{ticket.id}", 0, 1) < PHARMACY_SHARE:
            compounded = draw(f"racikan:{ticket.id}", 0, 1) < COMPOUNDED_SHARE
            pharmacy = PHARMACY_COMPOUNDED if compounded else PHARMACY_READY
        return bool(self._act(lambda s: finish(s, self.actor, ticket.id, now, pharmacy=pharmacy)))

    # ----------------------------------------------------------------------------------------------- patients

    def _open_for(self, sessions: list[_Session], now: datetime) -> list[_Session]:
        return [cs for cs in sessions if cs.has_room and cs.starts_at - EARLY_ARRIVAL <= now < cs.ends_at]

    def _first_patients(self, sessions: list[_Session], now: datetime) -> int:
        """A returning patient books each session that opens with nobody booked yet, as in any clinic: a doctor
        who found an empty waiting room would start late in the queue report, whatever ``DOCTOR_LATE`` drew."""
        done = 0
        for cs in self._open_for(sessions, now):
            if cs.booked:
                continue
            with self.runtime.db.session() as s:
                patient = self._returning_patient(s, cs.poli_code, now)
            if patient is not None:
                done += bool(self._act(lambda s, p=patient, c=cs: self._book(s, p, c.id, now, None)))
        return done

    def _walk_in(self, sessions: list[_Session], now: datetime) -> bool:
        """A new patient takes a number at the registration desk; a returning one registers at the poli."""
        open_sessions = self._open_for(sessions, now)
        if not open_sessions:
            return False
        if self.rng.random() >= NEW_PATIENT_SHARE:
            chosen = self.rng.choice(open_sessions)
            with self.runtime.db.session() as s:
                patient = self._returning_patient(s, chosen.poli_code, now)
            if patient is not None:
                return bool(self._act(lambda s: self._book(s, patient, chosen.id, now, None)))
        return bool(self._act(lambda s: take_admission_ticket(s, self.site_id, now)[1]))

    def _register_new_patient(self, admission_id: int, sessions: list[_Session], now: datetime) -> bool:
        """The desk served a new patient: register them and book a poli; without a place, the desk is done."""
        open_sessions = self._open_for(sessions, now)
        if open_sessions:
            chosen = self.rng.choice(open_sessions)

            def register(s: Session) -> object:
                patient = self._new_patient(s, chosen.poli_code, now)
                return self._book(s, patient, chosen.id, now, admission_id)

            if self._act(register):
                return True
        return bool(self._act(lambda s: finish(s, self.actor, admission_id, now)))

    def _book(self, s: Session, patient: Patient, session_id: int, now: datetime, admission_id: int | None) -> object:
        jkn = bool(patient.bpjs_bidx and patient.nik_bidx)
        return register_visit(
            s,
            self.actor,
            patient_id=patient.id,
            session_id=session_id,
            payer="jkn" if jkn else "non_jkn",
            now=now,
            admission_ticket_id=admission_id,
            referral_number=f"DEMO{self.rng.randrange(10**8):08d}" if jkn else None,  # a fake FKTP referral
        )

    def _new_patient(self, s: Session, poli_code: str, now: datetime) -> Patient:
        today = local_today(s, self.site_id, now)
        sex, born_after, born_before = _fits(poli_code, today)
        sex = sex or self.rng.choice("LP")
        first = self.rng.choice(MEN if sex == "L" else WOMEN)
        born = born_after + timedelta(days=1 + self.rng.randrange(max(1, (born_before - born_after).days)))
        insured = self.rng.random() < CARD_SHARE  # JKN needs the card and the NIK, both obviously fake here
        card = f"9999{self.rng.randrange(10**9):09d}" if insured else ""
        nik = f"99{self.rng.randrange(10**14):014d}" if insured else ""
        match = register_patient(
            s,
            self.runtime.cipher,
            self.actor,
            name=f"{first} {self.rng.choice(FAMILIES)}",
            birth_date=born,
            sex=sex,
            phone=f"0812-0000-{self.rng.randrange(10_000):04d}",
            nik=nik,
            bpjs=card,
            today=today,
        )
        patient = s.get(Patient, match.id)
        patient.is_demo = True
        return patient

    def _returning_patient(self, s: Session, poli_code: str, now: datetime) -> Patient | None:
        """A demo outpatient (not lying in a bed) who fits the poli and has no visit today."""
        day = local_today(s, self.site_id, now)
        sex, born_after, born_before = _fits(poli_code, day)
        visiting = select(Visit.patient_id).where(Visit.site_id == self.site_id, Visit.service_date == day)
        query = _outpatients(self.site_id).where(
            Patient.birth_date > born_after,
            Patient.birth_date <= born_before,
            Patient.id.not_in(visiting),
        )
        if sex:
            query = query.where(Patient.sex == sex)
        return s.scalar(query.order_by(func.random()).limit(1))

    def ensure_outpatients(self, now: datetime, poli_codes: list[str]) -> int:
        """Put ``OUTPATIENTS`` fictional patients on file (fitting the polis in turn), so most walk-ins are
        returning patients and only the new ones queue at the registration desk; returns how many it made."""
        with self.runtime.db.session() as s:
            missing = OUTPATIENTS - s.scalar(select(func.count()).select_from(_outpatients(self.site_id).subquery()))
            for n in range(max(0, missing)):
                self._new_patient(s, poli_codes[n % len(poli_codes)], now)
        return max(0, missing)

    # ------------------------------------------------------------------------------------------------ helpers

    def _act(self, action: Callable[[Session], object]) -> object | None:
        """Run one action in its own transaction; publish its events once committed. A refusal (a session
        just filled up, another process was quicker) is logged and the clinic goes on."""
        try:
            with self.runtime.db.session(write_lock=True) as s:
                result = action(s)
        except InputError as err:
            log.info("queue demo: action refused (%s)", err.key)
            return None
        except SQLAlchemyError as err:
            log.warning("queue demo: database error (%s)", type(err).__name__)  # no SQL: it may hold names
            return None
        if result is None or getattr(result, "ticket_id", 0) is None:
            return None  # call_next found nobody waiting
        if self.publish_events:
            events = [result] if isinstance(result, QueueEvent) else list(getattr(result, "events", ()))
            try:
                publish(self.runtime.live, self.site_id, events)
            except Exception:
                log.warning("queue demo: could not publish to the live store", exc_info=True)
        return result


def _outpatients(site_id: int):
    """The demo's fictional patients who are not lying in a ward bed."""
    in_bed = select(BedOccupancy.patient_id).where(BedOccupancy.until.is_(None))
    return select(Patient).where(
        Patient.site_id == site_id, Patient.is_demo.is_(True), Patient.id.not_in(in_bed), LIVE_PATIENT
    )


def demo_visits_today(session: Session, site_id: int, now: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Visit)
        .join(Patient, Patient.id == Visit.patient_id)
        .where(
            Visit.site_id == site_id,
            Visit.service_date == local_today(session, site_id, now),
            Patient.is_demo.is_(True),
        )
    )


def _morning_begins(session: Session, site_id: int, now: datetime) -> datetime | None:
    """Where the replay starts: the first session's start, at most ``MORNING_HOURS`` back, and after anything
    already recorded today (a restart continues the day instead of rewriting it)."""
    day = local_today(session, site_id, now)
    ensure_sessions(session, site_id, day)
    first = session.scalar(
        select(func.min(ClinicSession.starts_at)).where(
            ClinicSession.site_id == site_id, ClinicSession.service_date == day, ClinicSession.closed_reason.is_(None)
        )
    )
    if first is None:
        return None
    begin = max(first - EARLY_ARRIVAL, now - timedelta(hours=MORNING_HOURS))
    latest = session.execute(
        select(
            func.max(QueueTicket.created_at),
            func.max(QueueTicket.called_at),
            func.max(QueueTicket.started_at),
            func.max(QueueTicket.finished_at),
        ).where(QueueTicket.site_id == site_id, QueueTicket.service_date == day)
    ).one()
    recorded = [t for t in latest if t is not None]
    if recorded:
        begin = max(begin, max(recorded) + MORNING_STEP)
    return begin


def run_morning(
    runtime: Runtime, site_id: int, now: datetime, *, should_stop: Callable[[], bool] = lambda: False
) -> int:
    """Replay this morning's registrations and counters up to ``now`` when today has fewer than
    ``MORNING_VISITS`` demo visits; returns how many visits it registered."""
    with runtime.db.session() as s:
        before = demo_visits_today(s, site_id, now)
        begin = _morning_begins(s, site_id, now) if before < MORNING_VISITS else None
    if begin is None:
        return 0
    clinic = DemoClinic(runtime, site_id, speed=1.0, arrivals=MORNING_ARRIVALS, publish_events=False)
    with runtime.db.session() as s:
        codes = list(s.scalars(select(Poli.code).where(Poli.site_id == site_id, Poli.active.is_(True))))
    clinic.ensure_outpatients(now, codes or ["UMU"])
    clinic.next_arrival = begin + clinic.demo_minutes(clinic.rng.uniform(*MORNING_ARRIVALS))
    moment = begin
    while moment <= now and not should_stop():
        clinic.step(moment)
        moment += MORNING_STEP
    with runtime.db.session() as s:
        made = demo_visits_today(s, site_id, now) - before
    log.info("queue demo: replayed the morning from %s, %d visits", begin.isoformat(timespec="minutes"), made)
    return made
