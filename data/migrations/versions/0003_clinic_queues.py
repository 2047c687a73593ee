"""clinic queues: weekly doctor schedules, day sessions with quotas, per-day numbering, visits with BPJS
task times, queue tickets, the BPJS outbox and site settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:35:52.355569
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_counter",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(length=32), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_queue_counter_site_id_site")),
        sa.PrimaryKeyConstraint("site_id", "point", "service_date", name=op.f("pk_queue_counter")),
    )
    op.create_table(
        "site_setting",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_site_setting_site_id_site")),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"], name=op.f("fk_site_setting_updated_by_app_user")),
        sa.PrimaryKeyConstraint("site_id", "key", name=op.f("pk_site_setting")),
    )
    op.create_table(
        "doctor_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("poli_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("quota_jkn", sa.Integer(), nullable=False),
        sa.Column("quota_non_jkn", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_doctor_schedule_times")),
        sa.CheckConstraint("quota_jkn >= 0 AND quota_non_jkn >= 0", name=op.f("ck_doctor_schedule_quota")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_doctor_schedule_weekday")),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_doctor_schedule_doctor_id_doctor")),
        sa.ForeignKeyConstraint(["poli_id"], ["poli.id"], name=op.f("fk_doctor_schedule_poli_id_poli")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_doctor_schedule_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctor_schedule")),
    )
    op.create_table(
        "clinic_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("poli_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quota_jkn", sa.Integer(), nullable=False),
        sa.Column("quota_non_jkn", sa.Integer(), nullable=False),
        sa.Column("booked_jkn", sa.Integer(), nullable=False),
        sa.Column("booked_non_jkn", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("booked_jkn >= 0 AND booked_non_jkn >= 0", name=op.f("ck_clinic_session_booked")),
        sa.ForeignKeyConstraint(["closed_by"], ["app_user.id"], name=op.f("fk_clinic_session_closed_by_app_user")),
        sa.ForeignKeyConstraint(["doctor_id"], ["doctor.id"], name=op.f("fk_clinic_session_doctor_id_doctor")),
        sa.ForeignKeyConstraint(["poli_id"], ["poli.id"], name=op.f("fk_clinic_session_poli_id_poli")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["doctor_schedule.id"], name=op.f("fk_clinic_session_schedule_id_doctor_schedule")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_clinic_session_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_session")),
        sa.UniqueConstraint(
            "doctor_id",
            "poli_id",
            "service_date",
            "start_time",
            name=op.f("uq_clinic_session_doctor_id_poli_id_service_date_start_time"),
        ),
    )
    with op.batch_alter_table("clinic_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clinic_session_poli_id"), ["poli_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clinic_session_service_date"), ["service_date"], unique=False)

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("poli_id", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("booking_code", sa.String(length=32), nullable=False),
        sa.Column("payer", sa.String(length=8), nullable=False),
        sa.Column("new_patient", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("referral_number", sa.String(length=40), nullable=True),
        sa.Column("referred_from_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("payer IN ('jkn', 'non_jkn')", name=op.f("ck_visit_payer")),
        sa.CheckConstraint("status IN ('active', 'done', 'cancelled')", name=op.f("ck_visit_status")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_visit_created_by_app_user")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_visit_patient_id_patient")),
        sa.ForeignKeyConstraint(["poli_id"], ["poli.id"], name=op.f("fk_visit_poli_id_poli")),
        sa.ForeignKeyConstraint(["referred_from_id"], ["visit.id"], name=op.f("fk_visit_referred_from_id_visit")),
        sa.ForeignKeyConstraint(["session_id"], ["clinic_session.id"], name=op.f("fk_visit_session_id_clinic_session")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_visit_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("booking_code", name=op.f("uq_visit_booking_code")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_service_date"), ["service_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_session_id"), ["session_id"], unique=False)
        batch_op.create_index(
            "uq_visit_patient_poli_day",
            ["patient_id", "poli_id", "service_date"],
            unique=True,
            postgresql_where=sa.text("status <> 'cancelled'"),
            sqlite_where=sa.text("status <> 'cancelled'"),
        )

    op.create_table(
        "bpjs_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("booking_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name=op.f("ck_bpjs_outbox_state")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_bpjs_outbox_site_id_site")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_bpjs_outbox_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpjs_outbox")),
    )
    with op.batch_alter_table("bpjs_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bpjs_outbox_booking_code"), ["booking_code"], unique=False)
        batch_op.create_index("ix_bpjs_outbox_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "queue_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("point", sa.String(length=32), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("call_count", sa.Integer(), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'waiting', 'called', 'serving', 'done', 'skipped', 'cancelled')",
            name=op.f("ck_queue_ticket_status"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["clinic_session.id"], name=op.f("fk_queue_ticket_session_id_clinic_session")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_queue_ticket_site_id_site")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_queue_ticket_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_ticket")),
        sa.UniqueConstraint(
            "site_id", "point", "service_date", "number", name=op.f("uq_queue_ticket_site_id_point_service_date_number")
        ),
    )
    with op.batch_alter_table("queue_ticket", schema=None) as batch_op:
        batch_op.create_index("ix_queue_ticket_line", ["site_id", "point", "service_date", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_ticket_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_task",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("task_id IN (1, 2, 3, 4, 5, 6, 7, 99)", name=op.f("ck_visit_task_task_id")),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"], name=op.f("fk_visit_task_recorded_by_app_user")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_task_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("visit_id", "task_id", name=op.f("pk_visit_task")),
    )
    with op.batch_alter_table("display_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("board_path", sa.String(length=200), nullable=False, server_default=""))

    with op.batch_alter_table("poli", schema=None) as batch_op:
        batch_op.add_column(sa.Column("board_group", sa.String(length=32), nullable=False, server_default="umum"))
        batch_op.add_column(sa.Column("default_service_minutes", sa.Integer(), nullable=False, server_default="10"))


def downgrade() -> None:
    with op.batch_alter_table("poli", schema=None) as batch_op:
        batch_op.drop_column("default_service_minutes")
        batch_op.drop_column("board_group")

    with op.batch_alter_table("display_token", schema=None) as batch_op:
        batch_op.drop_column("board_path")

    op.drop_table("visit_task")
    with op.batch_alter_table("queue_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_ticket_visit_id"))
        batch_op.drop_index("ix_queue_ticket_line")

    op.drop_table("queue_ticket")
    with op.batch_alter_table("bpjs_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_bpjs_outbox_due")
        batch_op.drop_index(batch_op.f("ix_bpjs_outbox_booking_code"))

    op.drop_table("bpjs_outbox")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_visit_patient_poli_day",
            postgresql_where=sa.text("status <> 'cancelled'"),
            sqlite_where=sa.text("status <> 'cancelled'"),
        )
        batch_op.drop_index(batch_op.f("ix_visit_session_id"))
        batch_op.drop_index(batch_op.f("ix_visit_service_date"))
        batch_op.drop_index(batch_op.f("ix_visit_patient_id"))

    op.drop_table("visit")
    with op.batch_alter_table("clinic_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinic_session_service_date"))
        batch_op.drop_index(batch_op.f("ix_clinic_session_poli_id"))

    op.drop_table("clinic_session")
    op.drop_table("doctor_schedule")
    op.drop_table("site_setting")
    op.drop_table("queue_counter")
