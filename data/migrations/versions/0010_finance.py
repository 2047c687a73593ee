"""finance: tariffs, charge lines and their daily rollup, invoices, payments and deposits, BPJS claims with their
status history, monthly targets; the admission's payer; the census's days of stay and deaths after 48 hours (bed
indicators); the ``finance`` role.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAYERS = "('jkn', 'umum', 'asuransi', 'perusahaan', 'jasa_raharja')"
UNITS = "('rawat_jalan', 'rawat_inap', 'igd', 'penunjang', 'farmasi')"
CLAIM_STATES = (
    "('coded', 'grouped', 'final', 'submitted', 'verified', 'eligible', 'pending', 'not_eligible', 'dispute', 'paid')"
)
ROLES_BEFORE = "'admin', 'manager', 'nurse', 'doctor', 'front_desk', 'pharmacy', 'display'"
ROLES_AFTER = "'admin', 'manager', 'nurse', 'doctor', 'front_desk', 'pharmacy', 'finance', 'display'"


def _user(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True)


def _roles(values: str) -> None:
    with op.batch_alter_table("user_role") as batch_op:
        batch_op.drop_constraint("known", type_="check")
        batch_op.create_check_constraint("known", f"role IN ({values})")


def upgrade() -> None:
    _roles(ROLES_AFTER)
    with op.batch_alter_table("admission") as batch_op:
        batch_op.add_column(sa.Column("payer", sa.String(16), server_default="umum", nullable=False))
        batch_op.create_check_constraint("payer", f"payer IN {PAYERS}")
    with op.batch_alter_table("ward_census") as batch_op:
        batch_op.add_column(sa.Column("los_days", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("deaths_48h", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("care_class", sa.String(8), nullable=True),
        sa.Column("payer", sa.String(16), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _user("created_by"),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.CheckConstraint("amount >= 0", name="amount"),
        sa.CheckConstraint(f"unit IN {UNITS}", name="unit"),
        sa.CheckConstraint(f"payer IS NULL OR payer IN {PAYERS}", name="payer"),
    )
    op.create_index("ix_tariff_lookup", "tariff", ["site_id", "code", "valid_from"])
    op.create_table(
        "invoice",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("payer", sa.String(16), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=True),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=True),
        sa.Column("admission_id", sa.Integer(), sa.ForeignKey("admission.id"), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        _user("created_by"),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("site_id", "number"),
        sa.CheckConstraint("status IN ('open', 'paid', 'void')", name="status"),
        sa.CheckConstraint(f"payer IN {PAYERS}", name="payer"),
    )
    op.create_index("ix_invoice_open", "invoice", ["site_id", "status", "issued_on"])
    for column in ("patient_id", "visit_id", "admission_id"):
        op.create_index(f"ix_invoice_{column}", "invoice", [column])
    op.create_table(
        "charge_line",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("payer", sa.String(16), nullable=False),
        sa.Column("poli_id", sa.Integer(), sa.ForeignKey("poli.id"), nullable=True),
        sa.Column("ward_id", sa.Integer(), sa.ForeignKey("ward.id"), nullable=True),
        sa.Column("doctor_id", sa.Integer(), sa.ForeignKey("doctor.id"), nullable=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=True),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=True),
        sa.Column("admission_id", sa.Integer(), sa.ForeignKey("admission.id"), nullable=True),
        sa.Column("invoice_id", BIG_ID, sa.ForeignKey("invoice.id"), nullable=True),
        sa.Column("tariff_code", sa.String(32), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("priced", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_id", sa.String(80), nullable=False),
        _user("created_by"),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.UniqueConstraint("site_id", "source", "source_id"),
        sa.CheckConstraint(f"unit IN {UNITS}", name="unit"),
        sa.CheckConstraint(f"payer IN {PAYERS}", name="payer"),
        sa.CheckConstraint("source IN ('pantau', 'import')", name="source"),
        sa.CheckConstraint("quantity > 0", name="quantity"),
    )
    op.create_index("ix_charge_line_day", "charge_line", ["site_id", "service_date"])
    op.create_index(
        "ix_charge_line_unpriced",
        "charge_line",
        ["site_id", "service_date"],
        postgresql_where=sa.text("NOT priced"),
        sqlite_where=sa.text("NOT priced"),
    )
    for column in ("visit_id", "admission_id", "invoice_id"):
        op.create_index(f"ix_charge_line_{column}", "charge_line", [column])
    op.create_table(
        "charge_daily",
        sa.Column("site_id", sa.Integer(), primary_key=True),
        sa.Column("service_date", sa.Date(), primary_key=True),
        sa.Column("unit", sa.String(16), primary_key=True),
        sa.Column("payer", sa.String(16), primary_key=True),
        sa.Column("poli_id", sa.Integer(), primary_key=True),
        sa.Column("ward_id", sa.Integer(), primary_key=True),
        sa.Column("doctor_id", sa.Integer(), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
    )
    op.create_table(
        "payment",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("invoice_id", BIG_ID, sa.ForeignKey("invoice.id"), nullable=True),
        sa.Column("admission_id", sa.Integer(), sa.ForeignKey("admission.id"), nullable=True),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=True),
        sa.Column("payer", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("received_at", UTC_TS, nullable=False),
        _user("received_by"),
        sa.CheckConstraint("amount > 0", name="amount"),
        sa.CheckConstraint("kind IN ('payment', 'deposit', 'refund')", name="kind"),
        sa.CheckConstraint("method IN ('tunai', 'qris', 'transfer', 'asuransi', 'deposit')", name="method"),
    )
    op.create_index("ix_payment_day", "payment", ["site_id", "paid_on"])
    op.create_index("ix_payment_invoice_id", "payment", ["invoice_id"])
    op.create_index("ix_payment_admission_id", "payment", ["admission_id"])
    op.create_table(
        "bpjs_claim",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("sep_number", sa.String(24), nullable=False),
        sa.Column("episode", sa.String(12), nullable=False),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id"), nullable=True),
        sa.Column("visit_id", sa.Integer(), sa.ForeignKey("visit.id"), nullable=True, unique=True),
        sa.Column("admission_id", sa.Integer(), sa.ForeignKey("admission.id"), nullable=True, unique=True),
        sa.Column("poli_id", sa.Integer(), sa.ForeignKey("poli.id"), nullable=True),
        sa.Column("ward_id", sa.Integer(), sa.ForeignKey("ward.id"), nullable=True),
        sa.Column("doctor_id", sa.Integer(), sa.ForeignKey("doctor.id"), nullable=True),
        sa.Column("service_start", sa.Date(), nullable=False),
        sa.Column("service_end", sa.Date(), nullable=False),
        sa.Column("inacbg_code", sa.String(16), nullable=True),
        sa.Column("hospital_tariff", sa.BigInteger(), nullable=False),
        sa.Column("inacbg_tariff", sa.BigInteger(), nullable=True),
        sa.Column("submitted_amount", sa.BigInteger(), nullable=True),
        sa.Column("approved_amount", sa.BigInteger(), nullable=True),
        sa.Column("topup_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(300), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.UniqueConstraint("site_id", "sep_number"),
        sa.CheckConstraint(f"status IN {CLAIM_STATES}", name="status"),
        sa.CheckConstraint("episode IN ('rawat_jalan', 'rawat_inap')", name="episode"),
    )
    op.create_index("ix_bpjs_claim_period", "bpjs_claim", ["site_id", "service_end"])
    op.create_index("ix_bpjs_claim_status", "bpjs_claim", ["site_id", "status"])
    op.create_table(
        "bpjs_claim_event",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("claim_id", BIG_ID, sa.ForeignKey("bpjs_claim.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        _user("by"),
        sa.Column("at", UTC_TS, nullable=False),
        sa.CheckConstraint(f"status IN {CLAIM_STATES}", name="status"),
    )
    op.create_index("ix_bpjs_claim_event_claim_id", "bpjs_claim_event", ["claim_id"])
    op.create_table(
        "finance_target",
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("metric", sa.String(16), primary_key=True),
        sa.Column("unit", sa.String(16), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        _user("set_by"),
        sa.Column("set_at", UTC_TS, nullable=False),
        sa.CheckConstraint("metric IN ('revenue', 'claims_paid')", name="metric"),
    )


def downgrade() -> None:
    for table in ("finance_target", "bpjs_claim_event", "bpjs_claim", "payment", "charge_daily", "charge_line"):
        op.drop_table(table)
    op.drop_table("invoice")
    op.drop_table("tariff")
    with op.batch_alter_table("ward_census") as batch_op:
        batch_op.drop_column("deaths_48h")
        batch_op.drop_column("los_days")
    with op.batch_alter_table("admission") as batch_op:
        batch_op.drop_constraint("payer", type_="check")
        batch_op.drop_column("payer")
    op.execute("DELETE FROM user_role WHERE role = 'finance'")
    _roles(ROLES_BEFORE)
