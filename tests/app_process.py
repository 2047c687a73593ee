"""The Pantau web app as a real, restartable process: gunicorn with the project's ``gunicorn.conf.py`` on a fixed
loopback port, configured through ``PANTAU_*`` variables from a ``Settings`` object. Tests that restart the web app
under an open browser (the live screens must reconnect by themselves) use it; nothing here imports pytest::

    with WebAppProcess(settings) as web:
        page.goto(web.url + "/login")
        web.restart()
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from config import Settings
from testkit.servers import LOCALHOST, ServiceError, free_port, port_open, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT = 40.0  # gunicorn's graceful_timeout (30 s) plus room
READY_TIMEOUT = 60.0  # the worker builds the Dash app after the port is already open


def settings_environment(settings: Settings) -> dict[str, str]:
    """``PANTAU_*`` variables that make a new process load exactly ``settings``, ``PANTAU_ENV`` included: a test
    app's ``test`` is what lets gunicorn run on the demo secrets (``Settings.require_own_secrets``)."""
    env = {}
    for name, value in settings.model_dump().items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        env[f"PANTAU_{name.upper()}"] = text
    return env


class WebAppProcess:
    """``gunicorn app:server`` for ``settings``, one worker, on the same port across restarts."""

    def __init__(self, settings: Settings, *, threads: int = 16) -> None:
        self.settings = settings
        self.threads = threads
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.mkstemp(prefix="pantau-web-", suffix=".log")[1])

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def start(self) -> Self:
        """Start gunicorn and wait until it accepts connections."""
        env = os.environ | settings_environment(self.settings)
        env |= {
            "PANTAU_WEB_BIND": f"{LOCALHOST}:{self.port}",
            "PANTAU_WEB_WORKERS": "1",
            "PANTAU_WEB_THREADS": str(self.threads),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(gunicorn), "--config", "gunicorn.conf.py", "app:server"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_port(LOCALHOST, self.port)
            self._wait_ready()
        except (TimeoutError, ServiceError) as exc:
            self.stop()
            raise ServiceError(f"gunicorn did not start: {self.log.read_text(errors='replace')[-2000:]}") from exc
        return self

    def _wait_ready(self) -> None:
        """Until the sign-in page answers 200 (the worker has built the app); at once when gunicorn gave up (a
        worker that cannot build the app, such as one refusing the configuration, ends it)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(f"gunicorn exited with code {self.process.returncode}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/login", timeout=5) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.url}/login did not answer within {READY_TIMEOUT:.0f} s")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it (open streams are cut), then wait until the port is free."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        if port_open(LOCALHOST, self.port):
            raise ServiceError(f"port {self.port} still answers after gunicorn stopped")

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self.log.unlink(missing_ok=True)
