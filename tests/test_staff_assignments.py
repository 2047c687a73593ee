"""Which wards and polis a staff member works in: set, replaced, audited, limited to the site's active places."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth.users import find_user
from data.models import AuditLog, Poli, Ward
from data.staff_assignments import polis_of, set_staff_polis, set_staff_wards, wards_of
from domain.actor import Actor
from domain.errors import InputError

ADMIN = Actor(None, "test-admin", 1)


def _ids(session, model, n):
    return [row.id for row in session.scalars(select(model).where(model.active.is_(True)).order_by(model.code))][:n]


def test_wards_and_polis_are_set_replaced_and_audited(any_app):
    with any_app.runtime.db.session() as db:
        nurse = find_user(db, "perawat")
        first, second = _ids(db, Ward, 2)
        assert [w.id for w in set_staff_wards(db, ADMIN, nurse.id, [second, first, first])] == sorted(
            [first, second], key=lambda i: db.get(Ward, i).code
        )
        set_staff_wards(db, ADMIN, nurse.id, [second])
        polis = _ids(db, Poli, 2)
        set_staff_polis(db, ADMIN, nurse.id, polis)
    with any_app.runtime.db.session() as db:
        assert [w.id for w in wards_of(db, nurse.id)] == [second]
        assert sorted(p.id for p in polis_of(db, nurse.id)) == sorted(polis)
        # this test's changes (the demo seed placed the nurse in the ICU through the same service)
        mine = select(AuditLog).where(AuditLog.target_id == str(nurse.id), AuditLog.username == ADMIN.username)
        actions = [a.action for a in db.scalars(mine)]
        assert actions.count("staff_wards_set") == 2 and actions.count("staff_polis_set") == 1


def test_a_retired_ward_is_neither_offered_nor_listed(any_app):
    with any_app.runtime.db.session() as db:
        nurse = find_user(db, "perawat")
        ward_id = _ids(db, Ward, 1)[0]
        set_staff_wards(db, ADMIN, nurse.id, [ward_id])
        db.get(Ward, ward_id).active = False
    with any_app.runtime.db.session() as db:
        assert wards_of(db, nurse.id) == []
        with pytest.raises(InputError) as refused:
            set_staff_wards(db, ADMIN, nurse.id, [ward_id])
        assert refused.value.key == "staff_err_unknown_place"


def test_another_sites_user_is_not_found(sqlite_app):
    with sqlite_app.runtime.db.session() as db:
        nurse = find_user(db, "perawat")
        with pytest.raises(InputError) as refused:
            set_staff_polis(db, Actor(None, "other", nurse.site_id + 1), nurse.id, [])
        assert refused.value.key == "users_not_found"
