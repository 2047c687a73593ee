"""Many desks registering at the same instant through ``register_visit``: numbers stay unique and gapless per
point, quotas are never exceeded, and one patient is booked into one poli once — on PostgreSQL (16 threads) and
on SQLite (a few threads)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select, update

from data.models import ClinicSession, Patient, Poli, QueueTicket, Site, Visit
from data.queue_registration import register_visit
from data.schedules import ensure_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError

SCALE = {"postgres": (16, 25), "sqlite": (4, 10)}  # threads × registrations each


def make_patients(pantau, site_id: int, count: int, tag: str) -> list[int]:
    with pantau.runtime.db.session() as s:
        rows = [
            Patient(
                site_id=site_id, mrn=f"{tag}-{n:05d}", name=f"Pasien {tag} {n}", birth_date=date(1990, 1, 1), sex="L"
            )
            for n in range(count)
        ]
        s.add_all(rows)
        s.flush()
        return [p.id for p in rows]


def sessions_of(pantau, site_id: int, poli_code: str, *, quota: int) -> list[int]:
    """Today's sessions at one poli, with ``quota`` non-JKN places each."""
    with pantau.runtime.db.session() as s:
        ensure_sessions(s, site_id, local_today(s, site_id, utcnow()))
        poli_id = s.scalar(select(Poli.id).where(Poli.site_id == site_id, Poli.code == poli_code))
        ids = list(s.scalars(select(ClinicSession.id).where(ClinicSession.poli_id == poli_id)))
        s.execute(update(ClinicSession).where(ClinicSession.id.in_(ids)).values(quota_non_jkn=quota))
    return ids


def run_together(pantau, site_id: int, jobs: list[list[tuple[int, int]]]) -> list[object]:
    """Each inner list is one desk (thread) registering (patient, session) pairs in turn; all desks start at
    the same instant. Returns every outcome: the Registration, the InputError key or another error's name."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = []
    lock = threading.Lock()
    actor = Actor(user_id=None, username="desk", site_id=site_id)

    def desk(pairs: list[tuple[int, int]]) -> None:
        barrier.wait()
        for patient_id, session_id in pairs:
            try:
                with pantau.runtime.db.session() as s:
                    result = register_visit(
                        s, actor, patient_id=patient_id, session_id=session_id, payer="non_jkn", now=utcnow()
                    )
            except InputError as err:
                result = err.key
            except Exception as err:  # recorded: the test says which
                result = type(err).__name__
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=desk, args=(pairs,)) for pairs in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def numbers_at(pantau, site_id: int, point: str) -> list[int]:
    with pantau.runtime.db.session() as s:
        return sorted(
            s.scalars(select(QueueTicket.number).where(QueueTicket.site_id == site_id, QueueTicket.point == point))
        )


@pytest.fixture(params=["sqlite", "postgres"])
def desk_app(request):
    pantau = request.getfixturevalue(f"{request.param}_app")
    with pantau.runtime.db.session() as s:
        site_id = s.scalar(select(Site.id))
    return pantau, site_id, SCALE[request.param]


def test_parallel_registrations_get_unique_gapless_numbers(desk_app):
    pantau, site_id, (threads, each) = desk_app
    umum = sessions_of(pantau, site_id, "UMU", quota=10_000)  # the demo has two doctors at Poli Umum
    patients = make_patients(pantau, site_id, threads * each, "CC")
    jobs = [
        [(patients[d * each + n], umum[(d + n) % len(umum)]) for n in range(each)] for d in range(threads)
    ]  # both sessions draw from the one poli:UMU counter
    outcomes = run_together(pantau, site_id, jobs)
    assert [o for o in outcomes if isinstance(o, str)] == []
    total = threads * each
    assert sorted(o.number for o in outcomes) == list(range(1, total + 1))
    assert numbers_at(pantau, site_id, "poli:UMU") == list(range(1, total + 1))
    assert len({o.booking_code for o in outcomes}) == total
    with pantau.runtime.db.session() as s:
        booked = sum(s.scalars(select(ClinicSession.booked_non_jkn).where(ClinicSession.id.in_(umum))))
    assert booked == total


def test_a_small_quota_is_filled_exactly(desk_app):
    pantau, site_id, (threads, _) = desk_app
    quota = 5
    (anak,) = sessions_of(pantau, site_id, "ANA", quota=quota)
    patients = make_patients(pantau, site_id, threads * 2, "QQ")
    outcomes = run_together(
        pantau, site_id, [[(patients[2 * d], anak), (patients[2 * d + 1], anak)] for d in range(threads)]
    )
    refused = Counter(o for o in outcomes if isinstance(o, str))
    assert len(outcomes) - sum(refused.values()) == quota
    assert refused == {"err_quota_full": threads * 2 - quota}
    assert numbers_at(pantau, site_id, "poli:ANA") == list(range(1, quota + 1))
    with pantau.runtime.db.session() as s:
        assert s.get(ClinicSession, anak).booked_non_jkn == quota


def same_patient_twice(pantau, site_id: int, tag: str) -> tuple[list[int], list[int], list[list[object]]]:
    """Eight patients, each registered by two desks at once (at the two different doctors of one poli)."""
    umum = sessions_of(pantau, site_id, "UMU", quota=10_000)
    patients = make_patients(pantau, site_id, 8, tag)
    rounds = [run_together(pantau, site_id, [[(p, umum[0])], [(p, umum[-1])]]) for p in patients]
    return umum, patients, rounds


def test_the_same_patient_from_two_desks_is_booked_once(desk_app):
    pantau, site_id, _ = desk_app
    umum, patients, rounds = same_patient_twice(pantau, site_id, "SP")
    for outcomes in rounds:
        assert sum(not isinstance(o, str) for o in outcomes) == 1, outcomes
    with pantau.runtime.db.session() as s:
        visits = Counter(s.scalars(select(Visit.patient_id).where(Visit.patient_id.in_(patients))))
        booked = sum(s.scalars(select(ClinicSession.booked_non_jkn).where(ClinicSession.id.in_(umum))))
    assert visits == dict.fromkeys(patients, 1)
    assert booked == len(patients)  # the refused desk's quota place went back with its rollback
    assert numbers_at(pantau, site_id, "poli:UMU") == list(range(1, len(patients) + 1))


def test_the_losing_desk_is_told_the_patient_is_already_registered(desk_app):
    pantau, site_id, _ = desk_app
    _, _, rounds = same_patient_twice(pantau, site_id, "LD")
    refusals = [o for outcomes in rounds for o in outcomes if isinstance(o, str)]
    assert refusals == ["err_already_registered"] * len(rounds)
