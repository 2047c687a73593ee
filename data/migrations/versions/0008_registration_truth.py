"""registration desk: a poli's age range (completed years, either bound open) and the desk form's submission token
on the patient, unique per site, so one form sent twice cannot create two patients.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poli", schema=None) as batch_op:
        batch_op.add_column(sa.Column("age_min_years", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("age_max_years", sa.Integer(), nullable=True))
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_patient_site_id_submission_token"), ["site_id", "submission_token"]
        )


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_patient_site_id_submission_token"), type_="unique")
        batch_op.drop_column("submission_token")
    with op.batch_alter_table("poli", schema=None) as batch_op:
        batch_op.drop_column("age_max_years")
        batch_op.drop_column("age_min_years")
