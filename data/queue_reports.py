"""The queue dashboard's figures for a range of site-local days: per poli the patients, the waits, the no-show
rate and the share of patients who waited at most 60 minutes (also per day), and the doctors' late starts.

Waits are measured on the BPJS task times, not on ticket calls:

* registration → call = task 3 → task 4. Task 4 is when the doctor's service began, which is what BPJS
  reports as "waktu tunggu poli" and what the national ≤ 60 min indicator measures; a ticket's first call is no
  task time (a call can be repeated, and a called patient may still not come), so it is not used.
* call → done = task 4 → task 5, the doctor's service time.

Both are shown as mean and median in minutes. The no-show rate is the share of the poli's visits that ended in
task 99. Visit days (``Visit.service_date``) are already site-local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from data.models import ClinicSession, Doctor, Poli, Visit, VisitTask
from data.schedules import ensure_sessions, local_today
from domain.errors import InputError
from domain.queue_kpi import late_minutes, share, wait_judged, waited_in_time
from domain.queue_tasks import CANCELLED

MAX_DAYS = 366


@dataclass(frozen=True)
class PoliFigures:
    """One poli's (or all polis') figures over the range; minutes are ``None`` when nothing was measured."""

    code: str
    name: str
    patients: int  # visits not cancelled
    visits: int  # every visit, the no-show denominator
    no_shows: int
    wait_mean: float | None
    wait_median: float | None
    service_mean: float | None
    service_median: float | None
    judged: int  # patients who count for the ≤ 60 min share (domain.queue_kpi.wait_judged)
    in_time: int

    @property
    def no_show_rate(self) -> float | None:
        return share(self.no_shows, self.visits)

    @property
    def in_time_share(self) -> float | None:
        return share(self.in_time, self.judged)


@dataclass(frozen=True)
class DayShare:
    day: date
    judged: int
    in_time: int

    @property
    def in_time_share(self) -> float | None:
        return share(self.in_time, self.judged)


@dataclass(frozen=True)
class DoctorStarts:
    """A doctor's sessions in the range (closed ones left out) and how late they began."""

    doctor: str
    poli: str
    sessions: int
    not_started: int
    late_mean: float | None
    late_max: float | None


@dataclass(frozen=True)
class QueueReport:
    start: date
    end: date
    polis: list[PoliFigures]
    total: PoliFigures
    days: list[DayShare]
    doctors: list[DoctorStarts]


_COLUMNS = ("day", "status", "poli_id", "t3", "t4", "t5", "t99")


def check_range(start: date, end: date) -> None:
    if end < start:
        raise InputError("qrep_err_order")
    if (end - start).days + 1 > MAX_DAYS:
        raise InputError("qrep_err_too_long", days=MAX_DAYS)


def visit_frame(session: Session, site_id: int, start: date, end: date, now: datetime) -> pd.DataFrame:
    """One row per visit of the range: its day, poli, status, wait and service minutes, and whether it is a
    no-show, counts for the ≤ 60 min share (``judged``) and was served in time."""
    tasks = {n: aliased(VisitTask) for n in (3, 4, 5, CANCELLED)}
    query = select(Visit.service_date, Visit.status, Visit.poli_id, *(t.at for t in tasks.values())).where(
        Visit.site_id == site_id, Visit.service_date >= start, Visit.service_date <= end
    )
    for task_id, alias in tasks.items():
        query = query.outerjoin(alias, and_(alias.visit_id == Visit.id, alias.task_id == task_id))
    rows = session.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(_COLUMNS))
    frame["judged"] = pd.Series([wait_judged(r[3], r[4], r[6] is not None, now) for r in rows], dtype=bool)
    frame["in_time"] = pd.Series([waited_in_time(r[3], r[4]) for r in rows], dtype=bool)
    for column in ("t3", "t4", "t5", "t99"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["wait"] = (frame["t4"] - frame["t3"]).dt.total_seconds() / 60
    frame["service"] = (frame["t5"] - frame["t4"]).dt.total_seconds() / 60
    frame["no_show"] = frame["t99"].notna()
    return frame


def _minutes(series: pd.Series) -> tuple[float | None, float | None]:
    measured = series.dropna()
    if measured.empty:
        return None, None
    return float(measured.mean()), float(measured.median())


def _figures(code: str, name: str, rows: pd.DataFrame) -> PoliFigures:
    wait_mean, wait_median = _minutes(rows["wait"])
    service_mean, service_median = _minutes(rows["service"])
    return PoliFigures(
        code=code,
        name=name,
        patients=int((rows["status"] != "cancelled").sum()),
        visits=len(rows),
        no_shows=int(rows["no_show"].sum()),
        wait_mean=wait_mean,
        wait_median=wait_median,
        service_mean=service_mean,
        service_median=service_median,
        judged=int(rows["judged"].sum()),
        in_time=int((rows["judged"] & rows["in_time"]).sum()),
    )


def _day_shares(frame: pd.DataFrame, start: date, end: date) -> list[DayShare]:
    judged = frame[frame["judged"]]
    per_day = judged.groupby("day")["in_time"].agg(["size", "sum"])
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        counted, in_time = per_day.loc[day] if day in per_day.index else (0, 0)
        days.append(DayShare(day, int(counted), int(in_time)))
    return days


def doctor_starts(session: Session, site_id: int, start: date, end: date) -> list[DoctorStarts]:
    """Late starts per doctor and poli: ``ClinicSession.started_at`` (the first task 4) − ``starts_at``."""
    rows = session.execute(
        select(ClinicSession.starts_at, ClinicSession.started_at, Doctor.name, Poli.name)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Poli, Poli.id == ClinicSession.poli_id)
        .where(
            ClinicSession.site_id == site_id,
            ClinicSession.service_date >= start,
            ClinicSession.service_date <= end,
            ClinicSession.closed_reason.is_(None),
        )
        .order_by(Doctor.name, Poli.name)
    ).all()
    grouped: dict[tuple[str, str], list[float | None]] = {}
    for starts_at, started_at, doctor, poli in rows:
        grouped.setdefault((doctor, poli), []).append(late_minutes(starts_at, started_at))
    result = []
    for (doctor, poli), lates in grouped.items():
        started = [m for m in lates if m is not None]
        result.append(
            DoctorStarts(
                doctor=doctor,
                poli=poli,
                sessions=len(lates),
                not_started=len(lates) - len(started),
                late_mean=sum(started) / len(started) if started else None,
                late_max=max(started) if started else None,
            )
        )
    return result


def queue_report(session: Session, site_id: int, start: date, end: date, now: datetime) -> QueueReport:
    """Every figure of the dashboard for the site-local days ``start``..``end`` (inclusive)."""
    check_range(start, end)
    if start <= local_today(session, site_id, now) <= end:
        ensure_sessions(session, site_id, local_today(session, site_id, now))  # today's doctors show as not started
    frame = visit_frame(session, site_id, start, end, now)
    polis = session.execute(
        select(Poli.id, Poli.code, Poli.name).where(Poli.site_id == site_id, Poli.active.is_(True)).order_by(Poli.name)
    ).all()
    return QueueReport(
        start=start,
        end=end,
        polis=[_figures(code, name, frame[frame["poli_id"] == poli_id]) for poli_id, code, name in polis],
        total=_figures("", "", frame),
        days=_day_shares(frame, start, end),
        doctors=doctor_starts(session, site_id, start, end),
    )
