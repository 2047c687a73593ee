"""The embedded demo's BPJS: the sandbox mounted at ``/bpjs-sandbox`` in the web app, and the sync worker on a
thread sending the demo's outbox to it. Only when ``PANTAU_BPJS_BASE_URL`` is not set; never in production.

The sandbox's HFIS schedule is made from the demo's weekly plan when it is mounted (after the seed), so the BPJS
mapping page finds the same hours on both sides, with the one planned difference (``data.seed``). The sandbox
keeps only its bookings across restarts (in ``var_dir``, so the tasks of bookings made before a restart are not
refused), not its schedule, so each start also asks the worker for a fresh reference pull: what was pulled from
the previous sandbox (another plan, a jadwal change made there) is not compared with this one."""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from sqlalchemy import select
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bridge.background_thread import BackgroundThread
from bridge.bpjs.sandbox import create_sandbox
from bridge.bpjs_reference_pull import ReferencePuller
from bridge.bpjs_worker import BpjsWorker, client_from_settings
from config import Settings
from data.bpjs_reference import request_pull
from data.models import Site
from data.runtime import Runtime
from data.seed import demo_hfis_jadwal
from domain.actor import Actor
from domain.clock import utcnow

log = logging.getLogger(__name__)
SANDBOX_PREFIX = "/bpjs-sandbox"
SANDBOX_STATE = "bpjs-sandbox.json"  # in var_dir: the bookings the sandbox keeps across demo restarts
SANDBOX_WAIT_S = 60.0  # how long the worker waits for the web app to serve its sandbox
# Demo-only sandbox credentials: they open nothing but the embedded sandbox.
DEMO_BPJS = {"bpjs_cons_id": "DEMO-ONLY-cons", "bpjs_secret": "DEMO-ONLY-bpjs-secret", "bpjs_user_key": "DEMO-ONLY-key"}


def with_demo_sandbox(settings: Settings) -> Settings:
    """``settings`` pointing the BPJS client at the embedded sandbox, unless a real BPJS is configured."""
    if settings.bpjs_base_url or settings.env == "production":
        return settings
    base = f"http://{settings.host}:{settings.port}{SANDBOX_PREFIX}"
    return settings.model_copy(update={"bpjs_base_url": base, **DEMO_BPJS})


class EmbeddedBpjs:
    """Mount the sandbox (when the settings point at it) and run one sync worker thread."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._thread = BackgroundThread(self._run, "bpjs-worker")
        self._worker: BpjsWorker | None = None  # made at start, from the settings then
        self._mounted = False

    def mount(self, server: Any) -> None:
        settings = self._runtime.settings
        if not settings.bpjs_base_url.endswith(SANDBOX_PREFIX):
            return
        with self._runtime.db.session() as session:
            jadwal = demo_hfis_jadwal(session, settings.site_code)
        sandbox = create_sandbox(
            settings.bpjs_cons_id,
            settings.bpjs_secret,
            settings.bpjs_user_key,
            failure_rate=0.02,
            timezone=settings.timezone,
            jadwal=jadwal,
            state_file=settings.var_dir / SANDBOX_STATE,
        )
        server.wsgi_app = DispatcherMiddleware(server.wsgi_app, {SANDBOX_PREFIX: sandbox})
        self._mounted = True

    def start(self) -> None:
        settings, db = self._runtime.settings, self._runtime.db
        client = client_from_settings(settings)
        reference = ReferencePuller(db, client, settings.site_code)
        self._worker = BpjsWorker(db, client, self._runtime.cipher, reference=reference)
        if self._mounted:
            self._request_fresh_pull()
        self._thread.start()

    def _run(self) -> None:
        """Run the worker once its sandbox answers: the sandbox lives in this web app, which starts listening after
        the worker has started, and a first pull that finds nothing there waits 15 minutes for its retry."""
        if self._mounted:
            self._wait_for_sandbox()
        if self._worker is not None:
            self._worker.run(self._thread.stopping)

    def _wait_for_sandbox(self) -> None:
        url = self._runtime.settings.bpjs_base_url + "/"
        deadline = time.monotonic() + SANDBOX_WAIT_S
        while not self._thread.stopping.is_set():
            try:
                requests.get(url, timeout=1)  # any answer: the web app is serving
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    log.warning("the demo's BPJS sandbox does not answer; the worker starts anyway")
                    return
                self._thread.stopping.wait(0.2)

    def _request_fresh_pull(self) -> None:
        with self._runtime.db.session() as session:
            site_id = session.scalar(select(Site.id).where(Site.code == self._runtime.settings.site_code))
            if site_id is not None:
                request_pull(session, Actor(user_id=None, username="demo-bpjs", site_id=site_id), utcnow())

    def stop(self) -> None:
        self._thread.stop(timeout=15)
