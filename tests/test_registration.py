"""The registration desk's rules on both backends: search, new patients, booking a session within its quota, the
admission-desk number and its task times; and the ticket printout and public status page over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date as Date
from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from api.queue_public import qr_svg
from data.models import AuditLog, ClinicSession, Doctor, Patient, Poli, QueueTicket, User, Visit, VisitTask
from data.patients import read_patient
from data.poli_settings import poli_age_ranges, set_age_range
from data.queue_actions import call_ticket, start
from data.queue_lookup import admission_ticket, booking_site, serving_admission_tickets
from data.queue_registration import (
    AgeOutsideRange,
    PossibleDuplicate,
    register_patient,
    register_visit,
    search_patients,
    take_admission_ticket,
)
from data.schedules import close_poli, day_sessions, local_today, site_zone
from domain.actor import Actor
from domain.age_range import AgeRange, age_years
from domain.clock import utcnow
from domain.errors import FieldErrors, InputError
from domain.formats import normalise_name, normalise_phone
from domain.identifiers import LENGTHS, normalise_identifier
from tests.test_identifiers import FULL_WIDTH, NAME_CHARS, digits, typed

NIK = "3171012301900001"
BPJS = "0001234567890"
REFERRAL = "0301R0011225B000123"


def desk(pantau) -> Actor:
    with pantau.runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == "loket"))
        return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def today(pantau, now: datetime | None = None) -> Date:
    with pantau.runtime.db.session() as s:
        return local_today(s, desk(pantau).site_id, now)


def new_patient(pantau, name: str = "Sri Rahayu Lestari", **fields: object):
    values = {"birth_date": Date(1985, 3, 14), "sex": "P", "phone": "081234567890"} | fields
    with pantau.runtime.db.session() as s:
        return register_patient(s, pantau.runtime.cipher, desk(pantau), name=name, today=today(pantau), **values)


def open_session(pantau, poli_code: str) -> int:
    """The demo schedule's session of ``poli_code`` today (the demo's hours follow the clock: open now)."""
    return next(i.id for i in day_infos(pantau) if i.poli_code == poli_code and i.open)


def day_infos(pantau):
    with pantau.runtime.db.session() as s:
        return day_sessions(s, desk(pantau).site_id, today(pantau))


def extra_session(pantau, poli_code: str, *, begins: timedelta, ends: timedelta, quota: int = 10) -> int:
    """A session of ``poli_code`` today from now+``begins`` to now+``ends`` with ``quota`` places per payer."""
    now = utcnow()
    with pantau.runtime.db.session() as s:
        site_id = desk(pantau).site_id
        poli = s.scalar(select(Poli).where(Poli.site_id == site_id, Poli.code == poli_code))
        doctor = s.scalar(select(Doctor).where(Doctor.poli_id == poli.id))
        session = ClinicSession(
            site_id=site_id,
            poli_id=poli.id,
            doctor_id=doctor.id,
            service_date=local_today(s, site_id, now),
            start_time=time(0, 1),  # off the demo's whole hours: no clash with its sessions
            end_time=time(23, 58),
            starts_at=now + begins,
            ends_at=now + ends,
            quota_jkn=quota,
            quota_non_jkn=quota,
            booked_jkn=0,
            booked_non_jkn=0,
        )
        s.add(session)
        s.flush()
        return session.id


def book(pantau, patient_id: int, session_id: int, payer: str = "non_jkn", now: datetime | None = None, **extra):
    with pantau.runtime.db.session() as s:
        return register_visit(
            s, desk(pantau), patient_id=patient_id, session_id=session_id, payer=payer, now=now or utcnow(), **extra
        )


def refused(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    return caught.value


# ---- search -----------------------------------------------------------------------------------------------------


def search(pantau, **criteria):
    with pantau.runtime.db.session() as s:
        return search_patients(s, pantau.runtime.cipher, desk(pantau), **criteria)


def test_search_by_each_identifier(any_app):
    patient = new_patient(any_app, nik=NIK, bpjs=BPJS)
    assert [p.id for p in search(any_app, mrn=patient.mrn)] == [patient.id]
    assert [p.id for p in search(any_app, mrn=patient.mrn, birth_date=Date(1985, 3, 14))] == [patient.id]
    assert [p.id for p in search(any_app, name="rahayu", birth_date=Date(1985, 3, 14))] == [patient.id]
    assert [p.id for p in search(any_app, name="ｒａｈａｙｕ", birth_date=Date(1985, 3, 14))] == [patient.id]
    assert [p.id for p in search(any_app, mrn=patient.mrn.translate(FULL_WIDTH))] == [patient.id]
    assert [p.id for p in search(any_app, nik=NIK)] == [patient.id]
    found = search(any_app, bpjs=BPJS)
    assert [p.id for p in found] == [patient.id]
    assert found[0].has_bpjs


@pytest.mark.parametrize(
    ("criteria", "key"),
    [
        ({"mrn": "999999"}, "err_unknown_mrn"),
        ({"name": "rahayu", "birth_date": Date(1990, 1, 1)}, "err_no_patient_found"),
        ({"name": "rahayu"}, "err_search_criteria"),
        ({"nik": "3171999999999999"}, "err_unknown_nik"),
        ({"bpjs": "0009999999999"}, "err_unknown_bpjs"),
        ({"nik": "abcdefghijklmnop"}, "err_nik_format"),
        ({"bpjs": "abcdefghijklm"}, "err_bpjs_format"),
        ({"nik": "3171 0123 0190 0001 7"}, "err_nik_format"),
    ],
)
def test_search_mistakes_are_named(sqlite_app, criteria, key):
    new_patient(sqlite_app)
    assert refused(search, sqlite_app, **criteria).key == key


def test_search_by_mrn_with_wrong_birth_date_is_refused(any_app):
    patient = new_patient(any_app)
    error = refused(search, any_app, mrn=patient.mrn, birth_date=Date(1985, 3, 15))
    assert error.key == "err_birth_mismatch"
    assert refused(search, any_app, mrn="000000").key == "err_unknown_mrn"


# ---- new patient ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"name": "  "}, "err_full_name_required"),
        ({"birth_date": None}, "err_birth_date_required"),
        ({"birth_date": Date(2999, 1, 1)}, "err_birth_date_range"),
        ({"phone": "12345"}, "err_phone_format"),
        ({"phone": "081234567"}, "err_phone_format"),  # nine digits: the message says 10–15
        ({"phone": ""}, "err_phone_format"),
        ({"nik": "abcdefghijklmnop"}, "err_nik_format"),
        ({"name": "Bayu 😀"}, "err_name_characters"),
        ({"bpjs": "12"}, "err_bpjs_format"),
        ({"sex": "X"}, "err_sex"),
    ],
)
def test_new_patient_validation(any_app, fields, key):
    assert refused(new_patient, any_app, **fields).key == key


def test_every_wrong_field_is_named_at_once_and_nothing_is_saved(sqlite_app):
    error = refused(new_patient, sqlite_app, "Bayu 2", phone="0812345", nik="abcdefghijklmnop", bpjs="abcdefghijklm")
    assert {f: e.key for f, e in error.errors.items()} == {
        "name": "err_name_characters",
        "phone": "err_phone_format",
        "nik": "err_nik_format",
        "bpjs": "err_bpjs_format",
    }
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.name.like("Bayu%"))) == 0


def identifier(field: str) -> st.SearchStrategy[str]:
    """A NIK or BPJS number as typed: right, with full-width digits or separators, of a wrong length, or garbage."""
    length = LENGTHS[field]
    return st.one_of(
        st.just(""),
        digits(length).flatmap(typed),
        st.integers(1, 20).filter(lambda n: n != length).flatmap(digits),
        st.text(min_size=1, max_size=length + 2),
    )


PHONES = st.one_of(
    st.integers(6, 15).flatmap(digits).map(lambda rest: "08" + rest).flatmap(typed),
    st.integers(8, 13).flatmap(digits).map(lambda rest: "+62 8" + rest),
    st.text(max_size=16),
)
NAMES = st.one_of(
    st.sampled_from(["Sri Rahayu", "  Dewi   Lestari ", "Nguye\u0302\u0303n Thi\u0323", "Ｂａｙｕ", "Nur'aini"]),
    st.text(NAME_CHARS, max_size=20),
)


def expected_form(values: dict[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """What the desk must store for ``values``, or the message key each wrong field must get."""
    rules = {
        "name": normalise_name,
        "phone": normalise_phone,
        "nik": lambda v: normalise_identifier("nik", v),
        "bpjs": lambda v: normalise_identifier("bpjs", v),
    }
    stored, keys = {}, {}
    for field, rule in rules.items():
        try:
            stored[field] = rule(values[field])
        except InputError as err:
            keys[field] = err.key
    return stored, keys


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    form=st.fixed_dictionaries({"name": NAMES, "phone": PHONES, "nik": identifier("nik"), "bpjs": identifier("bpjs")})
)
def test_a_new_patient_is_refused_per_field_or_stored_exactly_as_normalised(any_app, form):
    stored, keys = expected_form(form)
    try:
        saved = new_patient(any_app, **form)
    except FieldErrors as error:
        got = {f: e.key for f, e in error.errors.items()}
        taken = {"nik": "err_nik_exists", "bpjs": "err_bpjs_exists"}  # a number an earlier example stored
        assert got == keys or (not keys and got.items() <= taken.items()), (got, keys)
        return
    assert not keys
    with any_app.runtime.db.session() as s:
        record = read_patient(
            s,
            any_app.runtime.cipher,
            saved.id,
            actor_id=None,
            actor_name="t",
            purpose="test",
            fields=("phone", "nik", "bpjs"),
        )
    assert (record.name, record.phone, record.nik, record.bpjs) == tuple(
        stored[f] for f in ("name", "phone", "nik", "bpjs")
    )
    assert (saved.name, saved.phone, saved.nik, saved.bpjs) == tuple(
        stored[f] for f in ("name", "phone", "nik", "bpjs")
    )
    assert saved.has_bpjs == (stored["bpjs"] is not None)


def test_a_full_width_nik_is_the_same_nik_for_the_next_patient(any_app):
    new_patient(any_app, nik=NIK.translate(FULL_WIDTH))
    assert refused(new_patient, any_app, "Orang Lain", nik=NIK).key == "err_nik_exists"
    assert [p.name for p in search(any_app, nik=" ".join(NIK[i : i + 4] for i in range(0, 16, 4)))] == [
        "Sri Rahayu Lestari"
    ]


def test_the_same_form_sent_twice_is_one_patient(any_app):
    token = "0123456789abcdef0123456789abcdef"
    first = new_patient(any_app, submission_token=token, phone="+62 812-3456-7890")
    again = new_patient(any_app, submission_token=token, phone="+62 812-3456-7890")
    assert (first.repeated, again.repeated) == (False, True)
    assert (again.id, again.mrn, again.phone) == (first.id, first.mrn, "081234567890")
    later = new_patient(any_app, "Pasien Lain")
    assert int(later.mrn) == int(first.mrn) + 1  # the repeat took no medical-record number
    with any_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.name == first.name)) == 1


def test_the_same_form_from_two_workers_at_once_is_one_patient(postgres_app):
    token = "fedcba9876543210fedcba9876543210"
    start = threading.Barrier(2)

    def submit():
        start.wait()
        return new_patient(postgres_app, submission_token=token)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: submit(), range(2)))
    assert len({r.id for r in results}) == 1
    assert sorted(r.repeated for r in results) == [False, True]
    with postgres_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.submission_token == token)) == 1


def test_a_patient_with_the_same_name_and_birth_date_is_a_warning_the_clerk_may_overrule(any_app):
    existing = new_patient(any_app, "Sri Rahayu Lestari")
    warning = refused(new_patient, any_app, "sri  rahayu LESTARI", warn_duplicate=True)
    assert isinstance(warning, PossibleDuplicate)
    assert [m.id for m in warning.matches] == [existing.id]
    confirmed = new_patient(any_app, "sri  rahayu LESTARI")
    assert confirmed.id != existing.id and confirmed.name == "sri rahayu LESTARI"
    assert new_patient(any_app, "Sri Rahayu", warn_duplicate=True).id  # another name: no warning


def test_new_patient_with_a_known_nik_is_refused_and_gets_a_new_mrn_otherwise(any_app):
    first = new_patient(any_app, nik=NIK)
    assert refused(new_patient, any_app, "Orang Lain", nik=NIK).key == "err_nik_exists"
    second = new_patient(any_app, "Orang Lain")
    assert int(second.mrn) == int(first.mrn) + 1


# ---- booking a session ------------------------------------------------------------------------------------------


def test_registration_gives_the_poli_number_and_a_booking_code(any_app):
    patient = new_patient(any_app)
    booked = book(any_app, patient.id, open_session(any_app, "UMU"))
    assert booked.label == "A001"
    assert booked.point == "poli:UMU"
    assert len(booked.booking_code) == 14 and booked.booking_code.startswith(f"{today(any_app):%Y%m%d}")
    assert [e.point for e in booked.events] == ["poli:UMU"]


def test_closed_poli_is_refused_with_its_reason(any_app):
    patient = new_patient(any_app)
    session_id = open_session(any_app, "ANA")
    with any_app.runtime.db.session() as s:
        poli_id = s.get(ClinicSession, session_id).poli_id
        close_poli(s, desk(any_app), poli_id, today(any_app), "Dokter sedang seminar")
    error = refused(book, any_app, patient.id, session_id)
    assert error.key == "err_poli_closed"
    assert error.params == {"reason": "Dokter sedang seminar"}


def test_full_quota_is_refused_per_payer(any_app):
    session_id = extra_session(any_app, "GIG", begins=-timedelta(hours=1), ends=timedelta(minutes=30), quota=1)
    first, second = new_patient(any_app, "Pasien Satu"), new_patient(any_app, "Pasien Dua", nik=NIK, bpjs=BPJS)
    book(any_app, first.id, session_id)
    error = refused(book, any_app, second.id, session_id)
    assert (error.key, error.params) == ("err_quota_full", {"payer": "non-JKN"})
    book(any_app, second.id, session_id, payer="jkn", referral_number=REFERRAL)  # the JKN quota is separate
    with any_app.runtime.db.session() as s:
        session = s.get(ClinicSession, session_id)
        assert (session.booked_jkn, session.booked_non_jkn) == (1, 1)


def test_session_that_has_ended_is_refused(any_app):
    session_id = extra_session(any_app, "INT", begins=-timedelta(hours=3), ends=-timedelta(minutes=1))
    patient = new_patient(any_app)
    assert refused(book, any_app, patient.id, session_id).key == "err_session_over"


def test_same_patient_twice_in_one_poli_on_one_day_is_refused(any_app):
    patient = new_patient(any_app)
    first = book(any_app, patient.id, open_session(any_app, "UMU"))
    other_doctor = [s for s in day_infos(any_app) if s.poli_code == "UMU" and s.open][-1].id
    error = refused(book, any_app, patient.id, other_doctor)
    assert (error.key, error.params) == ("err_already_registered", {"poli": "Poli Umum", "label": first.label})
    book(any_app, patient.id, open_session(any_app, "GIG"))  # another poli the same day is fine


def set_ages(pantau, poli_code: str, low: int | None, high: int | None) -> None:
    with pantau.runtime.db.session() as s:
        poli = s.scalar(select(Poli).where(Poli.site_id == desk(pantau).site_id, Poli.code == poli_code))
        set_age_range(s, desk(pantau), poli.id, AgeRange(low, high))


def test_an_adult_at_a_childrens_poli_is_warned_before_anything_is_booked(any_app):
    set_ages(any_app, "ANA", 0, 17)
    session_id = open_session(any_app, "ANA")
    adult = new_patient(any_app, "Budi Santoso", birth_date=Date(1983, 6, 1), sex="L")
    warning = refused(book, any_app, adult.id, session_id, warn_age=True)
    assert isinstance(warning, AgeOutsideRange)
    assert warning.params == {
        "age": age_years(Date(1983, 6, 1), today(any_app)),
        "poli": "Poli Anak",
        "range": "0–17",
    }
    with any_app.runtime.db.session() as s:
        assert s.get(ClinicSession, session_id).booked_non_jkn == 0
    child_born = today(any_app).replace(year=today(any_app).year - 5, day=1)
    child = new_patient(any_app, "Anak Kecil", birth_date=child_born)
    assert book(any_app, child.id, session_id, warn_age=True).label
    assert book(any_app, adult.id, session_id).label  # the clerk confirmed: booked


def test_a_poli_age_range_is_audited_and_an_unknown_poli_refused(sqlite_app):
    set_ages(sqlite_app, "ANA", None, 17)
    with sqlite_app.runtime.db.session() as s:
        ranges = {p.name: (p.min_years, p.max_years) for p in poli_age_ranges(s, desk(sqlite_app).site_id)}
        assert ranges["Poli Anak"] == (None, 17)
        latest = select(AuditLog.detail).where(AuditLog.action == "poli_age_range_set").order_by(AuditLog.id.desc())
        assert s.scalar(latest.limit(1))["after"] == {
            "min": None,
            "max": 17,
        }
        with pytest.raises(InputError, match="qadmin_age_poli_required"):
            set_age_range(s, desk(sqlite_app), 999_999, AgeRange(0, 17))


def test_jkn_needs_a_bpjs_card_and_a_referral(any_app):
    session_id = open_session(any_app, "UMU")
    no_card = new_patient(any_app)
    assert refused(book, any_app, no_card.id, session_id, payer="jkn", referral_number=REFERRAL).key == (
        "err_jkn_needs_card"
    )
    insured = new_patient(any_app, "Peserta JKN", nik=NIK, bpjs=BPJS)
    assert refused(book, any_app, insured.id, session_id, payer="jkn").key == "err_jkn_needs_referral"
    booked = book(any_app, insured.id, session_id, payer="jkn", referral_number=f" {REFERRAL.lower()} ")
    with any_app.runtime.db.session() as s:
        assert s.get(Visit, booked.visit_id).referral_number == REFERRAL


# ---- admission-desk number and task times -----------------------------------------------------------------------


def desk_now(pantau) -> datetime:
    """Now, or 00:15 of the site's day when earlier: the desk's numbers are per day, and a number taken ten
    minutes before must be of the same day."""
    now = utcnow()
    with pantau.runtime.db.session() as s:
        site_id = desk(pantau).site_id
        start = datetime.combine(local_today(s, site_id, now), time(0), site_zone(s, site_id))
    return max(now, start + timedelta(minutes=15))


def serve_at_desk(pantau, when: datetime) -> int:
    """Take an admission number, call it to 'Loket 1' and start serving it, each a minute apart."""
    actor = desk(pantau)
    with pantau.runtime.db.session() as s:
        ticket, event = take_admission_ticket(s, actor.site_id, when)
        assert event.point == "loket"
        call_ticket(s, actor, ticket.id, "Loket 1", when + timedelta(minutes=1))
        start(s, actor, ticket.id, when + timedelta(minutes=2))
        return ticket.id


def tasks(pantau, visit_id: int) -> dict[int, datetime]:
    with pantau.runtime.db.session() as s:
        return dict(s.execute(select(VisitTask.task_id, VisitTask.at).where(VisitTask.visit_id == visit_id)).all())


def test_new_patient_with_a_desk_number_gets_tasks_1_2_3(any_app):
    now = desk_now(any_app)
    ticket_id = serve_at_desk(any_app, now - timedelta(minutes=10))
    with any_app.runtime.db.session() as s:
        serving = serving_admission_tickets(s, desk(any_app).site_id, now)
    assert [(t.id, t.counter) for t in serving] == [(ticket_id, "Loket 1")]
    patient = new_patient(any_app)
    booked = book(any_app, patient.id, open_session(any_app, "UMU"), now=now, admission_ticket_id=ticket_id)
    recorded = tasks(any_app, booked.visit_id)
    assert sorted(recorded) == [1, 2, 3]
    assert recorded[1] < recorded[2] < recorded[3]
    assert abs(recorded[3] - now) < timedelta(seconds=1)
    with any_app.runtime.db.session() as s:
        desk_ticket = s.get(QueueTicket, ticket_id)
        assert (desk_ticket.status, desk_ticket.visit_id) == ("done", booked.visit_id)
        assert serving_admission_tickets(s, desk(any_app).site_id, now) == []


def test_existing_patient_gets_task_3_only(any_app):
    patient = new_patient(any_app)
    book(any_app, patient.id, open_session(any_app, "GIG"))  # an earlier visit: no longer a new patient
    now = desk_now(any_app)
    ticket_id = serve_at_desk(any_app, now - timedelta(minutes=10))
    booked = book(any_app, patient.id, open_session(any_app, "UMU"), now=now, admission_ticket_id=ticket_id)
    assert sorted(tasks(any_app, booked.visit_id)) == [3]


def test_a_desk_number_not_being_served_cannot_be_linked(any_app):
    with any_app.runtime.db.session() as s:
        waiting, _ = take_admission_ticket(s, desk(any_app).site_id, utcnow())
        waiting_id = waiting.id
    patient = new_patient(any_app)
    error = refused(book, any_app, patient.id, open_session(any_app, "UMU"), admission_ticket_id=waiting_id)
    assert error.key == "err_admission_ticket"


def test_admission_ticket_lookup_counts_who_waits_before(sqlite_app):
    site_id = desk(sqlite_app).site_id
    with sqlite_app.runtime.db.session() as s:
        ids = [take_admission_ticket(s, site_id, utcnow())[0].id for _ in range(3)]
    with sqlite_app.runtime.db.session() as s:
        last = admission_ticket(s, site_id, ids[-1])
        assert (last.label, last.ahead) == ("P003", 2)
        assert admission_ticket(s, site_id + 1, ids[0]) is None
        assert admission_ticket(s, site_id, 999_999) is None


def test_booking_site_names_the_site(sqlite_app):
    booked = book(sqlite_app, new_patient(sqlite_app).id, open_session(sqlite_app, "UMU"))
    with sqlite_app.runtime.db.session() as s:
        site = booking_site(s, booked.booking_code)
        assert (site.name, site.timezone) == (sqlite_app.settings.site_name, "Asia/Jakarta")
        assert booking_site(s, "20260101XXXXXX") is None


# ---- over HTTP: the printout and the status page ----------------------------------------------------------------


@pytest.fixture
def booked_visit(sqlite_app):
    patient = new_patient(sqlite_app, "Siti Nurbaya Kusuma", nik=NIK, bpjs=BPJS, phone="081298765432")
    return book(sqlite_app, patient.id, open_session(sqlite_app, "UMU"), payer="jkn", referral_number=REFERRAL)


def test_ticket_printout_needs_front_desk_or_admin(booked_visit, client, login):
    booked = booked_visit
    path = f"/antrean/tiket/{booked.booking_code}"
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and anonymous.location.startswith("/login")
    assert login("nurse").get(path).status_code == 403
    assert login("pharmacy").get(path).status_code == 403
    assert login("admin").get(path).status_code == 200
    assert login("front_desk").get("/antrean/tiket/20260101ZZZZZZ").status_code == 404


def test_ticket_printout_shows_number_and_a_qr_code_of_the_status_page(booked_visit, login):
    booked = booked_visit
    response = login("front_desk").get(f"/antrean/tiket/{booked.booking_code}")
    html = response.get_data(as_text=True)
    assert 'id="ticket-number">A001<' in html
    assert booked.booking_code in html and "Poli Umum" in html
    assert "SIT* N**** K****" in html and "Nurbaya" not in html
    expected_qr = qr_svg(f"http://localhost/antrean/status/{booked.booking_code}")
    assert str(expected_qr) in html
    assert "pantau-ticket-80" in html and "<script>" not in html
    narrow = login("front_desk").get(f"/antrean/tiket/{booked.booking_code}?lebar=58")
    assert "pantau-ticket-58" in narrow.get_data(as_text=True)


def test_admission_printout(sqlite_app, login):
    with sqlite_app.runtime.db.session() as s:
        ticket, _ = take_admission_ticket(s, desk(sqlite_app).site_id, utcnow())
        ticket_id = ticket.id
    html = login("front_desk").get(f"/antrean/tiket-loket/{ticket_id}").get_data(as_text=True)
    assert 'id="ticket-number">P001<' in html and "Loket Pendaftaran" in html
    assert login("nurse").get(f"/antrean/tiket-loket/{ticket_id}").status_code == 403
    assert login("front_desk").get("/antrean/tiket-loket/999999").status_code == 404


def test_status_page_is_public_and_shows_no_personal_data(booked_visit, client):
    booked = booked_visit
    response = client.get(f"/antrean/status/{booked.booking_code.lower()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="status-number">A001<' in html
    assert "Posisi Anda: 1" in html
    assert 'data-refresh="30"' in html  # updated in place by assets/status_page.js
    assert "SIT* N**** K****" in html
    for secret in ("Siti", "Nurbaya", "Kusuma", NIK, BPJS, "081298765432"):
        assert secret not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_booking_code_gets_a_friendly_404(any_app, client):
    response = client.get("/antrean/status/20260101ABCDEF")
    assert response.status_code == 404
    assert "Kode booking tidak ditemukan" in response.get_data(as_text=True)
    assert client.get("/antrean/status/%3Cscript%3E").status_code == 404


def test_guessing_booking_codes_is_rate_limited(sqlite_app, client):
    booked = book(sqlite_app, new_patient(sqlite_app).id, open_session(sqlite_app, "UMU"))
    client = client
    for n in range(10):
        assert client.get(f"/antrean/status/20260101ABCD{n:02d}").status_code == 404
    blocked = client.get("/antrean/status/20260101ABCD99")
    assert blocked.status_code == 429
    assert "Terlalu banyak permintaan" in blocked.get_data(as_text=True)
    assert client.get(f"/antrean/status/{booked.booking_code}").status_code == 429  # the address is blocked


def test_desk_callbacks_refuse_other_roles(sqlite_app, login):
    take = {
        "output": "reg-admission-result.children",
        "outputs": {"id": "reg-admission-result", "property": "children"},
        "inputs": [{"id": "reg-admission-take", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["reg-admission-take.n_clicks"],
        "state": [],
    }
    assert login("nurse").post("/_dash-update-component", json=take).status_code == 403
    assert login("front_desk").post("/_dash-update-component", json=take).status_code == 200
    with sqlite_app.runtime.db.session() as s:
        assert s.scalars(select(QueueTicket.label).where(QueueTicket.point == "loket")).all() == ["P001"]
