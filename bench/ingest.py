"""Vitals ingest: MQTT (QoS 1) -> ``python -m bridge.consumer`` -> PostgreSQL (durable) + Redis, end to end.

Starts a real Mosquitto, PostgreSQL (``fast=False``: fsync and synchronous commit on) and Redis the way the
test suite does (or uses ``PANTAU_DATABASE_URL`` / ``PANTAU_REDIS_URL`` / ``PANTAU_MQTT_URL`` when they are
set), creates ``--devices`` monitors on as many beds, and runs the real consumer in its own process. Phases:

1. **live** - ``--publishers`` processes publish ``--messages`` QoS 1 messages as fast as they can while the
   consumer runs: ``msgs_per_s`` = messages / (first publish -> last one stored).
2. **drain** - the consumer is stopped (SIGTERM), ``--messages`` more are queued in its persistent session,
   then it is started again: ``drain_msgs_per_s`` = messages / (connected -> last one stored).
3. **latency** - one publisher at a steady ``--rate`` msgs/s for ``--latency-seconds``, the payload ``ts``
   stamped at publish time; a Redis subscriber on ``pantau:ward:BENCH`` measures publish -> tick received:
   ``p50_ms``, ``p95_ms``, ``p99_ms``.

Finally every published ``(device_id, ts, seq)`` is checked against ``vital_sample``: ``lost`` = published and
not stored, ``duplicates`` = redeliveries the consumer counted (stored once). With ``--json`` the last line
is one JSON object. Usage: ``python bench/ingest.py --messages 200000 --devices 64 [--json]``.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SITE = "BENCH"
WARD = "BENCH"
CLIENT_ID = "pantau-bench-consumer"
PHASE_SEQ = {"live": 0, "drain": 10_000_000, "latency": 20_000_000}


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
    share, extra = divmod(messages, processes)
    workers = []
    for p in range(processes):
        count = share + (1 if p < extra else 0)
        mine = devices[p::processes]
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
    """``python -m bridge.consumer`` with the bench's services, and its /healthz counters."""

    def __init__(self, env: dict[str, str], metrics_port: int) -> None:
        self.env = env
        self.port = metrics_port
        self.proc: subprocess.Popen | None = None
        self.runs: list[dict] = []

    def start(self) -> tuple[float, float]:
        """Start the process; return (launched, subscribed) on the ``time.time()`` scale."""
        cmd = [sys.executable, "-m", "bridge.consumer", "--client-id", CLIENT_ID, "--metrics-port", str(self.port)]
        launched = time.time()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
        while True:
            snap = self.snapshot()
            if snap and snap.get("subscribed"):
                return launched, snap["subscribed_at"] / 1000
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

    def wait_stored(self, count: int, timeout: float = 900) -> float:
        """Wait until ``count`` messages are stored (new or duplicate); return when the last batch was
        committed (the consumer's own clock, on the ``time.time()`` scale), polled every 0.2 s."""
        deadline = time.perf_counter() + timeout
        while True:
            snap = self.snapshot() or {}
            stored = snap.get("stored", 0) + snap.get("duplicates", 0)
            if stored >= count:
                return snap["last_batch_at"] / 1000
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {stored} of {count} stored after {timeout:.0f} s")
            time.sleep(0.2)

    def stop(self) -> dict:
        snap = self.snapshot() or {}
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        if code != 0:
            raise SystemExit(f"the consumer exited with {code} after SIGTERM")
        self.runs.append(snap)
        return snap


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


def create_session(mqtt_url: str) -> None:
    """Create the consumer's persistent session (and its subscriptions) before anything is published."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from data.mqtt_client import BrokerAddress
    from data.mqtt_topics import ALL_STATUS, ALL_VITALS

    address = BrokerAddress.from_url(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, clean_session=False, protocol=mqtt.MQTTv311)
    if address.username:
        client.username_pw_set(address.username, address.password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect(address.host, address.port)
    client.loop_start()
    client.subscribe([(ALL_VITALS, 1), (ALL_STATUS, 1)])
    if not subscribed.wait(10):
        raise SystemExit("could not create the consumer's session")
    client.disconnect()
    client.loop_stop()


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
    parser.add_argument("--publishers", type=int, default=3, help="publisher processes in the live phase")
    parser.add_argument("--rate", type=int, default=2000, help="msgs/s of the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    parser.add_argument(
        "--inflight", type=int, default=20, help="max_inflight_messages of the bench's own Mosquitto (20 = its default)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()

    from config import load_settings
    from testkit.servers import MosquittoServer, PostgresServer, RedisServer, free_port

    settings = load_settings()
    given = settings.model_fields_set
    devices = device_ids(args.devices)
    with contextlib.ExitStack() as stack:
        if "database_url" in given:
            database_url = settings.database_url
        else:
            database_url = stack.enter_context(PostgresServer(fast=False)).url
        redis_url = settings.redis_url if "redis_url" in given else stack.enter_context(RedisServer()).url
        if "mqtt_url" in given:
            mqtt_url = settings.mqtt_url
        else:
            mqtt_url = stack.enter_context(MosquittoServer(max_inflight_messages=args.inflight)).url
        _log(f"services: postgres (durable) {database_url.split('@')[-1]}, redis, mosquitto {mqtt_url}")
        seed_devices(database_url, args.devices)
        purge_bench(database_url)
        create_session(mqtt_url)

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
        consumer = ConsumerProcess(env, free_port())

        # 1. live: publishers and consumer together
        consumer.start()
        _log(f"live: {args.publishers} publisher processes, {args.messages} messages")
        started, published = run_publishers(mqtt_url, devices, args.messages, args.publishers, PHASE_SEQ["live"])
        finished = consumer.wait_stored(args.messages)
        live_rate = args.messages / (finished - started)
        publish_rate = args.messages / (published - started)
        _log(f"live: {live_rate:,.0f} msgs/s end to end (the publishers alone: {publish_rate:,.0f} msgs/s)")
        consumer.stop()

        # 2. drain: queue while the consumer is down, then start it
        _log(f"drain: queueing {args.messages} messages for the stopped consumer")
        run_publishers(mqtt_url, devices, args.messages, args.publishers, PHASE_SEQ["drain"])
        launched, subscribed = consumer.start()
        finished = consumer.wait_stored(args.messages)
        drain_rate = args.messages / (finished - subscribed)
        drain_snapshot = consumer.snapshot() or {}
        _log(f"drain: {drain_rate:,.0f} msgs/s (process start to subscribed {subscribed - launched:.2f} s)")

        # 3. latency at a steady rate
        listener = TickListener(redis_url, time.time_ns() // 10**6)
        ctx = multiprocessing.get_context("spawn")
        done = ctx.Queue()
        paced = ctx.Process(
            target=paced_worker,
            args=(mqtt_url, devices, args.rate, args.latency_seconds, PHASE_SEQ["latency"], done),
        )
        _log(f"latency: {args.rate} msgs/s for {args.latency_seconds:.0f} s")
        paced.start()
        latency_messages = done.get(timeout=args.latency_seconds + 120)
        paced.join(30)
        consumer.wait_stored(args.messages + latency_messages)
        time.sleep(0.5)
        listener.close()
        consumer.stop()

        duplicates = sum(run.get("duplicates", 0) for run in consumer.runs)
        stored = {phase: count_stored(database_url, devices, low, low + 10_000_000) for phase, low in PHASE_SEQ.items()}
        expected = {"live": args.messages, "drain": args.messages, "latency": latency_messages}
        lost = sum(max(0, expected[p] - stored[p]) for p in expected)
        lat = listener.latencies
        result = {
            "bench": "ingest",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "messages": args.messages,
            "devices": args.devices,
            "publishers": args.publishers,
            "broker_max_inflight": args.inflight if "mqtt_url" not in given else None,
            "published_total": sum(expected.values()),
            "stored": sum(stored.values()),
            "duplicates": duplicates,
            "lost": lost,
            "msgs_per_s": round(live_rate),
            "drain_msgs_per_s": round(drain_rate),
            "latency_rate": args.rate,
            "latency_samples": len(lat),
            "p50_ms": _percentile(lat, 0.50),
            "p95_ms": _percentile(lat, 0.95),
            "p99_ms": _percentile(lat, 0.99),
            "max_ms": float(max(lat)) if lat else None,
            "drain_batch_size_avg": drain_snapshot.get("batch_size_avg"),
            "drain_commit_ms_p50": drain_snapshot.get("commit_ms_p50"),
            "drain_commit_ms_p99": drain_snapshot.get("commit_ms_p99"),
        }
        for key in ("messages", "stored", "duplicates", "lost", "msgs_per_s", "drain_msgs_per_s", "p50_ms", "p99_ms"):
            _log(f"  {key:>18}: {result[key]}")
        if args.json:
            print(json.dumps(result))
        else:
            print(json.dumps(result, indent=2))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
