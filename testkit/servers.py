"""Real PostgreSQL, Redis and Mosquitto servers on free loopback ports, for tests and benchmarks.

Each server lives in its own temporary directory and is stopped and removed by ``stop()``/``close()`` or by
leaving its ``with`` block. Nothing here imports pytest, so ``bench/`` scripts use the same code::

    from testkit.servers import PostgresServer, RedisServer, MosquittoServer

    with PostgresServer() as pg, RedisServer() as rds, MosquittoServer() as mq:
        print(pg.url, rds.url, mq.url)

Binaries are looked up on ``PATH`` (plus ``/usr/sbin`` and ``/sbin``) and, for PostgreSQL, with ``pg_config``
or in the newest ``/usr/lib/postgresql/*/bin``. When the process runs as root, PostgreSQL runs as the
``postgres`` OS user (it refuses to run as root) and Mosquitto drops to the ``mosquitto`` user by itself, so
their directories are handed over to those users.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "ExternalPostgres",
    "ExternalService",
    "MosquittoServer",
    "PostgresServer",
    "RedisServer",
    "ServiceError",
    "find_binary",
    "free_port",
    "port_open",
    "postgres_bindir",
    "wait_for_port",
]

START_TIMEOUT = 20.0
LOCALHOST = "127.0.0.1"
SERVICE_PORTS_FROM = 20000  # free_port picks from here up to the kernel's ephemeral range (32768 by default)
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class ServiceError(RuntimeError):
    """A service could not be found, started or stopped."""


# --------------------------------------------------------------------------------------------------- helpers


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port on ``host`` that was free a moment ago, picked at random below the kernel's ephemeral range.

    A port from that range (what binding port 0 gives) can be taken between this check and the server's own bind
    by any outgoing connection of the run, a database client's, say: a test's app once found its port "in use by
    another program". Below the range only another server can take it, and the random pick keeps the parallel test
    processes apart. Where the range starts too low to leave room, the kernel picks."""
    room = ephemeral_ports_start() - SERVICE_PORTS_FROM
    for _ in range(100):
        # secrets, not random: Hypothesis seeds the global generator alike in every test process
        port = SERVICE_PORTS_FROM + secrets.randbelow(room) if room > 1000 else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free TCP port on {host} from {SERVICE_PORTS_FROM}")


def ephemeral_ports_start() -> int:
    """The first port of the range the kernel draws outgoing connections' ports from; 0 when it cannot be read."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = START_TIMEOUT) -> None:
    """Wait until ``host:port`` accepts TCP connections; raise ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if port_open(host, port):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing is listening on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)


def find_binary(name: str, *extra_dirs: str | os.PathLike[str]) -> str | None:
    """Find an executable on ``PATH``, then in ``extra_dirs``, ``/usr/sbin`` and ``/sbin``."""
    found = shutil.which(name)
    if found:
        return found
    for directory in (*extra_dirs, "/usr/local/sbin", "/usr/sbin", "/sbin"):
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log at {path})"


def _is_root() -> bool:
    return os.geteuid() == 0


def _os_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    os.chown(path, user.pw_uid, user.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        # Reap it if it is our child (Popen children are reaped by Popen.wait instead).
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


class _Service(ABC):
    """Context-manager plumbing shared by the servers."""

    name = "service"

    def __init__(self) -> None:
        self._atexit_registered = False

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def close(self) -> None: ...

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_close)
            self._atexit_registered = True

    def _unregister_atexit(self) -> None:
        if self._atexit_registered:
            atexit.unregister(self._atexit_close)
            self._atexit_registered = False

    def _atexit_close(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------ PostgreSQL


def postgres_bindir() -> Path:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    ``pg_config --bindir`` when it names a directory with a server in it (on Debian, ``pg_config`` may
    belong to libpq-dev alone), else the newest ``/usr/lib/postgresql/*/bin``, else the directory of
    ``initdb`` on PATH.
    """
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and (Path(out) / "initdb").exists() and (Path(out) / "postgres").exists():
                return Path(out)

    def version_key(path: str) -> tuple[int, ...]:
        version = Path(path).parent.name
        return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)

    candidates = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if (Path(p) / "initdb").exists()]
    if candidates:
        return Path(max(candidates, key=version_key))
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceError(
        "PostgreSQL server binaries not found (no pg_config --bindir with initdb, "
        "no /usr/lib/postgresql/*/bin); install the 'postgresql' package (make system-deps)"
    )


def _utf8_locale() -> str | None:
    """A UTF-8 C locale name for initdb when the system has one."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.strip().lower() in ("c.utf8", "c.utf-8"):
                return line.strip()
    return None


class PostgresServer(_Service):
    """A throwaway PostgreSQL cluster on a free loopback port, with an empty database ``pantau_test``.

    ``fast=True`` turns off fsync, synchronous_commit and full_page_writes (fine for tests; benchmarks that
    measure durable writes pass ``fast=False``). ``settings`` adds ``-c name=value`` server options.
    ``halt()`` stops the server but keeps its cluster; ``start()`` then brings it back on the same port with the
    same data (an outage, for fault tests); ``restart()`` does both. ``stop()`` removes everything.
    """

    name = "postgres"

    def __init__(
        self,
        *,
        port: int | None = None,
        fast: bool = True,
        database: str = "pantau_test",
        settings: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        if not _DB_NAME.match(database):
            raise ValueError(f"bad database name {database!r}")
        self.fast = fast
        self.database = database
        self.settings = dict(settings or {})
        self._fixed_port = port
        self.port = port or 0
        self.host = LOCALHOST
        self.tmpdir: Path | None = None
        self.bindir: Path | None = None
        self._running = False

    # paths
    @property
    def datadir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "data"

    @property
    def socketdir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "sock"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "postgres.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``pantau_test`` database."""
        return self.database_url(self.database)

    def database_url(self, name: str) -> str:
        """SQLAlchemy URL of database ``name`` on this server."""
        return f"postgresql+psycopg2://postgres@{self.host}:{self.port}/{name}"

    @property
    def running(self) -> bool:
        return self._running

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs (its backends are its children)."""
        return _read_pid(self.datadir / "postmaster.pid") if self._running else None

    def _as_owner(self, cmd: list[str]) -> list[str]:
        """Wrap ``cmd`` so it runs as ``postgres`` when we are root."""
        if not _is_root():
            return cmd
        runuser = find_binary("runuser")
        if runuser:
            return [runuser, "-u", "postgres", "--", *cmd]
        su = find_binary("su") or "su"
        return [su, "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]

    def _run(self, cmd: list[str], *, owner: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        full = self._as_owner(cmd) if owner else cmd
        return subprocess.run(
            full,
            cwd=self.tmpdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
        )

    def _server_options(self) -> str:
        opts = [
            f"-p {self.port}",
            f"-k {self.socketdir}",
            f"-c listen_addresses={LOCALHOST}",
        ]
        if self.fast:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        for key, value in self.settings.items():
            opts.append(f"-c {key}={value}")
        return " ".join(opts)

    def start(self) -> Self:
        """Create the cluster, start the server and create the database (or, after ``halt()``, start the same
        cluster again on the same port). Returns ``self``."""
        if self._running:
            return self
        if self.tmpdir is not None:
            self._pg_ctl_start()
            self._running = True
            return self
        self.bindir = postgres_bindir()
        owner = None
        if _is_root():
            owner = _os_user("postgres")
            if owner is None:
                raise ServiceError("running as root but there is no 'postgres' OS user to run PostgreSQL as")
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pantau-pg-"))
        self._register_atexit()
        try:
            self.socketdir.mkdir()
            if owner is not None:
                _chown_tree(self.tmpdir, owner)
            self._initdb()
            attempts = 1 if self._fixed_port else 3
            for attempt in range(attempts):
                self.port = self._fixed_port or free_port()
                try:
                    self._pg_ctl_start()
                    break
                except ServiceError:
                    if attempt == attempts - 1:
                        raise
            self._running = True
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        assert self.bindir is not None
        cmd = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--no-sync",
        ]
        locale = _utf8_locale()
        cmd += [f"--locale={locale}"] if locale else ["--no-locale"]
        result = self._run(cmd, timeout=120)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _pg_ctl_start(self) -> None:
        assert self.bindir is not None
        cmd = [
            str(self.bindir / "pg_ctl"),
            "-w",
            "-t",
            str(int(START_TIMEOUT)),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            self._server_options(),
            "start",
        ]
        result = self._run(cmd, timeout=START_TIMEOUT + 10)
        if result.returncode != 0 or not port_open(self.host, self.port):
            # A failed start may still leave a postmaster behind; make sure it is gone before retrying.
            self._pg_ctl_stop(mode="immediate")
            raise ServiceError(
                f"PostgreSQL did not come up on port {self.port} (waited up to {START_TIMEOUT:.0f} s; "
                f"pg_ctl exit {result.returncode}): {result.stderr.strip()}\n"
                f"--- last lines of {self.logfile} ---\n{_tail(self.logfile)}"
            )

    def _pg_ctl_stop(self, mode: str = "fast") -> None:
        if self.bindir is None or self.tmpdir is None or not (self.datadir / "postmaster.pid").exists():
            return
        cmd = [str(self.bindir / "pg_ctl"), "-w", "-t", "30", "-D", str(self.datadir), "-m", mode, "stop"]
        result = self._run(cmd, timeout=60)
        if result.returncode != 0 and (self.datadir / "postmaster.pid").exists() and mode != "immediate":
            self._pg_ctl_stop(mode="immediate")

    def create_database(self, name: str, template: str = "template0") -> str:
        """Create database ``name`` (UTF8) as a copy of ``template`` (empty by default); return its URL."""
        if not _DB_NAME.match(name) or not _DB_NAME.match(template):
            raise ValueError(f"bad database name {name!r}")
        if not self._running or self.bindir is None:
            raise ServiceError("PostgreSQL server is not running")
        cmd = [
            str(self.bindir / "createdb"),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "-T",
            template,
            name,
        ]
        result = self._run(cmd, owner=False, timeout=60)
        if result.returncode != 0:
            raise ServiceError(f"createdb {name} failed: {result.stderr.strip()}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, ending its connections (a test's copy, once the test is done)."""
        if not self._running:
            raise ServiceError("PostgreSQL server is not running")
        _drop_database(self.url, name)

    def halt(self, *, mode: str = "immediate") -> None:
        """Stop the server and keep its cluster and port for ``start()``. ``immediate`` (the default) drops
        every connection at once, as a crash or a failover does; ``fast`` is a clean shutdown."""
        self._pg_ctl_stop(mode=mode)
        self._running = False

    def restart(self, *, mode: str = "immediate") -> Self:
        """``halt(mode)`` then ``start()``: the same database on the same port, every connection broken."""
        self.halt(mode=mode)
        return self.start()

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and remove its temporary directory."""
        try:
            self._pg_ctl_stop(mode="fast")
        finally:
            self._running = False
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None
            self._unregister_atexit()

    def close(self) -> None:
        """Same as :meth:`stop`."""
        self.stop()

    def __repr__(self) -> str:
        return f"<PostgresServer {self.url if self._running else 'stopped'}>"


# ----------------------------------------------------------------------------------------------------- Redis


def _redis_command(host: str, port: int, *args: str, timeout: float = 2.0) -> bytes:
    """Send one RESP command and return the first reply line (enough for PING/SHUTDOWN)."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        raw = arg.encode()
        payload += b"$%d\r\n%s\r\n" % (len(raw), raw)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            return sock.recv(256)
        except OSError:
            return b""


class RedisServer(_Service):
    """A throwaway ``redis-server`` on a free loopback port, without persistence.

    ``halt()`` shuts it down and keeps its port; ``start()`` then starts it again there, empty (as a Redis
    without persistence comes back); ``restart()`` does both. ``stop()`` removes everything.
    """

    name = "redis"

    def __init__(self, *, port: int | None = None, extra_args: list[str] | None = None) -> None:
        super().__init__()
        self._fixed_port = port
        self.port = port or 0
        self.host = LOCALHOST
        self.extra_args = list(extra_args or [])
        self.tmpdir: Path | None = None
        self._running = False

    @property
    def url(self) -> str:
        """``redis://`` URL of database 0."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "redis.pid"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "redis.log"

    @property
    def running(self) -> bool:
        return self._running

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return _read_pid(self.pidfile) if self._running else None

    def _ping(self) -> bool:
        try:
            return _redis_command(self.host, self.port, "PING").startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> Self:
        """Start the server and wait until it answers PING. Returns ``self``."""
        if self._running:
            return self
        binary = find_binary("redis-server")
        if binary is None:
            raise ServiceError("redis-server not found; install the 'redis-server' package (make system-deps)")
        if self.tmpdir is not None:  # after halt(): the same port
            self._start_once(binary)
            self._running = True
            return self
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pantau-redis-"))
        self._register_atexit()
        try:
            attempts = 1 if self._fixed_port else 3
            for attempt in range(attempts):
                self.port = self._fixed_port or free_port()
                try:
                    self._start_once(binary)
                    break
                except ServiceError:
                    if attempt == attempts - 1:
                        raise
            self._running = True
        except BaseException:
            self.stop()
            raise
        return self

    def _start_once(self, binary: str) -> None:
        assert self.tmpdir is not None
        cmd = [
            binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--daemonize", "yes",
            "--dir", str(self.tmpdir),
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--save", "",
            "--appendonly", "no",
            *self.extra_args,
        ]  # fmt: skip
        result = subprocess.run(
            cmd,
            cwd=self.tmpdir,
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            check=False,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._ping():
                return
            pid = _read_pid(self.pidfile)
            if result.returncode != 0 or (pid is not None and not _pid_alive(pid)):
                break
            time.sleep(0.05)
        self._kill()
        raise ServiceError(
            f"redis-server did not answer PING on port {self.port} (waited up to {START_TIMEOUT:.0f} s; "
            f"exit {result.returncode}): {result.stderr.strip()}\n"
            f"--- last lines of {self.logfile} ---\n{_tail(self.logfile)}"
        )

    def _kill(self) -> None:
        if self.tmpdir is None:
            return
        pid = _read_pid(self.pidfile)
        if pid is None or not _pid_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_pid_gone(pid, 10):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_pid_gone(pid, 5)

    def halt(self) -> None:
        """Shut the server down (``SHUTDOWN NOSAVE``, else kill by pidfile); keep its port for ``start()``."""
        if self.tmpdir is not None:
            pid = _read_pid(self.pidfile)
            if self._running:
                with contextlib.suppress(OSError):
                    _redis_command(self.host, self.port, "SHUTDOWN", "NOSAVE")
            if pid is not None and not _wait_pid_gone(pid, 10):
                self._kill()
        self._running = False

    def restart(self) -> Self:
        """``halt()`` then ``start()`` on the same port (empty: no persistence)."""
        self.halt()
        return self.start()

    def stop(self) -> None:
        """Shut the server down and remove its directory."""
        try:
            self.halt()
        finally:
            self._running = False
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None
            self._unregister_atexit()

    def close(self) -> None:
        """Same as :meth:`stop`."""
        self.stop()

    def __repr__(self) -> str:
        return f"<RedisServer {self.url if self._running else 'stopped'}>"


# ------------------------------------------------------------------------------------------------- Mosquitto


class MosquittoServer(_Service):
    """A throwaway Mosquitto broker with persistence, on a free loopback port.

    ``stop()`` / ``start()`` restart it on the same port with the same data directory, so persistent sessions
    and queued QoS 1 messages survive (``stop(kill=True)`` simulates a crash: SIGKILL, losing whatever was not
    yet autosaved). ``close()`` stops it for good and removes the directory.
    """

    name = "mosquitto"

    def __init__(
        self,
        *,
        port: int | None = None,
        max_inflight_messages: int = 20,
        max_queued_messages: int = 0,
        autosave_interval: int = 1,
        extra_config: str = "",
    ) -> None:
        super().__init__()
        self.port = port or 0
        self.host = LOCALHOST
        self.max_inflight_messages = max_inflight_messages
        self.max_queued_messages = max_queued_messages
        self.autosave_interval = autosave_interval
        self.extra_config = extra_config
        self.tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://host:port`` of the broker."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def datadir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "data"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "mosquitto.log"

    @property
    def stderr_file(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "mosquitto.stderr"

    @property
    def config_file(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "mosquitto.conf"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _write_config(self) -> None:
        assert self.tmpdir is not None
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.datadir}/",
            f"autosave_interval {self.autosave_interval}",
            f"max_queued_messages {self.max_queued_messages}",
            f"max_inflight_messages {self.max_inflight_messages}",
            "set_tcp_nodelay true",
            f"log_dest file {self.logfile}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            f"pid_file {self.tmpdir / 'mosquitto.pid'}",
        ]
        if _is_root():
            # As root, mosquitto switches to this user after reading the config; it then writes the log and
            # persistence files as that user, so the folder belongs to it (see _prepare_dirs).
            lines.append("user mosquitto" if _os_user("mosquitto") else "user root")
        if self.extra_config:
            lines.append(self.extra_config)
        self.config_file.write_text("\n".join(lines) + "\n")

    def _prepare_dirs(self) -> None:
        assert self.tmpdir is not None
        self.datadir.mkdir(exist_ok=True)
        self.logfile.touch(exist_ok=True)
        user = _os_user("mosquitto") if _is_root() else None
        if user is not None:
            _chown_tree(self.tmpdir, user)

    def start(self) -> Self:
        """Start (or restart, on the same port and data directory) the broker. Returns ``self``."""
        if self.running:
            return self
        binary = find_binary("mosquitto")
        if binary is None:
            raise ServiceError("mosquitto not found; install the 'mosquitto' package (make system-deps)")
        first = self.tmpdir is None
        if first:
            self.tmpdir = Path(tempfile.mkdtemp(prefix="pantau-mqtt-"))
            self._register_atexit()
            if not self.port:
                self.port = free_port()
        try:
            self._write_config()
            self._prepare_dirs()
            with open(self.stderr_file, "ab") as err:
                self._proc = subprocess.Popen(
                    [binary, "-c", str(self.config_file)],
                    cwd=self.tmpdir,
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + START_TIMEOUT
            while not port_open(self.host, self.port):
                if self._proc.poll() is not None or time.monotonic() >= deadline:
                    self._terminate(kill=True)
                    raise ServiceError(
                        f"mosquitto did not come up on port {self.port} "
                        f"(waited up to {START_TIMEOUT:.0f} s)\n"
                        f"--- {self.stderr_file.name} ---\n{_tail(self.stderr_file, 15)}\n"
                        f"--- last lines of {self.logfile} ---\n{_tail(self.logfile)}"
                    )
                time.sleep(0.05)
        except BaseException:
            if first:
                self.close()
            raise
        return self

    def _terminate(self, *, kill: bool) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._proc = None

    def stop(self, kill: bool = False) -> None:
        """Stop the broker: SIGTERM (saves the persistence file) or SIGKILL when ``kill``. Keeps the data."""
        self._terminate(kill=kill)

    def restart(self, kill: bool = False) -> Self:
        """``stop(kill)`` then ``start()`` on the same port and data directory."""
        self.stop(kill=kill)
        return self.start()

    def close(self) -> None:
        """Stop the broker and remove its temporary directory."""
        try:
            self._terminate(kill=False)
        finally:
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
                self.tmpdir = None
            self._unregister_atexit()

    def __repr__(self) -> str:
        return f"<MosquittoServer {self.url if self.running else 'stopped'}>"


# -------------------------------------------------------------------------------------- already-running ones


class ExternalService:
    """A service someone else runs (given by URL); ``start``/``stop``/``close`` do nothing."""

    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> Self:
        return self

    def stop(self) -> None:
        """Nothing to stop."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


def _autocommit(url: str, statement: str) -> None:
    """Run one statement outside a transaction (``CREATE``/``DROP DATABASE``) on the server of ``url``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _drop_database(url: str, name: str) -> None:
    if not _DB_NAME.match(name):
        raise ValueError(f"bad database name {name!r}")
    _autocommit(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ExternalPostgres(ExternalService):
    """An already-running PostgreSQL given by a SQLAlchemy URL; can still create databases on it."""

    def create_database(self, name: str, template: str = "template0") -> str:
        """Create database ``name`` on the same server as a copy of ``template`` (empty by default); return its
        URL."""
        if not _DB_NAME.match(name) or not _DB_NAME.match(template):
            raise ValueError(f"bad database name {name!r}")
        from sqlalchemy.engine import make_url

        _autocommit(self.url, f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE "{template}"')
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, ending its connections (a test's copy, once the test is done)."""
        _drop_database(self.url, name)
