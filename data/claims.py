"""BPJS claims (docs/claims.md): one per JKN episode, opened from the episode, edited with row-version checks and
moved through its lifecycle (``domain.claim_rules``) with an append-only event per step. Every change is audited;
the page reads them through ``claim_list`` / ``claim_detail`` with the computed deadlines filled in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from data import audit
from data.holidays import holidays_between
from data.models import Admission, Bed, BedOccupancy, BpjsClaim, BpjsClaimEvent, ChargeLine, Patient, Poli, Visit, Ward
from data.schedules import local_today, site_zone
from data.setup_rows import check_version, conflicts_as_input_errors
from domain import claim_rules as rules
from domain.actor import Actor
from domain.errors import InputError
from domain.finance import CLAIM_STATES
from domain.free_text import clean_text
from domain.setup_rules import check_form, field_error

EDIT_RULES = {
    "inacbg_code": rules.inacbg_code,
    "hospital_tariff": rules.amount,
    "inacbg_tariff": rules.optional_amount,
    "submitted_amount": rules.optional_amount,
    "approved_amount": rules.optional_amount,
    "topup_amount": rules.amount,
}
EDIT_FIELDS = tuple(EDIT_RULES)
REASON_MAX = 300
CANDIDATE_DAYS = 180  # "Buat klaim" offers episodes that ended within the submission limit


@dataclass(frozen=True)
class ClaimFilter:
    """What the claims list shows: a status, an episode kind, service-end days ``start``..``end``, and only the
    claims near the 6-month limit (``None``/``False`` = no restriction)."""

    status: str | None = None
    episode: str | None = None
    start: date | None = None
    end: date | None = None
    near_limit: bool = False


@dataclass(frozen=True)
class ClaimView:
    """One claim as the page shows it, with its computed deadlines."""

    id: int
    version: int
    sep_number: str
    episode: str
    place: str
    service_start: date
    service_end: date
    inacbg_code: str | None
    hospital_tariff: int
    inacbg_tariff: int | None
    submitted_amount: int | None
    approved_amount: int | None
    topup_amount: int
    status: str
    status_reason: str | None
    submitted_on: date | None
    verified_on: date | None
    paid_on: date | None
    deadline: date
    days_left: int
    near_limit: bool
    verification_due: date | None


@dataclass(frozen=True)
class ClaimEventView:
    status: str
    on: date
    reason: str | None
    source: str


@dataclass(frozen=True)
class Candidate:
    """A JKN episode without a claim: ``kind`` ``visit`` or ``admission``; ``label`` for the picker."""

    kind: str
    id: int
    service_end: date
    label: str


# ---- reading


def _holidays(session: Session, site_id: int, submitted: list[date]) -> set[date]:
    if not submitted:
        return set()
    return set(holidays_between(session, site_id, min(submitted), rules.verification_window(max(submitted))))


def _views(session: Session, site_id: int, rows: list, today: date) -> list[ClaimView]:
    holidays = _holidays(session, site_id, [r.BpjsClaim.submitted_on for r in rows if r.BpjsClaim.submitted_on])
    views = []
    for row in rows:
        c = row.BpjsClaim
        due = None
        if c.submitted_on and c.status in ("submitted", "verified", "pending", "dispute"):
            due = rules.verification_due(c.submitted_on, holidays)
        views.append(
            ClaimView(
                c.id, c.version, c.sep_number, c.episode, row.poli_name or row.ward_name or "",
                c.service_start, c.service_end, c.inacbg_code, c.hospital_tariff, c.inacbg_tariff,
                c.submitted_amount, c.approved_amount, c.topup_amount, c.status, c.status_reason,
                c.submitted_on, c.verified_on, c.paid_on, rules.submission_deadline(c.service_end),
                rules.days_to_deadline(c.service_end, today), rules.near_limit(c.service_end, today, c.status), due,
            )
        )  # fmt: skip
    return views


def _query(site_id: int):
    return (
        select(BpjsClaim, Poli.name.label("poli_name"), Ward.name.label("ward_name"))
        .outerjoin(Poli, Poli.id == BpjsClaim.poli_id)
        .outerjoin(Ward, Ward.id == BpjsClaim.ward_id)
        .where(BpjsClaim.site_id == site_id)
    )


def _filtered(query, filters: ClaimFilter, today: date):
    claim = BpjsClaim
    if filters.status:
        query = query.where(claim.status == filters.status)
    if filters.episode:
        query = query.where(claim.episode == filters.episode)
    if filters.start:
        query = query.where(claim.service_end >= filters.start)
    if filters.end:
        query = query.where(claim.service_end <= filters.end)
    if filters.near_limit:
        cutoff = rules.near_limit_cutoff(today)
        query = query.where(claim.status.in_(sorted(rules.NOT_SUBMITTED)), claim.service_end <= cutoff)
    return query


def claim_list(
    session: Session, site_id: int, filters: ClaimFilter, offset: int = 0, limit: int = 50, today: date | None = None
) -> tuple[list[ClaimView], int]:
    """One page of claims and how many match ``filters`` in all: those still to submit first, the oldest deadline
    first, then the others, the newest first (a site's paid claims of past months never push this month's off the
    page)."""
    today = today or local_today(session, site_id)
    query = _filtered(_query(site_id), filters, today)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    to_submit = BpjsClaim.status.in_(sorted(rules.NOT_SUBMITTED))
    order = (
        case((to_submit, 0), else_=1),
        case((to_submit, BpjsClaim.service_end), else_=None),
        BpjsClaim.service_end.desc(),
        BpjsClaim.id.desc(),
    )
    page = query.order_by(*order).offset(max(offset, 0)).limit(max(min(limit, 500), 1))
    return _views(session, site_id, list(session.execute(page)), today), total or 0


def claim_detail(
    session: Session, site_id: int, claim_id: int, today: date | None = None
) -> tuple[ClaimView, list[ClaimEventView]]:
    """A claim with its status history (oldest first)."""
    today = today or local_today(session, site_id)
    row = session.execute(_query(site_id).where(BpjsClaim.id == claim_id)).first()
    if row is None:
        raise InputError("claim_err_not_found")
    events = session.scalars(
        select(BpjsClaimEvent).where(BpjsClaimEvent.claim_id == claim_id).order_by(BpjsClaimEvent.id)
    )
    history = [ClaimEventView(e.status, e.on, e.reason, e.source) for e in events]
    return _views(session, site_id, [row], today)[0], history


def open_candidates(session: Session, site_id: int, today: date | None = None, limit: int = 200) -> list[Candidate]:
    """Recent JKN visits and discharged JKN stays that have no claim yet, newest first."""
    today = today or local_today(session, site_id)
    since = date.fromordinal(today.toordinal() - CANDIDATE_DAYS)
    visits = session.execute(
        select(Visit.id, Visit.service_date, Poli.name, Patient.mrn)
        .join(Poli, Poli.id == Visit.poli_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(BpjsClaim, BpjsClaim.visit_id == Visit.id)
        .where(Visit.site_id == site_id, Visit.payer == "jkn", Visit.status != "cancelled")
        .where(Visit.service_date >= since, BpjsClaim.id.is_(None))
        .order_by(Visit.service_date.desc(), Visit.id.desc())
        .limit(limit)
    )
    found = [
        Candidate("visit", v.id, v.service_date, f"{v.service_date:%d/%m/%Y} · {v.name} · {v.mrn}") for v in visits
    ]
    zone = site_zone(session, site_id)
    stays = session.execute(
        select(Admission.id, Admission.discharged_at, Patient.mrn)
        .join(Patient, Patient.id == Admission.patient_id)
        .outerjoin(BpjsClaim, BpjsClaim.admission_id == Admission.id)
        .where(Admission.site_id == site_id, Admission.payer == "jkn", Admission.discharged_at.is_not(None))
        .where(BpjsClaim.id.is_(None))
        .order_by(Admission.discharged_at.desc())
        .limit(limit)
    )
    for stay in stays:
        end = stay.discharged_at.astimezone(zone).date()
        if end >= since:
            found.append(Candidate("admission", stay.id, end, f"{end:%d/%m/%Y} · {stay.mrn}"))
    return sorted(found, key=lambda c: (c.service_end, c.id), reverse=True)[:limit]


# ---- writing


def _episode_sum(session: Session, column, episode_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(ChargeLine.amount), 0)).where(column == episode_id)))


def _last_ward(session: Session, admission_id: int) -> int | None:
    return session.scalar(
        select(Bed.ward_id)
        .join(BedOccupancy, BedOccupancy.bed_id == Bed.id)
        .where(BedOccupancy.admission_id == admission_id)
        .order_by(BedOccupancy.since.desc(), BedOccupancy.id.desc())
        .limit(1)
    )


def _from_visit(session: Session, site_id: int, visit_id: int) -> BpjsClaim:
    visit = session.get(Visit, visit_id)
    if visit is None or visit.site_id != site_id or visit.status == "cancelled":
        raise InputError("claim_err_episode_not_found")
    if visit.payer != "jkn":
        raise InputError("claim_err_not_jkn")
    return BpjsClaim(
        episode="rawat_jalan",
        patient_id=visit.patient_id,
        visit_id=visit.id,
        poli_id=visit.poli_id,
        doctor_id=visit.session.doctor_id,
        service_start=visit.service_date,
        service_end=visit.service_date,
        hospital_tariff=_episode_sum(session, ChargeLine.visit_id, visit.id),
    )


def _from_admission(session: Session, site_id: int, admission_id: int) -> BpjsClaim:
    stay = session.get(Admission, admission_id)
    if stay is None or stay.site_id != site_id:
        raise InputError("claim_err_episode_not_found")
    if stay.payer != "jkn":
        raise InputError("claim_err_not_jkn")
    if stay.discharged_at is None:
        raise InputError("claim_err_not_discharged")
    zone = site_zone(session, site_id)
    return BpjsClaim(
        episode="rawat_inap",
        patient_id=stay.patient_id,
        admission_id=stay.id,
        ward_id=_last_ward(session, stay.id),
        service_start=stay.admitted_at.astimezone(zone).date(),
        service_end=stay.discharged_at.astimezone(zone).date(),
        hospital_tariff=_episode_sum(session, ChargeLine.admission_id, stay.id),
    )


def open_claim(
    session: Session,
    actor: Actor,
    *,
    visit_id: int | None = None,
    admission_id: int | None = None,
    sep_number: object,
) -> int:
    """Open the claim of one JKN episode (a visit or a discharged stay) at ``coded``; returns its id."""
    if (visit_id is None) == (admission_id is None):
        raise InputError("claim_err_pick_episode")
    try:
        sep = rules.sep_number(sep_number)
    except InputError as err:
        raise field_error("sep_number", err.key) from err
    if visit_id is not None:
        claim = _from_visit(session, actor.site_id, visit_id)
        taken = select(BpjsClaim.id).where(BpjsClaim.visit_id == visit_id)
    else:
        claim = _from_admission(session, actor.site_id, admission_id)
        taken = select(BpjsClaim.id).where(BpjsClaim.admission_id == admission_id)
    if session.scalar(taken) is not None:
        raise InputError("claim_err_exists")
    if session.scalar(select(BpjsClaim.id).where(BpjsClaim.site_id == actor.site_id, BpjsClaim.sep_number == sep)):
        raise field_error("sep_number", "claim_err_sep_taken")
    claim.site_id, claim.sep_number, claim.status, claim.topup_amount = actor.site_id, sep, "coded", 0
    session.add(claim)
    session.flush()
    today = local_today(session, actor.site_id)
    session.add(BpjsClaimEvent(claim_id=claim.id, status="coded", on=today, source="manual", by=actor.user_id))
    audit.record_by(
        session,
        actor,
        "claim_opened",
        target_type="bpjs_claim",
        target_id=str(claim.id),
        detail={"episode": claim.episode, "hospital_tariff": claim.hospital_tariff},
    )
    return claim.id


def _claim(session: Session, site_id: int, claim_id: int) -> BpjsClaim:
    claim = session.get(BpjsClaim, claim_id)
    if claim is None or claim.site_id != site_id:
        raise InputError("claim_err_not_found")
    return claim


def update_claim(
    session: Session, actor: Actor, claim_id: int, version: int | None, fields: Mapping[str, object]
) -> None:
    """Save a claim's coding and amounts from its form (every field checked; all wrong ones reported together)."""
    claim = _claim(session, actor.site_id, claim_id)
    check_version(claim, version)
    clean = check_form(fields, EDIT_RULES)
    changed = {k: [getattr(claim, k), v] for k, v in clean.items() if getattr(claim, k) != v}
    if not changed:
        return
    with conflicts_as_input_errors():
        for key, (_old, new) in changed.items():
            setattr(claim, key, new)
        session.flush()
    audit.record_by(
        session, actor, "claim_updated", target_type="bpjs_claim", target_id=str(claim.id), detail={"changed": changed}
    )


def step(
    session: Session, claim: BpjsClaim, status: str, on: date, reason: str | None, source: str, by: int | None
) -> None:
    """One lifecycle step of ``claim`` (already checked allowed): its dates, its amounts' defaults, its event."""
    if status in ("grouped", "final", "submitted") and (not claim.inacbg_code or claim.inacbg_tariff is None):
        raise InputError("claim_err_needs_grouping")
    if status == "submitted":
        claim.submitted_on = on
        if claim.submitted_amount is None:
            claim.submitted_amount = claim.inacbg_tariff
    elif status == "verified":
        claim.verified_on = on
    elif status == "paid":
        claim.paid_on = on
    if status in ("eligible", "paid") and claim.approved_amount is None:
        claim.approved_amount = claim.submitted_amount
    claim.status, claim.status_reason = status, reason
    session.add(BpjsClaimEvent(claim_id=claim.id, status=status, on=on, reason=reason, source=source, by=by))


def check_move(claim: BpjsClaim, status: str, reason: str | None, on: date, today: date) -> str | None:
    """The reason cleaned, after checking the move is allowed and dated sensibly; raises ``FieldErrors``."""
    if status not in CLAIM_STATES or not rules.can_move(claim.status, status):
        raise field_error("status", "claim_err_transition")
    reason = clean_text(reason or "")[:REASON_MAX] or None
    if status in rules.NEEDS_REASON and not reason:
        raise field_error("reason", "claim_err_reason")
    if on > today or on < claim.service_end:
        raise field_error("on", "claim_err_move_date")
    return reason


def move_claim(
    session: Session,
    actor: Actor,
    claim_id: int,
    version: int | None,
    status: str,
    reason: str | None = None,
    on: date | None = None,
) -> None:
    """Move a claim one step by hand (dated ``on``, default today); a reason is required for pending,
    not eligible and dispute."""
    claim = _claim(session, actor.site_id, claim_id)
    check_version(claim, version)
    today = local_today(session, actor.site_id)
    on = on or today
    before = claim.status
    reason = check_move(claim, status, reason, on, today)
    with conflicts_as_input_errors():
        step(session, claim, status, on, reason, "manual", actor.user_id)
        session.flush()
    audit.record_by(
        session,
        actor,
        "claim_moved",
        target_type="bpjs_claim",
        target_id=str(claim.id),
        detail={"from": before, "to": status, "on": on.isoformat()},
    )


def claims_by_sep(session: Session, site_id: int, seps: list[str]) -> dict[str, BpjsClaim]:
    """The site's claims with these SEP numbers, by SEP (the import's lookup)."""
    if not seps:
        return {}
    rows = session.scalars(select(BpjsClaim).where(and_(BpjsClaim.site_id == site_id, BpjsClaim.sep_number.in_(seps))))
    return {c.sep_number: c for c in rows}
