"""The Mobile JKN web service (WS RS) over HTTP on both backends: the token, every endpoint's answer in BPJS's
field names and each refusal's exact message; bookings share the desk's counter, quotas and task times; nothing
of another patient leaks; nothing of the body is logged. Plus the settings that guard the credentials."""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from sqlalchemy import func, select, update

from auth.users import find_user
from config import DEMO_JKN_PASSWORD, DEMO_JKN_TOKEN_SECRET, DEMO_JKN_USERNAME, ConfigError, load_settings
from data.models import AuditLog, BpjsOutbox, ClinicSession, Doctor, Patient, Poli, QueueTicket, Visit, VisitTask
from data.patients import decrypt_field
from data.queue_actions import call_ticket, finish, start
from data.queue_registration import register_patient, register_visit
from data.schedules import close_poli, day_sessions, local_today
from domain.actor import Actor
from domain.clock import utcnow
from domain.formats import long_date
from tests.test_config import PRODUCTION_OK

REFERRAL = "0301R0011126B000001"
_serial = itertools.count(1)


# ---- helpers ----------------------------------------------------------------------------------------------------


@dataclass
class Jkn:
    """Mobile JKN's side: a client from an address of its own (the token limit counts per address)."""

    pantau: object
    client: object
    token: str = ""

    @property
    def settings(self):
        return self.pantau.settings

    def auth(self, username: str | None = None, password: str | None = None):
        headers = {
            "x-username": self.settings.jkn_username if username is None else username,
            "x-password": self.settings.jkn_password if password is None else password,
        }
        return self.client.get("/api/jkn/auth", headers=headers)

    def post(self, endpoint: str, body: object, *, token: str | None = None, username: str | None = None) -> dict:
        headers = {
            "x-token": self.token if token is None else token,
            "x-username": self.settings.jkn_username if username is None else username,
        }
        data = body if isinstance(body, str) else json.dumps(body)
        reply = self.client.post(f"/api/jkn/{endpoint}", data=data, headers=headers, content_type="application/json")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()


def signed_in(pantau) -> Jkn:
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    client = pantau.client()
    client.environ_base["REMOTE_ADDR"] = address
    jkn = Jkn(pantau, client)
    jkn.token = jkn.auth().get_json()["response"]["token"]
    return jkn


@pytest.fixture
def jkn(any_app) -> Jkn:
    """Mobile JKN holding a valid token, on each backend."""
    return signed_in(any_app)


def ok(reply: dict) -> dict:
    assert reply["metadata"] == {"message": "Ok", "code": 200}, reply
    return reply.get("response", {})


def refused(reply: dict) -> str:
    assert reply["metadata"]["code"] == 201 and "response" not in reply, reply
    return reply["metadata"]["message"]


def desk(s) -> Actor:
    user = find_user(s, "loket")
    return Actor(user.id, user.username, user.site_id, "127.0.0.1")


def today(pantau) -> date:
    with pantau.runtime.db.session() as s:
        return local_today(s, desk(s).site_id)


@dataclass(frozen=True)
class Member:
    """A JKN member known to the hospital."""

    id: int
    mrn: str
    name: str
    card: str
    nik: str


def member(pantau, name: str = "Sri Rahayu Lestari") -> Member:
    n = next(_serial)
    card, nik = f"{7000000000000 + n}", f"{3171000000000000 + n}"
    with pantau.runtime.db.session() as s:
        found = register_patient(
            s, pantau.runtime.cipher, desk(s), name=name, birth_date=date(1985, 3, 14), sex="P",
            phone="081234567890", nik=nik, bpjs=card, today=local_today(s, desk(s).site_id),
        )  # fmt: skip
    return Member(found.id, found.mrn, name, card, nik)


def umum_session(pantau, doctor_code: str = "31001"):
    """Today's Poli Umum session of the doctor with ``doctor_code`` (the demo's hours follow the clock)."""
    with pantau.runtime.db.session() as s:
        doctor_id = s.scalar(select(Doctor.id).where(Doctor.bpjs_code == doctor_code))
        return next(i for i in day_sessions(s, desk(s).site_id, today(pantau)) if i.doctor_id == doctor_id)


def hours(info) -> str:
    return f"{info.start_time:%H:%M}-{info.end_time:%H:%M}"


def session_body(pantau, **changes: object) -> dict:
    info = umum_session(pantau)
    body = {"kodepoli": "UMU", "kodedokter": "31001", "tanggalperiksa": today(pantau).isoformat()}
    return body | {"jampraktek": hours(info)} | changes


def booking_body(pantau, who: Member, **changes: object) -> dict:
    body = {
        "nomorkartu": who.card,
        "nik": who.nik,
        "nohp": "081234567890",
        "norm": who.mrn,
        "jeniskunjungan": 1,
        "nomorreferensi": REFERRAL,
    }
    return session_body(pantau) | body | changes


def book(jkn: Jkn, who: Member, **changes: object) -> dict:
    return ok(jkn.post("ambilantrean", booking_body(jkn.pantau, who, **changes)))


def desk_booking(pantau, who: Member, payer: str = "non_jkn"):
    session_id = umum_session(pantau).id  # its own transaction first: it may add today's sessions
    with pantau.runtime.db.session() as s:
        return register_visit(
            s, desk(s), patient_id=who.id, session_id=session_id, payer=payer, now=utcnow(),
            referral_number=REFERRAL if payer == "jkn" else None,
        )  # fmt: skip


def ticket_of(pantau, code: str) -> QueueTicket:
    with pantau.runtime.db.session() as s:
        visit_id = s.scalar(select(Visit.id).where(Visit.booking_code == code))
        return s.scalar(select(QueueTicket).where(QueueTicket.visit_id == visit_id, QueueTicket.point == "poli:UMU"))


def tasks_of(pantau, code: str) -> dict[int, datetime]:
    with pantau.runtime.db.session() as s:
        visit_id = s.scalar(select(Visit.id).where(Visit.booking_code == code))
        return dict(s.execute(select(VisitTask.task_id, VisitTask.at).where(VisitTask.visit_id == visit_id)).all())


def outbox_of(pantau, code: str) -> list[tuple[str, dict]]:
    with pantau.runtime.db.session() as s:
        rows = s.execute(
            select(BpjsOutbox.kind, BpjsOutbox.payload).where(BpjsOutbox.booking_code == code).order_by(BpjsOutbox.id)
        )
        return [(kind, payload) for kind, payload in rows.all()]


def counter(pantau, code: str, action, *args, **kwargs):
    with pantau.runtime.db.session() as s:
        return action(s, desk(s), ticket_of(pantau, code).id, *args, utcnow(), **kwargs)


# ---- token ------------------------------------------------------------------------------------------------------


def test_the_token_is_an_hs256_jwt_for_the_configured_user(jkn):
    reply = jkn.auth()
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["metadata"] == {"message": "Ok", "code": 200}
    settings = jkn.settings
    claims = jwt.decode(body["response"]["token"], settings.jkn_token_secret, algorithms=["HS256"])
    assert claims["sub"] == settings.jkn_username
    lifetime = claims["exp"] - datetime.now(UTC).timestamp()
    assert settings.jkn_token_minutes * 60 - 60 < lifetime <= settings.jkn_token_minutes * 60
    assert "pantau_session" not in reply.headers.get("Set-Cookie", "")  # no session: the token is the credential


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        (None, "wrong-password", "Username atau Password Tidak Sesuai"),
        ("someone-else", None, "Username atau Password Tidak Sesuai"),
        ("", "", "Header x-username dan x-password wajib diisi"),
    ],
)
def test_wrong_credentials_get_no_token(jkn, username, password, message):
    reply = jkn.auth(username, password)
    assert reply.status_code == 200
    assert reply.get_json() == {"metadata": {"message": message, "code": 201}}


def forged(secret: str, username: str, expires: timedelta) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": username, "iat": now - timedelta(hours=2), "exp": now + expires}, secret, "HS256")


def test_expired_forged_or_borrowed_tokens_are_refused(jkn):
    settings, body = jkn.settings, session_body(jkn.pantau)
    assert ok(jkn.post("statusantrean", body))["namapoli"] == "Poli Umum"
    expired = forged(settings.jkn_token_secret, settings.jkn_username, timedelta(seconds=-1))
    assert refused(jkn.post("statusantrean", body, token=expired)) == "Token Expired"
    other_key = forged("another-secret-of-at-least-32-bytes!!", settings.jkn_username, timedelta(minutes=5))
    assert refused(jkn.post("statusantrean", body, token=other_key)) == "Token tidak valid"
    assert refused(jkn.post("statusantrean", body, token="not.a.token")) == "Token tidak valid"
    unsigned = jwt.encode({"sub": settings.jkn_username, "exp": 9999999999, "iat": 1}, None, "none")
    assert refused(jkn.post("statusantrean", body, token=unsigned)) == "Token tidak valid"
    message = "Token tidak valid: x-username tidak sesuai dengan pemilik token"
    assert refused(jkn.post("statusantrean", body, username="someone-else")) == message
    assert refused(jkn.post("statusantrean", body, token="")) == "Header x-token dan x-username wajib diisi"


def test_a_token_lives_as_long_as_configured(sqlite_app):
    sqlite_app.settings.jkn_token_minutes = 1
    claims = jwt.decode(signed_in(sqlite_app).token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


def test_token_requests_are_rate_limited(sqlite_app):
    jkn = signed_in(sqlite_app)
    replies = [jkn.auth(password="guessing") for _ in range(6)]
    assert [r.status_code for r in replies] == [200] * 5 + [429]
    assert replies[-1].get_json() == {
        "metadata": {"message": "Terlalu banyak permintaan token; coba lagi dalam satu menit", "code": 201}
    }
    assert jkn.auth().status_code == 429  # the address is blocked for a while, right password or not


@pytest.mark.parametrize("setting", ["jkn_username", "jkn_password", "jkn_token_secret"])
def test_the_service_is_off_until_fully_configured(sqlite_app, setting):
    jkn = signed_in(sqlite_app)
    setattr(sqlite_app.settings, setting, "")
    message = "Layanan Mobile JKN belum diaktifkan di rumah sakit ini"
    assert jkn.auth().get_json()["metadata"] == {"message": message, "code": 201}
    assert refused(jkn.post("statusantrean", session_body(sqlite_app))) == message


def test_the_web_service_needs_no_session_and_no_csrf_token(client):
    """Anonymous requests reach the service (the /api/* 401 rule does not apply); other /api/ routes still 401."""
    reply = client.post("/api/jkn/statusantrean", json={})
    assert reply.status_code == 200
    assert reply.get_json()["metadata"]["message"] == "Header x-token dan x-username wajib diisi"
    assert client.post("/api/beds/ICU-01/alarms/ack", json={}).status_code == 401


# ---- settings ---------------------------------------------------------------------------------------------------


def test_the_demo_gets_marked_demo_credentials():
    settings = load_settings(env="test")
    assert (settings.jkn_username, settings.jkn_password) == (DEMO_JKN_USERNAME, DEMO_JKN_PASSWORD)
    assert settings.jkn_token_secret == DEMO_JKN_TOKEN_SECRET and "DEMO" in DEMO_JKN_TOKEN_SECRET
    assert load_settings(env="test", demo=False).jkn_username == ""


@pytest.mark.parametrize(
    "credentials",
    [
        {"jkn_username": "rs-jkn", "jkn_password": "", "jkn_token_secret": "s" * 40},
        {"jkn_username": "rs-jkn", "jkn_password": DEMO_JKN_PASSWORD, "jkn_token_secret": "s" * 40},
        {"jkn_username": "rs-jkn", "jkn_password": "a-real-password", "jkn_token_secret": ""},
        {"jkn_username": "rs-jkn", "jkn_password": "a-real-password", "jkn_token_secret": DEMO_JKN_TOKEN_SECRET},
        {"jkn_username": "rs-jkn", "jkn_password": "a-real-password", "jkn_token_secret": "too-short"},
        {"jkn_username": DEMO_JKN_USERNAME, "jkn_password": "a-real-password", "jkn_token_secret": "s" * 40},
    ],
)
def test_production_refuses_missing_or_demo_jkn_secrets(credentials):
    with pytest.raises(ConfigError, match="PANTAU_JKN_"):
        load_settings(**PRODUCTION_OK, **credentials)


def test_production_starts_with_jkn_off_or_properly_configured():
    assert load_settings(**PRODUCTION_OK).jkn_username == ""
    configured = {"jkn_username": "rs-jkn", "jkn_password": "a-real-password", "jkn_token_secret": "s" * 40}
    assert load_settings(**PRODUCTION_OK, **configured).jkn_username == "rs-jkn"


# ---- statusantrean ----------------------------------------------------------------------------------------------


def test_status_counts_the_session_without_naming_anyone(jkn):
    pantau = jkn.pantau
    first, second = member(pantau, "Kusumawardhani Prameswari"), member(pantau)
    desk_booking(pantau, first)
    booked = book(jkn, second)
    info = umum_session(pantau)
    status = ok(jkn.post("statusantrean", session_body(pantau)))
    assert status == {
        "namapoli": "Poli Umum",
        "namadokter": "dr. Sari Wulandari (demo)",
        "totalantrean": 2,
        "sisaantrean": 2,
        "antreanpanggil": "-",
        "sisakuotajkn": info.quota_jkn - 1,
        "kuotajkn": info.quota_jkn,
        "sisakuotanonjkn": info.quota_non_jkn - 1,
        "kuotanonjkn": info.quota_non_jkn,
        "keterangan": "",
    }
    ok(jkn.post("checkinantrean", {"kodebooking": booked["kodebooking"], "waktu": 0}))
    counter(pantau, booked["kodebooking"], call_ticket, "Ruang 1")
    status = ok(jkn.post("statusantrean", session_body(pantau)))
    assert (status["antreanpanggil"], status["sisaantrean"]) == (booked["nomorantrean"], 1)


def test_status_refusals_say_what_is_wrong(jkn):
    pantau = jkn.pantau
    day = today(pantau)
    info = umum_session(pantau)
    cases = {
        "12-01-2026": "Format tanggalperiksa tidak sesuai, format yang benar adalah yyyy-mm-dd",
        "2026-02-30": "Format tanggalperiksa tidak sesuai, format yang benar adalah yyyy-mm-dd",
        (day - timedelta(days=1)).isoformat(): f"Tanggal periksa {long_date(day - timedelta(days=1))} sudah lewat",
        (day + timedelta(days=91)).isoformat(): (
            f"Tanggal periksa paling lambat 90 hari dari hari ini ({long_date(day + timedelta(days=90))})"
        ),
    }
    for value, message in cases.items():
        assert refused(jkn.post("statusantrean", session_body(pantau, tanggalperiksa=value))) == message
    assert refused(jkn.post("statusantrean", session_body(pantau, kodepoli="XYZ"))) == (
        "Poli dengan kode XYZ tidak ditemukan"
    )
    assert refused(jkn.post("statusantrean", session_body(pantau, kodedokter="99999"))) == (
        "Dokter dengan kode 99999 tidak ditemukan"
    )
    assert refused(jkn.post("statusantrean", session_body(pantau, kodedokter="31002"))) == (
        "dr. Budi Santoso, Sp.A (demo) tidak praktik di Poli Umum"
    )
    assert refused(jkn.post("statusantrean", session_body(pantau, jampraktek="8-12"))) == (
        "Format jampraktek tidak sesuai, format yang benar adalah HH:MM-HH:MM (contoh 08:00-12:00)"
    )
    assert refused(jkn.post("statusantrean", session_body(pantau, jampraktek="12:00-08:00"))) == (
        "jampraktek tidak sesuai: jam mulai harus sebelum jam selesai"
    )
    unknown_hours = "00:00-00:01"  # the demo's sessions last hours
    assert refused(jkn.post("statusantrean", session_body(pantau, jampraktek=unknown_hours))) == (
        f"Jadwal dr. Sari Wulandari (demo) di Poli Umum pada {long_date(day)} jam {unknown_hours} tidak ada; "
        f"jadwal yang ada: {hours(info)}"
    )
    assert refused(jkn.post("statusantrean", {"kodepoli": "UMU"})) == "kodedokter wajib diisi"


def test_a_bad_body_is_refused_on_every_endpoint(jkn):
    rules = [r for r in jkn.pantau.server.url_map.iter_rules() if r.rule.startswith("/api/jkn/")]
    endpoints = [r.rule.removeprefix("/api/jkn/") for r in rules if "POST" in r.methods]
    assert len(endpoints) == 10
    for endpoint in endpoints:
        for body in ("{not json", "[1, 2]", '"text"'):
            assert refused(jkn.post(endpoint, body)) == "Format request tidak sesuai", endpoint


# ---- ambilantrean -----------------------------------------------------------------------------------------------


def test_a_booking_takes_the_next_number_of_the_desks_counter(jkn):
    pantau = jkn.pantau
    walk_in, jkn_member = member(pantau), member(pantau)
    at_desk = desk_booking(pantau, walk_in)
    info = umum_session(pantau)
    booked = book(jkn, jkn_member, jeniskunjungan=3)
    assert booked["angkaantrean"] == at_desk.number + 1
    assert booked["nomorantrean"] == f"A{at_desk.number + 1:03d}"
    assert booked["norm"] == jkn_member.mrn
    assert (booked["namapoli"], booked["namadokter"]) == ("Poli Umum", "dr. Sari Wulandari (demo)")
    assert booked["kodebooking"].startswith(today(pantau).strftime("%Y%m%d"))
    assert isinstance(booked["estimasidilayani"], int) and booked["estimasidilayani"] > 1_700_000_000_000  # ms
    assert (booked["sisakuotajkn"], booked["kuotajkn"]) == (info.quota_jkn - 1, info.quota_jkn)
    assert (booked["sisakuotanonjkn"], booked["kuotanonjkn"]) == (info.quota_non_jkn - 1, info.quota_non_jkn)
    assert booked["keterangan"]
    ticket = ticket_of(pantau, booked["kodebooking"])
    assert ticket.status == "booked" and ticket.session_id == info.id
    assert tasks_of(pantau, booked["kodebooking"]) == {}  # nobody is there yet: no task time
    with pantau.runtime.db.session() as s:
        visit = s.scalar(select(Visit).where(Visit.booking_code == booked["kodebooking"]))
        assert (visit.source, visit.payer, visit.referral_number) == ("mobile_jkn", "jkn", REFERRAL)
    [(kind, payload)] = outbox_of(pantau, booked["kodebooking"])
    assert kind == "antrean_add" and payload["jeniskunjungan"] == 3 and payload["nomorantrean"] == ticket.label
    assert payload["estimasidilayani"] == booked["estimasidilayani"]
    again = desk_booking(pantau, member(pantau))
    assert again.number == booked["angkaantrean"] + 1  # and the desk goes on from there


def test_a_booking_for_a_later_day_uses_that_days_session(jkn):
    pantau, who = jkn.pantau, member(jkn.pantau)
    later = today(pantau) + timedelta(days=7)
    booked = book(jkn, who, tanggalperiksa=later.isoformat())
    assert booked["angkaantrean"] == 1 and booked["kodebooking"].startswith(later.strftime("%Y%m%d"))
    message = refused(jkn.post("checkinantrean", {"kodebooking": booked["kodebooking"], "waktu": 1}))
    assert message == "Check-in hanya pada tanggal periksa."
    assert refused(jkn.post("ambilantrean", booking_body(pantau, who, tanggalperiksa=later.isoformat()))) == (
        f"Peserta sudah terdaftar di Poli Umum pada {long_date(later)} (nomor antrean A001)"
    )


def test_an_unknown_card_is_a_new_patient(jkn):
    stranger = Member(0, "", "", "0009999999999", "3171999999999999")
    reply = jkn.post("ambilantrean", booking_body(jkn.pantau, stranger, norm=""))
    assert reply == {"metadata": {"message": "Pasien Baru, silakan daftar melalui pasienbaru", "code": 202}}
    with jkn.pantau.runtime.db.session() as s:  # the refused booking wrote nothing, but its card look-up is audited
        searches = s.scalars(select(AuditLog).where(AuditLog.action == "patient_search")).all()
        assert [(a.detail["by"], a.detail["count"]) for a in searches] == [("bpjs", 0)]
        assert s.scalar(select(func.count()).select_from(Visit)) == 0


def test_booking_refusals_say_what_is_wrong(jkn):
    pantau = jkn.pantau
    who = member(pantau)
    day = today(pantau)
    cases = [
        ({"nomorkartu": "123456789012"}, "nomorkartu harus 13 digit angka"),
        ({"nik": "31710000000000AB"}, "nik harus 16 digit angka"),
        ({"nik": "3171000000009999"}, "NIK tidak sesuai dengan nomor kartu"),
        ({"norm": "999999"}, "Nomor rekam medis 999999 tidak sesuai dengan nomor kartu"),
        ({"tanggalperiksa": "2026/01/12"}, "Format tanggalperiksa tidak sesuai, format yang benar adalah yyyy-mm-dd"),
        ({"tanggalperiksa": (day - timedelta(days=3)).isoformat()}, "sudah lewat"),
        ({"tanggalperiksa": (day + timedelta(days=120)).isoformat()}, "paling lambat 90 hari"),
        ({"kodepoli": "ZZZ"}, "Poli dengan kode ZZZ tidak ditemukan"),
        ({"kodedokter": "00000"}, "Dokter dengan kode 00000 tidak ditemukan"),
        ({"kodedokter": "31004"}, "drg. Agus Pratama (demo) tidak praktik di Poli Umum"),
        ({"jampraktek": "00:00-00:01"}, "jadwal yang ada:"),
        ({"jeniskunjungan": 5}, "jeniskunjungan harus 1 (rujukan FKTP), 2 (rujukan internal), 3 (kontrol) atau 4"),
        ({"jeniskunjungan": "satu"}, "jeniskunjungan harus berupa angka bulat"),
        ({"nomorreferensi": ""}, "nomorreferensi wajib diisi"),
        ({"nomorkartu": None}, "nomorkartu wajib diisi"),
        ({"nik": ["3171"]}, "nik harus berupa teks atau angka"),
    ]
    for changes, message in cases:
        assert message in refused(jkn.post("ambilantrean", booking_body(pantau, who, **changes))), changes
    assert ok(jkn.post("ambilantrean", booking_body(pantau, who)))  # nothing above took a number or a place
    assert ticket_of(pantau, _only_booking(pantau, who)).number == 1


def _only_booking(pantau, who: Member) -> str:
    with pantau.runtime.db.session() as s:
        (code,) = s.scalars(select(Visit.booking_code).where(Visit.patient_id == who.id)).all()
        return code


def test_a_member_books_a_poli_once_a_day(jkn):
    pantau, who = jkn.pantau, member(jkn.pantau)
    booked = book(jkn, who)
    assert refused(jkn.post("ambilantrean", booking_body(pantau, who))) == (
        f"Peserta sudah terdaftar di Poli Umum pada {long_date(today(pantau))} (nomor antrean {booked['nomorantrean']})"
    )
    other_doctor = umum_session(pantau, "31006")
    reply = jkn.post("ambilantrean", booking_body(pantau, who, kodedokter="31006", jampraktek=hours(other_doctor)))
    assert "sudah terdaftar di Poli Umum" in refused(reply)


def test_a_closed_poli_and_a_full_quota_are_refused(jkn):
    pantau = jkn.pantau
    with pantau.runtime.db.session() as s:
        actor = desk(s)
        umum = s.scalar(select(Poli.id).where(Poli.code == "UMU"))
        close_poli(s, actor, umum, local_today(s, actor.site_id), "Dokter mengikuti seminar")
    message = refused(jkn.post("ambilantrean", booking_body(pantau, member(pantau))))
    assert message == f"Poli Umum tutup pada {long_date(today(pantau))}: Dokter mengikuti seminar"
    assert ok(jkn.post("statusantrean", session_body(pantau)))["keterangan"] == "Poli tutup: Dokter mengikuti seminar"
    session_id = umum_session(pantau).id
    with pantau.runtime.db.session() as s:
        s.execute(update(ClinicSession).values(closed_reason=None))
        s.execute(update(ClinicSession).where(ClinicSession.id == session_id).values(quota_jkn=1))
    first = book(jkn, member(pantau))
    assert (first["sisakuotajkn"], first["kuotajkn"]) == (0, 1)
    assert refused(jkn.post("ambilantrean", booking_body(pantau, member(pantau)))) == (
        "Kuota JKN untuk sesi dokter ini sudah penuh."
    )


def test_a_member_without_a_nik_on_file_is_sent_to_admission(jkn):
    pantau = jkn.pantau
    who = member(pantau)
    with pantau.runtime.db.session() as s:
        s.execute(update(Patient).where(Patient.id == who.id).values(nik_enc=None, nik_bidx=None))
    assert refused(jkn.post("ambilantrean", booking_body(pantau, who))) == (
        "NIK peserta belum tercatat di rumah sakit; silakan mendaftar di admisi"
    )


# ---- sisaantrean, checkin, batal ---------------------------------------------------------------------------------


def test_remaining_counts_those_before_this_booking(jkn):
    pantau = jkn.pantau
    first, second = book(jkn, member(pantau)), book(jkn, member(pantau))
    left = ok(jkn.post("sisaantrean", {"kodebooking": second["kodebooking"]}))
    assert left["nomorantrean"] == second["nomorantrean"]
    assert (left["namapoli"], left["namadokter"]) == ("Poli Umum", "dr. Sari Wulandari (demo)")
    assert (left["sisaantrean"], left["antreanpanggil"]) == (1, "-")
    assert isinstance(left["waktutunggu"], int) and left["waktutunggu"] >= 0
    assert left["keterangan"] == "Belum check-in; silakan check-in saat tiba di rumah sakit"
    ok(jkn.post("checkinantrean", {"kodebooking": first["kodebooking"], "waktu": 0}))
    counter(pantau, first["kodebooking"], call_ticket, "Ruang 1")
    left = ok(jkn.post("sisaantrean", {"kodebooking": second["kodebooking"]}))
    assert (left["sisaantrean"], left["antreanpanggil"]) == (1, first["nomorantrean"])  # called, not yet seen
    assert ok(jkn.post("sisaantrean", {"kodebooking": first["kodebooking"]}))["keterangan"] == (
        "Nomor Anda sedang dipanggil"
    )
    assert refused(jkn.post("sisaantrean", {"kodebooking": "20260101ZZZZZZ"})) == (
        "Kode booking 20260101ZZZZZZ tidak ditemukan"
    )
    assert refused(jkn.post("sisaantrean", {})) == "kodebooking wajib diisi"


def test_check_in_puts_the_booking_in_line_with_task_3_at_the_servers_time(jkn):
    pantau = jkn.pantau
    booked = book(jkn, member(pantau))
    code = booked["kodebooking"]
    hour_ago = int((datetime.now(UTC) - timedelta(hours=1)).timestamp() * 1000)
    before = datetime.now(UTC)
    assert ok(jkn.post("checkinantrean", {"kodebooking": code, "waktu": hour_ago})) == {}
    after = datetime.now(UTC)
    assert ticket_of(pantau, code).status == "waiting"
    tasks = tasks_of(pantau, code)
    assert list(tasks) == [3] and before <= tasks[3] <= after  # the server's clock, not the caller's
    updates = [p for kind, p in outbox_of(pantau, code) if kind == "updatewaktu"]
    assert updates == [{"kodebooking": code, "taskid": 3, "waktu": int(tasks[3].timestamp() * 1000)}]
    assert refused(jkn.post("checkinantrean", {"kodebooking": code, "waktu": hour_ago})) == (
        "Booking ini tidak menunggu check-in (sudah check-in, selesai, atau batal)."
    )
    assert refused(jkn.post("checkinantrean", {"kodebooking": code})) == "waktu wajib diisi"
    assert refused(jkn.post("checkinantrean", {"kodebooking": code, "waktu": "kemarin"})) == (
        "waktu harus berupa angka bulat"
    )


def test_cancel_records_task_99_returns_the_place_and_tells_bpjs(jkn):
    pantau = jkn.pantau
    booked = book(jkn, member(pantau))
    code = booked["kodebooking"]
    assert ok(jkn.post("batalantrean", {"kodebooking": code, "keterangan": "Pasien berhalangan"})) == {}
    assert ticket_of(pantau, code).status == "cancelled"
    assert list(tasks_of(pantau, code)) == [99]
    kinds = [kind for kind, _ in outbox_of(pantau, code)]
    assert kinds == ["antrean_add", "updatewaktu", "batal"]
    status = ok(jkn.post("statusantrean", session_body(pantau)))
    assert status["sisakuotajkn"] == booked["sisakuotajkn"] + 1 and status["totalantrean"] == 0
    assert refused(jkn.post("batalantrean", {"kodebooking": code, "keterangan": "lagi"})) == (
        f"Antrean dengan kode booking {code} sudah dibatalkan"
    )
    assert refused(jkn.post("checkinantrean", {"kodebooking": code, "waktu": 0})) == (
        f"Antrean dengan kode booking {code} sudah dibatalkan"
    )
    assert refused(jkn.post("batalantrean", {"kodebooking": "NOPE"})) == "Kode booking NOPE tidak ditemukan"


def test_a_booking_being_served_cannot_be_cancelled(jkn):
    pantau = jkn.pantau
    code = book(jkn, member(pantau))["kodebooking"]
    ok(jkn.post("checkinantrean", {"kodebooking": code, "waktu": 0}))
    counter(pantau, code, call_ticket, "Ruang 1")
    counter(pantau, code, start)
    assert refused(jkn.post("batalantrean", {"kodebooking": code, "keterangan": "x"})) == (
        f"Antrean dengan kode booking {code} tidak dapat dibatalkan karena pasien sudah dilayani"
    )
    assert ticket_of(pantau, code).status == "serving"


def test_only_jkn_bookings_exist_for_mobile_jkn(jkn):
    pantau = jkn.pantau
    walk_in = desk_booking(pantau, member(pantau))
    assert refused(jkn.post("sisaantrean", {"kodebooking": walk_in.booking_code})) == (
        f"Kode booking {walk_in.booking_code} tidak ditemukan"
    )
    assert refused(jkn.post("batalantrean", {"kodebooking": walk_in.booking_code})) == (
        f"Kode booking {walk_in.booking_code} tidak ditemukan"
    )
    assert ticket_of(pantau, walk_in.booking_code).status == "waiting"
    at_desk = desk_booking(pantau, member(pantau), payer="jkn")  # a JKN visit from the desk: BPJS knows it too
    assert ok(jkn.post("sisaantrean", {"kodebooking": at_desk.booking_code}))["nomorantrean"] == at_desk.label


# ---- pasienbaru -------------------------------------------------------------------------------------------------


def new_patient_body(**changes: object) -> dict:
    n = next(_serial)
    body = {
        "nomorkartu": f"{8000000000000 + n}",
        "nik": f"{3272000000000000 + n}",
        "nomorkk": "3272000000000001",
        "nama": "Ahmad Fauzan Hidayat",
        "jeniskelamin": "L",
        "tanggallahir": "1990-07-17",
        "nohp": "081298765432",
        "alamat": "Jl. Merdeka No. 10",
        "kodeprop": "32",
        "namaprop": "Jawa Barat",
        "kodedati2": "0188",
        "namadati2": "Kota Bandung",
        "kodekec": "2012",
        "namakec": "Sumur Bandung",
        "kodekel": "25001",
        "namakel": "Braga",
        "rw": "004",
        "rt": "002",
    }
    return body | changes


def test_a_new_patient_is_registered_and_can_then_book(jkn):
    pantau = jkn.pantau
    body = new_patient_body()
    reply = jkn.post("pasienbaru", body)
    assert reply["metadata"] == {"message": "Harap datang ke admisi untuk melengkapi data rekam medis", "code": 200}
    norm = reply["response"]["norm"]
    with pantau.runtime.db.session() as s:
        patient = s.scalar(select(Patient).where(Patient.mrn == norm))
        assert (patient.name, patient.sex, patient.birth_date) == ("Ahmad Fauzan Hidayat", "L", date(1990, 7, 17))
        address = decrypt_field(pantau.runtime.cipher, patient, "address")
        assert "Braga" not in (patient.address_enc or "")  # encrypted at rest
    assert address == "Jl. Merdeka No. 10, RT 002/RW 004, Braga, Sumur Bandung, Kota Bandung, Jawa Barat"
    who = Member(patient.id, norm, "Ahmad Fauzan Hidayat", body["nomorkartu"], body["nik"])
    booked = book(jkn, who)
    assert booked["norm"] == norm
    assert refused(jkn.post("pasienbaru", body)) == (
        "Peserta dengan nomor kartu atau NIK ini sudah terdaftar di rumah sakit ini"
    )
    same_nik = new_patient_body(nik=body["nik"])
    assert "sudah terdaftar" in refused(jkn.post("pasienbaru", same_nik))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tanggallahir": "17-07-1990"}, "Format tanggallahir tidak sesuai, format yang benar adalah yyyy-mm-dd"),
        ({"tanggallahir": "2999-01-01"}, "Tanggal lahir tidak masuk akal"),
        ({"nomorkartu": "12345"}, "nomorkartu harus 13 digit angka"),
        ({"nik": "327200000000000X"}, "nik harus 16 digit angka"),
        ({"nomorkk": ""}, "nomorkk wajib diisi"),
        ({"nama": "  "}, "nama wajib diisi"),
        ({"jeniskelamin": "X"}, "jeniskelamin harus L (laki-laki) atau P (perempuan)"),
        ({"nohp": "12345"}, "Nomor HP harus diawali 08 atau +62"),
        ({"alamat": ""}, "alamat wajib diisi"),
    ],
)
def test_new_patient_refusals_say_what_is_wrong(sqlite_app, changes, message):
    jkn = signed_in(sqlite_app)
    assert message in refused(jkn.post("pasienbaru", new_patient_body(**changes)))
    with sqlite_app.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.is_demo.is_(False))) == 0


# ---- operations -------------------------------------------------------------------------------------------------


def test_operation_schedules_are_an_honest_empty_list(jkn):
    assert ok(jkn.post("jadwaloperasirs", {"tanggalawal": "2026-01-01", "tanggalakhir": "2026-01-31"})) == {"list": []}
    assert refused(jkn.post("jadwaloperasirs", {"tanggalawal": "2026-02-01", "tanggalakhir": "2026-01-31"})) == (
        "tanggalawal tidak boleh setelah tanggalakhir"
    )
    assert refused(jkn.post("jadwaloperasirs", {"tanggalawal": "01/02/2026", "tanggalakhir": "2026-01-31"})) == (
        "Format tanggalawal tidak sesuai, format yang benar adalah yyyy-mm-dd"
    )
    assert ok(jkn.post("jadwaloperasipasien", {"nopeserta": "0001234567890"})) == {"list": []}
    assert refused(jkn.post("jadwaloperasipasien", {"nopeserta": "123"})) == "nopeserta harus 13 digit angka"


# ---- farmasi ----------------------------------------------------------------------------------------------------


def pharmacy_tickets(pantau) -> int:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(QueueTicket).where(QueueTicket.point.like("farmasi:%")))


def test_the_pharmacy_number_comes_from_the_poli_never_from_mobile_jkn(jkn):
    pantau = jkn.pantau
    code = book(jkn, member(pantau))["kodebooking"]
    message = "Belum ada resep untuk kode booking ini"
    assert refused(jkn.post("ambilantreanfarmasi", {"kodebooking": code})) == message
    assert refused(jkn.post("statusantreanfarmasi", {"kodebooking": code})) == message
    assert pharmacy_tickets(pantau) == 0
    ok(jkn.post("checkinantrean", {"kodebooking": code, "waktu": 0}))
    counter(pantau, code, call_ticket, "Ruang 1")
    counter(pantau, code, start)
    counter(pantau, code, finish, pharmacy="farmasi:racikan")
    assert ok(jkn.post("ambilantreanfarmasi", {"kodebooking": code})) == {
        "jenisresep": "racikan",
        "nomorantrean": 1,
        "keterangan": "Nomor antrean farmasi R001",
    }
    assert ok(jkn.post("statusantreanfarmasi", {"kodebooking": code})) == {
        "jenisresep": "racikan",
        "totalantrean": 1,
        "sisaantrean": 0,
        "antreanpanggil": "-",
        "keterangan": "Menunggu panggilan",
    }
    assert pharmacy_tickets(pantau) == 1


# ---- privacy ----------------------------------------------------------------------------------------------------


def test_answers_never_carry_another_patients_data(jkn, caplog):
    pantau = jkn.pantau
    other = member(pantau, "Kusumawardhani Prameswari Setyaningrum")
    theirs = desk_booking(pantau, other, payer="jkn")
    mine = member(pantau, "Budi Hartono")
    with caplog.at_level(logging.DEBUG):
        booked = book(jkn, mine)
        code = booked["kodebooking"]
        replies = [
            booked,
            jkn.post("statusantrean", session_body(pantau)),
            jkn.post("sisaantrean", {"kodebooking": code}),
            jkn.post("checkinantrean", {"kodebooking": code, "waktu": 0}),
            jkn.post("ambilantreanfarmasi", {"kodebooking": code}),
            jkn.post("ambilantrean", booking_body(pantau, mine, nik=other.nik)),
            jkn.post("ambilantrean", booking_body(pantau, other, nik=mine.nik)),
        ]
    text = json.dumps(replies)
    for secret in (other.name, "Kusumawardhani", other.mrn, other.card, other.nik, theirs.booking_code):
        assert secret not in text
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert "ambilantrean" in logged  # the calls are logged ...
    for secret in (mine.card, mine.nik, other.card, other.nik, mine.name, REFERRAL):
        assert secret not in logged  # ... without their bodies
