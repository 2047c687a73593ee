"""BPJS Antrean sync worker: drains the outbox that queue actions fill, per booking in order, near real time.

Outcome per call (always by ``metadata.code``): 200 → sent; 208 → BPJS already has it, sent; 404 "Gagal dicoba
kembali", other codes, network errors and timeouts → retried with exponential backoff and jitter; 201 → failed
with BPJS's message, held (with the booking's later rows) until staff fix the data and retry. Several workers
may run at once (leased claims, ``SKIP LOCKED``); one killed mid-call leaves its row to be resent after the lease,
which BPJS answers with 208. Each HTTP call has a hard deadline well inside the lease (checked at start), and an
outcome is written only under the claim that sent it: a worker that stalled past its lease anyway (a frozen VM)
reports the lost claim and changes nothing. Credentials come from configuration and are never logged."""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge.bpjs.client import CODE_FAILED, AntreanClient, BpjsResult, BpjsTransportError
from bridge.bpjs_reference_pull import ReferencePuller
from bridge.stop_signal import stop_on_signals
from data.bpjs_outbox import LEASE, OutboxItem, claim_next, mark_failed, mark_retry, mark_sent
from data.db import Database
from data.field_crypto import FieldCipher
from data.models import ClinicSession, Doctor, Poli, Visit
from data.patients import read_patient
from domain.backoff import retry_delay
from domain.clock import utcnow

log = logging.getLogger(__name__)
IDLE_SECONDS = 0.25
# Besides the HTTP call a claim covers reading the patient's identifiers and writing the outcome.
LEASE_MARGIN = timedelta(seconds=15)


def check_lease(deadline_seconds: float, lease: timedelta = LEASE) -> None:
    """Refuse a BPJS deadline that does not leave ``LEASE_MARGIN`` inside the lease (a call could outlive it)."""
    if timedelta(seconds=deadline_seconds) + LEASE_MARGIN > lease:
        longest = (lease - LEASE_MARGIN).total_seconds()
        raise ValueError(
            f"BPJS timeout {deadline_seconds:g} s is too long for the {lease.total_seconds():g} s lease "
            f"(at most {longest:g} s)"
        )


class BpjsWorker:
    """Sends due outbox rows one at a time with ``client``; ``run_once`` is one claim-send-record step. With
    ``reference``, ``run`` also pulls BPJS reference data when due (daily and on request)."""

    def __init__(
        self,
        db: Database,
        client: AntreanClient,
        cipher: FieldCipher,
        *,
        rng: random.Random | None = None,
        reference: ReferencePuller | None = None,
    ) -> None:
        check_lease(client.deadline)
        self._db = db
        self._client = client
        self._cipher = cipher
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter, not cryptography
        self._reference = reference

    def run_once(self, now: datetime | None = None) -> bool:
        """Send the next due row; False when nothing was due."""
        with self._db.session() as session:
            item = claim_next(session, now or utcnow())
        if item is None:
            return False
        started = time.monotonic()
        try:
            result = self._send(item)
        except BpjsTransportError as exc:
            self._retry(item, None, str(exc))
            return True
        except Exception:  # a bug or bad row must not stop the queue: it is retried later, with the reason
            log.exception("BPJS outbox row %s could not be sent", item.id)
            self._retry(item, None, "internal error (see worker log)")
            return True
        self._record(item, result)
        log.info(
            "BPJS %s %s → %s",
            item.kind,
            item.booking_code or "-",
            result.code,
            extra={"outbox_id": item.id, "code": result.code, "ms": round((time.monotonic() - started) * 1000, 1)},
        )
        return True

    def run(self, stop: threading.Event, heartbeat: Path | None = None) -> None:
        """Work until ``stop`` is set; survives a dead database or BPJS (waits and tries again). ``heartbeat`` is
        touched on every pass, for a container health check."""
        failures = 0
        while not stop.is_set():
            if heartbeat is not None:
                heartbeat.touch()
            try:
                busy = self.run_once()
                failures = 0
            except Exception:
                failures += 1
                log.exception("BPJS worker step failed (%s in a row)", failures)
                busy = False
                stop.wait(retry_delay(failures, base=1.0, cap=30.0, rng=self._rng).total_seconds())
            if self._reference is not None:
                self._reference.step()  # never raises; looks at the database every few seconds at most
            if not busy:
                stop.wait(IDLE_SECONDS)

    def _send(self, item: OutboxItem) -> BpjsResult:
        payload = item.payload
        if item.kind == "updatewaktu":
            return self._client.update_waktu(payload["kodebooking"], payload["taskid"], payload["waktu"])
        if item.kind == "batal":
            return self._client.batal(payload["kodebooking"], payload["keterangan"])
        if item.kind == "farmasi_add":
            return self._client.add_antrean_farmasi(payload)
        if item.kind == "antrean_add":
            return self._client.add_antrean(self._with_identifiers(item))
        if item.kind == "updatejadwaldokter":  # a doctor's week: no visit, no personal data
            return self._client.update_jadwal_dokter(payload)
        raise ValueError(f"unknown outbox kind {item.kind!r}")

    def _with_identifiers(self, item: OutboxItem) -> dict:
        """``antrean/add`` needs the card number, NIK and phone: read (and audited) from the encrypted record
        only now, so the outbox never holds them. The BPJS poli and doctor codes are read now too, so a retry
        after staff corrected a mapping sends the corrected codes."""
        with self._db.session() as session:
            visit = session.get(Visit, item.visit_id)
            codes = session.execute(
                select(Poli.bpjs_code, Poli.code, Doctor.bpjs_code)
                .join(ClinicSession, ClinicSession.poli_id == Poli.id)
                .join(Doctor, Doctor.id == ClinicSession.doctor_id)
                .where(ClinicSession.id == visit.session_id)
            ).one()
            record = read_patient(
                session,
                self._cipher,
                visit.patient_id,
                actor_id=None,
                actor_name="bpjs-worker",
                purpose="bpjs_antrean",
                fields=("bpjs", "nik", "phone"),
            )
        return {
            **item.payload,
            "kodepoli": codes[0] or codes[1],
            "kodedokter": codes[2],
            "nomorkartu": record.bpjs or "",
            "nik": record.nik or "",
            "nohp": record.phone or "",
        }

    def _record(self, item: OutboxItem, result: BpjsResult) -> None:
        with self._db.session() as session:
            if result.ok or result.duplicate:
                held = mark_sent(session, item, result.code, utcnow())
            elif result.code == CODE_FAILED:
                held = mark_failed(session, item, result.code, result.message)
            else:
                delay = retry_delay(item.attempts, rng=self._rng)
                held = mark_retry(session, item, result.code, result.message, utcnow() + delay)
        self._report_lost(item, held, result.code)

    def _retry(self, item: OutboxItem, code: int | None, message: str) -> None:
        with self._db.session() as session:
            held = mark_retry(session, item, code, message, utcnow() + retry_delay(item.attempts, rng=self._rng))
        self._report_lost(item, held, code)

    @staticmethod
    def _report_lost(item: OutboxItem, held: bool, code: int | None) -> None:
        if not held:
            log.warning(
                "BPJS outbox row %s: claim %s lost (lease ended, another worker took the row); outcome %s not recorded",
                item.id,
                item.attempts,
                code,
                extra={"outbox_id": item.id, "claim": item.attempts, "code": code},
            )


def client_from_settings(settings: Any) -> AntreanClient:
    if not (settings.bpjs_base_url and settings.bpjs_cons_id and settings.bpjs_secret and settings.bpjs_user_key):
        raise SystemExit("BPJS worker: set PANTAU_BPJS_BASE_URL, _CONS_ID, _SECRET and _USER_KEY")
    try:
        check_lease(settings.bpjs_timeout_seconds)
    except ValueError as exc:
        raise SystemExit(f"BPJS worker: {exc} (PANTAU_BPJS_TIMEOUT_SECONDS)") from None
    return AntreanClient(
        settings.bpjs_base_url,
        settings.bpjs_cons_id,
        settings.bpjs_secret,
        settings.bpjs_user_key,
        timeout=settings.bpjs_timeout_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bridge.bpjs_worker``: run until SIGTERM/SIGINT (the row in flight is finished first)."""
    from config import configure_logging, load_settings
    from data.runtime import build_runtime

    parser = argparse.ArgumentParser(prog="python -m bridge.bpjs_worker", description=__doc__.split("\n")[0])
    parser.add_argument("--heartbeat-file", type=Path, default=None, help="touched on every pass (health checks)")
    args = parser.parse_args(argv)
    settings = load_settings()
    settings.require_own_secrets()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    client = client_from_settings(settings)
    reference = ReferencePuller(runtime.db, client, settings.site_code)
    worker = BpjsWorker(runtime.db, client, runtime.cipher, reference=reference)
    stop = stop_on_signals(log, "BPJS worker")
    log.info("BPJS worker started", extra={"base_url": settings.bpjs_base_url})
    worker.run(stop, args.heartbeat_file)
    runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
