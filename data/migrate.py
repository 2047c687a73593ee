"""Apply Alembic migrations: ``python -m data.migrate`` (``make db-upgrade``), also run by ``make run``/tests."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def main(argv: list[str] | None = None) -> int:
    from config import configure_logging, load_settings

    settings = load_settings()
    configure_logging(settings.log_level)
    args = argv if argv is not None else sys.argv[1:]
    upgrade(settings.database_url, args[0] if args else "head")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
