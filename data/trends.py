"""Trend data of one admission for the bed detail page: raw samples for the last hour, 1-minute rollups beyond, the
spans where samples are missing (sequence gaps still being filled, or lost for good), observations and alarms.

Samples, gaps and alarm events carry only a bed: they belong to an admission through its stays
(``data.admissions.admission_stays``: ``(bed_id, since, until)``), counting only inside ``[since, until or now)``
on that bed, so a new occupant never sees the previous patient's trends, and a transfer keeps the history of both
beds. One query with an OR over the stays (an admission has few)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import pandas as pd
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from data.models import AlarmEvent, Observation, User, VitalGap, VitalRollup, VitalSample
from data.spo2_scale import ScaleHistory
from domain.clock import utcnow

RANGES = {"1h": timedelta(hours=1), "8h": timedelta(hours=8), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
PARAMETERS = ("hr", "spo2", "rr", "sbp", "dbp", "map", "temp")
MAX_POINTS = 1500
MAX_SPANS = 500
Stay = tuple[int, datetime, datetime | None]  # (bed_id, since, until) as data.admissions.admission_stays gives


class MissingSpan(NamedTuple):
    """Device time between the samples around a sequence gap; ``state`` ``pending`` (the monitor is being asked
    to resend) or ``unfillable`` (lost: the monitor could not resend it)."""

    start: datetime
    end: datetime
    state: str


def _inside(
    bed: InstrumentedAttribute,
    start: InstrumentedAttribute,
    stays: Sequence[Stay],
    since: datetime | None = None,
    end: InstrumentedAttribute | None = None,
) -> ColumnElement[bool]:
    """Rows of one of the stays' beds whose time (``start``; a span ``start``–``end`` overlapping) lies in that
    stay's window, and not before ``since``."""
    clauses = []
    for bed_id, opened, until in stays:
        opened = max(opened, since) if since is not None else opened
        if until is not None and until <= opened:
            continue
        window = [bed == bed_id, (end if end is not None else start) >= opened]
        if until is not None:
            window.append(start < until)
        clauses.append(and_(*window))
    return or_(*clauses) if clauses else false()


def vital_trend(session: Session, stays: Sequence[Stay], range_key: str, now: datetime | None = None) -> pd.DataFrame:
    """A frame indexed by UTC time with one column per parameter (missing values NaN), of the admission's stays."""
    now = now or utcnow()
    since = now - RANGES[range_key]
    if range_key == "1h":
        query = (
            select(VitalSample.ts.label("time"), *[getattr(VitalSample, p) for p in PARAMETERS])
            .where(_inside(VitalSample.bed_id, VitalSample.ts, stays, since))
            .order_by(VitalSample.ts)
        )
    else:
        query = (
            select(VitalRollup.minute.label("time"), *[getattr(VitalRollup, f"{p}_avg").label(p) for p in PARAMETERS])
            .where(_inside(VitalRollup.bed_id, VitalRollup.minute, stays, since))
            .order_by(VitalRollup.minute)
        )
    rows = session.execute(query).all() if stays else []
    frame = pd.DataFrame(rows, columns=["time", *PARAMETERS])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame = frame.set_index("time")
    if range_key == "1h" and len(frame) > MAX_POINTS:
        # 1 Hz for an hour is more than a chart can show: 5-second means keep the shape at a fifth of the points.
        frame = frame.resample("5s").mean().dropna(how="all")
    return frame


def missing_spans(
    session: Session, stays: Sequence[Stay], since: datetime, limit: int = MAX_SPANS
) -> list[MissingSpan]:
    """The unfilled sequence gaps overlapping the admission's stays that end after ``since``, oldest first (at most
    ``limit``)."""
    if not stays:
        return []
    rows = session.execute(
        select(VitalGap.from_ts, VitalGap.to_ts, VitalGap.state)
        .where(_inside(VitalGap.bed_id, VitalGap.from_ts, stays, since, end=VitalGap.to_ts), VitalGap.state != "filled")
        .order_by(VitalGap.from_ts)
        .limit(limit)
    ).all()
    return [MissingSpan(start, end, "unfillable" if state == "unfillable" else "pending") for start, end, state in rows]


def observations(session: Session, admission_id: int, since: datetime) -> list[Observation]:
    """The admission's observation sets taken since ``since``, oldest first."""
    return list(
        session.scalars(
            select(Observation)
            .where(Observation.admission_id == admission_id, Observation.taken_at >= since)
            .order_by(Observation.taken_at)
        )
    )


def latest_observation(session: Session, admission_id: int) -> Observation | None:
    """The admission's newest observation set (None before the first)."""
    return session.scalar(
        select(Observation)
        .where(Observation.admission_id == admission_id)
        .order_by(Observation.taken_at.desc(), Observation.id.desc())
        .limit(1)
    )


def alarm_history(session: Session, stays: Sequence[Stay], limit: int = 50) -> list[tuple[AlarmEvent, str | None]]:
    """The admission's latest alarm episodes (started inside one of its stays) with who acknowledged each."""
    if not stays:
        return []
    rows = session.execute(
        select(AlarmEvent, User.username)
        .outerjoin(User, User.id == AlarmEvent.acknowledged_by)
        .where(_inside(AlarmEvent.bed_id, AlarmEvent.started_at, stays))
        .order_by(AlarmEvent.started_at.desc())
        .limit(limit)
    ).all()
    return [(event, username) for event, username in rows]


def news2_series(
    frame: pd.DataFrame,
    obs: list[Observation],
    scales: ScaleHistory,
    max_points: int = 300,
    *,
    scored_from: datetime | None = None,
) -> pd.DataFrame:
    """NEWS2 at each trend time from ``scored_from`` (the patient's 16th birthday; NEWS2 does not score a child),
    using the nurse's latest observation (oxygen, ACVPU) before that time and the SpO2 scale the patient was on then.

    Columns: ``total`` and ``complete``. Without an observation the score is incomplete (total of what is known)."""
    from domain.news2 import news2

    if scored_from is not None:
        frame = frame[frame.index >= scored_from]
    if frame.empty:
        return pd.DataFrame(columns=["total", "complete"])
    # A cuff reading stands until the next one (NIBP comes every few minutes), as on the monitor.
    frame = frame.assign(sbp=frame["sbp"].ffill())
    step = max(1, len(frame) // max_points)
    sampled = frame.iloc[::step]
    times = [o.taken_at for o in obs]
    out = []
    for when, row in sampled.iterrows():
        last = next((o for t, o in zip(reversed(times), reversed(obs), strict=True) if t <= when), None)
        score = news2(
            rr=_value(row["rr"]),
            spo2=_value(row["spo2"]),
            sbp=_value(row["sbp"]),
            hr=_value(row["hr"]),
            temp=_value(row["temp"]),
            on_oxygen=last.on_oxygen if last else None,
            consciousness=last.consciousness if last else None,
            spo2_scale=scales.at(when),
        )
        out.append((when, score.total, score.complete))
    return pd.DataFrame(out, columns=["time", "total", "complete"]).set_index("time")


def _value(x: float) -> float | None:
    return None if pd.isna(x) else float(x)
