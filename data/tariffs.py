"""The tariff master: create, edit and end tariff rows (the admin page ``/admin/tarif`` and the demo seed).

A price change is a new row from a new date, never an edit of a row that already priced charge lines: those lines
keep the price they were written with, and the master must keep saying where that price came from. So a row that
priced a line keeps its amount and start date, may only be ended, and is never deleted. Two rows of one code for
the same class and payer may not be in force on the same day (``price_of`` must never have to guess).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from data import audit
from data.models import ChargeLine, Tariff
from data.schedules import local_today
from domain import tariff_rules as rules
from domain.actor import Actor
from domain.errors import FieldErrors, InputError


@dataclass(frozen=True)
class TariffRow:
    """A tariff as the page lists it. ``version`` is 0 (a tariff has no edit counter) and ``active`` says whether
    it is open (not ended before today), for the setup form's picker."""

    id: int
    code: str
    name: str
    unit: str
    care_class: str | None
    payer: str | None
    amount: int
    valid_from: date
    valid_until: date | None
    active: bool
    version: int = 0


def _row(tariff: Tariff, today: date) -> TariffRow:
    return TariffRow(
        id=tariff.id,
        code=tariff.code,
        name=tariff.name,
        unit=tariff.unit,
        care_class=tariff.care_class,
        payer=tariff.payer,
        amount=tariff.amount,
        valid_from=tariff.valid_from,
        valid_until=tariff.valid_until,
        active=tariff.valid_until is None or tariff.valid_until >= today,
    )


def _shown(day: date | None) -> str:
    return "…" if day is None else day.strftime("%d-%m-%Y")


def _in_force(day: date) -> ColumnElement[bool]:
    return (Tariff.valid_from <= day) & or_(Tariff.valid_until.is_(None), Tariff.valid_until >= day)


def tariff_list(
    session: Session, site_id: int, *, at: date | None = None, unit: str | None = None, today: date | None = None
) -> list[TariffRow]:
    """The site's tariffs by code, class and start date; only those in force on ``at`` and of ``unit`` when
    given. ``today`` decides which rows count as still open (default: ``at`` or the site's calendar day)."""
    query = select(Tariff).where(Tariff.site_id == site_id)
    if at is not None:
        query = query.where(_in_force(at))
    if unit:
        query = query.where(Tariff.unit == unit)
    rows = session.scalars(query.order_by(Tariff.code, Tariff.care_class, Tariff.payer, Tariff.valid_from))
    reference = today or at or local_today(session, site_id)
    return [_row(tariff, reference) for tariff in rows]


@dataclass(frozen=True)
class ProcedureChoice:
    code: str
    name: str
    unit: str


def procedure_choices(session: Session, site_id: int, day: date) -> list[ProcedureChoice]:
    """The procedures and supporting services that can be charged on ``day`` (tariffs in force of the units in
    ``PROCEDURE_UNITS``), one per code, by name. Room and nursing care are charged by the census, not here."""
    rows = session.execute(
        select(Tariff.code, Tariff.name, Tariff.unit)
        .where(Tariff.site_id == site_id, Tariff.unit.in_(rules.PROCEDURE_UNITS), _in_force(day))
        .where(Tariff.code.not_in(("ADM-DAFTAR", "RI-KAMAR", "RI-ASUHAN")), ~Tariff.code.startswith("RJ-KONSUL"))
        .order_by(Tariff.code, Tariff.care_class.is_not(None), Tariff.payer.is_not(None), Tariff.valid_from.desc())
    ).all()
    seen: dict[str, ProcedureChoice] = {}
    for code, name, unit in rows:
        seen.setdefault(code, ProcedureChoice(code, name, unit))
    return sorted(seen.values(), key=lambda choice: choice.name)


def _priced_lines(session: Session, tariff: Tariff, after: date | None = None) -> bool:
    """Whether a priced charge line of this tariff's code was written on a day of its validity (after ``after``)."""
    query = select(ChargeLine.id).where(
        ChargeLine.site_id == tariff.site_id,
        ChargeLine.tariff_code == tariff.code,
        ChargeLine.priced,
        ChargeLine.service_date >= tariff.valid_from,
    )
    if tariff.valid_until is not None:
        query = query.where(ChargeLine.service_date <= tariff.valid_until)
    if after is not None:
        query = query.where(ChargeLine.service_date > after)
    return bool(session.scalar(select(exists(query))))


def _check_overlap(session: Session, site_id: int, value: rules.TariffInput, tariff_id: int | None) -> None:
    clash = session.scalars(
        select(Tariff).where(
            Tariff.site_id == site_id,
            Tariff.code == value.code,
            Tariff.care_class.is_(None) if value.care_class is None else Tariff.care_class == value.care_class,
            Tariff.payer.is_(None) if value.payer is None else Tariff.payer == value.payer,
            Tariff.id != (tariff_id or 0),
        )
    )
    for other in clash:
        if rules.overlaps(value.valid_from, value.valid_until, other.valid_from, other.valid_until):
            raise FieldErrors(
                {
                    "valid_from": InputError(
                        "tar_err_overlap", start=_shown(other.valid_from), end=_shown(other.valid_until)
                    )
                }
            )


def _detail(value: rules.TariffInput) -> dict:
    return {
        "code": value.code,
        "unit": value.unit,
        "care_class": value.care_class,
        "payer": value.payer,
        "amount": value.amount,
        "valid_from": value.valid_from.isoformat(),
        "valid_until": value.valid_until.isoformat() if value.valid_until else None,
    }


def create_tariff(session: Session, actor: Actor, form: Mapping[str, object]) -> Tariff:
    """A new tariff row from the form's values (checked; refused when it overlaps a row of the same code, class
    and payer)."""
    value = rules.check_tariff(form)
    _check_overlap(session, actor.site_id, value, None)
    tariff = Tariff(site_id=actor.site_id, created_by=actor.user_id, **vars(value))
    session.add(tariff)
    session.flush()
    audit.record_by(session, actor, "tariff_create", target_type="tariff", target_id=tariff.id, detail=_detail(value))
    return tariff


def _tariff(session: Session, actor: Actor, tariff_id: int) -> Tariff:
    tariff = session.get(Tariff, tariff_id)
    if tariff is None or tariff.site_id != actor.site_id:
        raise InputError("tar_err_not_found")
    return tariff


def update_tariff(
    session: Session, actor: Actor, tariff_id: int, form: Mapping[str, object], _version: int | None = None
) -> Tariff:
    """Change a tariff row. Its code, class and payer stay; once it priced a line its amount and start date stay
    too (end it and add a new row instead), and it may not be ended before a day it priced."""
    tariff = _tariff(session, actor, tariff_id)
    kept = {"code": tariff.code, "care_class": tariff.care_class or "", "payer": tariff.payer or ""}
    value = rules.check_tariff({**form, **kept})
    if _priced_lines(session, tariff):
        errors = {}
        if value.amount != tariff.amount:
            errors["amount"] = InputError("tar_err_amount_used")
        if value.valid_from != tariff.valid_from:
            errors["valid_from"] = InputError("tar_err_from_used")
        if value.unit != tariff.unit:
            errors["unit"] = InputError("tar_err_unit_used")
        if value.valid_until is not None and _priced_lines(session, tariff, after=value.valid_until):
            errors["valid_until"] = InputError("tar_err_until_used")
        if errors:
            raise FieldErrors(errors)
    _check_overlap(session, actor.site_id, value, tariff.id)
    before = {"amount": tariff.amount, "valid_from": tariff.valid_from.isoformat(), "name": tariff.name}
    for field in ("name", "unit", "amount", "valid_from", "valid_until"):
        setattr(tariff, field, getattr(value, field))
    audit.record_by(
        session,
        actor,
        "tariff_update",
        target_type="tariff",
        target_id=tariff.id,
        detail={**_detail(value), "before": before},
    )
    return tariff


def end_tariff(session: Session, actor: Actor, tariff_id: int, last_day: date) -> Tariff:
    """End a tariff: ``last_day`` is the last day it applies. Refused before its start, and before a day on which
    it already priced a line."""
    tariff = _tariff(session, actor, tariff_id)
    if last_day < tariff.valid_from:
        raise FieldErrors({"valid_until": InputError("tar_err_until_before_from")})
    if tariff.valid_until is not None and tariff.valid_until <= last_day:
        raise InputError("tar_err_already_ended", end=_shown(tariff.valid_until))
    if _priced_lines(session, tariff, after=last_day):
        raise FieldErrors({"valid_until": InputError("tar_err_until_used")})
    tariff.valid_until = last_day
    audit.record_by(
        session, actor, "tariff_end", target_type="tariff", target_id=tariff.id, detail={"until": last_day.isoformat()}
    )
    return tariff


def end_today(session: Session, actor: Actor, tariff_id: int, today: date) -> Tariff:
    """End a tariff after yesterday (the form's "end" button); one that starts today or later ends on its start."""
    tariff = _tariff(session, actor, tariff_id)
    return end_tariff(session, actor, tariff_id, max(today - timedelta(days=1), tariff.valid_from))


# A type-C hospital's small tariff list (Rupiah): (code, name, unit, care class, amount).
DEMO_TARIFFS: tuple[tuple[str, str, str, str | None, int], ...] = (
    ("ADM-DAFTAR", "Pendaftaran pasien", "rawat_jalan", None, 35_000),
    ("RJ-KONSUL", "Konsultasi dokter", "rawat_jalan", None, 75_000),
    ("RJ-KONSUL-UMU", "Konsultasi Poli Umum", "rawat_jalan", None, 50_000),
    ("RJ-KONSUL-ANA", "Konsultasi dokter spesialis anak", "rawat_jalan", None, 125_000),
    ("RJ-KONSUL-INT", "Konsultasi dokter spesialis penyakit dalam", "rawat_jalan", None, 125_000),
    ("RJ-KONSUL-GIG", "Konsultasi dokter gigi", "rawat_jalan", None, 75_000),
    ("RJ-KONSUL-OBG", "Konsultasi dokter spesialis kandungan", "rawat_jalan", None, 150_000),
    ("FAR-RACIK", "Jasa pelayanan resep racikan", "farmasi", None, 15_000),
    ("FAR-NONRACIK", "Jasa pelayanan resep non-racikan", "farmasi", None, 7_500),
    ("RI-KAMAR", "Kamar rawat inap kelas 3", "rawat_inap", "3", 150_000),
    ("RI-KAMAR", "Kamar rawat inap kelas 2", "rawat_inap", "2", 250_000),
    ("RI-KAMAR", "Kamar rawat inap kelas 1", "rawat_inap", "1", 400_000),
    ("RI-KAMAR", "Kamar rawat inap VIP", "rawat_inap", "VIP", 750_000),
    ("RI-KAMAR", "Kamar ICU", "rawat_inap", "ICU", 1_500_000),
    ("RI-ASUHAN", "Asuhan keperawatan per hari", "rawat_inap", None, 60_000),
    ("LAB-DL", "Laboratorium: darah lengkap", "penunjang", None, 85_000),
    ("LAB-GDS", "Laboratorium: gula darah sewaktu", "penunjang", None, 30_000),
    ("RAD-THORAX", "Radiologi: rontgen thorax", "penunjang", None, 175_000),
    ("EKG", "Elektrokardiografi (EKG)", "penunjang", None, 90_000),
    ("USG-ABD", "USG abdomen", "penunjang", None, 250_000),
    ("TIN-JAHIT", "Jahit luka (hecting) sampai 5 jahitan", "igd", None, 120_000),
    ("TIN-NEBU", "Nebulizer", "rawat_jalan", None, 65_000),
    ("TIN-INFUS", "Pemasangan infus", "rawat_inap", None, 55_000),
)


def seed_demo_tariffs(session: Session, actor: Actor, site_id: int, valid_from: date) -> int:
    """Create the demo tariff list from ``valid_from`` through ``create_tariff`` (rows of a code, class and payer
    already in force are left alone, so seeding twice adds nothing); returns how many rows were added."""
    added = 0
    site_actor = Actor(actor.user_id, actor.username, site_id, actor.ip)
    for code, name, unit, care_class, amount in DEMO_TARIFFS:
        form = {
            "code": code,
            "name": name,
            "unit": unit,
            "care_class": care_class or "",
            "payer": "",
            "amount": str(amount),
            "valid_from": valid_from.isoformat(),
            "valid_until": "",
        }
        try:
            create_tariff(session, site_actor, form)
        except FieldErrors as exc:
            if exc.key != "tar_err_overlap":
                raise
            continue
        added += 1
    return added
