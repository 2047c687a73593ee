"""HTTP client for BPJS Antrean RS (WS BPJS): one method per endpoint Pantau uses (DESIGN §7).

Every request gets its own timestamp, used for the signature and for decrypting that request's answer. Callers
branch on :attr:`BpjsResult.code` (BPJS's ``metadata.code``), never on the HTTP status. TLS is always verified.

``timeout`` is each request's hard deadline, from the first byte sent to the last byte read: requests' own timeout
bounds each socket wait only, so a server that trickles its answer could hold a call (and the BPJS worker's lease)
for ever. The exchange runs in a helper thread that the caller stops waiting for at the deadline; the socket
timeouts then end that thread soon after.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import requests

from bridge.bpjs.crypto import BpjsDecryptError, BpjsError, decrypt_response, signature

log = logging.getLogger(__name__)

CODE_OK = 200
CODE_FAILED = 201
CODE_DUPLICATE = 208
CODE_RETRY = 404  # "Gagal dicoba kembali": transient, retry with backoff


class BpjsTransportError(BpjsError):
    """No usable BPJS answer (network error, timeout, or a body that is not BPJS JSON): transient, retry later."""


@dataclass(frozen=True)
class BpjsResult:
    """One BPJS answer: ``metadata.code``, ``metadata.message`` and the (decrypted) ``response``."""

    code: int
    message: str
    data: object | None

    @property
    def ok(self) -> bool:
        return self.code == CODE_OK

    @property
    def duplicate(self) -> bool:
        """208: BPJS already has it; count it as done and do not resend."""
        return self.code == CODE_DUPLICATE

    @property
    def transient(self) -> bool:
        """404 "Gagal dicoba kembali": nothing was changed, retry with backoff."""
        return self.code == CODE_RETRY

    def as_list(self) -> list:
        """The rows of a list answer, whether BPJS sent ``{"list": [...]}`` or a bare list; ``[]`` for no data."""
        if self.data is None:
            return []
        if isinstance(self.data, list):
            return self.data
        if isinstance(self.data, dict) and isinstance(self.data.get("list"), list):
            return self.data["list"]
        raise ValueError(f"BPJS answer is not a list (got {type(self.data).__name__})")


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


class AntreanClient:
    """BPJS Antrean RS client; ``session`` may be shared, ``clock`` (Unix seconds) exists for tests."""

    def __init__(
        self,
        base_url: str,
        cons_id: str,
        secret: str,
        user_key: str,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._cons_id = cons_id
        self._secret = secret
        self._user_key = user_key
        self._timeout = timeout
        self._session = session or requests.Session()
        self._clock = clock

    def __repr__(self) -> str:
        return f"AntreanClient({self._base_url!r})"

    @property
    def deadline(self) -> float:
        """Seconds a request may take in all before it fails with :class:`BpjsTransportError`."""
        return self._timeout

    def request(self, method: Literal["GET", "POST"], path: str, payload: dict | None = None) -> BpjsResult:
        """Send one signed request to ``path`` (relative to the base URL) and return BPJS's answer."""
        timestamp = str(int(self._clock()))
        headers = {
            "x-cons-id": self._cons_id,
            "x-timestamp": timestamp,
            "x-signature": signature(self._cons_id, self._secret, timestamp),
            "user_key": self._user_key,
            "Content-Type": "application/json",
        }
        started = time.monotonic()
        status, body = self._exchange(method, path, payload, headers)
        result = self._result(path, body, status, timestamp)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        log.debug(  # the worker logs each outcome at INFO; this is the per-request detail
            "BPJS %s -> %s (%.1f ms)",
            path,
            result.code,
            duration_ms,
            extra={"endpoint": path, "code": result.code, "duration_ms": duration_ms},
        )
        return result

    def _exchange(self, method: str, path: str, payload: dict | None, headers: dict) -> tuple[int, object]:
        """The HTTP status and JSON body of one call, within :attr:`deadline` seconds in all."""
        outcome: dict[str, object] = {}

        def call() -> None:
            try:
                # verify=True on the request overrides any session.verify=False: TLS is never left unchecked.
                answer = self._session.request(
                    method,
                    f"{self._base_url}/{path}",
                    json=payload,
                    headers=headers,
                    timeout=self._timeout,
                    verify=True,
                )
                outcome["status"] = answer.status_code
                outcome["body"] = answer.json()
            except Exception as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        worker = threading.Thread(target=call, name=f"bpjs {path}", daemon=True)
        worker.start()
        worker.join(self._timeout)
        if worker.is_alive():
            log.warning("BPJS %s passed its %g s deadline", path, self._timeout, extra={"endpoint": path})
            raise BpjsTransportError(f"BPJS {path}: no answer within {self._timeout:g} s")
        error = outcome.get("error")
        if isinstance(error, requests.RequestException):
            log.warning("BPJS %s failed: %s", path, type(error).__name__, extra={"endpoint": path})
            raise BpjsTransportError(f"BPJS {path}: {type(error).__name__}") from error
        if isinstance(error, ValueError):
            raise BpjsTransportError(f"BPJS {path}: HTTP {outcome['status']} answer is not JSON") from error
        if error is not None:
            raise error
        return outcome["status"], outcome["body"]

    def _result(self, path: str, body: object, status: int, timestamp: str) -> BpjsResult:
        metadata = body.get("metadata") if isinstance(body, dict) else None
        try:
            code = int(metadata["code"])
        except (TypeError, KeyError, ValueError) as exc:
            raise BpjsTransportError(f"BPJS {path}: HTTP {status} answer has no metadata.code") from exc
        message = str(metadata.get("message") or "")
        data = body.get("response")
        if isinstance(data, str):
            if not data:
                data = None
            else:
                try:
                    data = decrypt_response(data, self._cons_id, self._secret, timestamp)
                except BpjsDecryptError:
                    if code == CODE_OK:
                        raise
                    # A failure's metadata is what counts; an unreadable response beside it is dropped.
                    log.warning("BPJS %s: undecryptable response beside code %s", path, code)
                    data = None
        return BpjsResult(code, message, data)

    # Reference data
    def ref_poli(self) -> BpjsResult:
        """``ref/poli``: BPJS's polis and sub-specialities."""
        return self.request("GET", "ref/poli")

    def ref_dokter(self) -> BpjsResult:
        """``ref/dokter``: BPJS's (HFIS) doctors of this hospital."""
        return self.request("GET", "ref/dokter")

    def jadwal_dokter(self, kode_poli: str, tanggal: date | str) -> BpjsResult:
        """``jadwaldokter``: the HFIS practice schedule of a poli on a day."""
        return self.request("GET", f"jadwaldokter/kodepoli/{kode_poli}/tanggal/{_day(tanggal)}")

    def update_jadwal_dokter(self, payload: dict) -> BpjsResult:
        """``jadwaldokter/updatejadwaldokter``: ``kodepoli``, ``kodesubspesialis``, ``kodedokter``, ``jadwal``."""
        return self.request("POST", "jadwaldokter/updatejadwaldokter", payload)

    # Queue (antrean) reporting
    def add_antrean(self, payload: dict) -> BpjsResult:
        """``antrean/add``: report a booking (BPJS field names: ``kodebooking``, ``jenispasien``, ...)."""
        return self.request("POST", "antrean/add", payload)

    def add_antrean_farmasi(self, payload: dict) -> BpjsResult:
        """``antrean/farmasi/add``: ``kodebooking``, ``jenisresep``, ``nomorantrean``, ``keterangan``."""
        return self.request("POST", "antrean/farmasi/add", payload)

    def update_waktu(self, kodebooking: str, taskid: int, waktu_ms: int) -> BpjsResult:
        """``antrean/updatewaktu``: a task's time, in epoch milliseconds of the real event."""
        return self.request(
            "POST", "antrean/updatewaktu", {"kodebooking": kodebooking, "taskid": taskid, "waktu": waktu_ms}
        )

    def batal(self, kodebooking: str, keterangan: str) -> BpjsResult:
        """``antrean/batal``: cancel a booking, with the reason."""
        return self.request("POST", "antrean/batal", {"kodebooking": kodebooking, "keterangan": keterangan})

    def list_task(self, kodebooking: str) -> BpjsResult:
        """``antrean/getlisttask``: the tasks BPJS has received for a booking."""
        return self.request("POST", "antrean/getlisttask", {"kodebooking": kodebooking})

    # Dashboard
    def dashboard_waktu_tunggu_tanggal(self, tanggal: date | str, waktu: Literal["rs", "server"]) -> BpjsResult:
        """``dashboard/waktutunggu/tanggal``: per-poli waiting times of a day, by hospital or server time."""
        return self.request("GET", f"dashboard/waktutunggu/tanggal/{_day(tanggal)}/waktu/{waktu}")
