"""Counters of the service points: created, edited with row versions, retired (kept), and offered by point."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data.models import AuditLog, Poli, ServiceCounter
from data.service_counters import counters_at, create_counter, list_counters, retire_counter, update_counter
from data.setup_rows import EditConflict
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

ADMIN = Actor(None, "test-admin", 1)


def test_counters_are_offered_by_point_until_retired(any_app):
    with any_app.runtime.db.session() as db:
        two = create_counter(db, ADMIN, {"code": "lk-2", "name": "Loket 2", "point": "loket"})
        create_counter(db, ADMIN, {"code": "LK-1", "name": " Loket 1 ", "point": "loket"})
        create_counter(db, ADMIN, {"code": "UMU-1", "name": "Ruang Periksa 1", "point": "poli:UMU"})
        assert two.code == "LK-2"
    with any_app.runtime.db.session() as db:
        assert counters_at(db, 1, "loket") == ["Loket 1", "Loket 2"]
        retire_counter(db, ADMIN, two.id, two.version)
    with any_app.runtime.db.session() as db:
        assert counters_at(db, 1, "loket") == ["Loket 1"]
        rows = list_counters(db, 1)
        assert [r.code for r in rows if not r.active] == ["LK-2"]  # kept, listed last
        assert rows[-1].code == "LK-2"
        actions = db.scalars(select(AuditLog.action).where(AuditLog.target_type == "service_counter")).all()
        assert sorted(actions) == ["counter_created"] * 3 + ["counter_retired"]


def test_every_wrong_field_is_named(any_app):
    with any_app.runtime.db.session() as db:
        with pytest.raises(FieldErrors) as refused:
            create_counter(db, ADMIN, {"code": "a b", "name": "", "point": "kasir"})
        assert {f: e.key for f, e in refused.value.errors.items()} == {
            "code": "err_setup_code",
            "name": "err_setup_name_required",
            "point": "counters_err_point",
        }


def test_a_poli_point_needs_an_open_poli_and_codes_are_unique(any_app):
    with any_app.runtime.db.session() as db:
        with pytest.raises(FieldErrors) as unknown:
            create_counter(db, ADMIN, {"code": "X-1", "name": "Ruang X", "point": "poli:XYZ"})
        assert unknown.value.errors["point"].key == "counters_err_poli"
        create_counter(db, ADMIN, {"code": "X-1", "name": "Ruang X", "point": "loket"})
        with pytest.raises(FieldErrors) as taken:
            create_counter(db, ADMIN, {"code": "x-1", "name": "Ruang Y", "point": "loket"})
        assert taken.value.errors["code"].key == "err_setup_code_taken"
        create_counter(db, ADMIN, {"code": "G-1", "name": "Ruang Gigi", "point": "poli:GIG"})
        db.scalar(select(Poli).where(Poli.code == "GIG")).active = False
        with pytest.raises(FieldErrors) as closed:
            create_counter(db, ADMIN, {"code": "G-2", "name": "Ruang Gigi 2", "point": "poli:GIG"})
        assert closed.value.errors["point"].key == "counters_err_poli"


def test_a_stale_form_is_a_conflict_not_an_overwrite(any_app):
    with any_app.runtime.db.session() as db:
        counter = create_counter(db, ADMIN, {"code": "LK-9", "name": "Loket 9", "point": "loket"})
        shown = counter.version
        update_counter(db, ADMIN, counter.id, {"name": "Loket Sembilan", "point": "loket"}, shown)
    with any_app.runtime.db.session() as db, pytest.raises(EditConflict):
        update_counter(db, ADMIN, counter.id, {"name": "Loket Lain", "point": "loket"}, shown)
    with any_app.runtime.db.session() as db:
        assert db.get(ServiceCounter, counter.id).name == "Loket Sembilan"
        with pytest.raises(InputError) as other_site:
            retire_counter(db, Actor(None, "x", 2), counter.id, None)
        assert other_site.value.key == "err_setup_not_found"
