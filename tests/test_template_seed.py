"""The suite's apps are built on copies of a seeded template without seeding them again while the template's seed
is current (``tests/fixtures_app.Template``): that shortcut holds only if seeding a fresh copy again, at the
template's hour, changes nothing, which this checks row by row on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, select, table, text

from auth.demo_accounts import keep_demo_credentials, seed_demo
from data.db import Database
from data.models import Base
from tests.fixtures_app import Template, make_settings


@pytest.fixture(params=["sqlite", "postgres"])
def template_copy(request: pytest.FixtureRequest) -> Iterator[tuple[Template, str]]:
    """A template and the URL of a fresh copy of it (no app built on it, so nothing seeded it again)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template"), request.getfixturevalue("sqlite_url")
        return
    server, template = request.getfixturevalue("postgres_server"), request.getfixturevalue("postgres_template")
    name = f"ts_{uuid.uuid4().hex[:12]}"
    yield template, server.create_database(name, template=template.name)
    server.drop_database(name)


def _rows(session) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    tables = sorted(name for name in inspect(session.get_bind()).get_table_names() if name in Base.metadata.tables)
    return {
        name: sorted(map(tuple, session.execute(select(text("*")).select_from(table(name))).all()), key=repr)
        for name in tables
    }


def test_seeding_a_copy_again_at_the_templates_hour_changes_nothing(template_copy, tmp_path):
    template, url = template_copy
    settings = make_settings(tmp_path, url, "memory://", "")
    keep_demo_credentials(settings, template.creds)  # as build_app hands a copy the template's credentials
    db = Database(url)
    try:
        with db.session() as session:
            before = _rows(session)
        with db.session() as session:
            creds = seed_demo(session, settings, template.seeded_at)
        with db.session() as session:
            after = _rows(session)
    finally:
        db.engine.dispose()
    assert creds == template.creds
    assert sum(map(len, before.values())) > 500, "the copy holds the demo seed"
    changed = {name: (len(rows), len(after.get(name, []))) for name, rows in before.items() if rows != after.get(name)}
    assert not changed, f"tables the second seed changed (rows before, after): {changed}"
