"""audit trail: PostgreSQL refuses TRUNCATE on audit_log too (UPDATE and DELETE are refused since 0001), and
indexes for the audit viewer's filters (username, object, site, each with the time it sorts by; the patients a
detail names).

The application's own role (``data.migrate``'s ``app_role`` or ``alembic -x app_role=NAME``) is granted INSERT
and SELECT on audit_log only, after every upgrade (``data.migrations.env``), so a role created later is covered.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 05:00:00.000000
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_audit_log_username_at": ["username", "at"],
    "ix_audit_log_target": ["target_type", "target_id"],
    "ix_audit_log_site_id_at": ["site_id", "at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_log", columns)
    if op.get_bind().dialect.name == "postgresql":
        # Statement-level: TRUNCATE fires no row triggers. The function of 0001 raises for any event.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        # The viewer's patient filter asks ``detail::jsonb @> {"patient_ids": [id]}`` (searches list their hits):
        # without this, every such query reads the whole log.
        op.execute("CREATE INDEX ix_audit_log_detail ON audit_log USING gin ((detail::jsonb) jsonb_path_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_audit_log_detail")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    for name in INDEXES:
        op.drop_index(name, table_name="audit_log")
