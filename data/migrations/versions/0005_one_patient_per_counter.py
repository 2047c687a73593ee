"""one patient per counter: a partial unique index on the tickets open at a counter (called or serving), so two
"call next" clicks that race past the busy check cannot call two patients to one counter.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN_AT_COUNTER = "status IN ('called', 'serving')"


def upgrade() -> None:
    op.create_index(
        "uq_queue_ticket_open_at_counter",
        "queue_ticket",
        ["site_id", "point", "service_date", "counter"],
        unique=True,
        postgresql_where=sa.text(OPEN_AT_COUNTER),
        sqlite_where=sa.text(OPEN_AT_COUNTER),
    )


def downgrade() -> None:
    op.drop_index("uq_queue_ticket_open_at_counter", table_name="queue_ticket")
