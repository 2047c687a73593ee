"""Personal data is decrypted only where a screen shows it, and every patient search is audited with its hits."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from data.models import AuditLog, User
from data.patients import SEARCH_AUDIT_CAP, audit_search, read_patient
from data.queue_registration import register_patient, search_patients
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError

BORN = date(1977, 8, 9)
HITS = 5


def desk(pantau) -> Actor:
    with pantau.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "loket"))
        return Actor(user.id, user.username, user.site_id, "127.0.0.1")


@pytest.fixture
def decrypted(any_app, monkeypatch) -> Counter:
    """Counts the app's decryptions by field, for the whole test."""
    cipher, counts = any_app.runtime.cipher, Counter()
    real = cipher.decrypt

    def counting(field, token, *, row_id):
        counts[field] += token is not None
        return real(field, token, row_id=row_id)

    monkeypatch.setattr(cipher, "decrypt", counting)
    return counts


def register(pantau, n: int, **extra) -> object:
    with pantau.runtime.db.session() as s:
        return register_patient(
            s,
            pantau.runtime.cipher,
            desk(pantau),
            name=f"Wulan Pertiwi {chr(65 + n)}",
            birth_date=BORN,
            sex="P",
            phone=f"08123456780{n}",
            nik=f"317101010177000{n}",
            bpjs=f"000200000000{n}",
            address="Jl. Kenanga 3",
            today=utcnow().date(),
            **extra,
        )


def test_a_search_of_many_hits_decrypts_nothing_and_a_reader_only_its_fields(any_app, decrypted):
    made = [register(any_app, n) for n in range(HITS)]
    assert sum(decrypted.values()) == 0  # a new patient's form shows the values it stored, not a decryption
    with any_app.runtime.db.session() as s:
        found = search_patients(s, any_app.runtime.cipher, desk(any_app), name="wulan pertiwi", birth_date=BORN)
    assert len(found) == HITS and sum(decrypted.values()) == 0
    with any_app.runtime.db.session() as s:
        record = read_patient(
            s, any_app.runtime.cipher, made[0].id, actor_id=None, actor_name="t", purpose="t", fields=("bpjs",)
        )
    assert record.bpjs == "0002000000000" and (record.nik, record.phone, record.address) == (None, None, None)
    assert decrypted == Counter({"patient.bpjs": 1})


def test_a_repeated_form_decrypts_only_the_three_numbers_it_shows_again(any_app, decrypted):
    first = register(any_app, 1, submission_token="tok-pii-1")
    again = register(any_app, 1, submission_token="tok-pii-1")
    assert again.repeated and (again.id, again.nik, again.phone) == (first.id, first.nik, first.phone)
    assert decrypted == Counter({"patient.nik": 1, "patient.bpjs": 1, "patient.phone": 1})


def search_rows(pantau) -> list[AuditLog]:
    with pantau.runtime.db.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == "patient_search").order_by(AuditLog.id)))


def desk_search(pantau, client, mode: str, text: str, birth: str | None = None) -> str:
    """The registration page's search as the browser posts it (the real callback, its own transaction)."""
    from pages.registration import Ids  # a page module registers itself: only once an app exists

    body = {
        "output": f"..{Ids.SEARCH_FEEDBACK}.children...{Ids.HITS}.children...{Ids.HITS_DATA}.data..",
        "outputs": [
            {"id": Ids.SEARCH_FEEDBACK, "property": "children"},
            {"id": Ids.HITS, "property": "children"},
            {"id": Ids.HITS_DATA, "property": "data"},
        ],
        "inputs": [
            {"id": Ids.SEARCH_SUBMIT, "property": "n_clicks", "value": 1},
            {"id": Ids.SEARCH_TEXT, "property": "n_submit", "value": None},
        ],
        "changedPropIds": [f"{Ids.SEARCH_SUBMIT}.n_clicks"],
        "state": [
            {"id": Ids.SEARCH_BY, "property": "value", "value": mode},
            {"id": Ids.SEARCH_TEXT, "property": "value", "value": text},
            {"id": Ids.SEARCH_BIRTH, "property": "value", "value": birth},
        ],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def test_the_front_desk_search_writes_one_row_with_its_hits_and_a_miss_one_with_none(any_app):
    made = [register(any_app, n) for n in range(3)]
    client = any_app.login("front_desk")
    before = len(search_rows(any_app))
    shown = desk_search(any_app, client, "name", "wulan pertiwi", BORN.isoformat())
    assert all(p.mrn in shown for p in made)
    desk_search(any_app, client, "nik", "3171010101770001")
    missed = desk_search(any_app, client, "nik", "3171010101779999")
    assert "reg-search-error" in missed
    rows = search_rows(any_app)[before:]
    assert [r.detail["by"] for r in rows] == ["name", "nik", "nik"]
    assert {r.username for r in rows} == {"loket"}
    by_name, by_nik, miss = (r.detail for r in rows)
    assert (by_name["count"], sorted(by_name["patient_ids"])) == (3, sorted(p.id for p in made))
    assert sorted(by_name["mrns"]) == sorted(p.mrn for p in made)
    assert (by_nik["count"], by_nik["patient_ids"], rows[1].target_id) == (1, [made[1].id], str(made[1].id))
    assert (miss["count"], miss["patient_ids"], miss["mrns"]) == (0, [], [])
    assert not any("3171010101779999" in str(r.detail) or "wulan" in str(r.detail).lower() for r in rows)


def test_a_malformed_number_is_refused_before_any_search(sqlite_app):
    before = len(search_rows(sqlite_app))
    with sqlite_app.runtime.db.session() as s, pytest.raises(InputError, match="err_nik_format"):
        search_patients(s, sqlite_app.runtime.cipher, desk(sqlite_app), nik="12")
    assert len(search_rows(sqlite_app)) == before


def test_a_long_hit_list_is_capped_in_the_row_with_the_full_count(sqlite_app):
    class Hit:
        def __init__(self, n: int) -> None:
            self.id, self.mrn = n, f"{n:06d}"

    hits = [Hit(n) for n in range(SEARCH_AUDIT_CAP + 7)]
    with sqlite_app.runtime.db.session() as s:
        audit_search(s, desk(sqlite_app), "name", hits)
    detail = search_rows(sqlite_app)[-1].detail
    assert detail["count"] == SEARCH_AUDIT_CAP + 7 and len(detail["patient_ids"]) == SEARCH_AUDIT_CAP
