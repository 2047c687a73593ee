"""The processes bench/faults.py starts, stops, kills and restarts: the consumer, gunicorn (as in production:
gunicorn.conf.py's workers and threads) and the simulator. PostgreSQL, Redis and Mosquitto are
``testkit/servers.py``'s, which halt and start again on the same port; the broker has production's settings.

Every child runs in its own session with its output in a log file of the bench's temporary folder, so a Ctrl-C
reaches the bench only and :meth:`Child.stop` ends each one (SIGTERM, then SIGKILL after a bound)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from testkit.servers import LOCALHOST, MosquittoServer, free_port

ROOT = Path(__file__).resolve().parents[1]
CONSUMER_CLIENT_ID = "pantau-fault-bench-consumer"  # fixed: a persistent session keeps what arrives while it is down
BROKER_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
STOP_TIMEOUT = 45.0  # gunicorn's graceful_timeout (30 s) cuts open streams, plus room


class BenchError(RuntimeError):
    """A process or service did not do what the bench needs within its bound."""


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll ``check`` until it is true; return ``time.monotonic()`` then; ``BenchError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return time.monotonic()
        if time.monotonic() >= deadline:
            raise BenchError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def bench_env(**pantau: str) -> dict[str, str]:
    """This process's environment without its ``PANTAU_*`` variables, plus ``pantau`` (``PANTAU_<KEY>``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
    env.update({f"PANTAU_{key.upper()}": value for key, value in pantau.items()})
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def production_broker() -> MosquittoServer:
    """A test Mosquitto with production's persistence, queue, in-flight and packet settings (read from
    deploy/mosquitto/mosquitto.conf): the consumer acknowledges a batch only once it is stored, so the in-flight
    window decides how long the broker keeps delivering while PostgreSQL is away. Anonymous, without the ACL."""
    settings = dict(
        line.split(None, 1) for line in BROKER_CONF.read_text().splitlines() if line.strip() and line[0] != "#"
    )
    return MosquittoServer(
        max_inflight_messages=int(settings["max_inflight_messages"]),
        max_queued_messages=int(settings["max_queued_messages"]),
        autosave_interval=int(settings["autosave_interval"]),
        extra_config=f"max_packet_size {int(settings['max_packet_size'])}",
    )


class Child:
    """One child process (``command`` run from the checkout), its log in ``logfile``."""

    def __init__(self, name: str, command: Sequence[str], env: dict[str, str], logfile: Path) -> None:
        self.name, self.command, self.env, self.logfile = name, list(command), env, logfile
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """``kill -9``: no clean-up, no goodbye to the broker."""
        if self.running:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL to the whole process group after ``timeout`` s."""
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def ensure_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited with {self.proc.returncode}; see {self.logfile}")


class Consumer(Child):
    """``python -m bridge.consumer`` with a fixed client id and its ``/healthz`` on a free port."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "bridge.consumer", "--client-id", CONSUMER_CLIENT_ID]
        super().__init__("consumer", [*command, "--metrics-port", str(self.port)], env, folder / "consumer.log")

    def health(self) -> dict:
        try:
            with urllib.request.urlopen(f"http://{LOCALHOST}:{self.port}/healthz", timeout=2) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())
        except (OSError, ValueError):
            return {}

    def start_ready(self, timeout: float = 60) -> float:
        """Start and wait until it has subscribed; the monotonic time it had."""
        self.start()

        def subscribed() -> bool:
            self.ensure_alive()
            return bool(self.health().get("subscribed"))

        return wait_until(subscribed, timeout, "the consumer subscribing")


class WebServer(Child):
    """``gunicorn --config gunicorn.conf.py app:server`` on a fixed free port, as in production otherwise."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        command += ["--bind", f"{LOCALHOST}:{self.port}", "--log-level", "warning", "app:server"]
        super().__init__("gunicorn", command, env, folder / "gunicorn.log")

    @property
    def base(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base}/login", timeout=2) as answer:
                return answer.status == 200
        except (OSError, urllib.error.HTTPError):
            return False

    def start_ready(self, timeout: float = 60) -> float:
        """Start and wait until ``/login`` answers 200; the monotonic time it did."""
        self.start()

        def up() -> bool:
            self.ensure_alive()
            return self.answers()

        return wait_until(up, timeout, "gunicorn answering", interval=0.05)


class Simulator(Child):
    """``python -m iot_sim`` for ``devices`` at 1 Hz (no store-and-forward burst: what a monitor could not send
    while the broker was away comes back only through the resend requests of sequence-gap filling)."""

    def __init__(self, env: dict[str, str], folder: Path, mqtt_url: str, site: str, devices: list[str]) -> None:
        command = [sys.executable, "-m", "iot_sim", "--mqtt-url", mqtt_url, "--site", site]
        command += ["--devices", ",".join(devices), "--seed", "10", "--log-level", "INFO"]
        super().__init__("simulator", command, env, folder / "simulator.log")
