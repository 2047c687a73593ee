"""BPJS reference data of a site (polis, doctors and practice schedules as BPJS/HFIS knows them), the mapping of
BPJS codes onto Pantau's polis and doctors, and a day's schedule compared with BPJS's.

The tables copy BPJS's answers; the BPJS worker refreshes them (``bridge.bpjs_reference_pull``). Polis and doctors that
a pull no longer lists are kept with ``gone_at`` set, so a mapping that still points at one is flagged instead of
breaking silently; a poli's jadwal of a day is replaced as a whole by each successful answer, and past days are
dropped. Every mapping change and every pull request is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from data import audit
from data.models import BpjsRefDokter, BpjsRefJadwal, BpjsRefPoli, BpjsRefPull, Doctor, Poli
from data.schedules import day_sessions, local_today, off_plan_sessions
from data.upsert import insert_for
from domain.actor import Actor
from domain.errors import InputError

# How one Pantau session compares with BPJS's jadwal (``ScheduleCheck.status``).
SAME = "same"
DIFFERENT = "different"  # both have the doctor at the poli, at other hours
MISSING_IN_BPJS = "missing_in_bpjs"  # Mobile JKN cannot book it
MISSING_IN_PANTAU = "missing_in_pantau"  # Mobile JKN may book a session Pantau does not hold
BPJS_LIBUR = "bpjs_libur"  # BPJS marks the doctor's day as libur
UNMAPPED = "unmapped"  # the poli or the doctor has no BPJS code
NOT_PULLED = "not_pulled"  # no jadwal of this poli and day has been pulled
OFF_PLAN = "off_plan"  # Pantau only holds sessions its plan no longer makes (kept for their bookings)
MISMATCHES = frozenset({DIFFERENT, MISSING_IN_BPJS, MISSING_IN_PANTAU, BPJS_LIBUR})  # OFF_PLAN is none
UNCHECKED = frozenset({UNMAPPED, NOT_PULLED})


@dataclass(frozen=True)
class RefPoli:
    """One ``ref/poli`` row."""

    kode: str
    nama: str
    kode_subspesialis: str
    nama_subspesialis: str


@dataclass(frozen=True)
class RefDokter:
    """One ``ref/dokter`` row."""

    kode: str
    nama: str


@dataclass(frozen=True)
class RefJadwal:
    """One ``jadwaldokter`` row; ``jadwal`` is ``HH:MM-HH:MM``."""

    kodesubspesialis: str
    kodedokter: str
    hari: int
    jadwal: str
    kapasitas: int
    libur: bool


# Storing what BPJS answered


def _upsert(session: Session, model: type, keys: list[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = insert_for(session, model).values(rows)
    changed = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def _mark_gone(session: Session, model: Any, key: Any, site_id: int, listed: Sequence[str], now: datetime) -> None:
    session.execute(
        update(model).where(model.site_id == site_id, key.not_in(listed), model.gone_at.is_(None)).values(gone_at=now)
    )


def store_polis(session: Session, site_id: int, rows: Sequence[RefPoli], now: datetime) -> int:
    """Upsert ``ref/poli`` (keyed by sub-speciality code); polis no longer listed get ``gone_at``."""
    values = {r.kode_subspesialis: {"site_id": site_id, **asdict(r), "pulled_at": now, "gone_at": None} for r in rows}
    _upsert(session, BpjsRefPoli, ["site_id", "kode_subspesialis"], list(values.values()))
    _mark_gone(session, BpjsRefPoli, BpjsRefPoli.kode_subspesialis, site_id, list(values), now)
    return len(values)


def store_doctors(session: Session, site_id: int, rows: Sequence[RefDokter], now: datetime) -> int:
    """Upsert ``ref/dokter``; doctors no longer listed get ``gone_at``."""
    values = {r.kode: {"site_id": site_id, **asdict(r), "pulled_at": now, "gone_at": None} for r in rows}
    _upsert(session, BpjsRefDokter, ["site_id", "kode"], list(values.values()))
    _mark_gone(session, BpjsRefDokter, BpjsRefDokter.kode, site_id, list(values), now)
    return len(values)


def _pull_row(session: Session, site_id: int) -> BpjsRefPull:
    session.execute(
        insert_for(session, BpjsRefPull)
        .values(site_id=site_id, message="", jadwal_days={})
        .on_conflict_do_nothing(index_elements=["site_id"])
    )
    return session.get(BpjsRefPull, site_id)


def store_jadwal(
    session: Session, site_id: int, kodepoli: str, day: date, rows: Sequence[RefJadwal], now: datetime
) -> int:
    """Replace the stored ``jadwaldokter`` answer of ``kodepoli`` on ``day`` (an empty answer is kept as such)."""
    session.execute(
        delete(BpjsRefJadwal).where(
            BpjsRefJadwal.site_id == site_id, BpjsRefJadwal.kodepoli == kodepoli, BpjsRefJadwal.tanggal == day
        )
    )
    values = {
        (r.kodesubspesialis, r.kodedokter, r.jadwal): {
            "site_id": site_id,
            "kodepoli": kodepoli,
            "tanggal": day,
            "pulled_at": now,
            **asdict(r),
        }
        for r in rows
    }
    if values:  # a second puller at the same moment inserts the same rows: the unique key keeps one
        session.execute(insert_for(session, BpjsRefJadwal).values(list(values.values())).on_conflict_do_nothing())
    state = _pull_row(session, site_id)
    days = dict(state.jadwal_days or {})
    days[day.isoformat()] = sorted({*days.get(day.isoformat(), []), kodepoli})
    state.jadwal_days = days
    return len(values)


def drop_past_jadwal(session: Session, site_id: int, today: date) -> None:
    """Forget the jadwal of days before ``today``."""
    session.execute(delete(BpjsRefJadwal).where(BpjsRefJadwal.site_id == site_id, BpjsRefJadwal.tanggal < today))
    state = _pull_row(session, site_id)
    state.jadwal_days = {d: codes for d, codes in (state.jadwal_days or {}).items() if d >= today.isoformat()}


# The pull: on-demand requests, outcome, when the next one is due


@dataclass(frozen=True)
class PullState:
    """The last request and attempt of a site's reference pull."""

    requested_at: datetime | None
    attempted_at: datetime | None
    succeeded_at: datetime | None
    ok: bool | None
    message: str

    @property
    def pending(self) -> bool:
        """A request the worker has not started on yet."""
        return self.requested_at is not None and (self.attempted_at is None or self.requested_at > self.attempted_at)


def pull_state(session: Session, site_id: int) -> PullState:
    row = session.get(BpjsRefPull, site_id)
    if row is None:
        return PullState(None, None, None, None, "")
    return PullState(row.requested_at, row.attempted_at, row.succeeded_at, row.ok, row.message)


def request_pull(session: Session, actor: Actor, now: datetime) -> None:
    """Ask the BPJS worker to pull the reference data now (it checks every few seconds)."""
    row = _pull_row(session, actor.site_id)
    row.requested_at, row.requested_by = now, actor.user_id
    audit.record(
        session,
        "bpjs_reference_pull_requested",
        user_id=actor.user_id,
        username=actor.username,
        site_id=actor.site_id,
        ip=actor.ip,
        target_type="site",
        target_id=actor.site_id,
    )


def pull_due(session: Session, site_id: int, now: datetime, retry_after: timedelta) -> bool:
    """Due when requested, when no pull has succeeded yet on the site's today, or ``retry_after`` after a failure."""
    state = pull_state(session, site_id)
    if state.attempted_at is None or state.pending:
        return True
    today = local_today(session, site_id, now)
    if state.succeeded_at is not None and local_today(session, site_id, state.succeeded_at) == today:
        return False
    return now - state.attempted_at >= retry_after


def record_pull(session: Session, site_id: int, started_at: datetime, ok: bool, message: str) -> None:
    """Record an attempt that started at ``started_at`` (a request made after that start stays pending)."""
    row = _pull_row(session, site_id)
    row.attempted_at, row.ok, row.message = started_at, ok, message[:2000]
    if ok:
        row.succeeded_at = started_at


# Mapping BPJS codes onto Pantau's polis and doctors


@dataclass(frozen=True)
class RefOption:
    """A BPJS code offered for mapping."""

    code: str
    label: str


@dataclass(frozen=True)
class Mapping:
    """A Pantau poli or doctor with its BPJS code; ``state``: mapped, unmapped, gone (BPJS no longer lists the
    code) or unknown (not in the pulled reference)."""

    id: int
    name: str
    detail: str
    bpjs_code: str | None
    state: str


def poli_options(session: Session, site_id: int) -> list[RefOption]:
    """BPJS's current polis, ``ANA — ANAK`` (the poli's name is added when the sub-speciality's differs)."""
    rows = session.scalars(
        select(BpjsRefPoli)
        .where(BpjsRefPoli.site_id == site_id, BpjsRefPoli.gone_at.is_(None))
        .order_by(BpjsRefPoli.kode, BpjsRefPoli.kode_subspesialis)
    )
    return [
        RefOption(
            r.kode_subspesialis,
            f"{r.kode_subspesialis} — {r.nama_subspesialis}"
            + (f" ({r.nama})" if r.nama_subspesialis.casefold() != r.nama.casefold() else ""),
        )
        for r in rows
    ]


def doctor_options(session: Session, site_id: int) -> list[RefOption]:
    """BPJS's current doctors, ``31001 — dr. Sari Wulandari``, by name."""
    rows = session.scalars(
        select(BpjsRefDokter)
        .where(BpjsRefDokter.site_id == site_id, BpjsRefDokter.gone_at.is_(None))
        .order_by(BpjsRefDokter.nama)
    )
    return [RefOption(r.kode, f"{r.kode} — {r.nama}") for r in rows]


def _states(session: Session, model: Any, key: Any, site_id: int) -> dict[str, str]:
    rows = session.execute(select(key, model.gone_at).where(model.site_id == site_id)).all()
    return {code: "gone" if gone_at else "mapped" for code, gone_at in rows}


def poli_mappings(session: Session, site_id: int) -> list[Mapping]:
    """Pantau's active polis with their BPJS codes."""
    known = _states(session, BpjsRefPoli, BpjsRefPoli.kode_subspesialis, site_id)
    polis = session.scalars(select(Poli).where(Poli.site_id == site_id, Poli.active.is_(True)).order_by(Poli.name))
    return [
        Mapping(p.id, p.name, p.code, p.bpjs_code, known.get(p.bpjs_code, "unknown") if p.bpjs_code else "unmapped")
        for p in polis
    ]


def doctor_mappings(session: Session, site_id: int) -> list[Mapping]:
    """Pantau's active doctors with their poli and BPJS codes."""
    known = _states(session, BpjsRefDokter, BpjsRefDokter.kode, site_id)
    rows = session.execute(
        select(Doctor, Poli.name)
        .outerjoin(Poli, Poli.id == Doctor.poli_id)
        .where(Doctor.site_id == site_id, Doctor.active.is_(True))
        .order_by(Doctor.name)
    ).all()
    return [
        Mapping(d.id, d.name, poli or "", d.bpjs_code, known.get(d.bpjs_code, "unknown") if d.bpjs_code else "unmapped")
        for d, poli in rows
    ]


def _map(session: Session, actor: Actor, row: Poli | Doctor, code: str | None, ref_key: Any, kind: str) -> bool:
    code = (code or "").strip() or None
    if code == row.bpjs_code:
        return False
    model = type(row)
    if code is not None:
        ref = ref_key.class_
        current = select(ref.id).where(ref.site_id == actor.site_id, ref_key == code, ref.gone_at.is_(None))
        if session.scalar(current) is None:
            raise InputError(f"bref_err_unknown_{kind}", code=code)
        other = session.scalar(
            select(model.name).where(model.site_id == actor.site_id, model.bpjs_code == code, model.id != row.id)
        )
        if other is not None:
            raise InputError("bref_err_code_taken", code=code, name=other)
    previous, row.bpjs_code = row.bpjs_code, code
    audit.record(
        session,
        f"bpjs_{kind}_mapped",
        user_id=actor.user_id,
        username=actor.username,
        site_id=actor.site_id,
        ip=actor.ip,
        target_type=kind,
        target_id=row.id,
        detail={"from": previous, "to": code},
    )
    return True


def map_poli(session: Session, actor: Actor, poli_id: int, code: str | None) -> bool:
    """Set (or, with no code, clear) a poli's BPJS code; False when nothing changed. The code must be one of
    BPJS's current polis and not already another poli's."""
    poli = session.get(Poli, poli_id)
    if poli is None or poli.site_id != actor.site_id:
        raise InputError("bref_err_no_poli")
    return _map(session, actor, poli, code, BpjsRefPoli.kode_subspesialis, "poli")


def map_doctor(session: Session, actor: Actor, doctor_id: int, code: str | None) -> bool:
    """Set (or clear) a doctor's BPJS (HFIS) code, as ``map_poli`` does for polis."""
    doctor = session.get(Doctor, doctor_id)
    if doctor is None or doctor.site_id != actor.site_id:
        raise InputError("bref_err_no_doctor")
    return _map(session, actor, doctor, code, BpjsRefDokter.kode, "doctor")


# Pantau's sessions of a day against BPJS's jadwal


@dataclass(frozen=True)
class ScheduleCheck:
    """A poli-doctor pair of one day: Pantau's and BPJS's hours (``HH:MM-HH:MM``) and how they compare.
    ``pantau`` holds the sessions the weekly plan makes; ``off_plan`` those it no longer makes, kept for their
    bookings after a change (``data.schedules.plan_makes``)."""

    poli: str
    doctor: str
    pantau: tuple[str, ...]
    bpjs: tuple[str, ...]
    status: str
    off_plan: tuple[str, ...] = ()


def schedule_status(
    pantau: Sequence[str], bpjs_open: Sequence[str], bpjs_libur: bool, pulled: bool, off_plan: Sequence[str] = ()
) -> str:
    """How Pantau's hours of a poli-doctor pair compare with BPJS's open (not libur) hours. BPJS must list every
    session the plan makes and nothing Pantau does not hold; a session off the plan need not be at BPJS (it was
    kept for the patients already booked) but may be, for the day it still runs."""
    if not pulled:
        return NOT_PULLED
    planned, held, offered = set(pantau), set(pantau) | set(off_plan), set(bpjs_open)
    if not held:
        return MISSING_IN_PANTAU
    if not offered:
        if not planned:
            return OFF_PLAN
        return BPJS_LIBUR if bpjs_libur else MISSING_IN_BPJS
    return SAME if planned <= offered <= held else DIFFERENT


def _hours(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


Pair = tuple[str, str]  # (BPJS poli code, BPJS doctor code)


def _bpjs_jadwal(session: Session, site_id: int, day: date, polis: set[str]) -> tuple[dict[Pair, list[str]], set[Pair]]:
    """BPJS's open hours per pair on ``day``, and the pairs BPJS marks libur, for the currently mapped ``polis``."""
    hours: dict[Pair, list[str]] = {}
    libur: set[Pair] = set()
    slots = session.scalars(
        select(BpjsRefJadwal).where(
            BpjsRefJadwal.site_id == site_id, BpjsRefJadwal.tanggal == day, BpjsRefJadwal.kodepoli.in_(polis)
        )
    )
    for slot in slots:
        if slot.libur:
            libur.add((slot.kodepoli, slot.kodedokter))
        else:
            hours.setdefault((slot.kodepoli, slot.kodedokter), []).append(slot.jadwal)
    return hours, libur


def compare_schedule(session: Session, site_id: int, day: date, now: datetime | None = None) -> list[ScheduleCheck]:
    """Every poli-doctor pair that practises on ``day`` in Pantau or in BPJS's stored jadwal, by poli and doctor.
    Pantau's side is the day's sessions (closed ones included), those off the weekly plan apart; BPJS's side only
    covers mapped polis."""
    polis = {p.id: p for p in session.scalars(select(Poli).where(Poli.site_id == site_id))}
    doctors = {d.id: d for d in session.scalars(select(Doctor).where(Doctor.site_id == site_id))}
    poli_names = {p.bpjs_code: p.name for p in polis.values() if p.bpjs_code}
    doctor_names = dict(
        session.execute(select(BpjsRefDokter.kode, BpjsRefDokter.nama).where(BpjsRefDokter.site_id == site_id)).all()
    )
    doctor_names |= {d.bpjs_code: d.name for d in doctors.values() if d.bpjs_code}
    checks: list[ScheduleCheck] = []
    pantau: dict[Pair, list[str]] = {}
    off_plan: dict[Pair, list[str]] = {}
    sessions = day_sessions(session, site_id, day, now)
    kept = off_plan_sessions(session, site_id, day)
    for info in sessions:
        poli, doctor = polis[info.poli_id], doctors[info.doctor_id]
        hours = _hours(info.start_time, info.end_time)
        if poli.bpjs_code and doctor.bpjs_code:
            side = off_plan if info.id in kept else pantau
            side.setdefault((poli.bpjs_code, doctor.bpjs_code), []).append(hours)
        else:
            checks.append(ScheduleCheck(poli.name, doctor.name, (hours,), (), UNMAPPED))
    bpjs, libur = _bpjs_jadwal(session, site_id, day, set(poli_names))
    state = session.get(BpjsRefPull, site_id)
    covered = set(state.jadwal_days.get(day.isoformat(), [])) if state is not None else set()
    for pair in pantau.keys() | off_plan.keys() | bpjs.keys():
        ours, theirs = tuple(sorted(pantau.get(pair, []))), tuple(sorted(bpjs.get(pair, [])))
        kept_hours = tuple(sorted(off_plan.get(pair, [])))
        status = schedule_status(ours, theirs, pair in libur, pair[0] in covered, kept_hours)
        name = doctor_names.get(pair[1], pair[1])
        checks.append(ScheduleCheck(poli_names[pair[0]], name, ours, theirs, status, kept_hours))
    return sorted(checks, key=lambda c: (c.poli, c.doctor))
