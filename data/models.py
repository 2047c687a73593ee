"""SQLAlchemy 2 models for Pantau's core tables. Times are stored in UTC; personal identifiers encrypted."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from domain.clock import utcnow
from domain.finance import (
    CHARGE_SOURCES,
    CLAIM_EPISODES,
    CLAIM_STATES,
    INVOICE_STATES,
    PAYERS,
    PAYMENT_KINDS,
    PAYMENT_METHODS,
    TARGET_METRICS,
    UNITS,
)
from domain.hospital import (
    ADMISSION_SOURCES,
    BED_STATES,
    DISCHARGE_KINDS,
    HOLIDAY_KINDS,
    OCCUPANCY_ENDS,
    sql_in,
)
from domain.queue_points import DEFAULT_BOARD_GROUP
from domain.roles import ROLES

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """``timestamptz`` on PostgreSQL; on SQLite the value comes back naive, so it is marked UTC again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: Pantau stores aware UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Versioned:
    """A row version for optimistic locking: every ORM update raises it, and an update made from a stale copy
    fails (``StaleDataError``). Edit forms carry the version they showed; ``data.setup_rows.check_version`` turns a
    mismatch into a conflict message instead of a silent overwrite."""

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class Site(Versioned, Base):
    """A facility: a hospital or a Puskesmas, with its BPJS PPK code and class (``domain.hospital``)."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="hospital")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    ppk_code: Mapped[str | None] = mapped_column(String(16))
    facility_class: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person (or TV board) who signs in. Roles live in ``user_role``."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(2), default="id")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every session carries the version it was signed in with; raising it ends all of them (auth/session.py).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # TOTP: the secret is field-crypto ciphertext bound to this row; enabled once a typed code confirmed it.
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # the last accepted time step: no replay

    site: Mapped[Site] = relationship()
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_role"
    __table_args__ = (CheckConstraint("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)), name="known"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class MfaRecoveryCode(Base):
    """One of a user's one-time recovery codes: only its hash is kept; ``used_at`` set when spent."""

    __tablename__ = "mfa_recovery_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Failed sign-ins counted per key (an account, an address, or the pair, as a digest): each failure past the
    free ones doubles the wait before the next attempt is even checked. Shared by every web worker."""

    __tablename__ = "sign_in_throttle"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisplayToken(Base):
    """A TV board's read-only credential: only its SHA-256 is stored."""

    __tablename__ = "display_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    # Where the board opens (e.g. ``/papan/umum``); empty = the display home page.
    board_path: Mapped[str] = mapped_column(String(200), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    """Append-only record of sign-ins, reads of patient records and every change (triggers forbid edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (  # the audit viewer's filters (migration 0012)
        Index("ix_audit_log_username_at", "username", "at"),
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_site_id_at", "site_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict | None] = mapped_column(JSON)


class Patient(Versioned, Base):
    """A patient of one site. NIK, BPJS number, phone and address are AES-GCM ciphertext; ``*_bidx`` are
    keyed blind indexes for exact search. ``submission_token`` is the desk form's own token: the same form sent
    twice (a double click, a retry, a second web worker) finds the patient it created instead of making a twin.
    A deleted record (``deleted_at``; merged into another when ``merged_into_id``) is kept but found by no search;
    a purged one (``purged_at``) is an anonymous stub that keeps its visits' and bills' foreign keys."""

    __tablename__ = "patient"
    __table_args__ = (
        UniqueConstraint("site_id", "mrn"),
        UniqueConstraint("site_id", "submission_token"),
        CheckConstraint("sex IN ('L', 'P')", name="sex"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    mrn: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    nik_enc: Mapped[str | None] = mapped_column(Text)
    nik_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    bpjs_enc: Mapped[str | None] = mapped_column(Text)
    bpjs_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # An emergency admission's patient registered with minimal data, to be completed later.
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    submission_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    delete_reason: Mapped[str | None] = mapped_column(String(500))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The record's id across sites (facility sync): each site numbers its rows and RMs itself.
    sync_id: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))


class Ward(Versioned, Base):
    """An inpatient ward. ``kind`` picks the alarm profile (``icu`` or ``ward``); ``active`` False = retired."""

    __tablename__ = "ward"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="ward")
    care_class: Mapped[str] = mapped_column(String(8), default="3", server_default="3")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    beds: Mapped[list[Bed]] = relationship(back_populates="ward", order_by="Bed.code")


class Bed(Versioned, Base):
    """A bed. ``status`` is the bed board's state (``domain.hospital.BED_STATES``), its changes kept in
    ``bed_status_event``; ``care_class`` None = the ward's; ``active`` False = retired (history kept)."""

    __tablename__ = "bed"
    __table_args__ = (UniqueConstraint("ward_id", "code"), CheckConstraint(sql_in("status", BED_STATES), name="status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    care_class: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="available", server_default="available")
    ward: Mapped[Ward] = relationship(back_populates="beds")


class BedStatusEvent(Base):
    """Append-only: a bed's status from ``at`` on (the midnight census reads the state at each midnight)."""

    __tablename__ = "bed_status_event"
    __table_args__ = (
        Index("ix_bed_status_event_bed_at", "bed_id", "at"),
        CheckConstraint(sql_in("status", BED_STATES), name="status"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str | None] = mapped_column(String(200))


class Device(Versioned, Base):
    """A bedside monitor known by the MQTT ``device_id`` it publishes under."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The monitor's broker credential (its MQTT username is its device_id): an Argon2id hash of the password shown
    # once, when it was issued, and when the monitor was retired (its broker client deleted).
    credential_hash: Mapped[str | None] = mapped_column(String(255))
    credential_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeviceAssignment(Base):
    """Which bed a monitor served, and when; the open row (``until`` NULL) is the current one."""

    __tablename__ = "device_assignment"
    __table_args__ = (
        Index(
            "uq_device_assignment_open",
            "device_pk",
            unique=True,
            postgresql_where=text("until IS NULL"),
            sqlite_where=text("until IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("device.id"))
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device: Mapped[Device] = relationship()
    bed: Mapped[Bed] = relationship()


class Poli(Versioned, Base):
    """An outpatient clinic with its queue-ticket prefix and (optional) BPJS code."""

    __tablename__ = "poli"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    queue_prefix: Mapped[str] = mapped_column(String(2))
    bpjs_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Which TV board calls this poli's numbers, and the service time assumed until today's is measured.
    board_group: Mapped[str] = mapped_column(String(32), default=DEFAULT_BOARD_GROUP)
    default_service_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # Whom the poli serves, in completed years on the visit day (Poli Anak 0–17); the desk warns outside it.
    age_min_years: Mapped[int | None] = mapped_column(Integer)
    age_max_years: Mapped[int | None] = mapped_column(Integer)


class Doctor(Versioned, Base):
    """A doctor: ``sip`` is the practice licence (Surat Izin Praktik), ``bpjs_code`` the HFIS code."""

    __tablename__ = "doctor"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100), default="")
    sip: Mapped[str | None] = mapped_column(String(64))
    poli_id: Mapped[int | None] = mapped_column(ForeignKey("poli.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    bpjs_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Admission(Versioned, Base):
    """One inpatient stay, from admission to discharge; its beds are its ``bed_occupancy`` rows (a transfer ends
    one and opens the next). Vitals, alarms and observations belong to the stay through them, never to the bed."""

    __tablename__ = "admission"
    __table_args__ = (
        CheckConstraint(sql_in("source", ADMISSION_SOURCES), name="source"),
        CheckConstraint(f"discharge_kind IS NULL OR {sql_in('discharge_kind', DISCHARGE_KINDS)}", name="discharge"),
        CheckConstraint(sql_in("payer", PAYERS), name="payer"),
        Index(
            "uq_admission_patient_open",
            "patient_id",
            unique=True,
            postgresql_where=text("discharged_at IS NULL"),
            sqlite_where=text("discharged_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    source: Mapped[str] = mapped_column(String(12), default="desk")
    payer: Mapped[str] = mapped_column(String(16), default="umum")  # domain.finance.PAYERS
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))  # the poli visit it came from
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    admitted_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    discharged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    discharge_kind: Mapped[str | None] = mapped_column(String(16))
    died_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    referred_to: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    # Pregnant, or up to six weeks after giving birth (``domain.news2.scored_from_at``: NEWS2 does not score her).
    obstetric: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    patient: Mapped[Patient] = relationship()


class BedOccupancy(Base):
    """One bed of one admission for a while (``until`` NULL = now), and the clinical flags monitors cannot know."""

    __tablename__ = "bed_occupancy"
    __table_args__ = (
        Index(
            "uq_bed_occupancy_open",
            "bed_id",
            unique=True,
            postgresql_where=text("until IS NULL"),
            sqlite_where=text("until IS NULL"),
        ),
        CheckConstraint("spo2_scale IN (1, 2)", name="spo2_scale"),
        CheckConstraint(f"end_reason IS NULL OR {sql_in('end_reason', OCCUPANCY_ENDS)}", name="end_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(12))  # domain.hospital.OCCUPANCY_ENDS
    # NEWS2 SpO2 scale 2 only when a clinician has recorded hypercapnic respiratory failure (RCP 2017).
    spo2_scale: Mapped[int] = mapped_column(Integer, default=1)
    patient: Mapped[Patient] = relationship()
    admission: Mapped[Admission | None] = relationship()


class WardCensus(Base):
    """The midnight census of one ward on one (site-local) day: bed states at 00:00 and the day's movements,
    kept for the bed indicators (BOR, ALOS, BTO, TOI) of the management reports. Recomputable from history."""

    __tablename__ = "ward_census"
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    beds: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)
    cleaning: Mapped[int] = mapped_column(Integer)
    out_of_service: Mapped[int] = mapped_column(Integer)
    admissions: Mapped[int] = mapped_column(Integer, default=0)
    transfers_in: Mapped[int] = mapped_column(Integer, default=0)
    transfers_out: Mapped[int] = mapped_column(Integer, default=0)
    discharges: Mapped[int] = mapped_column(Integer, default=0)  # alive
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    los_days: Mapped[int] = mapped_column(Integer, default=0)  # the whole stays of those discharged (alive or dead)
    deaths_48h: Mapped[int] = mapped_column(Integer, default=0)  # deaths 48 h or more after admission
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffWard(Base):
    """A staff member works in this ward: her home page and ward list open there."""

    __tablename__ = "staff_ward"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), primary_key=True)


class StaffPoli(Base):
    """A staff member works in this poli."""

    __tablename__ = "staff_poli"
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    poli_id: Mapped[int] = mapped_column(ForeignKey("poli.id"), primary_key=True)


class VitalSample(Base):
    """One numerics message from a monitor. The key makes redelivery harmless (``ON CONFLICT DO NOTHING``).
    On PostgreSQL the table is partitioned by day on ``ts`` (see migration 0002 and ``data.partitions``)."""

    __tablename__ = "vital_sample"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bed_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hr: Mapped[float | None] = mapped_column(Float)
    spo2: Mapped[float | None] = mapped_column(Float)
    rr: Mapped[float | None] = mapped_column(Float)
    sbp: Mapped[float | None] = mapped_column(Float)
    dbp: Mapped[float | None] = mapped_column(Float)
    map: Mapped[float | None] = mapped_column(Float)
    temp: Mapped[float | None] = mapped_column(Float)
    ecg_status: Mapped[str | None] = mapped_column(String(8))
    spo2_status: Mapped[str | None] = mapped_column(String(8))
    sqi_ecg: Mapped[float | None] = mapped_column(Float)
    sqi_spo2: Mapped[float | None] = mapped_column(Float)


class VitalRollup(Base):
    """One minute of one bed's numerics (mean, min, max), kept after raw samples are dropped."""

    __tablename__ = "vital_rollup_1m"
    bed_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    hr_avg: Mapped[float | None] = mapped_column(Float)
    hr_min: Mapped[float | None] = mapped_column(Float)
    hr_max: Mapped[float | None] = mapped_column(Float)
    spo2_avg: Mapped[float | None] = mapped_column(Float)
    spo2_min: Mapped[float | None] = mapped_column(Float)
    rr_avg: Mapped[float | None] = mapped_column(Float)
    sbp_avg: Mapped[float | None] = mapped_column(Float)
    dbp_avg: Mapped[float | None] = mapped_column(Float)
    map_avg: Mapped[float | None] = mapped_column(Float)
    temp_avg: Mapped[float | None] = mapped_column(Float)


class DeadLetter(Base):
    """A message the consumer could not accept, with the reason, so nothing disappears silently."""

    __tablename__ = "dead_letter"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    topic: Mapped[str] = mapped_column(String(256))
    device_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # a sample: the first bytes only
    payload_size: Mapped[int | None] = mapped_column(Integer)  # the whole payload's size in bytes
    payload_truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DeadLetterCount(Base):
    """How many messages were refused per device and reason (device ``""`` = none could be read), kept after
    the dead-letter rows themselves expire."""

    __tablename__ = "dead_letter_count"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VitalGap(Base):
    """A run of ``seq`` numbers missing from one monitor, between the samples at ``from_ts`` and ``to_ts``.
    The consumer asks the monitor to resend it; it ends ``filled`` or, past a bound, ``unfillable``."""

    __tablename__ = "vital_gap"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'requested', 'filled', 'unfillable')", name="state"),
        CheckConstraint("from_seq <= to_seq", name="seq_order"),
        Index("ix_vital_gap_device_id_state", "device_id", "state"),
        Index("ix_vital_gap_bed_id_from_ts", "bed_id", "from_ts"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    bed_id: Mapped[int | None] = mapped_column(Integer)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    to_seq: Mapped[int] = mapped_column(BigInteger)
    from_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    to_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="open")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Observation(Base):
    """A nurse's observation set: what monitors cannot measure (oxygen, ACVPU) and manual vitals."""

    __tablename__ = "observation"
    __table_args__ = (CheckConstraint("consciousness IN ('A', 'C', 'V', 'P', 'U')", name="acvpu"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    on_oxygen: Mapped[bool | None] = mapped_column(Boolean)
    consciousness: Mapped[str | None] = mapped_column(String(1))
    rr: Mapped[float | None] = mapped_column(Float)
    spo2: Mapped[float | None] = mapped_column(Float)
    sbp: Mapped[float | None] = mapped_column(Float)
    dbp: Mapped[float | None] = mapped_column(Float)
    hr: Mapped[float | None] = mapped_column(Float)
    temp: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(500))


class Spo2ScaleOrder(Base):
    """A doctor's choice of NEWS2's SpO2 scale for an admission from ``ordered_at`` (``domain.spo2_scale``): the
    stay's history of scales, which the bed page's NEWS2 history scores with. The scale in force now is the open
    occupancy's ``spo2_scale``, written in the same transaction (what the clinical step reads)."""

    __tablename__ = "spo2_scale_order"
    __table_args__ = (
        CheckConstraint("scale IN (1, 2)", name="scale"),
        CheckConstraint("previous IN (1, 2)", name="previous"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admission.id"), index=True)
    scale: Mapped[int] = mapped_column(Integer)
    previous: Mapped[int] = mapped_column(Integer)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ordered_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str | None] = mapped_column(String(200))


class AlarmLimit(Base):
    """A per-bed override of the unit profile's limit for one parameter (profiles are in ``domain.alarms``)."""

    __tablename__ = "alarm_limit"
    __table_args__ = (UniqueConstraint("bed_id", "parameter"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"))
    parameter: Mapped[str] = mapped_column(String(16))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlarmEvent(Base):
    """One alarm episode of one bed and condition, from onset to end, with who acknowledged it."""

    __tablename__ = "alarm_event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("bed.id"), index=True)
    condition: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # physiological | technical | clinical
    priority: Mapped[str] = mapped_column(String(8))  # high | medium | low
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(String(200), default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    acknowledged_where: Mapped[str | None] = mapped_column(String(64))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------------------------------------------------------
# Clinic queues (DESIGN §6): schedules, day sessions, numbering, visits with BPJS task times, the BPJS outbox.

VISIT_TASK_IDS = (1, 2, 3, 4, 5, 6, 7, 99)
TICKET_STATES = ("booked", "waiting", "called", "serving", "done", "skipped", "cancelled")
OPEN_AT_COUNTER = ("called", "serving")  # a ticket in these states is at its counter
OPEN_AT_COUNTER_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_AT_COUNTER))


class DoctorSchedule(Versioned, Base):
    """A doctor's weekly practice session at a poli (jadwal praktik) between validity dates (either open), with
    its capacity split into JKN and non-JKN quotas (``capacity`` None = their sum). A public holiday closes it
    unless ``open_on_holidays``."""

    __tablename__ = "doctor_schedule"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("end_time > start_time", name="times"),
        CheckConstraint("quota_jkn >= 0 AND quota_non_jkn >= 0", name="quota"),
        CheckConstraint("capacity IS NULL OR capacity >= quota_jkn + quota_non_jkn", name="capacity"),
        CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from", name="validity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"))
    poli_id: Mapped[int] = mapped_column(ForeignKey("poli.id"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    quota_jkn: Mapped[int] = mapped_column(Integer, default=30)
    quota_non_jkn: Mapped[int] = mapped_column(Integer, default=10)
    capacity: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    open_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SiteHoliday(Base):
    """A site's change to the national holiday calendar (``holidays``): a collective leave day (cuti bersama,
    closes sessions) or a national holiday the site keeps open."""

    __tablename__ = "site_holiday"
    __table_args__ = (CheckConstraint(sql_in("kind", HOLIDAY_KINDS), name="kind"),)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100), default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DoctorLeave(Base):
    """A doctor's leave (cuti) from ``first_day`` to ``last_day``: it closes the doctor's sessions on those days;
    ``cancelled_at`` set = withdrawn (history kept)."""

    __tablename__ = "doctor_leave"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="days"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class ClinicSession(Base):
    """One practice session on one day, made from the weekly schedule. ``booked_*`` count the live bookings and
    are raised with a guarded UPDATE, so two desks can never overbook a quota."""

    __tablename__ = "clinic_session"
    __table_args__ = (
        UniqueConstraint("doctor_id", "poli_id", "service_date", "start_time"),
        CheckConstraint("booked_jkn >= 0 AND booked_non_jkn >= 0", name="booked"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    poli_id: Mapped[int] = mapped_column(ForeignKey("poli.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctor.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("doctor_schedule.id"))
    service_date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quota_jkn: Mapped[int] = mapped_column(Integer)
    quota_non_jkn: Mapped[int] = mapped_column(Integer)
    booked_jkn: Mapped[int] = mapped_column(Integer, default=0)
    booked_non_jkn: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the doctor's first task 4
    closed_reason: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    leave_id: Mapped[int | None] = mapped_column(ForeignKey("doctor_leave.id"))  # closed by this leave
    poli: Mapped[Poli] = relationship()
    doctor: Mapped[Doctor] = relationship()


class ServiceCounter(Versioned, Base):
    """A counter (loket, a poli's room, a pharmacy window) at one service point, offered by the counter page."""

    __tablename__ = "service_counter"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    point: Mapped[str] = mapped_column(String(32))  # domain.queue_points: "loket", "poli:UMU", "farmasi:racikan"
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class QueueCounter(Base):
    """The last number handed out at one service point on one (site-local) day."""

    __tablename__ = "queue_counter"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    point: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Visit(Base):
    """An outpatient visit to one poli on one day: one booking code (``kodebooking``) and its task times."""

    __tablename__ = "visit"
    __table_args__ = (
        Index(
            "uq_visit_patient_poli_day",
            "patient_id",
            "poli_id",
            "service_date",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
            sqlite_where=text("status <> 'cancelled'"),
        ),
        CheckConstraint("payer IN ('jkn', 'non_jkn')", name="payer"),
        CheckConstraint("status IN ('active', 'done', 'cancelled')", name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_session.id"), index=True)
    poli_id: Mapped[int] = mapped_column(ForeignKey("poli.id"))
    service_date: Mapped[date] = mapped_column(Date, index=True)
    booking_code: Mapped[str] = mapped_column(String(32), unique=True)
    payer: Mapped[str] = mapped_column(String(8))
    new_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="desk")  # desk | mobile_jkn | referral
    referral_number: Mapped[str | None] = mapped_column(String(40))
    referred_from_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    session: Mapped[ClinicSession] = relationship()
    patient: Mapped[Patient] = relationship()


class QueueTicket(Base):
    """A place in one service point's line: the admission desk (``loket``), a poli (``poli:UMU``) or the
    pharmacy (``farmasi:racikan`` / ``farmasi:nonracikan``). Admission tickets exist before their visit."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("site_id", "point", "service_date", "number"),
        Index("ix_queue_ticket_line", "site_id", "point", "service_date", "status"),
        # A counter holds one patient at a time: two "call next" clicks that race past the check meet here.
        Index(
            "uq_queue_ticket_open_at_counter",
            "site_id",
            "point",
            "service_date",
            "counter",
            unique=True,
            postgresql_where=text(OPEN_AT_COUNTER_SQL),
            sqlite_where=text(OPEN_AT_COUNTER_SQL),
        ),
        CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in TICKET_STATES)), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_session.id"))
    point: Mapped[str] = mapped_column(String(32))
    service_date: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    counter: Mapped[str | None] = mapped_column(String(40))  # where it was called to ("Loket 2", "Poli Anak")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit: Mapped[Visit | None] = relationship()


class VisitTask(Base):
    """When a visit reached one BPJS task id (1–7, 99): recorded once, in order, at the real time."""

    __tablename__ = "visit_task"
    __table_args__ = (
        CheckConstraint("task_id IN ({})".format(", ".join(str(t) for t in VISIT_TASK_IDS)), name="task_id"),
    )
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class BpjsOutbox(Base):
    """A call to BPJS Antrean to make, written in the same transaction as the event it reports (transactional
    outbox). The payload holds no personal identifiers: the worker reads those from the visit when sending."""

    __tablename__ = "bpjs_outbox"
    __table_args__ = (
        Index("ix_bpjs_outbox_due", "state", "next_attempt_at"),
        # Claims walk only the unsent rows; the sync page reads recent acknowledgements.
        Index(
            "ix_bpjs_outbox_unsent",
            "id",
            postgresql_where=text("state <> 'sent'"),
            sqlite_where=text("state <> 'sent'"),
        ),
        Index("ix_bpjs_outbox_sent", "state", "sent_at"),
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))  # None: a schedule update
    booking_code: Mapped[str | None] = mapped_column(String(32), index=True)
    # antrean_add | updatewaktu | batal | farmasi_add | updatejadwaldokter
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class SiteSetting(Base):
    """A small per-site setting that admins change at run time (e.g. the TV boards' running text)."""

    __tablename__ = "site_setting"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


# ---------------------------------------------------------------------------------------------------------------
# BPJS reference data (ref/poli, ref/dokter, jadwaldokter), a copy per site (each hospital's consumer id sees its
# own doctors and schedules), refreshed by the BPJS worker daily and on request; see data/bpjs_reference.py.


class BpjsRefPoli(Base):
    """A BPJS poli sub-speciality from ``ref/poli``; ``gone_at`` is set when a pull no longer lists it."""

    __tablename__ = "bpjs_ref_poli"
    __table_args__ = (UniqueConstraint("site_id", "kode_subspesialis"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kode: Mapped[str] = mapped_column(String(16))
    nama: Mapped[str] = mapped_column(String(200))
    kode_subspesialis: Mapped[str] = mapped_column(String(16))
    nama_subspesialis: Mapped[str] = mapped_column(String(200))
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BpjsRefDokter(Base):
    """A doctor as BPJS (HFIS) knows them, from ``ref/dokter``; ``gone_at`` as for polis."""

    __tablename__ = "bpjs_ref_dokter"
    __table_args__ = (UniqueConstraint("site_id", "kode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kode: Mapped[str] = mapped_column(String(16))
    nama: Mapped[str] = mapped_column(String(200))
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BpjsRefJadwal(Base):
    """One practice slot of one doctor on one day as ``jadwaldokter`` answered for ``kodepoli`` (the code asked
    for); a poli's day is replaced as a whole by each successful pull."""

    __tablename__ = "bpjs_ref_jadwal"
    __table_args__ = (
        UniqueConstraint(
            "site_id", "kodepoli", "tanggal", "kodesubspesialis", "kodedokter", "jadwal", name="uq_bpjs_ref_jadwal_slot"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kodepoli: Mapped[str] = mapped_column(String(16))
    kodesubspesialis: Mapped[str] = mapped_column(String(16))
    kodedokter: Mapped[str] = mapped_column(String(16))
    tanggal: Mapped[date] = mapped_column(Date)
    hari: Mapped[int] = mapped_column(Integer)  # 1 = Senin … 7 = Minggu, 8 = hari libur nasional
    jadwal: Mapped[str] = mapped_column(String(11))  # "08:00-16:00"
    kapasitas: Mapped[int] = mapped_column(Integer)
    libur: Mapped[bool] = mapped_column(Boolean)
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BpjsRefPull(Base):
    """A site's reference pull: the last on-demand request (the admin page sets it, the worker takes it), the
    last attempt's outcome, and which poli-days the stored jadwal covers (``{"2026-01-12": ["ANA", ...]}``)."""

    __tablename__ = "bpjs_ref_pull"
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the last attempt started
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last attempt that got every part
    ok: Mapped[bool | None] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text, default="")
    jadwal_days: Mapped[dict] = mapped_column(JSON, default=dict)


# ---------------------------------------------------------------------------------------------------------------
# Finance (docs/finance.md): tariffs, charge lines and their daily rollup, invoices and payments, BPJS claims,
# targets. Money is integer Rupiah.

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Tariff(Base):
    """The price of one service from ``valid_from`` (to ``valid_until`` inclusive, open when NULL), for one care
    class and one payer, or for every class / payer when NULL; the most specific row in force wins."""

    __tablename__ = "tariff"
    __table_args__ = (
        Index("ix_tariff_lookup", "site_id", "code", "valid_from"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint(sql_in("unit", UNITS), name="unit"),
        CheckConstraint(f"payer IS NULL OR {sql_in('payer', PAYERS)}", name="payer"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    care_class: Mapped[str | None] = mapped_column(String(8))
    payer: Mapped[str | None] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invoice(Base):
    """A bill to one payer for a visit or a stay (or for imported lines); ``paid`` follows its payments."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("site_id", "number"),
        Index("ix_invoice_open", "site_id", "status", "issued_on"),
        CheckConstraint(sql_in("status", INVOICE_STATES), name="status"),
        CheckConstraint(sql_in("payer", PAYERS), name="payer"),
    )
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    number: Mapped[str] = mapped_column(String(32))
    payer: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChargeLine(Base):
    """One priced item earned on one site-local day. ``(site_id, source, source_id)`` makes capture and import
    idempotent: an event charged twice, or a file imported twice, adds nothing. Written only through
    ``data.charges.add_charge_lines``, which keeps ``charge_daily`` in step in the same transaction."""

    __tablename__ = "charge_line"
    __table_args__ = (
        UniqueConstraint("site_id", "source", "source_id"),
        Index("ix_charge_line_day", "site_id", "service_date"),
        # The reports count unpriced lines (no tariff in force): few, found without reading the priced millions.
        Index(
            "ix_charge_line_unpriced",
            "site_id",
            "service_date",
            postgresql_where=text("NOT priced"),
            sqlite_where=text("NOT priced"),
        ),
        CheckConstraint(sql_in("unit", UNITS), name="unit"),
        CheckConstraint(sql_in("payer", PAYERS), name="payer"),
        CheckConstraint(sql_in("source", CHARGE_SOURCES), name="source"),
        CheckConstraint("quantity > 0", name="quantity"),
    )
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    service_date: Mapped[date] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(16))
    payer: Mapped[str] = mapped_column(String(16))
    poli_id: Mapped[int | None] = mapped_column(ForeignKey("poli.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    tariff_code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    priced: Mapped[bool] = mapped_column(Boolean, default=True)  # False: no tariff in force (amount 0)
    source: Mapped[str] = mapped_column(String(8), default="pantau")
    source_id: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChargeDaily(Base):
    """Revenue per day and per unit, payer, poli, ward and doctor (0 = none): the rollup every revenue report
    reads, so a year is a few thousand rows rather than millions of lines."""

    __tablename__ = "charge_daily"
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), primary_key=True)
    payer: Mapped[str] = mapped_column(String(16), primary_key=True)
    poli_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ward_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doctor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)


class Payment(Base):
    """Money in (a payment against an invoice, an inpatient's deposit) or out (a refund). A payment made from a
    deposit has method ``deposit``."""

    __tablename__ = "payment"
    __table_args__ = (
        Index("ix_payment_day", "site_id", "paid_on"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint(sql_in("kind", PAYMENT_KINDS), name="kind"),
        CheckConstraint(sql_in("method", PAYMENT_METHODS), name="method"),
    )
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(8), default="payment")
    method: Mapped[str] = mapped_column(String(12))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    payer: Mapped[str] = mapped_column(String(16), default="umum")
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(64))  # QRIS / transfer reference
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class BpjsClaim(Versioned, Base):
    """The BPJS claim of one JKN episode (a visit or a stay), identified by its SEP. The submission limit and the
    verification promise are computed from its dates (``domain.claim_rules``), never typed."""

    __tablename__ = "bpjs_claim"
    __table_args__ = (
        UniqueConstraint("site_id", "sep_number"),
        Index("ix_bpjs_claim_period", "site_id", "service_end"),
        Index("ix_bpjs_claim_status", "site_id", "status"),
        CheckConstraint(sql_in("status", CLAIM_STATES), name="status"),
        CheckConstraint(sql_in("episode", CLAIM_EPISODES), name="episode"),
    )
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    sep_number: Mapped[str] = mapped_column(String(24))
    episode: Mapped[str] = mapped_column(String(12))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), unique=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admission.id"), unique=True)
    poli_id: Mapped[int | None] = mapped_column(ForeignKey("poli.id"))
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctor.id"))
    service_start: Mapped[date] = mapped_column(Date)
    service_end: Mapped[date] = mapped_column(Date)  # discharge, or the visit's day
    inacbg_code: Mapped[str | None] = mapped_column(String(16))  # e.g. "K-4-17-I"
    hospital_tariff: Mapped[int] = mapped_column(BigInteger, default=0)
    inacbg_tariff: Mapped[int | None] = mapped_column(BigInteger)
    submitted_amount: Mapped[int | None] = mapped_column(BigInteger)
    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    topup_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="coded")
    status_reason: Mapped[str | None] = mapped_column(String(300))
    submitted_on: Mapped[date | None] = mapped_column(Date)
    verified_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BpjsClaimEvent(Base):
    """A claim's status history, append-only: who or which import moved it, when, and why."""

    __tablename__ = "bpjs_claim_event"
    __table_args__ = (CheckConstraint(sql_in("status", CLAIM_STATES), name="status"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("bpjs_claim.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual | import
    by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FinanceTarget(Base):
    """A month's target set by the hospital for one metric, for the whole site (``unit`` "") or one unit."""

    __tablename__ = "finance_target"
    __table_args__ = (CheckConstraint(sql_in("metric", TARGET_METRICS), name="metric"),)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the month
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    amount: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------------------------------------------------------
# Facility sync (docs/facility_sync.md): this site's clock, each record's writes, the changes to send per peer,
# the changes applied, the conflicts found and the verify runs. Values that may name a patient are sealed with
# the data keys (``*_enc``, bound to the row's id), like the patient's identifiers.


class PatientAttachment(Base):
    """A scanned letter or image of a patient (a Puskesmas referral letter, a photo of a result), sealed with the
    data keys. Facility sync moves it as a record of its own (``sync_id``), so editing the patient never resends
    it; it names its patient by her sync id, so it may arrive before she does."""

    __tablename__ = "patient_attachment"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    sync_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_sync_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncClock(Base):
    """This site's hybrid logical clock (``domain.hlc`` text form), read and advanced under a row lock, so it
    survives restarts and is shared by every web worker and sync worker of the site."""

    __tablename__ = "sync_clock"
    site_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    hlc: Mapped[str] = mapped_column(String(100))


class SyncRecord(Base):
    """One record's writes as this site holds them (``domain.record_merge.RecordState`` as sealed JSON)."""

    __tablename__ = "sync_record"
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    state_enc: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SyncOutbox(Base):
    """A change to deliver to one peer, written in the transaction that made it; ``acked_at`` once the peer has
    applied it. The id is the sender's running number (``seq`` on the wire)."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        UniqueConstraint("peer", "change_id"),
        Index(
            "ix_sync_outbox_pending",
            "peer",
            "id",
            postgresql_where=text("acked_at IS NULL"),
            sqlite_where=text("acked_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    peer: Mapped[str] = mapped_column(String(64))
    change_id: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    change_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resend_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # due again then, unless acknowledged
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncInbox(Base):
    """A change applied here, once: a second delivery finds its id and is only acknowledged again."""

    __tablename__ = "sync_inbox"
    change_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(64), index=True)
    record_id: Mapped[str] = mapped_column(String(64))
    change_hlc: Mapped[str] = mapped_column(String(100))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncConflict(Base):
    """Two writes of one field that did not see each other (``domain.record_merge.Conflict``), for review."""

    __tablename__ = "sync_conflict"
    __table_args__ = (UniqueConstraint("record_id", "field", "lost_hlc", "won_hlc"),)
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(64))
    lost_hlc: Mapped[str] = mapped_column(String(100))
    won_hlc: Mapped[str] = mapped_column(String(100))
    lost_value_enc: Mapped[str | None] = mapped_column(Text)
    won_value_enc: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class SyncPeerStatus(Base):
    """A peer site, and what the sync worker last saw of it: its last message and applied change, its last
    refusal (a reason code such as ``clock_skew`` or ``auth``, never personal data) and the last verify."""

    __tablename__ = "sync_peer_status"
    peer: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The sync worker registers the peers of its configuration; a change is queued for every active peer.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verify_records: Mapped[int | None] = mapped_column(Integer)
    verify_differences: Mapped[int | None] = mapped_column(Integer)
    verify_detail: Mapped[list | None] = mapped_column(JSON)  # record ids that differ, at most 100
