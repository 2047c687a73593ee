"""Vitals ingest: MQTT (QoS 1) -> ``python -m bridge.consumer`` -> PostgreSQL (durable) + Redis, end to end.

Starts a real Mosquitto, PostgreSQL (``fast=False``: fsync and synchronous commit on) and Redis the way the
test suite does (or uses ``PANTAU_DATABASE_URL`` / ``PANTAU_REDIS_URL`` / ``PANTAU_MQTT_URL`` when they are
set; the bench resets the clinical streams and the bench beds' alarms, so give it services of its own), creates
``--devices`` monitors on as many occupied beds, and runs ``--consumers`` real consumer processes, each with its
own persistent session on the shared subscription (``$share/pantau/...``) and its clinical evaluator (with
``--evaluators N``, ``--no-evaluator`` consumers and N ``python -m bridge.clinical_worker`` processes). Phases:

1. **bare** - the drain's recorded backlog (below) is queued for a bare paho subscriber on a topic of its own,
   which only parses each JSON payload: ``bare_drain_msgs_per_s``, the machine's ceiling at this moment (the
   figures of this shared machine swing by a third from run to run; ``drain_ratio`` = Pantau / bare does not).
2. **drain** - ``--messages`` messages are queued while the consumers are stopped, then they start:
   ``drain_msgs_per_s`` = messages / (first subscribed -> last one stored). The backlog is a recorded input:
   every monitor at 5 Hz of sample time, ending when it is published, with SpO2, HR and RR episodes of
   different lengths. ``clinical_drain_s`` is how long until the evaluators had evaluated all of it, and
   ``alarms`` counts the alarms it raised (by sample time; ``no_data`` and ``clock_skew`` are left out: they
   depend on when messages arrive, not on what they say). ``drain_no_data`` counts the "no data" episodes the
   drain raised all the same: the recorded monitors never fall silent, so each is a pause in the drain taken for
   a monitor's silence (``single_no_data``: the same for one consumer, phase 5). ``--drain-stall S`` stops every
   consumer process (``SIGSTOP``) for S seconds a third of the way through this drain, as a commit that stalls
   them all would; with ``--evaluators 1`` the evaluator reads on meanwhile (the drain rate then counts the stall;
   phase 5 runs without it).
3. **live** - ``--publishers`` processes publish ``--messages`` QoS 1 messages as fast as they can while the
   consumers run: ``msgs_per_s`` = messages / (first publish -> last one stored).
4. **latency** - one publisher at a steady ``--rate`` msgs/s for ``--latency-seconds``, the payload ``ts``
   stamped at publish time; a Redis subscriber on ``pantau:ward:BENCH`` measures publish -> tick received:
   ``p50_ms``, ``p95_ms``, ``p99_ms``. Over the phase's second half, the CPU the consumers (with their
   evaluators), the broker, Redis and PostgreSQL use: ``millicores_per_100_msgs_s``. With ``--devices`` equal
   to ``--rate`` every monitor sends once a second, as at a bedside, so that is the figure per 100 beds.
5. with ``--consumers`` above 1, the drain again with one consumer, from a clean clinical state, on the same
   recorded input: ``alarms_equal_to_single``, ``single_drain_msgs_per_s`` and ``drain_over_single`` (the
   consumers' drain divided by one consumer's).

Finally every published ``(device_id, ts, seq)`` is checked against ``vital_sample``: ``lost`` = published and
not stored, ``duplicates`` = redeliveries the consumers counted (stored once). The live store's ``MEMORY USAGE``
gives its bytes per vitals stream entry, per clinical feed entry and per latest hash. With ``--json`` the last
line is one JSON object. Usage:
``python bench/ingest.py --messages 200000 --devices 200 [--consumers 2] [--evaluators 1] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from domain.clock import epoch_ms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._proc_cpu import PhaseCpu, own_pid  # noqa: E402

SITE = "BENCH"
WARD = "BENCH"
CLIENT_ID = "pantau-bench-consumer"
# Each phase's seq numbers start here; the latency phase goes on from the live phase's last ones, as a monitor does
# (a jump would be a gap its consumer chases for minutes).
PHASE_SEQ = {"live": 0, "drain": 10_000_000, "single": 30_000_000}
BARE_TOPIC = "bench/bare/vitals"  # outside the consumers' subscription
SAMPLE_STEP_MS = 200  # the recorded backlog's sample interval (5 Hz)
TIMING_CONDITIONS = ("no_data", "clock_skew")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def device_ids(count: int) -> list[str]:
    return [f"BENCH-MON-{n:04d}" for n in range(1, count + 1)]


# ----------------------------------------------------------------------------------------------- publishers


def _payload(device: str, seq: int, ts: int) -> bytes:
    body = {
        "v": 1,
        "device_id": device,
        "seq": seq,
        "ts": ts,
        "hr": 60 + seq % 40,
        "spo2": 94 + seq % 6,
        "rr": 12 + seq % 8,
        "temp": 36.5 + (seq % 10) / 10,
        "sqi": {"ecg": 0.97, "spo2": 0.95},
        "status": {"ecg": "ok", "spo2": "ok"},
    }
    if seq % 60 == 0:
        body.update(sbp=110 + seq % 30, dbp=70 + seq % 15, map=85 + seq % 20)
    return json.dumps(body, separators=(",", ":")).encode()


class LeanPublisher:
    """A minimal MQTT 3.1.1 QoS 1 publisher on a plain socket (``mqtts://`` wrapped in verified TLS).

    Real monitors each run on their own hardware; here all of them share the consumer's two cores. paho's
    publish path costs about 60 us of CPU per message, which would make the bench measure the publishers.
    This one writes PUBLISH packets in bulk and counts PUBACKs (at most ``window`` unacknowledged), so nearly
    all of the machine is left to the broker and the consumer. ``flush()`` returns once the broker has
    acknowledged every message sent.
    """

    def __init__(self, mqtt_url: str, client_id: str, window: int = 2000) -> None:
        import socket
        import ssl
        import struct

        from data.mqtt_client import BrokerAddress

        address = BrokerAddress.from_url(mqtt_url)
        sock = socket.create_connection((address.host, address.port), timeout=60)
        if address.tls:
            context = ssl.create_default_context(cafile=address.ca_file)
            sock = context.wrap_socket(sock, server_hostname=address.host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.window = window
        self._struct = struct
        self._mid = 0
        self.outstanding = 0
        self._rbuf = b""
        flags = 0x02  # clean session
        payload = self._string(client_id)
        if address.username:
            flags |= 0x80
            payload += self._string(address.username)
            if address.password:
                flags |= 0x40
                payload += self._string(address.password)
        variable = self._string("MQTT") + bytes([4, flags]) + struct.pack("!H", 60)
        self.sock.sendall(self._packet(0x10, variable + payload))
        connack = self._read(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise SystemExit(f"the broker refused the bench publisher: {connack!r}")

    def _string(self, text: str) -> bytes:
        raw = text.encode()
        return self._struct.pack("!H", len(raw)) + raw

    @staticmethod
    def _packet(header: int, body: bytes) -> bytes:
        length = len(body)
        out = bytearray([header])
        while True:
            byte, length = length % 128, length // 128
            out.append(byte | (0x80 if length else 0))
            if not length:
                return bytes(out) + body

    def _read(self, size: int) -> bytes:
        while len(self._rbuf) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the broker closed the bench publisher's connection")
            self._rbuf += chunk
        data, self._rbuf = self._rbuf[:size], self._rbuf[size:]
        return data

    def _read_acks(self, block: bool) -> None:
        import select

        if not block and not select.select([self.sock], [], [], 0)[0]:
            return
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("the broker closed the bench publisher's connection")
        self._rbuf += chunk
        usable = len(self._rbuf) // 4 * 4  # PUBACKs are 4 bytes: 0x40 0x02 mid
        acks = self._rbuf[:usable]
        if acks.count(b"\x40\x02") < usable // 4:
            raise SystemExit(f"unexpected packet from the broker: {acks[:16]!r}")
        self.outstanding -= usable // 4
        self._rbuf = self._rbuf[usable:]

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """Send ``messages`` (QoS 1) as one write, after waiting for the window to have room."""
        while self.outstanding + len(messages) > self.window:
            self._read_acks(block=True)
        out = []
        pack = self._struct.pack
        for topic, payload in messages:
            self._mid = self._mid % 65535 + 1
            raw = topic.encode()
            out.append(self._packet(0x32, pack("!H", len(raw)) + raw + pack("!H", self._mid) + payload))
        self.sock.sendall(b"".join(out))
        self.outstanding += len(messages)
        self._read_acks(block=False)

    def flush(self) -> None:
        while self.outstanding > 0:
            self._read_acks(block=True)

    def close(self) -> None:
        self.flush()
        self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


def _message(device: str, seq: int) -> tuple[str, bytes]:
    return f"pantau/v1/{SITE}/vitals/{device}", _payload(device, seq, time.time_ns() // 10**6)


def recorded_message(device_index: int, device: str, n: int, seq_base: int, t0: int, topic: str) -> tuple[str, bytes]:
    """Sample ``n`` of the recorded backlog: at ``t0`` + n x 200 ms, with episodes that depend on the monitor (a
    SpO2 dip of 0-19 s, every 7th a HR run of 30 s, every 11th a RR run of 25 s), each from its own start."""
    second = n * SAMPLE_STEP_MS // 1000
    body: dict[str, object] = {
        "v": 1,
        "device_id": device,
        "seq": seq_base + n,
        "ts": t0 + n * SAMPLE_STEP_MS,
        "hr": 72 + n % 5,
        "spo2": 97,
        "rr": 15,
        "temp": 36.8,
        "sqi": {"ecg": 0.97, "spo2": 0.95},
        "status": {"ecg": "ok", "spo2": "ok"},
    }
    dip = 20 + device_index % 30
    if dip <= second < dip + device_index % 20:
        body["spo2"] = 86
    if device_index % 7 == 0 and 60 <= second < 90:
        body["hr"] = 135
    if device_index % 11 == 0 and 100 <= second < 125:
        body["rr"] = 32
    return f"{topic}/{device}", json.dumps(body, separators=(",", ":")).encode()


def recorded_worker(
    mqtt_url: str, devices: list[tuple[int, str]], per_device: int, seq_base: int, t0: int, topic: str, done
) -> None:
    """Publish this process's share of the recorded backlog, sample by sample across its monitors."""
    publisher = LeanPublisher(mqtt_url, f"bench-rec-{os.getpid()}")
    batch: list[tuple[str, bytes]] = []
    for n in range(per_device):
        for index, device in devices:
            batch.append(recorded_message(index, device, n, seq_base, t0, topic))
            if len(batch) == 100:
                publisher.publish(batch)
                batch = []
    if batch:
        publisher.publish(batch)
    publisher.close()
    done.put(per_device * len(devices))


def publish_recorded(
    mqtt_url: str, devices: list[str], messages: int, processes: int, seq_base: int, topic: str
) -> int:
    """Publish the recorded backlog (``messages`` / devices samples per monitor, ending now); return its ``t0``."""
    per_device = messages // len(devices)
    t0 = time.time_ns() // 10**6 - per_device * SAMPLE_STEP_MS
    t0 -= t0 % 1000  # on a whole second: every replay falls on the evaluator's 1 s steps the same way
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Queue()
    indexed = list(enumerate(devices))
    workers = [
        ctx.Process(
            target=recorded_worker, args=(mqtt_url, indexed[p::processes], per_device, seq_base, t0, topic, done)
        )
        for p in range(processes)
    ]
    for w in workers:
        w.start()
    sent = sum(done.get(timeout=900) for _ in workers)
    for w in workers:
        w.join(30)
    if sent != per_device * len(devices):
        raise SystemExit(f"recorded publishers sent {sent} of {per_device * len(devices)}")
    return t0


def publish_worker(mqtt_url: str, devices: list[str], count: int, seq_base: int, done) -> None:
    """Publish ``count`` messages round-robin over ``devices`` (this process's own monitors, each with its ``seq``
    in order, as a real monitor sends) as fast as the broker takes them; report ``(count, first publish, last
    PUBACK)`` on the ``time.time()`` scale."""
    publisher = LeanPublisher(mqtt_url, f"bench-pub-{os.getpid()}")
    began = time.time()
    chunk = 100
    for start in range(0, count, chunk):
        ns = range(start, min(start + chunk, count))
        publisher.publish([_message(devices[n % len(devices)], seq_base + n // len(devices)) for n in ns])
    publisher.flush()
    ended = time.time()
    publisher.close()
    done.put((count, began, ended))


def paced_worker(mqtt_url: str, devices: list[str], rate: int, seconds: float, seq_base: int, done) -> None:
    """Publish at a steady ``rate`` per second (ticks of 10 ms) for ``seconds``; ``ts`` = publish time."""
    publisher = LeanPublisher(mqtt_url, f"bench-paced-{os.getpid()}")
    total = int(rate * seconds)
    per_tick = max(1, rate // 100)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        delay = start + sent / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        ns = range(sent, min(sent + per_tick, total))
        publisher.publish([_message(devices[n % len(devices)], seq_base + n // len(devices)) for n in ns])
        sent += len(ns)
    publisher.close()
    done.put(total)


def run_publishers(
    mqtt_url: str, devices: list[str], messages: int, processes: int, seq_base: int
) -> tuple[float, float]:
    """Run the publisher processes; return (first publish, last PUBACK) on the ``time.time()`` scale."""
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Queue()
    # Each process publishes for its own monitors: splitting one monitor's seq range between processes would
    # deliver it out of order by thousands, which no monitor does (and the sequence-gap tracker would chase).
    per_device = messages // len(devices)  # every monitor sends as many, numbered 0, 1, ... as at a bedside
    workers = []
    for p in range(processes):
        mine = devices[p::processes]
        count = per_device * len(mine)
        workers.append(ctx.Process(target=publish_worker, args=(mqtt_url, mine, count, seq_base, done)))
    for w in workers:
        w.start()
    reports = [done.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(30)
    published = sum(r[0] for r in reports)
    if published != messages:
        raise SystemExit(f"publishers sent {published} of {messages}")
    return min(r[1] for r in reports), max(r[2] for r in reports)


# ------------------------------------------------------------------------------------------------ consumer


class ConsumerProcess:
    """A Pantau worker with the bench's services: ``python -m`` ``command`` (a consumer under ``client_id``, or a
    clinical evaluator), and its /healthz counters."""

    def __init__(self, env: dict[str, str], client_id: str, metrics_port: int, command: tuple[str, ...]) -> None:
        self.env = env
        self.client_id = client_id
        self.port = metrics_port
        self.command = command
        self.proc: subprocess.Popen | None = None
        self.runs: list[dict] = []

    def launch(self) -> float:
        cmd = [sys.executable, "-m", *self.command, "--metrics-port", str(self.port)]
        launched = time.time()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
        return launched

    def subscribed_at(self, launched: float) -> float:
        """Wait until subscribed; return when (the ``time.time()`` scale)."""
        assert self.proc is not None
        while True:
            snap = self.snapshot()
            if snap and snap.get("subscribed"):
                return snap["subscribed_at"] / 1000
            if self.proc.poll() is not None:
                raise SystemExit(f"the consumer exited with {self.proc.returncode}")
            if time.time() - launched > 60:
                raise SystemExit("the consumer did not subscribe within 60 s")
            time.sleep(0.02)

    def snapshot(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())
        except OSError:
            return None

    def stop(self) -> dict:
        snap = self.snapshot() or {}
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        if code != 0:
            raise SystemExit(f"the consumer exited with {code} after SIGTERM")
        self.runs.append(snap)
        return snap


class Consumers:
    """``count`` consumer processes on the shared subscription, started and stopped together; with ``evaluators``,
    that many ``bridge.clinical_worker`` processes evaluate instead of the consumers (``--no-evaluator``)."""

    def __init__(self, env: dict[str, str], count: int, name: str, evaluators: int = 0) -> None:
        from testkit.servers import free_port

        ids = [f"{CLIENT_ID}-{name}-{n}" for n in range(count)]
        consumer = ("bridge.consumer", "--shared") + (("--no-evaluator",) if evaluators else ())
        self.processes = [ConsumerProcess(env, i, free_port(), (*consumer, "--client-id", i)) for i in ids]
        evaluator_ids = [f"{CLIENT_ID}-{name}-eval-{n}" for n in range(evaluators)]
        self.evaluators = [
            ConsumerProcess(env, i, free_port(), ("bridge.clinical_worker", "--name", i)) for i in evaluator_ids
        ]

    @property
    def client_ids(self) -> list[str]:
        return [p.client_id for p in self.processes]

    def start(self) -> tuple[float, float]:
        """Start them (the evaluators first); return (first consumer launched, first subscribed) on the
        ``time.time()`` scale."""
        for evaluator in self.evaluators:
            evaluator.launch()
        launched = [p.launch() for p in self.processes]
        subscribed = [p.subscribed_at(t) for p, t in zip(self.processes, launched, strict=True)]
        return min(launched), min(subscribed)

    def snapshots(self) -> list[dict]:
        """The consumers' /healthz, then the evaluators'."""
        return [p.snapshot() or {} for p in self.processes + self.evaluators]

    def wait_stored(self, count: int, timeout: float = 900) -> float:
        """Wait until ``count`` messages are stored (new or duplicate) by them all; return when the last batch was
        committed (the consumers' own clock, on the ``time.time()`` scale), polled every 0.2 s."""
        deadline = time.perf_counter() + timeout
        while True:
            snaps = self.snapshots()
            stored = sum(s.get("stored", 0) + s.get("duplicates", 0) for s in snaps)
            if stored >= count:
                return max((s.get("last_batch_at") or 0) for s in snaps) / 1000
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {stored} of {count} stored after {timeout:.0f} s")
            time.sleep(0.2)

    def wait_evaluated(self, count: int, timeout: float = 300) -> float | None:
        """Wait until the consumers' evaluators have evaluated ``count`` steps; return when (None: not in time)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            evaluated = sum(((s.get("clinical") or {}).get("evaluated", 0)) for s in self.snapshots())
            if evaluated >= count:
                return time.time()
            time.sleep(0.2)
        return None

    def pids(self) -> list[int]:
        """The running consumers' and evaluators' process ids."""
        return [p.proc.pid for p in self.processes + self.evaluators if p.proc is not None and p.proc.poll() is None]

    def stall(self, seconds: float) -> None:
        """Stop every consumer process (``SIGSTOP``) for ``seconds``, not the evaluators of their own: consumers
        held up together (a commit that stalls, a starved process) while the evaluator reads on."""
        pids = [p.proc.pid for p in self.processes if p.proc is not None and p.proc.poll() is None]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        for p in self.processes + self.evaluators:
            p.stop()

    def close(self, mqtt_url: str) -> None:
        """Kill any still running (the bench failed) and end the consumers' persistent sessions, whose share of
        the subscription would otherwise keep taking messages."""
        for p in self.processes + self.evaluators:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait(30)
        for p in self.processes:
            end_session(mqtt_url, p.client_id)

    def duplicates(self) -> int:
        return sum(run.get("duplicates", 0) for p in self.processes for run in p.runs)


# --------------------------------------------------------------------------------------------------- setup


def seed_devices(database_url: str, count: int) -> None:
    """Migrate, then a site/ward with ``count`` occupied beds and monitors for the bench (idempotent). The beds
    have (fictional) patients so the consumer's clinical step — NEWS2 and alarms — runs for every sample."""
    from sqlalchemy import select

    from data.db import Database
    from data.migrate import upgrade
    from data.models import Device, Site, Ward
    from data.seed import add_occupied_bed

    upgrade(database_url)
    db = Database(database_url)
    try:
        with db.session() as s:
            site = s.scalar(select(Site).where(Site.code == SITE))
            if site is None:
                site = Site(code=SITE, name="Bench hospital")
                s.add(site)
                s.flush()
            ward = s.scalar(select(Ward).where(Ward.site_id == site.id, Ward.code == WARD))
            if ward is None:
                ward = Ward(site_id=site.id, code=WARD, name="Bench ward")
                s.add(ward)
                s.flush()
            for n, device_id in enumerate(device_ids(count), start=1):
                if s.scalar(select(Device).where(Device.device_id == device_id)) is not None:
                    continue
                add_occupied_bed(
                    s, site.id, ward.id, bed_code=f"BENCH-{n:04d}", device_id=device_id, mrn=f"BENCH-{n:05d}"
                )
    finally:
        db.dispose()


def purge_bench(database_url: str) -> None:
    """Remove earlier bench samples so the count check sees this run only."""
    from sqlalchemy import text

    from data.db import Database

    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM vital_sample WHERE device_id LIKE 'BENCH-MON-%'"))
    finally:
        db.dispose()


def count_stored(database_url: str, devices: list[str], since_seq: int, until_seq: int) -> int:
    from sqlalchemy import text

    from data.db import Database

    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT DISTINCT device_id, ts, seq FROM vital_sample "
                        "WHERE device_id LIKE 'BENCH-MON-%' AND seq >= :low AND seq < :high) AS keys"
                    ),
                    {"low": since_seq, "high": until_seq},
                ).scalar()
            )
    finally:
        db.dispose()


def create_session(mqtt_url: str, client_id: str, topics: list[str]) -> None:
    """Create a persistent session subscribed to ``topics`` before anything is published for it."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from data.mqtt_client import BrokerAddress

    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311)
    if address.username:
        client.username_pw_set(address.username, address.password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(address.host, address.port)
    client.loop_start()
    client.subscribe([(topic, 1) for topic in topics])
    if not subscribed.wait(10):
        raise SystemExit("could not create a persistent session")
    client.disconnect()
    client.loop_stop()


def end_session(mqtt_url: str, client_id: str) -> None:
    """Drop a persistent session (connect once with a clean one)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from data.mqtt_client import BrokerAddress

    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311)
    if address.username:
        client.username_pw_set(address.username, address.password)
    client.connect(address.host, address.port)
    client.disconnect()


def consumer_sessions(mqtt_url: str, consumers: Consumers) -> None:
    from data.mqtt_topics import ALL_STATUS, ALL_VITALS, shared

    for client_id in consumers.client_ids:
        create_session(mqtt_url, client_id, [shared(ALL_VITALS), shared(ALL_STATUS)])


def bare_drain(mqtt_url: str, devices: list[str], messages: int, processes: int) -> float:
    """Queue the recorded backlog on a topic of its own for a stock paho subscriber that only parses the JSON,
    then drain it: msgs/s from connected to the last message."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from data.mqtt_client import BrokerAddress

    client_id = f"{CLIENT_ID}-bare"
    create_session(mqtt_url, client_id, [f"{BARE_TOPIC}/+"])
    publish_recorded(mqtt_url, devices, messages, processes, 0, BARE_TOPIC)
    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311)
    if address.username:
        client.username_pw_set(address.username, address.password)
    times: dict[str, float] = {}
    received = 0
    done = threading.Event()

    def on_connect(*args) -> None:
        times["connected"] = time.time()

    def on_message(c, userdata, message) -> None:
        nonlocal received
        json.loads(message.payload)
        received += 1
        if received >= messages:
            times["last"] = time.time()
            done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(address.host, address.port)
    client.loop_start()
    if not done.wait(600):
        raise SystemExit(f"the bare subscriber got {received} of {messages}")
    client.disconnect()
    client.loop_stop()
    end_session(mqtt_url, client_id)
    return messages / (times["last"] - times["connected"])


def reset_clinical(database_url: str, redis_url: str) -> None:
    """A clean clinical state: no stored alarms of the bench beds, no clinical streams, offsets, leases or alarm
    state in Redis (the bench's services are its own)."""
    import redis
    from sqlalchemy import text

    from data.db import Database

    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "DELETE FROM alarm_event WHERE bed_id IN "
                    "(SELECT b.id FROM bed b JOIN ward w ON w.id = b.ward_id WHERE w.code = :ward)"
                ),
                {"ward": WARD},
            )
    finally:
        db.dispose()
    client = redis.Redis.from_url(redis_url)
    try:
        for pattern in ("pantau:clinical:*", "pantau:alarmstate:BENCH-*", "pantau:alarmjournal:*"):
            keys = list(client.scan_iter(pattern, count=1000))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def redis_footprint(redis_url: str) -> dict:
    """What the live store holds per bed and per clinical feed entry, from ``MEMORY USAGE`` of every such key
    (all of each key counted): bytes per entry of the beds' vitals streams and of the clinical partitions, the
    entries the partitions still hold at the end, and bytes per bed of the latest hash."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:

        def per(pattern: str, count) -> tuple[float | None, int]:
            used = counted = 0
            for key in client.scan_iter(pattern, count=1000):
                if client.type(key) in (b"stream", b"hash"):
                    used += client.memory_usage(key, samples=0) or 0
                    counted += count(key)
            return (round(used / counted, 1) if counted else None), counted

        feed_bytes, feed_entries = per("pantau:clinical:[0-9]*", client.xlen)
        return {
            "redis_vitals_bytes_per_entry": per("pantau:vitals:*", client.xlen)[0],
            "redis_feed_bytes_per_entry": feed_bytes,
            "redis_feed_entries": feed_entries,
            "redis_latest_bytes_per_bed": per("pantau:latest:*", lambda _key: 1)[0],
        }
    finally:
        client.close()


def drain_episodes(database_url: str, t0: int, span_ms: int) -> list[list]:
    """The alarm episodes the recorded backlog raised: (bed, condition, start and end in ms after ``t0``)."""
    from sqlalchemy import text

    from data.db import Database

    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT b.code, a.condition, a.started_at, a.ended_at FROM alarm_event a "
                    "JOIN bed b ON b.id = a.bed_id JOIN ward w ON w.id = b.ward_id WHERE w.code = :ward"
                ),
                {"ward": WARD},
            ).all()
    finally:
        db.dispose()
    out = []
    for code, condition, started, ended in rows:
        start = epoch_ms(started) - t0
        if not 0 <= start <= span_ms:
            continue
        out.append([code, condition, start, None if ended is None else epoch_ms(ended) - t0])
    return sorted(out, key=lambda row: (row[0], row[1], row[2]))


def settled_episodes(database_url: str, t0: int, span_ms: int) -> list[list]:
    """:func:`drain_episodes` once two reads a second apart agree (the journal may still be storing)."""
    previous = drain_episodes(database_url, t0, span_ms)
    for _ in range(30):
        time.sleep(1.0)
        current = drain_episodes(database_url, t0, span_ms)
        if current == previous:
            return current
        previous = current
    return previous


def by_sample_time(episodes: list[list]) -> list[list]:
    """The episodes that depend only on what the samples say: the timing conditions left out."""
    return [row for row in episodes if row[1] not in TIMING_CONDITIONS]


def no_data_count(episodes: list[list]) -> int:
    """ "No data" episodes: the recorded monitors never fall silent, so each is a pause in the drain taken for one."""
    return sum(row[1] == "no_data" for row in episodes)


def drain(
    mqtt_url: str,
    consumers: Consumers,
    devices: list[str],
    args: argparse.Namespace,
    seq_base: int,
    stall_s: float = 0.0,
) -> dict:
    """Queue the recorded backlog for the stopped ``consumers``, start them, time the drain and the clinical step;
    with ``stall_s``, stop them all for that long a third of the way through."""
    consumer_sessions(mqtt_url, consumers)
    t0 = publish_recorded(mqtt_url, devices, args.messages, args.publishers, seq_base, f"pantau/v1/{SITE}/vitals")
    launched, subscribed = consumers.start()
    if stall_s:
        consumers.wait_stored(args.messages // 3)
        _log(f"drain: every consumer stopped for {stall_s:.1f} s")
        consumers.stall(stall_s)
    finished = consumers.wait_stored(args.messages)
    snaps = consumers.snapshots()
    steps = len(devices) * (args.messages // len(devices) * SAMPLE_STEP_MS // 1000)
    evaluated = consumers.wait_evaluated(steps)
    clinical = [s.get("clinical") or {} for s in consumers.snapshots()]
    return {
        "late": sum(c.get("late", 0) for c in clinical),
        "repeated": sum(c.get("repeated", 0) for c in clinical),
        "t0": t0,
        "rate": args.messages / (finished - subscribed),
        "start_s": subscribed - launched,
        "clinical_s": None if evaluated is None else evaluated - subscribed,
        "batch_size_avg": snaps[0].get("batch_size_avg"),
        "commit_ms_p50": snaps[0].get("commit_ms_p50"),
        "commit_ms_p99": snaps[0].get("commit_ms_p99"),
    }


class TickListener:
    """Publish -> visible latencies from the ward channel (tick ``ts`` is the publish time)."""

    def __init__(self, redis_url: str, since_ms: int) -> None:
        import redis

        from data import live_keys

        self.latencies: list[int] = []
        self.since_ms = since_ms  # ticks of older samples (the drain phase's tail) are not counted
        self._client = redis.Redis.from_url(redis_url)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(live_keys.ward_channel(WARD))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            now = time.time_ns() // 10**6
            tick = json.loads(message["data"])
            if tick.get("t") == "v" and tick["ts"] >= self.since_ms:
                self.latencies.append(now - tick["ts"])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._pubsub.close()
        self._client.close()


def _percentile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="messages per phase (live and drain)")
    parser.add_argument("--devices", type=int, default=64)
    parser.add_argument("--consumers", type=int, default=1, help="consumer processes on the shared subscription")
    parser.add_argument(
        "--evaluators", type=int, default=0, help="clinical_worker processes (0: each consumer evaluates)"
    )
    parser.add_argument("--publishers", type=int, default=3, help="publisher processes in the live phase")
    parser.add_argument("--rate", type=int, default=2000, help="msgs/s of the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    parser.add_argument(
        "--inflight", type=int, default=20, help="max_inflight_messages of the bench's own Mosquitto (20 = its default)"
    )
    parser.add_argument(
        "--drain-stall",
        type=float,
        default=0.0,
        help="seconds every consumer process is stopped (SIGSTOP) a third of the way through the drain (not phase 5)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    if args.messages % args.devices:
        parser.error("--messages must be a multiple of --devices (the recorded backlog is the same per monitor)")

    from config import load_settings
    from testkit.servers import MosquittoServer, PostgresServer, RedisServer

    settings = load_settings()
    given = settings.model_fields_set
    devices = device_ids(args.devices)
    per_device = args.messages // args.devices
    span_ms = per_device * SAMPLE_STEP_MS
    with contextlib.ExitStack() as stack:
        postgres = None if "database_url" in given else stack.enter_context(PostgresServer(fast=False))
        database_url = settings.database_url if postgres is None else postgres.url
        redis_server = None if "redis_url" in given else stack.enter_context(RedisServer())
        redis_url = settings.redis_url if redis_server is None else redis_server.url
        broker = (
            None if "mqtt_url" in given else stack.enter_context(MosquittoServer(max_inflight_messages=args.inflight))
        )
        mqtt_url = settings.mqtt_url if broker is None else broker.url
        _log(f"services: postgres (durable) {database_url.split('@')[-1]}, redis, mosquitto {mqtt_url}")
        seed_devices(database_url, args.devices)
        purge_bench(database_url)
        reset_clinical(database_url, redis_url)

        env = {k: v for k, v in os.environ.items() if not k.startswith("PANTAU_")}
        env.update(
            PANTAU_ENV="test",
            PANTAU_DATABASE_URL=database_url,
            PANTAU_REDIS_URL=redis_url,
            PANTAU_MQTT_URL=mqtt_url,
            PANTAU_LOG_LEVEL="WARNING",
        )
        for name in ("mqtt_username", "mqtt_password", "mqtt_ca_file"):
            if getattr(settings, name):
                env[f"PANTAU_{name.upper()}"] = getattr(settings, name)
        consumers = Consumers(env, args.consumers, "main", args.evaluators)
        stack.callback(consumers.close, mqtt_url)

        # 1. bare: the same backlog for a subscriber that only parses JSON
        _log(f"bare: queueing {args.messages} messages for a bare paho subscriber")
        bare_rate = bare_drain(mqtt_url, devices, args.messages, args.publishers)
        _log(f"bare: {bare_rate:,.0f} msgs/s")

        # 2. drain: the recorded backlog queued while the consumers are down
        _log(f"drain: queueing {args.messages} messages for {args.consumers} stopped consumer(s)")
        drained = drain(mqtt_url, consumers, devices, args, PHASE_SEQ["drain"], args.drain_stall)
        episodes = settled_episodes(database_url, drained["t0"], span_ms)
        alarms, drain_no_data = by_sample_time(episodes), no_data_count(episodes)
        _log(
            f"drain: {drained['rate']:,.0f} msgs/s (start to subscribed {drained['start_s']:.2f} s); clinical step "
            f"done after {drained['clinical_s']} s; {len(alarms)} alarms, {drain_no_data} 'no data'"
        )

        # 3. live: publishers and consumers together
        _log(f"live: {args.publishers} publisher processes, {args.messages} messages")
        started, published = run_publishers(mqtt_url, devices, args.messages, args.publishers, PHASE_SEQ["live"])
        finished = consumers.wait_stored(2 * args.messages)
        live_rate = args.messages / (finished - started)
        publish_rate = args.messages / (published - started)
        _log(f"live: {live_rate:,.0f} msgs/s end to end (the publishers alone: {publish_rate:,.0f} msgs/s)")

        # 4. latency at a steady rate
        listener = TickListener(redis_url, time.time_ns() // 10**6)
        ctx = multiprocessing.get_context("spawn")
        done = ctx.Queue()
        paced = ctx.Process(
            target=paced_worker,
            args=(mqtt_url, devices, args.rate, args.latency_seconds, PHASE_SEQ["live"] + per_device, done),
        )
        _log(f"latency: {args.rate} msgs/s for {args.latency_seconds:.0f} s")
        cpu = PhaseCpu(
            {
                "consumers": consumers.pids(),
                "broker": own_pid(broker),
                "redis": own_pid(redis_server),
                "postgres": own_pid(postgres),
            }
        )
        paced.start()
        time.sleep(args.latency_seconds / 2)  # past the start's own work (the bed's gaps and no-data alarms)
        cpu.start()
        window_started = time.monotonic()
        latency_messages = done.get(timeout=args.latency_seconds + 120)
        window_messages = args.rate * (time.monotonic() - window_started)
        steady_cpu = {name: round(100_000 * used / window_messages) for name, used in cpu.used().items()}
        paced.join(30)
        consumers.wait_stored(2 * args.messages + latency_messages)
        _log(f"latency: millicores per 100 msgs/s over its second half {steady_cpu}")
        time.sleep(0.5)
        listener.close()
        consumers.stop()
        duplicates = consumers.duplicates()

        # 5. the same recorded backlog for one consumer, from a clean clinical state
        single_alarms = single_rate = single_no_data = None
        if args.consumers > 1:
            reset_clinical(database_url, redis_url)
            consumers.close(mqtt_url)  # their sessions leave the shared subscription
            single = Consumers(env, 1, "single", min(args.evaluators, 1))
            stack.callback(single.close, mqtt_url)
            _log("single: the recorded backlog again, for one consumer")
            single_drained = drain(mqtt_url, single, devices, args, PHASE_SEQ["single"])
            single_episodes = settled_episodes(database_url, single_drained["t0"], span_ms)
            single_alarms, single_no_data = by_sample_time(single_episodes), no_data_count(single_episodes)
            single.stop()
            for row in [r for r in alarms if r not in single_alarms][:10]:
                _log(f"  only with {args.consumers} consumers: {row}")
            for row in [r for r in single_alarms if r not in alarms][:10]:
                _log(f"  only with one consumer: {row}")
            duplicates += single.duplicates()
            single_rate = single_drained["rate"]
            _log(f"single: {single_rate:,.0f} msgs/s, {len(single_alarms)} alarms, {single_no_data} 'no data'")

        phases = ("live", "drain", "latency") + (("single",) if args.consumers > 1 else ())
        seqs = {phase: (base, base + 10_000_000) for phase, base in PHASE_SEQ.items()}
        seqs["live"], seqs["latency"] = (0, per_device), (per_device, 10_000_000)
        stored = {phase: count_stored(database_url, devices, *seqs[phase]) for phase in phases}
        expected = {"live": args.messages, "drain": args.messages, "latency": latency_messages, "single": args.messages}
        lost = sum(max(0, expected[p] - stored[p]) for p in phases)
        lat = listener.latencies
        result = {
            "bench": "ingest",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "messages": args.messages,
            "devices": args.devices,
            "consumers": args.consumers,
            "drain_stall_s": args.drain_stall,
            "evaluators": args.evaluators,
            "publishers": args.publishers,
            "broker_max_inflight": args.inflight if "mqtt_url" not in given else None,
            "published_total": sum(expected[p] for p in phases),
            "stored": sum(stored.values()),
            "duplicates": duplicates,
            "lost": lost,
            "msgs_per_s": round(live_rate),
            "drain_msgs_per_s": round(drained["rate"]),
            "bare_drain_msgs_per_s": round(bare_rate),
            "drain_ratio": round(drained["rate"] / bare_rate, 3),
            "clinical_drain_s": None if drained["clinical_s"] is None else round(drained["clinical_s"], 2),
            "clinical_late": drained["late"],
            "clinical_repeated": drained["repeated"],
            "alarms": len(alarms),
            "alarms_equal_to_single": None if single_alarms is None else alarms == single_alarms,
            "drain_no_data": drain_no_data,
            "single_no_data": single_no_data,
            "single_drain_msgs_per_s": None if single_rate is None else round(single_rate),
            "drain_over_single": None if single_rate is None else round(drained["rate"] / single_rate, 2),
            "latency_rate": args.rate,
            "latency_samples": len(lat),
            "p50_ms": _percentile(lat, 0.50),
            "p95_ms": _percentile(lat, 0.95),
            "p99_ms": _percentile(lat, 0.99),
            "max_ms": float(max(lat)) if lat else None,
            "drain_batch_size_avg": drained["batch_size_avg"],
            "drain_commit_ms_p50": drained["commit_ms_p50"],
            "drain_commit_ms_p99": drained["commit_ms_p99"],
            "millicores_per_100_msgs_s": steady_cpu,
            **redis_footprint(redis_url),
        }
        keys = (
            "messages",
            "stored",
            "duplicates",
            "lost",
            "msgs_per_s",
            "drain_msgs_per_s",
            "bare_drain_msgs_per_s",
            "drain_ratio",
            "clinical_drain_s",
            "alarms",
            "alarms_equal_to_single",
            "single_drain_msgs_per_s",
            "drain_over_single",
            "p50_ms",
            "p99_ms",
        )
        for key in keys:
            _log(f"  {key:>22}: {result[key]}")
        if args.json:
            print(json.dumps(result))
        else:
            print(json.dumps(result, indent=2))
    return 0 if lost == 0 and result["alarms_equal_to_single"] is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())
