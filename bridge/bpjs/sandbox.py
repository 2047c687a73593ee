"""A stand-in for BPJS Antrean RS that behaves like it, for the demo, the tests and the benchmark.

It checks the headers, the signature and a timestamp window, answers the reference endpoints with encrypted
``response`` strings, enforces the task rules, answers 208 for duplicates and 201 with a message for invalid data,
and injects transient 404 "Gagal dicoba kembali" answers (before changing anything, so a retry is correct).
``GET /sandbox/`` and ``GET /sandbox/state.json`` show what it received (identity numbers masked). Routes are
relative, so the app can be mounted under a prefix (``DispatcherMiddleware``); the state object is
``app.extensions[EXTENSION]``.

Reference data (fictional): the polis are the demo seed's BPJS poli codes; the doctors have the sandbox's own
HFIS codes (``kodedokter``): 31001 dr. Sari Wulandari (UMU), 31002 dr. Budi Santoso, Sp.A (ANA), 31003 dr. Ratna
Dewi, Sp.PD (INT), 31004 drg. Agus Pratama (GIG), 31005 dr. Maya Lestari, Sp.OG (OBG), 31006 dr. Hendra Gunawan
(UMU). Their practice schedule (HFIS) is the ``jadwal`` given at creation (the embedded demo passes the demo's
weekly plan, ``data.seed.demo_hfis_jadwal``); without one each doctor practises 08:00-16:00 every day.
``jadwaldokter/updatejadwaldokter`` changes it either way.

Given a ``state_file`` (the embedded demo's), it keeps its bookings there, identity numbers masked, and a restart
takes back those of today and later, as BPJS keeps them across Pantau's restarts: a task the worker sends after
the demo restarted then finds its booking. The schedule changes are not kept (the demo makes HFIS's anew).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template_string, request
from werkzeug.serving import WSGIRequestHandler

from bridge.bpjs.crypto import encrypt_response, signature
from domain.queue_tasks import TASK_NAMES

log = logging.getLogger(__name__)
EXTENSION = "bpjs_sandbox"
RETRY_MESSAGE = "Gagal dicoba kembali"

POLIS = {"UMU": "UMUM", "ANA": "ANAK", "INT": "PENYAKIT DALAM", "GIG": "GIGI", "OBG": "OBGYN"}
DOCTORS = {
    31001: ("dr. Sari Wulandari (demo)", "UMU"),
    31002: ("dr. Budi Santoso, Sp.A (demo)", "ANA"),
    31003: ("dr. Ratna Dewi, Sp.PD (demo)", "INT"),
    31004: ("drg. Agus Pratama (demo)", "GIG"),
    31005: ("dr. Maya Lestari, Sp.OG (demo)", "OBG"),
    31006: ("dr. Hendra Gunawan (demo)", "UMU"),
}
DEFAULT_JADWAL = "08:00-16:00"  # every doctor, every day (hari 1-7), when no jadwal is given
DEFAULT_CAPACITY = 60
HARI = {1: "SENIN", 2: "SELASA", 3: "RABU", 4: "KAMIS", 5: "JUMAT", 6: "SABTU", 7: "MINGGU", 8: "HARI LIBUR NASIONAL"}
TASK_CANCEL = 99
TASK_SERVED = 5  # once the poli has finished with the patient, the booking can no longer be cancelled
FIRST_TASKS = (1, 3)  # new patients start at admission (1), others at the poli queue (3)
ADD_REQUIRED = (
    "kodebooking",
    "jenispasien",
    "kodepoli",
    "namapoli",
    "pasienbaru",
    "norm",
    "tanggalperiksa",
    "kodedokter",
    "namadokter",
    "jampraktek",
    "jeniskunjungan",
    "nomorantrean",
    "angkaantrean",
    "estimasidilayani",
    "sisakuotajkn",
    "kuotajkn",
    "sisakuotanonjkn",
    "kuotanonjkn",
)
ADD_NUMBERS = ("angkaantrean", "estimasidilayani", "sisakuotajkn", "kuotajkn", "sisakuotanonjkn", "kuotanonjkn")
MASKED = ("nik", "nomorkartu", "nohp")
DATE_FORMAT_MESSAGE = "Format Tanggal Tidak Sesuai, format yang benar adalah yyyy-mm-dd"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOURS = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_MS_FLOOR = 10**12  # epoch milliseconds before 2001-09-09 are almost surely seconds sent by mistake


class BpjsRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, keeping BPJS's ``user_key`` header that Werkzeug drops for its underscore.

    Serve the sandbox with it (``make_server(..., request_handler=BpjsRequestHandler)``); gunicorn needs
    ``--header-map dangerous`` for the same reason.
    """

    def make_environ(self) -> dict:
        environ = super().make_environ()
        user_key = self.headers.get("user_key")
        if user_key is not None:
            environ.setdefault("HTTP_USER_KEY", user_key.replace("\r\n", ""))
        return environ


class _Reject(Exception):
    """An answer other than 200, raised inside a handler: ``code`` and a BPJS-style ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Task:
    taskid: int
    waktu_ms: int
    received_ms: int


@dataclass
class _Booking:
    payload: dict
    received_ms: int
    tasks: list[_Task] = field(default_factory=list)
    batal: dict | None = None
    farmasi: dict | None = None

    def task(self, taskid: int) -> _Task | None:
        return next((t for t in self.tasks if t.taskid == taskid), None)

    @property
    def cancelled(self) -> bool:
        return self.batal is not None or self.task(TASK_CANCEL) is not None

    @property
    def served(self) -> bool:
        return any(TASK_SERVED <= t.taskid < TASK_CANCEL for t in self.tasks)

    def kept(self) -> dict:
        """As the state file keeps it: identity numbers masked (no rule reads them after ``antrean/add``)."""
        payload = {k: _mask(v) if k in MASKED else v for k, v in self.payload.items()}
        tasks = [[t.taskid, t.waktu_ms, t.received_ms] for t in self.tasks]
        return {"payload": payload, "received_ms": self.received_ms, "tasks": tasks, "batal": self.batal,
                "farmasi": self.farmasi}  # fmt: skip

    @classmethod
    def from_kept(cls, kept: dict) -> _Booking:
        tasks = [_Task(*task) for task in kept["tasks"]]
        return cls(kept["payload"], kept["received_ms"], tasks, kept["batal"], kept["farmasi"])


def _int(value: object, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise _Reject(201, f"{name} harus berupa angka")


def _day(value: object) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _Reject(201, DATE_FORMAT_MESSAGE)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Reject(201, DATE_FORMAT_MESSAGE) from None


def _hours(value: object, name: str) -> tuple[str, str]:
    parts = [part.strip() for part in value.split("-")] if isinstance(value, str) else []
    if len(parts) != 2 or not all(_HOURS.fullmatch(part) for part in parts) or parts[0] >= parts[1]:
        raise _Reject(201, f"Format {name} tidak sesuai, contoh 08:00-16:00")
    return parts[0], parts[1]


def _mask(value: object) -> str:
    text = str(value or "")
    return "*" * max(len(text) - 4, 0) + text[-4:]


class BpjsSandbox:
    """The sandbox's credentials, rules and in-memory state; every change happens under one lock."""

    def __init__(
        self,
        cons_id: str,
        secret: str,
        user_key: str,
        *,
        failure_rate: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] | None = None,
        timestamp_window_seconds: int = 300,
        timezone: str = "Asia/Jakarta",
        jadwal: Mapping[tuple[int, int], str] | None = None,
        state_file: Path | None = None,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        self._cons_id, self._secret, self._user_key = cons_id, secret, user_key
        self.failure_rate = failure_rate
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._clock = clock or time.time
        self._window = timestamp_window_seconds
        self.zone = ZoneInfo(timezone)
        self._lock = threading.Lock()
        self._bookings: dict[str, _Booking] = {}
        # HFIS's schedule: (kodedokter, hari) -> "HH:MM-HH:MM"; a doctor without an entry does not practise that day.
        # Changes made through updatejadwaldokter are kept apart, for the inspection view.
        self._hfis = (
            dict(jadwal) if jadwal is not None else {(d, h): DEFAULT_JADWAL for d in DOCTORS for h in range(1, 8)}
        )
        self._jadwal: dict[tuple[int, int], str] = {}
        self._codes: Counter[int] = Counter()
        self._state_file = state_file
        if state_file is not None:
            self._take_back(state_file)

    def _take_back(self, path: Path) -> None:
        """The bookings of today and later that an earlier run kept in ``path`` (none when it cannot be read)."""
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))["bookings"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the BPJS sandbox's kept bookings cannot be read; it starts empty", extra={"error": str(exc)})
            return
        today = datetime.fromtimestamp(self._clock(), self.zone).date().isoformat()
        for code, booking in kept.items():
            if str(booking["payload"].get("tanggalperiksa", "")) >= today:
                self._bookings[code] = _Booking.from_kept(booking)

    def _keep(self, path: Path) -> None:
        """Write every booking to ``path`` (replacing it whole, so a crash leaves the previous one). A file that
        cannot be written costs only the next restart's memory: BPJS's answer does not depend on it."""
        partial = path.with_name(path.name + ".part")
        bookings = {code: booking.kept() for code, booking in self._bookings.items()}
        try:
            partial.write_text(json.dumps({"bookings": bookings}), encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            log.warning("the BPJS sandbox cannot keep its bookings", extra={"error": str(exc)})

    # Request handling
    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        """Check the four headers, the signature and the timestamp window; return the timestamp."""
        values = {name: headers.get(name) or "" for name in ("x-cons-id", "x-timestamp", "x-signature", "user_key")}
        missing = next((name for name, value in values.items() if not value), None)
        if missing:
            raise _Reject(201, f"Authentication failed: header {missing} tidak ada")
        cons_id, timestamp, sent_signature, user_key = values.values()
        if not hmac.compare_digest(cons_id.encode(), self._cons_id.encode()):
            raise _Reject(201, "Authentication failed: cons-id tidak terdaftar")
        if not hmac.compare_digest(user_key.encode(), self._user_key.encode()):
            raise _Reject(201, "Authentication failed: user_key tidak valid")
        expected = signature(self._cons_id, self._secret, timestamp)
        if not hmac.compare_digest(sent_signature.encode(), expected.encode()):
            raise _Reject(201, "Authentication failed: signature tidak valid")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise _Reject(201, "Authentication failed: x-timestamp harus detik Unix (UTC)")
        if abs(int(timestamp) - self._clock()) > self._window:
            raise _Reject(201, f"Authentication failed: x-timestamp di luar batas waktu ±{self._window} detik")
        return timestamp

    def _answer(self, handler: Callable[..., tuple[str, object, bool]], **kwargs: str) -> tuple[int, str, object]:
        """Authenticate, maybe inject a transient failure, then run ``handler`` under the lock.

        ``handler`` returns (message, response, encrypt); the answer is (code, message, response).
        """
        try:
            timestamp = self._authenticate(request.headers)
            with self._lock:
                if self._rng.random() < self.failure_rate:
                    raise _Reject(404, RETRY_MESSAGE)
                message, response, encrypt = handler(**kwargs)
                if self._state_file is not None and request.method == "POST":
                    self._keep(self._state_file)
            if encrypt:
                response = encrypt_response(response, self._cons_id, self._secret, timestamp)
            code = 200
        except _Reject as reject:
            code, message, response = reject.code, reject.message, None
        with self._lock:
            self._codes[code] += 1
        return code, message, response

    @staticmethod
    def _body() -> dict:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _Reject(201, "Format request tidak sesuai, kirim objek JSON")
        return body

    def _booking(self, body: dict) -> _Booking:
        kodebooking = body.get("kodebooking")
        if not kodebooking:
            raise _Reject(201, "kodebooking belum diisi")
        booking = self._bookings.get(str(kodebooking))
        if booking is None:
            raise _Reject(201, "kodebooking tidak ditemukan")
        return booking

    # Reference data
    def _ref_poli(self) -> tuple[str, object, bool]:
        rows = [{"nmpoli": n, "nmsubspesialis": n, "kdsubspesialis": k, "kdpoli": k} for k, n in POLIS.items()]
        return "Ok", rows, True

    def _ref_dokter(self) -> tuple[str, object, bool]:
        return "Ok", [{"namadokter": name, "kodedokter": code} for code, (name, _) in DOCTORS.items()], True

    def _jadwal_dokter(self, kodepoli: str, tanggal: str) -> tuple[str, object, bool]:
        hari = _day(tanggal).isoweekday()
        if kodepoli not in POLIS:
            raise _Reject(201, "Poli tidak ditemukan")
        practising = {
            code: (name, self._jadwal.get((code, hari)) or self._hfis.get((code, hari)))
            for code, (name, poli) in DOCTORS.items()
            if poli == kodepoli
        }
        rows = [
            {
                "kodesubspesialis": kodepoli,
                "hari": hari,
                "kapasitaspasien": DEFAULT_CAPACITY,
                "libur": 0,
                "namahari": HARI[hari],
                "jadwal": jadwal,
                "namasubspesialis": POLIS[kodepoli],
                "namadokter": name,
                "kodepoli": kodepoli,
                "namapoli": POLIS[kodepoli],
                "kodedokter": code,
            }
            for code, (name, jadwal) in practising.items()
            if jadwal
        ]
        return "Ok", rows, True

    def _update_jadwal(self) -> tuple[str, object, bool]:
        body = self._body()
        if body.get("kodepoli") not in POLIS:
            raise _Reject(201, "Poli tidak ditemukan")
        kodedokter = _int(body.get("kodedokter"), "kodedokter")
        if DOCTORS.get(kodedokter, ("", ""))[1] != body["kodepoli"]:
            raise _Reject(201, "Dokter tidak ditemukan pada poli tersebut")
        jadwal = body.get("jadwal")
        if not isinstance(jadwal, list) or not jadwal or not all(isinstance(j, dict) for j in jadwal):
            raise _Reject(201, "jadwal belum diisi")
        changes = {}
        for entry in jadwal:
            hari = _int(entry.get("hari"), "hari")
            if hari not in HARI:
                raise _Reject(201, "hari harus 1 (Senin) sampai 7 (Minggu), atau 8 (hari libur nasional)")
            buka, tutup = _hours(f"{entry.get('buka')}-{entry.get('tutup')}", "jam buka/tutup")
            changes[(kodedokter, hari)] = f"{buka}-{tutup}"
        self._jadwal.update(changes)
        return "Ok", None, False

    # Queue (antrean) reporting
    def _add_antrean(self) -> tuple[str, object, bool]:
        body = self._body()
        missing = [name for name in ADD_REQUIRED if body.get(name) in (None, "")]
        if missing:
            raise _Reject(201, f"Data belum lengkap: {', '.join(missing)}")
        kodebooking = str(body["kodebooking"])
        if kodebooking in self._bookings:
            raise _Reject(208, "Terdapat duplikasi Kode Booking")
        self._check_add(body)
        self._bookings[kodebooking] = _Booking(payload=dict(body), received_ms=self._now_ms())
        return "Ok", None, False

    @staticmethod
    def _check_add(body: dict) -> None:
        _day(body["tanggalperiksa"])
        if body["jenispasien"] not in ("JKN", "NON JKN"):
            raise _Reject(201, "jenispasien harus JKN atau NON JKN")
        if body["jenispasien"] == "JKN":
            if not re.fullmatch(r"\d{13}", str(body.get("nomorkartu") or "")):
                raise _Reject(201, "nomorkartu harus 13 digit untuk pasien JKN")
            if not re.fullmatch(r"\d{16}", str(body.get("nik") or "")):
                raise _Reject(201, "nik harus 16 digit untuk pasien JKN")
            if not body.get("nomorreferensi"):
                raise _Reject(201, "nomorreferensi belum diisi (wajib untuk pasien JKN)")
        if body["kodepoli"] not in POLIS:
            raise _Reject(201, "Poli tidak ditemukan")
        if DOCTORS.get(_int(body["kodedokter"], "kodedokter"), ("", ""))[1] != body["kodepoli"]:
            raise _Reject(201, "Dokter tidak ditemukan pada poli tersebut")
        _hours(body["jampraktek"], "jampraktek")
        if _int(body["pasienbaru"], "pasienbaru") not in (0, 1):
            raise _Reject(201, "pasienbaru harus 0 atau 1")
        if _int(body["jeniskunjungan"], "jeniskunjungan") not in (1, 2, 3, 4):
            raise _Reject(
                201, "jeniskunjungan tidak sesuai (1 rujukan FKTP, 2 rujukan internal, 3 kontrol, 4 rujukan antar RS)"
            )
        for name in ADD_NUMBERS:
            _int(body[name], name)

    def _update_waktu(self) -> tuple[str, object, bool]:
        body = self._body()
        booking = self._booking(body)
        taskid = _int(body.get("taskid"), "taskid")
        if taskid not in TASK_NAMES:
            raise _Reject(201, f"TaskId={taskid} tidak valid, gunakan 1-7 atau 99")
        waktu = _int(body.get("waktu"), "waktu")
        if waktu < _MS_FLOOR:
            raise _Reject(201, "waktu harus epoch dalam milidetik")
        same = booking.task(taskid)
        if same is not None:
            if same.waktu_ms == waktu:
                raise _Reject(208, f"TaskId={taskid} sudah ada")
            raise _Reject(201, f"TaskId={taskid} sudah ada dengan waktu yang berbeda")
        self._check_order(booking, taskid, waktu)
        booking.tasks.append(_Task(taskid, waktu, self._now_ms()))
        return "Ok", None, False

    @staticmethod
    def _check_order(booking: _Booking, taskid: int, waktu: int) -> None:
        if taskid == TASK_CANCEL:
            if booking.served:
                raise _Reject(201, f"TaskId=99 tidak valid, pasien sudah selesai dilayani (TaskId={TASK_SERVED})")
        elif booking.cancelled:
            raise _Reject(201, "Antrean sudah dibatalkan")
        elif not booking.tasks:
            if taskid not in FIRST_TASKS:
                raise _Reject(201, f"TaskId={taskid} tidak valid, antrean dimulai dari TaskId=1 atau TaskId=3")
        else:
            last = booking.tasks[-1].taskid
            if taskid < last:
                raise _Reject(201, f"TaskId={taskid} tidak valid, TaskId={last} sudah ada (urutan salah)")
            if taskid > last + 1:
                raise _Reject(201, f"TaskId={taskid} tidak valid, TaskId={last + 1} belum ada")
        if booking.tasks and waktu <= booking.tasks[-1].waktu_ms:
            previous = booking.tasks[-1].taskid
            raise _Reject(201, f"waktu TaskId={taskid} harus lebih besar dari waktu TaskId={previous}")

    def _batal(self) -> tuple[str, object, bool]:
        body = self._body()
        booking = self._booking(body)
        if not body.get("keterangan"):
            raise _Reject(201, "keterangan belum diisi")
        if booking.batal is not None:
            raise _Reject(208, "Antrean sudah dibatalkan sebelumnya")
        if booking.served:
            raise _Reject(201, "Antrean tidak dapat dibatalkan, pasien sudah selesai dilayani")
        booking.batal = {"keterangan": str(body["keterangan"]), "received_ms": self._now_ms()}
        return "Ok", None, False

    def _add_farmasi(self) -> tuple[str, object, bool]:
        body = self._body()
        booking = self._booking(body)
        if booking.cancelled:
            raise _Reject(201, "Antrean sudah dibatalkan")
        if booking.farmasi is not None:
            raise _Reject(208, "Antrean farmasi sudah ada")
        jenisresep = str(body.get("jenisresep") or "").lower()
        if jenisresep not in ("racikan", "non racikan"):
            raise _Reject(201, "jenisresep harus racikan atau non racikan")
        nomor = _int(body.get("nomorantrean"), "nomorantrean")
        booking.farmasi = {
            "jenisresep": jenisresep,
            "nomorantrean": nomor,
            "keterangan": str(body.get("keterangan") or ""),
            "received_ms": self._now_ms(),
        }
        return "Ok", None, False

    def _list_task(self) -> tuple[str, object, bool]:
        booking = self._booking(self._body())
        rows = [
            {
                "wakturs": self._bpjs_time(t.waktu_ms),
                "waktu": self._bpjs_time(t.received_ms),
                "taskname": TASK_NAMES[t.taskid],
                "taskid": t.taskid,
                "kodebooking": booking.payload["kodebooking"],
            }
            for t in booking.tasks
        ]
        return "Ok", {"list": rows}, True

    def _dashboard_tanggal(self, tanggal: str, waktu: str) -> tuple[str, object, bool]:
        _day(tanggal)
        if waktu not in ("rs", "server"):
            raise _Reject(201, "waktu harus rs atau server")
        by_poli: dict[str, list[_Booking]] = {}
        for booking in self._bookings.values():
            if booking.payload["tanggalperiksa"] == tanggal:
                by_poli.setdefault(booking.payload["kodepoli"], []).append(booking)
        rows = [self._waiting_row(kodepoli, tanggal, bookings, waktu) for kodepoli, bookings in sorted(by_poli.items())]
        # Dashboard answers are plain JSON, not encrypted.
        return "Ok", {"list": rows}, False

    def _waiting_row(self, kodepoli: str, tanggal: str, bookings: list[_Booking], waktu: str) -> dict:
        row: dict[str, object] = {
            "kodepoli": kodepoli,
            "namapoli": POLIS.get(kodepoli, kodepoli),
            "tanggal": tanggal,
            "jumlah_antrean": len(bookings),
            "insertdate": self._now_ms(),
        }
        for taskid in range(1, 7):
            spans = []
            for booking in bookings:
                start, end = booking.task(taskid), booking.task(taskid + 1)
                if start and end:
                    span = end.waktu_ms - start.waktu_ms if waktu == "rs" else end.received_ms - start.received_ms
                    spans.append(span // 1000)
            row[f"waktu_task{taskid}"] = sum(spans)
            row[f"avg_waktu_task{taskid}"] = sum(spans) // len(spans) if spans else 0
        return row

    # Inspection
    def _bpjs_time(self, ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, self.zone)
        return moment.strftime("%d-%m-%Y %H:%M:%S ") + (moment.tzname() or "")

    def local_time(self, ms: int) -> str:
        """``HH:MM:SS.mmm`` in the sandbox's zone."""
        return datetime.fromtimestamp(ms / 1000, self.zone).strftime("%H:%M:%S.%f")[:-3]

    def snapshot(self) -> dict:
        """What the sandbox holds, JSON-ready, with NIK, card and phone numbers masked."""
        with self._lock:
            bookings = [
                {
                    "kodebooking": code,
                    "received_ms": b.received_ms,
                    "antrean": {k: _mask(v) if k in MASKED else v for k, v in b.payload.items()},
                    "tasks": [
                        {
                            "taskid": t.taskid,
                            "taskname": TASK_NAMES[t.taskid],
                            "waktu": t.waktu_ms,
                            "received_ms": t.received_ms,
                        }
                        for t in b.tasks
                    ],
                    "batal": b.batal,
                    "farmasi": b.farmasi,
                }
                for code, b in self._bookings.items()
            ]
            jadwal = [{"kodedokter": d, "hari": h, "jadwal": j} for (d, h), j in sorted(self._jadwal.items())]
            codes = {str(code): n for code, n in sorted(self._codes.items())}
        return {"bookings": bookings, "jadwal_updates": jadwal, "codes": codes, "failure_rate": self.failure_rate}


_VIEW = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Sandbox BPJS Antrean</title>
<style>body{font-family:sans-serif;margin:1.5rem}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}.batal{color:#a00}</style>
</head><body>
<h1>Sandbox BPJS Antrean RS</h1>
<p>{{ state.bookings|length }} antrean diterima · kode jawaban: {{ state.codes }} · gagal disuntikkan:
{{ (state.failure_rate * 100)|round(1) }}% · <a href="{{ url_for('state_json') }}">state.json</a></p>
<table><thead><tr><th>Kode booking</th><th>Tanggal</th><th>Poli</th><th>Dokter</th><th>Jenis</th><th>Nomor</th>
<th>Task (urut)</th><th>Farmasi</th><th>Status</th></tr></thead><tbody>
{% for b in state.bookings %}<tr>
<td>{{ b.kodebooking }}</td><td>{{ b.antrean.tanggalperiksa }}</td><td>{{ b.antrean.kodepoli }}</td>
<td>{{ b.antrean.namadokter }} ({{ b.antrean.kodedokter }})</td><td>{{ b.antrean.jenispasien }}</td>
<td>{{ b.antrean.nomorantrean }}</td>
<td>{% for t in b.tasks %}<div>{{ t.taskid }} · {{ local(t.waktu) }}</div>{% endfor %}</td>
<td>{% if b.farmasi %}{{ b.farmasi.jenisresep }} #{{ b.farmasi.nomorantrean }}{% endif %}</td>
<td>{% if b.batal %}<span class="batal">batal: {{ b.batal.keterangan }}</span>{% else %}aktif{% endif %}</td>
</tr>{% endfor %}
</tbody></table></body></html>"""


def create_sandbox(
    cons_id: str,
    secret: str,
    user_key: str,
    *,
    failure_rate: float = 0.0,
    seed: int | None = None,
    clock: Callable[[], float] | None = None,
    timestamp_window_seconds: int = 300,
    timezone: str = "Asia/Jakarta",
    jadwal: Mapping[tuple[int, int], str] | None = None,
    state_file: Path | None = None,
) -> Flask:
    """A Flask app that answers like BPJS Antrean RS; its state is ``app.extensions[EXTENSION]``. ``jadwal``:
    HFIS's practice schedule, ``{(kodedokter, hari 1-7 or 8): "HH:MM-HH:MM"}`` (default: 08:00-16:00 daily);
    ``state_file``: where its bookings are kept across restarts (see the module)."""
    sandbox = BpjsSandbox(
        cons_id,
        secret,
        user_key,
        failure_rate=failure_rate,
        seed=seed,
        clock=clock,
        timestamp_window_seconds=timestamp_window_seconds,
        timezone=timezone,
        jadwal=jadwal,
        state_file=state_file,
    )
    app = Flask(__name__)
    app.extensions[EXTENSION] = sandbox

    def bpjs(handler: Callable[..., tuple[str, object, bool]]) -> Callable[..., object]:
        def view(**kwargs: str) -> object:
            code, message, response = sandbox._answer(handler, **kwargs)
            return jsonify({"metadata": {"code": code, "message": message}, "response": response})

        return view

    routes = (
        ("/ref/poli", "ref_poli", sandbox._ref_poli, "GET"),
        ("/ref/dokter", "ref_dokter", sandbox._ref_dokter, "GET"),
        ("/jadwaldokter/kodepoli/<kodepoli>/tanggal/<tanggal>", "jadwal_dokter", sandbox._jadwal_dokter, "GET"),
        ("/jadwaldokter/updatejadwaldokter", "update_jadwal", sandbox._update_jadwal, "POST"),
        ("/antrean/add", "add_antrean", sandbox._add_antrean, "POST"),
        ("/antrean/farmasi/add", "add_farmasi", sandbox._add_farmasi, "POST"),
        ("/antrean/updatewaktu", "update_waktu", sandbox._update_waktu, "POST"),
        ("/antrean/batal", "batal", sandbox._batal, "POST"),
        ("/antrean/getlisttask", "list_task", sandbox._list_task, "POST"),
        ("/dashboard/waktutunggu/tanggal/<tanggal>/waktu/<waktu>", "dashboard", sandbox._dashboard_tanggal, "GET"),
    )
    for rule, endpoint, handler, method in routes:
        app.add_url_rule(rule, endpoint, bpjs(handler), methods=[method])

    @app.get("/sandbox/")
    def view() -> str:
        return render_template_string(_VIEW, state=sandbox.snapshot(), local=sandbox.local_time)

    @app.get("/sandbox/state.json")
    def state_json() -> object:
        return jsonify(sandbox.snapshot())

    return app
