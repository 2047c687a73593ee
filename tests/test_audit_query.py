"""The audit viewer's queries (data/audit_query.py) on SQLite and PostgreSQL: each filter, a patient by RM (its own
rows and searches that listed it), paging and sorting on the server (a named column as its names read), the
export's cap.
How fast they are on a large log: bench/audit_viewer.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from data import audit_query
from data.audit_query import AuditFilter
from data.models import AuditLog, Patient, Site, User

T0 = datetime(2031, 5, 10, 8, 0, tzinfo=UTC)  # far from the demo's own rows
DAY = (T0, T0 + timedelta(days=1))


@pytest.fixture
def trail(any_app):
    """Two patients and twelve audit rows an hour apart from T0: (app, site id, patient id, admin's id)."""
    with any_app.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
        admin_id = s.scalar(select(User.id).where(User.username == "admin"))
        patient = Patient(site_id=site_id, mrn="AUD-000001", name="PASIEN AUDIT", birth_date=date(1980, 1, 1), sex="P")
        other = Patient(site_id=site_id, mrn="AUD-000002", name="PASIEN LAIN", birth_date=date(1981, 1, 1), sex="L")
        s.add_all([patient, other])
        s.flush()
        pid, oid = patient.id, other.id
        rows = [
            dict(action="patient_read", target_type="patient", target_id=str(pid), user_id=admin_id, username="admin"),
            dict(action="patient_read", target_type="patient", target_id=str(oid), username="perawat"),
            dict(action="patient_search", detail={"kind": "name", "patient_ids": [oid, pid], "total": 2}),
            dict(action="patient_search", detail={"kind": "rm", "patient_ids": [oid], "total": 1}),
            dict(action="admission_created", target_type="admission", target_id="7", detail={"patient_id": pid}),
            dict(action="login_failed", username="nobody"),
            *(
                dict(action="bed_viewed", target_type="bed", target_id=f"ICU-0{n}", username="perawat")
                for n in range(6)
            ),
        ]
        s.add_all(
            AuditLog(site_id=site_id, ip="10.0.0.9", at=T0 + timedelta(hours=n), **fields)
            for n, fields in enumerate(rows)
        )
    return any_app, site_id, pid, admin_id


def _page(app, flt: AuditFilter, **options) -> audit_query.AuditPage:
    with app.runtime.db.session() as s:
        return audit_query.page(s, flt, **{"offset": 0, "limit": 100, **options})


def test_each_filter_narrows_the_rows(trail):
    app, site_id, _pid, _admin = trail
    day = AuditFilter(site_id, start=DAY[0], end=DAY[1])
    assert _page(app, day).count == 12
    by_admin = _page(app, AuditFilter(site_id, username="admin", start=DAY[0], end=DAY[1]))
    assert [r.action for r in by_admin.rows] == ["patient_read"]
    assert _page(app, AuditFilter(site_id, username="nobody")).rows[0].action == "login_failed"  # no such account
    assert _page(app, AuditFilter(site_id, username="perawat", start=DAY[0], end=DAY[1])).count == 7
    assert _page(app, AuditFilter(site_id, action="bed_viewed")).count == 6
    beds = _page(app, AuditFilter(site_id, target_type="bed", target_id="ICU-03"))
    assert [(r.target_type, r.target_id) for r in beds.rows] == [("bed", "ICU-03")]
    hours = _page(app, AuditFilter(site_id, start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=4)))
    assert [r.at.astimezone(UTC) for r in hours.rows] == [T0 + timedelta(hours=3), T0 + timedelta(hours=2)]


def test_a_patient_by_rm_finds_its_rows_and_the_searches_that_listed_it(trail):
    app, site_id, pid, _admin = trail
    with app.runtime.db.session() as s:
        assert audit_query.patient_id_by_mrn(s, site_id, " AUD-000001 ") == pid
        assert audit_query.patient_id_by_mrn(s, site_id, "AUD-999999") is None
    found = _page(app, AuditFilter(site_id, patient_id=pid))
    assert sorted(r.action for r in found.rows) == ["admission_created", "patient_read", "patient_search"]
    assert found.rows[1].detail["kind"] == "name" and pid in found.rows[1].detail["patient_ids"]  # not the "rm" one


def test_rows_are_paged_and_sorted_on_the_server(trail):
    app, site_id, _pid, _admin = trail
    flt = AuditFilter(site_id, start=DAY[0], end=DAY[1])
    first, second = _page(app, flt, limit=5), _page(app, flt, offset=5, limit=5)
    assert first.count == second.count == 12
    assert first.rows[0].at.astimezone(UTC) == T0 + timedelta(hours=11)  # newest first
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    by_action = _page(app, flt, sort="action", descending=False)
    assert [r.action for r in by_action.rows][:2] == ["admission_created", "bed_viewed"]
    unknown = _page(app, flt, sort="detail; DROP TABLE audit_log")  # not a column: the default order
    assert [r.id for r in unknown.rows] == [r.id for r in _page(app, flt).rows]


def test_a_named_column_sorts_in_the_order_of_its_names(trail):
    """The grid shows actions and kinds of object by name: the server sorts them in the order the viewer gives,
    codes without a name after the named ones (by code), and a descending sort reverses all of it."""
    app, site_id, _pid, _admin = trail
    flt = AuditFilter(site_id, start=DAY[0], end=DAY[1])
    order = {"action": ["patient_search", "login_failed", "admission_created"], "target": ["bed", "patient"]}
    rising = [r.action for r in _page(app, flt, sort="action", descending=False, name_order=order).rows]
    assert rising == [
        *["patient_search"] * 2, "login_failed", "admission_created", *["bed_viewed"] * 6, *["patient_read"] * 2
    ]  # fmt: skip
    falling = [r.action for r in _page(app, flt, sort="action", descending=True, name_order=order).rows]
    assert falling == rising[::-1]
    kinds = [r.target_type for r in _page(app, flt, sort="target", descending=False, name_order=order).rows]
    assert kinds[:8] == [*["bed"] * 6, *["patient"] * 2] and set(kinds[8:]) == {"admission", None}
    by_code = _page(app, flt, sort="action", descending=False, name_order={"target": ["bed"]})
    assert [r.action for r in by_code.rows][:2] == ["admission_created", "bed_viewed"]  # no order for this column


def test_object_ids_of_a_kind_sort_as_numbers_read(trail):
    """Users 2, 9 and 10 come in that order, not 10, 2, 9 as text would; codes of one length by their text."""
    app, site_id, _pid, _admin = trail
    with app.runtime.db.session() as s:
        s.add_all(
            AuditLog(site_id=site_id, at=T0, action="user_updated", target_type="user", target_id=user_id)
            for user_id in ("10", "2", "9")
        )
    users = AuditFilter(site_id, target_type="user", start=DAY[0], end=DAY[1])
    rising = [r.target_id for r in _page(app, users, sort="target", descending=False).rows]
    assert rising == ["2", "9", "10"]
    assert [r.target_id for r in _page(app, users, sort="target", descending=True).rows] == rising[::-1]
    beds = AuditFilter(site_id, target_type="bed", start=DAY[0], end=DAY[1])
    bed_ids = [r.target_id for r in _page(app, beds, sort="target", descending=False).rows]
    assert bed_ids == [f"ICU-0{n}" for n in range(6)]


def test_the_export_is_capped(trail):
    app, site_id, _pid, _admin = trail
    with app.runtime.db.session() as s:
        capped = audit_query.export_rows(s, AuditFilter(site_id, action="bed_viewed"), cap=4)
    assert (len(capped.rows), capped.count) == (4, 6)
