"""security: sessions the server can end (``app_user.session_version``), TOTP MFA (the encrypted secret, when it
was enabled, the last accepted step) with hashed one-time recovery codes, and the sign-in throttle shared by every
web worker.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("totp_secret_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", UTC_TS, nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "mfa_recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("used_at", UTC_TS, nullable=True),
    )
    op.create_index("ix_mfa_recovery_code_user_id", "mfa_recovery_code", ["user_id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", UTC_TS, nullable=True),
        sa.Column("last_failure_at", UTC_TS, nullable=False),
    )
    # The hard lock the throttle replaces (anyone could lock a clinician out by typing her username).
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", UTC_TS, nullable=True))
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_mfa_recovery_code_user_id", table_name="mfa_recovery_code")
    op.drop_table("mfa_recovery_code")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_enc")
        batch_op.drop_column("session_version")
