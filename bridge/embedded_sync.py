"""The embedded demo's second site: a Puskesmas with its own database and web app beside the hospital, and both
sites' facility sync workers, as threads of the demo process on the embedded broker. Production runs one
``python -m bridge.facility_sync run`` per site; this wires the very same worker."""

from __future__ import annotations

import logging
import socket
import threading

from werkzeug.serving import BaseWSGIServer, make_server

from bridge.facility_sync.options import load_setup
from bridge.facility_sync.worker import SyncWorker
from config import DEMO_SYNC_KEY, Settings
from data.runtime import Runtime

log = logging.getLogger(__name__)

PUSKESMAS_CODE = "PKM-DEMO"
PUSKESMAS_NAME = "Puskesmas Pantau (demo)"


def with_demo_sync(settings: Settings) -> Settings:
    """The hospital's settings with the demo Puskesmas as its sync peer (unless peers are configured)."""
    if settings.sync_peers:
        return settings
    keys = f"{PUSKESMAS_CODE}:demo:{DEMO_SYNC_KEY}"
    return settings.model_copy(update={"sync_peers": PUSKESMAS_CODE, "sync_keys": keys})


def puskesmas_settings(hospital: Settings) -> Settings:
    """The demo Puskesmas: its own SQLite database and live store in the demo's folder, the next port, and the
    hospital as its sync peer over the same demo link key."""
    return hospital.model_copy(
        update={
            "site_code": PUSKESMAS_CODE,
            "site_name": PUSKESMAS_NAME,
            "database_url": f"sqlite:///{hospital.var_dir / 'puskesmas.db'}",
            "redis_url": "memory://puskesmas",
            "port": hospital.port + 1,
            "sync_peers": hospital.site_code,
            "sync_keys": f"{hospital.site_code}:demo:{DEMO_SYNC_KEY}",
        }
    )


def _serve(settings: Settings, wsgi_app: object) -> BaseWSGIServer:
    """A threaded server for ``wsgi_app`` on the settings' port, or any free one when that is taken. Asked first:
    werkzeug's server ends the whole process (``sys.exit(1)``) when its port is in use, so the demo died."""
    port = settings.port
    if not _port_free(settings.host, port):
        log.warning("demo Puskesmas port taken; using a free one", extra={"port": port})
        port = 0
    return make_server(settings.host, port, wsgi_app, threaded=True)  # type: ignore[arg-type]


def _port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (bound as werkzeug binds, with address reuse)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class EmbeddedFacilitySync:
    """Both sites' sync workers, and the Puskesmas's web app (``puskesmas_app``, a Dash app) on its own port.
    ``start()`` runs them in daemon threads; ``stop()`` ends them (the workers flush their acknowledgements)."""

    def __init__(self, hospital: Runtime, puskesmas: Runtime, puskesmas_app: object) -> None:
        self.workers = [
            SyncWorker(load_setup(rt.settings), rt.db, rt.cipher, rt.broker) for rt in (hospital, puskesmas)
        ]
        self.server = _serve(puskesmas.settings, puskesmas_app.server)  # type: ignore[attr-defined]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """Where the Puskesmas's pages are."""
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> None:
        for worker in self.workers:
            self._threads.append(threading.Thread(target=worker.run, args=(self._stop,), daemon=True))
        self._threads.append(threading.Thread(target=self.server.serve_forever, daemon=True))
        for thread in self._threads:
            thread.start()
        log.info("demo Puskesmas and facility sync started", extra={"url": self.url})

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        for thread in self._threads:
            thread.join(timeout=10)
