"""bpjs reference: BPJS polis, doctors and practice schedules per site (ref/poli, ref/dokter,
jadwaldokter), the state of the reference pull (on-demand request, last outcome), and two outbox indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:05:08.598106
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bpjs_ref_dokter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kode", sa.String(length=16), nullable=False),
        sa.Column("nama", sa.String(length=200), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_bpjs_ref_dokter_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpjs_ref_dokter")),
        sa.UniqueConstraint("site_id", "kode", name=op.f("uq_bpjs_ref_dokter_site_id_kode")),
    )
    op.create_table(
        "bpjs_ref_jadwal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kodepoli", sa.String(length=16), nullable=False),
        sa.Column("kodesubspesialis", sa.String(length=16), nullable=False),
        sa.Column("kodedokter", sa.String(length=16), nullable=False),
        sa.Column("tanggal", sa.Date(), nullable=False),
        sa.Column("hari", sa.Integer(), nullable=False),
        sa.Column("jadwal", sa.String(length=11), nullable=False),
        sa.Column("kapasitas", sa.Integer(), nullable=False),
        sa.Column("libur", sa.Boolean(), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_bpjs_ref_jadwal_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpjs_ref_jadwal")),
        sa.UniqueConstraint(
            "site_id", "kodepoli", "tanggal", "kodesubspesialis", "kodedokter", "jadwal", name="uq_bpjs_ref_jadwal_slot"
        ),
    )
    op.create_table(
        "bpjs_ref_poli",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kode", sa.String(length=16), nullable=False),
        sa.Column("nama", sa.String(length=200), nullable=False),
        sa.Column("kode_subspesialis", sa.String(length=16), nullable=False),
        sa.Column("nama_subspesialis", sa.String(length=200), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_bpjs_ref_poli_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bpjs_ref_poli")),
        sa.UniqueConstraint("site_id", "kode_subspesialis", name=op.f("uq_bpjs_ref_poli_site_id_kode_subspesialis")),
    )
    op.create_table(
        "bpjs_ref_pull",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("jadwal_days", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["requested_by"], ["app_user.id"], name=op.f("fk_bpjs_ref_pull_requested_by_app_user")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_bpjs_ref_pull_site_id_site")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_bpjs_ref_pull")),
    )
    # Outbox claims walk only unsent rows (the table keeps every sent row); the sync page reads recent sends.
    op.create_index(
        "ix_bpjs_outbox_unsent",
        "bpjs_outbox",
        ["id"],
        postgresql_where=sa.text("state <> 'sent'"),
        sqlite_where=sa.text("state <> 'sent'"),
    )
    op.create_index("ix_bpjs_outbox_sent", "bpjs_outbox", ["state", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_bpjs_outbox_sent", table_name="bpjs_outbox")
    op.drop_index("ix_bpjs_outbox_unsent", table_name="bpjs_outbox")
    op.drop_table("bpjs_ref_pull")
    op.drop_table("bpjs_ref_poli")
    op.drop_table("bpjs_ref_jadwal")
    op.drop_table("bpjs_ref_dokter")
