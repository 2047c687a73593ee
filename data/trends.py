"""Trend data of one bed for the bed detail page: raw samples for the last hour, 1-minute rollups beyond, and the
spans where samples are missing (sequence gaps still being filled, or lost for good)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AlarmEvent, Observation, User, VitalGap, VitalRollup, VitalSample
from domain.clock import utcnow

RANGES = {"1h": timedelta(hours=1), "8h": timedelta(hours=8), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
PARAMETERS = ("hr", "spo2", "rr", "sbp", "dbp", "map", "temp")
MAX_POINTS = 1500
MAX_SPANS = 500


class MissingSpan(NamedTuple):
    """Device time between the samples around a sequence gap; ``state`` ``pending`` (the monitor is being asked
    to resend) or ``unfillable`` (lost: the monitor could not resend it)."""

    start: datetime
    end: datetime
    state: str


def vital_trend(session: Session, bed_id: int, range_key: str, now: datetime | None = None) -> pd.DataFrame:
    """A frame indexed by UTC time with one column per parameter (missing values NaN)."""
    now = now or utcnow()
    since = now - RANGES[range_key]
    if range_key == "1h":
        query = (
            select(VitalSample.ts.label("time"), *[getattr(VitalSample, p) for p in PARAMETERS])
            .where(VitalSample.bed_id == bed_id, VitalSample.ts >= since)
            .order_by(VitalSample.ts)
        )
    else:
        query = (
            select(VitalRollup.minute.label("time"), *[getattr(VitalRollup, f"{p}_avg").label(p) for p in PARAMETERS])
            .where(VitalRollup.bed_id == bed_id, VitalRollup.minute >= since)
            .order_by(VitalRollup.minute)
        )
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["time", *PARAMETERS])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame = frame.set_index("time")
    if range_key == "1h" and len(frame) > MAX_POINTS:
        # 1 Hz for an hour is more than a chart can show: 5-second means keep the shape at a fifth of the points.
        frame = frame.resample("5s").mean().dropna(how="all")
    return frame


def missing_spans(session: Session, bed_id: int, since: datetime, limit: int = MAX_SPANS) -> list[MissingSpan]:
    """The bed's unfilled sequence gaps that end after ``since``, oldest first (at most ``limit``)."""
    rows = session.execute(
        select(VitalGap.from_ts, VitalGap.to_ts, VitalGap.state)
        .where(VitalGap.bed_id == bed_id, VitalGap.to_ts >= since, VitalGap.state != "filled")
        .order_by(VitalGap.from_ts)
        .limit(limit)
    ).all()
    return [MissingSpan(start, end, "unfillable" if state == "unfillable" else "pending") for start, end, state in rows]


def observations(session: Session, bed_id: int, since: datetime) -> list[Observation]:
    return list(
        session.scalars(
            select(Observation)
            .where(Observation.bed_id == bed_id, Observation.taken_at >= since)
            .order_by(Observation.taken_at)
        )
    )


def latest_observation(session: Session, bed_id: int) -> Observation | None:
    return session.scalar(
        select(Observation).where(Observation.bed_id == bed_id).order_by(Observation.taken_at.desc()).limit(1)
    )


def alarm_history(session: Session, bed_id: int, limit: int = 50) -> list[tuple[AlarmEvent, str | None]]:
    """The bed's latest alarm episodes with the username that acknowledged each."""
    rows = session.execute(
        select(AlarmEvent, User.username)
        .outerjoin(User, User.id == AlarmEvent.acknowledged_by)
        .where(AlarmEvent.bed_id == bed_id)
        .order_by(AlarmEvent.started_at.desc())
        .limit(limit)
    ).all()
    return [(event, username) for event, username in rows]


def news2_series(frame: pd.DataFrame, obs: list[Observation], spo2_scale: int, max_points: int = 300) -> pd.DataFrame:
    """NEWS2 at each trend time, using the nurse's latest observation (oxygen, ACVPU) before that time.

    Columns: ``total`` and ``complete``. Without an observation the score is incomplete (total of what is known)."""
    from domain.news2 import news2

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
            spo2_scale=spo2_scale,
        )
        out.append((when, score.total, score.complete))
    return pd.DataFrame(out, columns=["time", "total", "complete"]).set_index("time")


def _value(x: float) -> float | None:
    return None if pd.isna(x) else float(x)
