"""Pull BPJS reference data into Pantau: ``ref/poli``, ``ref/dokter``, and ``jadwaldokter`` of today and tomorrow
for every poli mapped to a BPJS code. Run by the BPJS worker once a site-local day (again after a failure) and when
the admin page asks (``data.bpjs_reference.request_pull``).

Never raises for BPJS's or the network's sake: a part that BPJS refuses (201), cannot serve now (404, after one
more try) or answers in an unknown shape keeps the old data, and its message goes into the result; a transport
error (BPJS unreachable, timeout) stops the pull there, so a dead BPJS costs one timeout, not one per request. No
transaction stays open while waiting for BPJS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select

from bridge.bpjs.client import AntreanClient, BpjsResult, BpjsTransportError
from data.bpjs_reference import (
    RefDokter,
    RefJadwal,
    RefPoli,
    drop_past_jadwal,
    pull_due,
    record_pull,
    store_doctors,
    store_jadwal,
    store_polis,
)
from data.db import Database
from data.models import Poli, Site
from data.schedules import local_today
from domain.clock import utcnow

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0  # how often the worker looks for a due pull (an on-demand request waits at most this long)
RETRY_AFTER = timedelta(minutes=15)  # after a failed or partial pull
ERROR_PAUSE_SECONDS = 60.0  # after an unexpected error (database down, a bug)


@dataclass(frozen=True)
class PullResult:
    """What one pull stored, and BPJS's messages for the parts it did not get (empty when all went well)."""

    polis: int
    doctors: int
    jadwal: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        return "; ".join(self.problems) or "OK"


class _Unusable(Exception):
    """A BPJS answer that cannot be stored (refused, transient, or of an unknown shape); the text says which."""


def _rows(endpoint: str, result: BpjsResult) -> list[dict]:
    if not result.ok:
        raise _Unusable(f"{endpoint}: {result.code} {result.message}".strip())
    try:
        rows = result.as_list()
    except ValueError as exc:
        raise _Unusable(f"{endpoint}: {exc}") from exc
    if not all(isinstance(row, dict) for row in rows):
        raise _Unusable(f"{endpoint}: bentuk jawaban tidak dikenal (baris bukan objek)")
    return rows


def _fetch(endpoint: str, call: Callable[[], BpjsResult], make: Callable[[dict], object], *, empty_ok: bool) -> list:
    result = call()
    if result.transient:  # 404 "Gagal dicoba kembali": BPJS asks for another try, so give it one
        result = call()
    rows = _rows(endpoint, result)
    if not rows and not empty_ok:  # an empty list would mark every code gone: keep the old data instead
        raise _Unusable(f"{endpoint}: BPJS mengirim daftar kosong, data lama dipertahankan")
    try:
        return [make(row) for row in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise _Unusable(f"{endpoint}: bentuk jawaban tidak dikenal ({type(exc).__name__}: {exc})") from exc


def _poli(row: dict) -> RefPoli:
    return RefPoli(
        kode=str(row["kdpoli"]),
        nama=str(row["nmpoli"]),
        kode_subspesialis=str(row.get("kdsubspesialis") or row["kdpoli"]),
        nama_subspesialis=str(row.get("nmsubspesialis") or row["nmpoli"]),
    )


def _dokter(row: dict) -> RefDokter:
    return RefDokter(kode=str(row["kodedokter"]), nama=str(row["namadokter"]))


def _jadwal(row: dict) -> RefJadwal:
    return RefJadwal(
        kodesubspesialis=str(row["kodesubspesialis"]),
        kodedokter=str(row["kodedokter"]),
        hari=int(row["hari"]),
        jadwal=str(row["jadwal"]).replace(" ", ""),
        kapasitas=int(row.get("kapasitaspasien") or 0),
        libur=bool(int(row.get("libur") or 0)),
    )


def pull_reference(
    db: Database, client: AntreanClient, site_id: int, day: date, now: datetime | None = None
) -> PullResult:
    """Pull and store the reference data of ``site_id``, with the jadwal of ``day`` and the day after."""
    started = now or utcnow()
    problems: list[str] = []
    counts = {"polis": 0, "doctors": 0, "jadwal": 0}
    try:
        for name, endpoint, call, make, store in (
            ("polis", "ref/poli", client.ref_poli, _poli, store_polis),
            ("doctors", "ref/dokter", client.ref_dokter, _dokter, store_doctors),
        ):
            try:
                rows = _fetch(endpoint, call, make, empty_ok=False)
            except _Unusable as exc:
                problems.append(str(exc))
                continue
            with db.session() as session:
                counts[name] = store(session, site_id, rows, started)
        with db.session() as session:
            codes = sorted(
                session.scalars(
                    select(Poli.bpjs_code).where(
                        Poli.site_id == site_id, Poli.active.is_(True), Poli.bpjs_code.is_not(None)
                    )
                )
            )
        for tanggal in (day, day + timedelta(days=1)):
            for code in codes:
                endpoint = f"jadwaldokter/{code}/{tanggal.isoformat()}"
                try:
                    rows = _fetch(endpoint, partial(client.jadwal_dokter, code, tanggal), _jadwal, empty_ok=True)
                except _Unusable as exc:
                    problems.append(str(exc))
                    continue
                with db.session() as session:
                    counts["jadwal"] += store_jadwal(session, site_id, code, tanggal, rows, started)
    except BpjsTransportError as exc:
        problems.append(f"{exc}: BPJS tidak dapat dihubungi, penarikan dihentikan")
    result = PullResult(counts["polis"], counts["doctors"], counts["jadwal"], tuple(problems))
    with db.session() as session:
        drop_past_jadwal(session, site_id, day)
        record_pull(session, site_id, started, result.ok, result.message)
    log.info(
        "BPJS reference pull %s",
        "ok" if result.ok else "incomplete",
        extra={"site_id": site_id, **counts, "problems": len(problems)},
    )
    return result


class ReferencePuller:
    """The BPJS worker's periodic step for the site ``site_code``: ``step()`` is cheap when nothing is due (one
    look at the database every ``CHECK_SECONDS``) and never raises."""

    def __init__(
        self, db: Database, client: AntreanClient, site_code: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._client = client
        self._site_code = site_code
        self._clock = clock
        self._next_check = 0.0

    def step(self, now: datetime | None = None) -> PullResult | None:
        """Pull when due; the result, or None when nothing was due (or the check failed: logged)."""
        if self._clock() < self._next_check:
            return None
        self._next_check = self._clock() + CHECK_SECONDS
        now = now or utcnow()
        try:
            with self._db.session() as session:
                site_id = session.scalar(select(Site.id).where(Site.code == self._site_code))
                if site_id is None:
                    raise LookupError(f"site {self._site_code!r} is not in the database")
                if not pull_due(session, site_id, now, RETRY_AFTER):
                    return None
                day = local_today(session, site_id, now)
            return pull_reference(self._db, self._client, site_id, day, now)
        except Exception:  # the outbox must keep flowing whatever happens here
            log.exception("BPJS reference pull could not run")
            self._next_check = self._clock() + ERROR_PAUSE_SECONDS
            return None
