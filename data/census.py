"""The midnight census: one row per ward per site-local day, recomputed from history (docs/inpatient.md).

A day's row holds the beds' states at its 00:00 (from ``bed_status_event``) and the movements during the day
(from ``bed_occupancy``: admissions, transfers between wards, discharges alive and deaths). Everything comes
from append-only history, so a row can be recomputed at any time and gives the same figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.charge_capture import charge_inpatient_day
from data.models import Admission, Bed, BedOccupancy, BedStatusEvent, Site, Ward, WardCensus
from data.schedules import local_today, site_zone
from data.upsert import insert_for
from domain.clock import utcnow
from domain.length_of_stay import length_of_stay_days

MOVEMENTS = ("admissions", "transfers_in", "transfers_out", "discharges", "deaths", "los_days", "deaths_48h")
NET_DEATH_AFTER = timedelta(hours=48)


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _statuses_at(session: Session, beds: list[Bed], at: datetime) -> dict[int, str]:
    """Each bed's status at ``at`` (by bed id): its last event by then; before its first event a bed was
    available; a bed with no history at all is as it stands. Two queries for all the beds."""
    ids = [bed.id for bed in beds]
    order = func.row_number().over(
        partition_by=BedStatusEvent.bed_id, order_by=(BedStatusEvent.at.desc(), BedStatusEvent.id.desc())
    )
    latest = (
        select(BedStatusEvent.bed_id, BedStatusEvent.status, order.label("rank"))
        .where(BedStatusEvent.bed_id.in_(ids), BedStatusEvent.at <= at)
        .subquery()
    )
    known = dict(session.execute(select(latest.c.bed_id, latest.c.status).where(latest.c.rank == 1)).all())
    with_history = set(session.scalars(select(BedStatusEvent.bed_id).where(BedStatusEvent.bed_id.in_(ids)).distinct()))
    return {bed.id: known.get(bed.id) or ("available" if bed.id in with_history else bed.status) for bed in beds}


def _movements(session: Session, site_id: int, start: datetime, end: datetime, zone) -> dict[int, Counter]:
    """Per ward id: the day's admissions, transfers in and out (between wards), discharges and deaths, and for
    those discharged their days of stay and the deaths 48 hours or more after admission."""
    touched = select(BedOccupancy.admission_id).where(
        BedOccupancy.admission_id.is_not(None),
        ((BedOccupancy.since >= start) & (BedOccupancy.since < end))
        | ((BedOccupancy.until >= start) & (BedOccupancy.until < end)),
    )
    rows = session.execute(
        select(BedOccupancy, Bed.ward_id, Admission)
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .join(Admission, Admission.id == BedOccupancy.admission_id)
        .where(Admission.site_id == site_id, BedOccupancy.admission_id.in_(touched))
        .order_by(BedOccupancy.admission_id, BedOccupancy.since, BedOccupancy.id)
    ).all()
    counts: dict[int, Counter] = {}
    for index, (stay, ward_id, admission) in enumerate(rows):
        tally = counts.setdefault(ward_id, Counter())
        before = rows[index - 1] if index and rows[index - 1][2].id == admission.id else None
        after = rows[index + 1] if index + 1 < len(rows) and rows[index + 1][2].id == admission.id else None
        if start <= stay.since < end:
            if before is None:
                tally["admissions"] += 1
            elif before[1] != ward_id:
                tally["transfers_in"] += 1
        if stay.until is not None and start <= stay.until < end:
            if stay.end_reason == "discharge":
                died = admission.discharge_kind == "deceased"
                tally["deaths" if died else "discharges"] += 1
                tally["los_days"] += length_of_stay_days(admission.admitted_at, admission.discharged_at, zone)
                died_at = admission.died_at or admission.discharged_at
                tally["deaths_48h"] += int(died and died_at - admission.admitted_at >= NET_DEATH_AFTER)
            elif after is not None and after[1] != ward_id:
                tally["transfers_out"] += 1
    return counts


def record_census(session: Session, site_id: int, day: date) -> list[WardCensus]:
    """Compute and store (insert or replace) every ward's row for the site-local ``day``, and charge the day's
    room and care (``charge_inpatient_day``: once per admission and day, however often the day is recomputed)."""
    zone = site_zone(session, site_id)
    start, end = _midnight(day, zone), _midnight(day + timedelta(days=1), zone)
    movements = _movements(session, site_id, start, end, zone)
    table = WardCensus.__table__
    wards = session.scalars(select(Ward).where(Ward.site_id == site_id).order_by(Ward.code)).all()
    statuses = _statuses_at(session, [bed for ward in wards for bed in ward.beds if bed.active], start)
    for ward in wards:
        states = Counter(statuses[bed.id] for bed in ward.beds if bed.active)
        row = {
            "ward_id": ward.id,
            "day": day,
            "beds": sum(states.values()),
            "occupied": states["occupied"],
            "available": states["available"],
            "cleaning": states["cleaning"],
            "out_of_service": states["out_of_service"],
            **{name: movements.get(ward.id, Counter())[name] for name in MOVEMENTS},
            "recorded_at": utcnow(),
        }
        statement = insert_for(session, table).values(**row)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["ward_id", "day"], set_={k: v for k, v in row.items() if k not in ("ward_id", "day")}
            )
        )
    charge_inpatient_day(session, site_id, day)
    session.flush()
    return list(
        session.scalars(
            select(WardCensus).join(Ward).where(Ward.site_id == site_id, WardCensus.day == day).order_by(Ward.code)
        )
    )


def ensure_census(session: Session, site_id: int, until_day: date) -> int:
    """Record (and charge) every missing day from the first admission's day through ``until_day``; returns how
    many days. When nothing is missing it loads no census row: the recorded days are counted in the database (a
    hospital's years of wards times days would otherwise come back on every bed board refresh and every report)."""
    first = session.scalar(select(func.min(Admission.admitted_at)).where(Admission.site_id == site_id))
    if first is None:
        return 0
    day = first.astimezone(site_zone(session, site_id)).date()
    span = (until_day - day).days + 1
    recorded = (
        select(WardCensus.day)
        .join(Ward)
        .where(Ward.site_id == site_id, WardCensus.day.between(day, until_day))
        .distinct()
    )
    if span <= 0 or session.scalar(select(func.count()).select_from(recorded.subquery())) == span:
        return 0
    done = set(session.scalars(recorded))
    missing = [d for d in (day + timedelta(days=n) for n in range(span)) if d not in done]
    for each in missing:
        record_census(session, site_id, each)
    return len(missing)


def census_through_yesterday(session: Session, now: datetime) -> int:
    """Every site's missing days through its local yesterday at ``now`` (``ensure_census``): the consumer's
    housekeeping runs it, so a day is counted and charged soon after its midnight whether or not anyone opens the
    bed board. Returns how many days were recorded."""
    sites = session.scalars(select(Site.id)).all()
    return sum(ensure_census(session, site, local_today(session, site, now) - timedelta(days=1)) for site in sites)
