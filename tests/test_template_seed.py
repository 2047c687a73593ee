"""The suite's apps are built on copies of a seeded template without seeding them again while the template's seed
is current (``tests/fixtures_app.Template``): that shortcut holds only if seeding such a copy again changes
nothing, which this checks row by row on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, table, text

from auth.demo_accounts import seed_demo
from data.models import Base


def _rows(session) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    tables = sorted(name for name in inspect(session.get_bind()).get_table_names() if name in Base.metadata.tables)
    return {
        name: sorted(map(tuple, session.execute(select(text("*")).select_from(table(name))).all()), key=repr)
        for name in tables
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_seeding_a_copy_again_within_the_templates_hour_changes_nothing(request, backend):
    pantau = request.getfixturevalue(f"{backend}_app")
    template = request.getfixturevalue(f"{backend}_template")
    with pantau.runtime.db.session() as session:
        before = _rows(session)
    with pantau.runtime.db.session() as session:
        creds = seed_demo(session, pantau.settings, template.seeded_at)
    with pantau.runtime.db.session() as session:
        after = _rows(session)
    assert creds == template.creds == pantau.creds
    assert sum(map(len, before.values())) > 500, "the copy holds the demo seed"
    changed = {name: (len(rows), len(after.get(name, []))) for name, rows in before.items() if rows != after.get(name)}
    assert not changed, f"tables the second seed changed (rows before, after): {changed}"
