"""a hospital that runs itself: row versions on the setup tables; the site's PPK code and class; wards' care class
and retirement; beds' class and status with its history; admissions (each bed occupancy and observation belongs
to one); the midnight ward census; staff's wards and polis; counters; schedules with capacity, validity dates and
holidays; doctors' SIP, leave and substitutes; schedule updates in the BPJS outbox (no visit).

Existing occupancies become admissions (one each: their history is all a bed knew), their beds "occupied", and
each observation joins the admission whose bed stay it was taken in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 20:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

VERSIONED = ("site", "ward", "bed", "device", "poli", "doctor", "doctor_schedule")
BED_STATES = "status IN ('available', 'occupied', 'cleaning', 'out_of_service')"
UTC_TS = sa.DateTime(timezone=True)


def _version_column() -> sa.Column:
    return sa.Column("version", sa.Integer(), server_default="1", nullable=False)


def upgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(_version_column())
    with op.batch_alter_table("site") as batch_op:
        batch_op.add_column(sa.Column("ppk_code", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("facility_class", sa.String(8), nullable=True))
    with op.batch_alter_table("patient") as batch_op:
        batch_op.add_column(sa.Column("incomplete", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("ward") as batch_op:
        batch_op.add_column(sa.Column("care_class", sa.String(8), server_default="3", nullable=False))
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("bed") as batch_op:
        batch_op.add_column(sa.Column("care_class", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(16), server_default="available", nullable=False))
        batch_op.create_check_constraint("status", BED_STATES)
    with op.batch_alter_table("doctor") as batch_op:
        batch_op.add_column(sa.Column("sip", sa.String(64), nullable=True))
    op.create_table(
        "bed_status_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("bed_id", sa.Integer(), sa.ForeignKey("bed.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.CheckConstraint(BED_STATES, name="status"),
    )
    op.create_index("ix_bed_status_event_bed_at", "bed_status_event", ["bed_id", "at"])
    op.create_table(
        "admission",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=True),
        sa.Column("admitted_at", UTC_TS, nullable=False),
        sa.Column("admitted_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("discharged_at", UTC_TS, nullable=True),
        sa.Column("discharged_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("discharge_kind", sa.String(16), nullable=True),
        sa.Column("died_at", UTC_TS, nullable=True),
        sa.Column("referred_to", sa.String(200), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        _version_column(),
        sa.CheckConstraint("source IN ('desk', 'poli', 'emergency')", name="source"),
        sa.CheckConstraint(
            "discharge_kind IS NULL OR discharge_kind IN ('home', 'referred', 'against_advice', 'deceased')",
            name="discharge",
        ),
    )
    op.create_index("ix_admission_patient_id", "admission", ["patient_id"])
    op.create_index("ix_admission_admitted_at", "admission", ["admitted_at"])
    op.create_index("ix_admission_discharged_at", "admission", ["discharged_at"])
    op.create_index(
        "uq_admission_patient_open",
        "admission",
        ["patient_id"],
        unique=True,
        postgresql_where=sa.text("discharged_at IS NULL"),
        sqlite_where=sa.text("discharged_at IS NULL"),
    )
    with op.batch_alter_table("bed_occupancy") as batch_op:
        batch_op.add_column(sa.Column("admission_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(12), nullable=True))
        batch_op.create_foreign_key("fk_bed_occupancy_admission_id_admission", "admission", ["admission_id"], ["id"])
        batch_op.create_index("ix_bed_occupancy_admission_id", ["admission_id"])
        batch_op.create_check_constraint("end_reason", "end_reason IS NULL OR end_reason IN ('transfer', 'discharge')")
    with op.batch_alter_table("observation") as batch_op:
        batch_op.add_column(sa.Column("admission_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_observation_admission_id_admission", "admission", ["admission_id"], ["id"])
        batch_op.create_index("ix_observation_admission_id", ["admission_id"])
    op.create_table(
        "ward_census",
        sa.Column("ward_id", sa.Integer(), sa.ForeignKey("ward.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "beds",
                "occupied",
                "available",
                "cleaning",
                "out_of_service",
                "admissions",
                "transfers_in",
                "transfers_out",
                "discharges",
                "deaths",
            )
        ),
        sa.Column("recorded_at", UTC_TS, nullable=False),
    )
    op.create_table(
        "staff_ward",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ward_id", sa.Integer(), sa.ForeignKey("ward.id"), primary_key=True),
    )
    op.create_table(
        "staff_poli",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("poli_id", sa.Integer(), sa.ForeignKey("poli.id"), primary_key=True),
    )
    op.create_table(
        "service_counter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("point", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _version_column(),
        sa.UniqueConstraint("site_id", "code"),
    )
    with op.batch_alter_table("doctor_schedule") as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("open_on_holidays", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint("capacity", "capacity IS NULL OR capacity >= quota_jkn + quota_non_jkn")
        batch_op.create_check_constraint(
            "validity", "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from"
        )
    op.create_table(
        "site_holiday",
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.CheckConstraint("kind IN ('collective', 'open')", name="kind"),
    )
    op.create_table(
        "doctor_leave",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("doctor_id", sa.Integer(), sa.ForeignKey("doctor.id"), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("substitute_id", sa.Integer(), sa.ForeignKey("doctor.id"), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("cancelled_at", UTC_TS, nullable=True),
        sa.Column("cancelled_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.CheckConstraint("last_day >= first_day", name="days"),
    )
    op.create_index("ix_doctor_leave_doctor_id", "doctor_leave", ["doctor_id"])
    with op.batch_alter_table("clinic_session") as batch_op:
        batch_op.add_column(sa.Column("leave_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_clinic_session_leave_id_doctor_leave", "doctor_leave", ["leave_id"], ["id"])
    with op.batch_alter_table("bpjs_outbox") as batch_op:
        batch_op.alter_column("visit_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("booking_code", existing_type=sa.String(32), nullable=True)
    _admissions_for_existing_occupancies()


def _admissions_for_existing_occupancies() -> None:
    """One admission per existing bed occupancy (discharged when the occupancy ended), then the links."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT o.id, o.patient_id, o.since, o.until, w.site_id FROM bed_occupancy o "
            "JOIN bed b ON b.id = o.bed_id JOIN ward w ON w.id = b.ward_id ORDER BY o.id"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO admission (site_id, patient_id, source, admitted_at, discharged_at, version) "
        "VALUES (:site, :patient, 'desk', :since, :until, 1)"
    )
    for occupancy, patient, since, until, site in rows:
        bind.execute(insert, {"site": site, "patient": patient, "since": since, "until": until})
        admission = bind.execute(sa.text("SELECT max(id) FROM admission")).scalar_one()
        bind.execute(
            sa.text("UPDATE bed_occupancy SET admission_id = :a, end_reason = :r WHERE id = :o"),
            {"a": admission, "o": occupancy, "r": "discharge" if until is not None else None},
        )
    bind.execute(
        sa.text(
            "UPDATE observation SET admission_id = (SELECT o.admission_id FROM bed_occupancy o "
            "WHERE o.bed_id = observation.bed_id AND o.since <= observation.taken_at "
            "AND (o.until IS NULL OR o.until > observation.taken_at) ORDER BY o.since DESC LIMIT 1)"
        )
    )
    bind.execute(
        sa.text("UPDATE bed SET status = 'occupied' WHERE id IN (SELECT bed_id FROM bed_occupancy WHERE until IS NULL)")
    )
    bind.execute(
        sa.text(
            "INSERT INTO bed_status_event (bed_id, status, at, reason) "
            "SELECT id, status, CURRENT_TIMESTAMP, 'migration 0009' FROM bed"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("bpjs_outbox") as batch_op:
        batch_op.alter_column("booking_code", existing_type=sa.String(32), nullable=False)
        batch_op.alter_column("visit_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("clinic_session") as batch_op:
        batch_op.drop_constraint("fk_clinic_session_leave_id_doctor_leave", type_="foreignkey")
        batch_op.drop_column("leave_id")
    op.drop_table("doctor_leave")
    op.drop_table("site_holiday")
    with op.batch_alter_table("doctor_schedule") as batch_op:
        batch_op.drop_constraint("validity", type_="check")
        batch_op.drop_constraint("capacity", type_="check")
        for column in ("open_on_holidays", "valid_until", "valid_from", "capacity"):
            batch_op.drop_column(column)
    for table in ("service_counter", "staff_poli", "staff_ward", "ward_census"):
        op.drop_table(table)
    with op.batch_alter_table("observation") as batch_op:
        batch_op.drop_index("ix_observation_admission_id")
        batch_op.drop_constraint("fk_observation_admission_id_admission", type_="foreignkey")
        batch_op.drop_column("admission_id")
    with op.batch_alter_table("bed_occupancy") as batch_op:
        batch_op.drop_constraint("end_reason", type_="check")
        batch_op.drop_index("ix_bed_occupancy_admission_id")
        batch_op.drop_constraint("fk_bed_occupancy_admission_id_admission", type_="foreignkey")
        batch_op.drop_column("end_reason")
        batch_op.drop_column("admission_id")
    op.drop_table("admission")
    op.drop_table("bed_status_event")
    with op.batch_alter_table("doctor") as batch_op:
        batch_op.drop_column("sip")
    with op.batch_alter_table("bed") as batch_op:
        batch_op.drop_constraint("status", type_="check")
        batch_op.drop_column("status")
        batch_op.drop_column("care_class")
    with op.batch_alter_table("ward") as batch_op:
        batch_op.drop_column("active")
        batch_op.drop_column("care_class")
    with op.batch_alter_table("patient") as batch_op:
        batch_op.drop_column("incomplete")
    with op.batch_alter_table("site") as batch_op:
        batch_op.drop_column("facility_class")
        batch_op.drop_column("ppk_code")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("version")
