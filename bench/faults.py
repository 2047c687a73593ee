"""Fault recovery: does the ward central station come back by itself, and is nothing lost, when a service fails?

Starts real PostgreSQL, Redis and Mosquitto the way the test suite does (``testkit/servers.py``, free ports, a
temporary folder; the broker with deploy/mosquitto/mosquitto.conf's queue, in-flight and autosave settings but
anonymous), migrates and seeds a ward of ``--monitors`` occupied beds, then runs the production processes:
``gunicorn app:server`` (gunicorn.conf.py), the consumer (``python -m bridge.consumer`` with its persistent
session) and the monitors (``python -m iot_sim``, 1 Hz each). The ward's central station is open in headless
Chromium, signed in with a ward display token (``/tv/<token>``), or as the demo nurse when no token can open a
ward (said in the output). A witness subscriber on the vitals topics records each monitor's published ``seq``.

Then five faults, one after the other: ``kill -9`` the consumer; ``kill -9`` the broker; stop PostgreSQL; stop
Redis; stop gunicorn (SIGTERM); each service stays away ``--outage`` seconds and is started again. During each,
one bed goes into cardiac arrest (the simulator's control topic; before the broker is killed, since the command
travels through it) and is switched back to stable once the screen is live again. Per fault:

* ``recovery_s`` — from the service being back (consumer subscribed, port open, web app answering) until the
  screen is live: every occupied tile got vitals after that moment and none is greyed out, and nothing covers
  the screen ("monitoring interrupted", "signed out");
* ``down_s`` — how long the service was away (``stop_s``: how long taking it down took; gunicorn's SIGTERM lets
  open streams run on for its ``graceful_timeout``);
* ``covered_after_s`` — when, after the service went away, the screen said it was not monitoring (null: never);
* ``first_data_s`` — from the service being back to the first vitals on the page; ``streams_opened`` — event
  streams the page opened meanwhile (its reconnects);
* ``alarms`` / ``alarms_shown`` — alarm episodes (``alarm_event``) that started between the fault and the end
  of its recovery, and how many of them the station's alarm list showed (same bed and condition, while the
  episode lasted or within 15 s of its end).

At the end, once gap filling has had ``--backfill`` seconds: ``lost`` = samples in each monitor's witnessed
``seq`` range not stored, ``duplicated`` = rows beyond one per (device, seq), ``duplicated_alarms`` =
``alarm_event`` rows beyond one per (bed, condition, start). ``--json`` prints one JSON object
last. Usage: ``python bench/faults.py [--monitors 32] [--outage 10] [--only consumer,redis] [--keep-going]
[--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from domain.actor import Actor
from domain.clock import epoch_ms, now_ms

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._fault_ledger import Ledger, SampleCount, StoredAlarm, Witness  # noqa: E402
from bench._fault_screen import ShownAlarm, Station  # noqa: E402
from bench._fault_stack import (  # noqa: E402
    BenchError,
    Consumer,
    Simulator,
    WebServer,
    bench_env,
    production_broker,
    wait_until,
)
from bench.ward_screen import WARD, seed_bench_ward  # noqa: E402
from testkit.servers import PostgresServer, RedisServer, ServiceError  # noqa: E402

PASSWORD = "bench-only-password-1"  # bench value
NURSE = "perawat"  # the demo nurse, when no display token opens a ward
DRIVE_SCENARIO = "arrest"
SHOWN_GRACE_MS = 15_000  # an episode counts as shown if the list had it while it lasted or this soon after
ALARM_SETTLE_S = 20.0  # after recovery, how long the driven bed's alarm may take to appear
TARGET_RECOVERY_S = 10.0
WITNESS_QUIET_S = 5.0  # the monitors publish every second: a witness quiet for longer has lost its subscription


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class FaultResult:
    """What one fault did to the station."""

    fault: str
    bed: str
    stop_s: float = 0.0  # taking it down (gunicorn lets open streams run for its graceful_timeout)
    down_s: float = 0.0  # from gone to back
    recovery_s: float | None = None
    first_data_s: float | None = None  # back → the first bed's vitals on the page
    streams_opened: int = 0  # event streams the page opened from the fault until it was live again
    covered_after_s: float | None = None
    alarms: int = 0
    alarms_shown: int = 0
    missing: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # what the alarm list said, as a nurse read it
    lost: int = 0
    error: str = ""
    started_ms: int = 0
    ended_ms: int = 0


@dataclass(frozen=True)
class Fault:
    """A fault: take the service down, bring it back (returns the monotonic time it was back)."""

    name: str
    down: Callable[[], None]
    up: Callable[[], float]
    drive_first: bool = False  # the control command travels through the broker: send it before the broker dies


class Bench:
    """The running system and the faults injected into it."""

    def __init__(self, args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
        self.args, self.stack = args, stack
        self.folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pantau-faults-")))
        _log("starting PostgreSQL, Redis and Mosquitto")
        self.pg = stack.enter_context(PostgresServer())
        self.redis = stack.enter_context(RedisServer())
        self.broker = stack.enter_context(production_broker())
        self.site, self.devices, self.token = self._seed()
        self.beds = [device.removeprefix("MON-") for device in self.devices]
        env = bench_env(
            env="test",
            database_url=self.pg.url,
            redis_url=self.redis.url,
            mqtt_url=self.broker.url,
            var_dir=str(self.folder),
            site_code=self.site,
            log_level="WARNING",
            simulate="false",
        )
        self.witness = Witness(self.broker.url, self.site)
        self.witness.start()
        stack.callback(self.witness.close)
        self.consumer = Consumer(env, self.folder)
        self.web = WebServer(env, self.folder)
        self.sim = Simulator(env, self.folder, self.broker.url, self.site, self.devices)
        for child in (self.consumer, self.web, self.sim):
            stack.callback(child.stop)  # last registered, first stopped: the simulator, then the web, the consumer
        _log(f"starting the consumer, gunicorn and {len(self.devices)} simulated monitors")
        self.consumer.start_ready()
        self.web.start_ready()
        self.sim.start()
        self.ledger = Ledger(self.pg.url)
        stack.callback(self.ledger.close)
        self.station = self._open_station()
        self.results: list[FaultResult] = []
        self.started = datetime.now(UTC)

    def _seed(self) -> tuple[str, list[str], str | None]:
        """Migrate, seed the demo and the bench ward; a display token for the ward, if the app can make one."""
        from sqlalchemy import select

        from auth import users
        from auth.demo_accounts import seed_demo
        from config import load_settings
        from data.migrate import upgrade
        from data.models import Site
        from data.runtime import build_runtime
        from domain.errors import InputError

        settings = load_settings(
            env="test", database_url=self.pg.url, redis_url=self.redis.url, var_dir=self.folder, demo_password=PASSWORD
        )
        upgrade(settings.database_url)
        runtime = build_runtime(settings)
        try:
            with runtime.db.session() as s:
                seed_demo(s, settings)
            devices = seed_bench_ward(runtime, self.args.monitors)
            with runtime.db.session() as s:
                site = s.scalar(select(Site))
                actor = Actor(None, "bench", site.id)
                try:
                    user = users.create_user(
                        s,
                        actor,
                        site_id=site.id,
                        username="stasiunbench",
                        full_name="Stasiun sentral (uji beban)",  # its name may not be in the password
                        roles=["display"],
                        password=PASSWORD,
                    )
                    token = users.create_display_token(s, actor, user, "Bench ward station", f"/bangsal/{WARD}")
                except InputError as exc:
                    _log(f"no display token for /bangsal/{WARD} ({exc}); the station signs in as a nurse")
                    token = None
            return site.code, devices, token
        finally:
            runtime.close()

    def _open_station(self) -> Station:
        from playwright.sync_api import sync_playwright

        playwright = self.stack.enter_context(sync_playwright())
        station = Station(playwright, self.web.base, WARD)
        self.stack.callback(station.close)
        if not (self.token and station.open_with_token(self.token)):
            if self.token:
                (ROOT / "var").mkdir(exist_ok=True)
                station.screenshot(str(ROOT / "var" / "bench-faults-token.png"))
                _log(
                    f"/tv/<token> did not open /bangsal/{WARD} (on {station.page.url}, console {station.console[-3:]})"
                )
                _log("signing in as the demo nurse instead")
            station.open_as(NURSE, PASSWORD)
        _log(f"ward station open ({station.signed_in_as}); waiting for every tile to be live")
        since = now_ms()
        wait_until(lambda: station.state(since).live, 90, "the ward station going live", interval=0.5)
        return station

    # ------------------------------------------------------------------------------------------ the faults

    def faults(self) -> list[Fault]:
        return [
            Fault("consumer kill -9", self.consumer.kill, self.consumer.start_ready),
            Fault("broker kill -9", lambda: self.broker.stop(kill=True), _timed(self.broker.start), drive_first=True),
            Fault("postgresql restart", lambda: self.pg.halt(mode="fast"), _timed(self.pg.start)),
            Fault("redis restart", self.redis.halt, _timed(self.redis.start)),
            Fault("gunicorn restart", self.web.stop, self.web.start_ready),
        ]

    def drive(self, bed: str, scenario: str) -> None:
        """Switch ``bed`` to ``scenario`` through the simulator's control topic (QoS 1, acknowledged)."""
        from data.mqtt_client import BrokerAddress, make_client
        from data.mqtt_topics import sim_control_topic

        address = BrokerAddress.from_url(self.broker.url)
        client = make_client(address, "", persistent=False)
        client.connect(address.host, address.port)
        client.loop_start()
        try:
            payload = json.dumps({"bed": bed, "scenario": scenario})
            client.publish(sim_control_topic(self.site), payload, qos=1).wait_for_publish(10)
        finally:
            client.disconnect()
            client.loop_stop()

    def run(self, fault: Fault, bed: str) -> FaultResult:
        result = FaultResult(fault.name, bed, started_ms=now_ms())
        streams = self.station.state(0).streams
        _log(f"fault: {fault.name} (bed {bed} goes into {DRIVE_SCENARIO})")
        began = time.monotonic()
        try:
            if fault.drive_first:
                self.drive(bed, DRIVE_SCENARIO)
            fault.down()
            gone, gone_ms = time.monotonic(), now_ms()
            result.stop_s = round(gone - began, 1)
            if not fault.drive_first:
                self.drive(bed, DRIVE_SCENARIO)
            self._watch_outage(gone)
            back = fault.up()
            back_ms = now_ms() - int((time.monotonic() - back) * 1000)
            result.down_s = round(back - gone, 1)
            self._wait_live(result, back, back_ms, streams)
            if (covered := self.station.first_cover(gone_ms)) is not None:
                result.covered_after_s = round((covered - gone_ms) / 1000, 1)
            self._wait_alarm_shown(bed)
            self.drive(bed, "stable")
        except (BenchError, ServiceError) as exc:
            result.error = str(exc)
            _log(f"  {fault.name}: {exc}")
        result.ended_ms = now_ms()
        return result

    def _watch_outage(self, gone: float) -> None:
        """The service stays away ``--outage`` s (the page's probe notes what the screen does meanwhile)."""
        while time.monotonic() < gone + self.args.outage:
            self.station.harvest()
            time.sleep(0.25)

    def _wait_live(self, result: FaultResult, back: float, back_ms: int, streams: int) -> None:
        deadline = back + self.args.recovery_timeout
        while time.monotonic() < deadline:
            state = self.station.state(back_ms)
            if result.first_data_s is None and state.quiet < state.tiles:
                result.first_data_s = round(time.monotonic() - back, 2)
            if state.live:
                result.streams_opened = state.streams - streams
                result.recovery_s = round(time.monotonic() - back, 2)
                _log(f"  back after {result.down_s} s; screen live {result.recovery_s} s later")
                return
            self.station.harvest()
            time.sleep(0.1)
        name = result.fault.split()[0]
        (ROOT / "var").mkdir(exist_ok=True)
        self.station.screenshot(str(ROOT / "var" / f"bench-faults-{name}.png"))
        _log(f"  screen NOT live {self.args.recovery_timeout:.0f} s after {result.fault}: {state}")

    def _wait_alarm_shown(self, bed: str) -> None:
        """Give the driven bed's alarm a bounded time to appear before the bed is switched back."""
        deadline = time.monotonic() + ALARM_SETTLE_S
        while time.monotonic() < deadline:
            if any(a.bed == bed and a.shown_to is None for a in self.station.alarms()):
                return
            time.sleep(0.25)

    # ------------------------------------------------------------------------------------------- the counts

    def samples(self) -> SampleCount:
        """Samples published so far against those stored, after waiting up to ``--backfill`` s for gap filling;
        each result gets the lost samples published during its window. Returns the count."""
        if (quiet := self.witness.quiet_for()) > WITNESS_QUIET_S:
            raise BenchError(f"the witness saw no new sample for {quiet:.0f} s: the published ranges would be short")
        ranges = self.witness.ranges()
        deadline = time.monotonic() + self.args.backfill
        while True:
            count = self.ledger.samples(ranges)
            if not count.lost or time.monotonic() >= deadline:
                break
            time.sleep(2)
        for device, seqs in count.missing.items():
            for seq in seqs:
                published = self.witness.when(device, seq)
                for result in self.results:
                    if result.started_ms <= published < result.ended_ms:
                        result.lost += 1
        return count

    def score_alarms(self) -> None:
        """Fill in each result's alarms (episodes started during its window) and which the station showed. An
        episode not shown yet gets until ``SHOWN_GRACE_MS`` after it started (or ended) before it counts as
        missing, so one raised just before the window closed is not counted by mistake."""
        if not self.results:
            return
        stored = self.ledger.alarms_since(self.started, WARD)
        windows = [(r, a) for r in self.results for a in stored if r.started_ms <= epoch_ms(a.started_at) < r.ended_ms]
        deadline = time.monotonic() + SHOWN_GRACE_MS / 1000
        while time.monotonic() < deadline and any(not _shown_for(a, self.station.alarms()) for _, a in windows):
            time.sleep(0.5)
        shown = self.station.alarms()
        for result, alarm in windows:
            result.alarms += 1
            if matches := _shown_for(alarm, shown):
                result.alarms_shown += 1
                result.shown += sorted({s.text for s in matches} - set(result.shown))
            else:
                result.missing.append(_episode(alarm, result.started_ms))


def _timed(start: Callable[[], object]) -> Callable[[], float]:
    """``start``, then the monotonic time it returned (a service's ``start()`` returns once it answers)."""

    def up() -> float:
        start()
        return time.monotonic()

    return up


def _episode(alarm: StoredAlarm, fault_ms: int) -> str:
    """``B-02 news2_medium (medium), +12.3 s to +20.1 s``: when it started and ended, from the fault's start."""
    start = (epoch_ms(alarm.started_at) - fault_ms) / 1000
    end = f"+{(epoch_ms(alarm.ended_at) - fault_ms) / 1000:.1f} s" if alarm.ended_at else "still active"
    return f"{alarm.bed} {alarm.condition} ({alarm.priority}), +{start:.1f} s to {end}"


def _shown_for(alarm: StoredAlarm, shown: list[ShownAlarm]) -> list[ShownAlarm]:
    """The list's entries for this episode: same bed and condition, on screen while it lasted or just after."""
    start = epoch_ms(alarm.started_at)
    end = epoch_ms(alarm.ended_at) if alarm.ended_at else now_ms()
    return [
        s
        for s in shown
        if s.bed == alarm.bed
        and s.condition == alarm.condition
        and s.shown_from <= end + SHOWN_GRACE_MS
        and (s.shown_to is None or s.shown_to >= start)
    ]


def _by_label(shown: list[str]) -> dict[str, list[str]]:
    """``["B-01 · Tidak ada data 3", "B-02 · Tidak ada data 3"]`` → ``{"Tidak ada data 3": ["B-01", "B-02"]}``."""
    grouped: dict[str, list[str]] = {}
    for text in shown:
        bed, _, label = text.partition(" · ")
        grouped.setdefault(label or bed, []).append(bed if label else "")
    return grouped


def _stop_on_sigterm() -> None:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=32, help="simulated monitors, one per occupied bed")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds each service stays away")
    parser.add_argument("--recovery-timeout", type=float, default=60.0, help="longest wait for the screen (s)")
    parser.add_argument("--backfill", type=float, default=60.0, help="longest wait for gap filling at the end (s)")
    parser.add_argument("--only", default="", help="comma-separated fault names to run (consumer, broker, …)")
    parser.add_argument("--keep-going", action="store_true", help="inject the next fault after one that failed")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args()
    _stop_on_sigterm()
    logging.getLogger("data.mqtt_client").setLevel(logging.ERROR)  # the bench's own MQTT clients: no reconnect chatter
    try:
        outcome = measure(args)
    except KeyboardInterrupt:
        _log("interrupted: every process and service the bench started has been stopped")
        return 130
    report(outcome, args)
    return 0 if len(outcome.results) == outcome.planned else 1


@dataclass(frozen=True)
class Outcome:
    """Everything the bench measured."""

    results: list[FaultResult]
    planned: int  # faults chosen; fewer results when it stopped after a failed one
    samples: SampleCount
    duplicated_alarms: int
    station: str  # how the station was signed in


def measure(args: argparse.Namespace) -> Outcome:
    """Start everything, inject the faults, count; stop everything, even on an error or Ctrl-C."""
    with contextlib.ExitStack() as stack:
        bench = Bench(args, stack)
        chosen = [f for f in bench.faults() if not args.only or f.name.split()[0] in args.only.split(",")]
        for n, fault in enumerate(chosen):
            result = bench.run(fault, bench.beds[(n * 7 + 2) % len(bench.beds)])
            bench.results.append(result)
            if (result.error or result.recovery_s is None) and not args.keep_going:
                _log("stopping after a failed fault (--keep-going to go on)")
                break
        _log(f"waiting up to {args.backfill:.0f} s for gap filling")
        count = bench.samples()
        bench.score_alarms()
        duplicated_alarms = bench.ledger.duplicated_alarms(bench.started)
        (ROOT / "var").mkdir(exist_ok=True)
        bench.station.screenshot(str(ROOT / "var" / "bench-faults.png"))
        return Outcome(bench.results, len(chosen), count, duplicated_alarms, bench.station.signed_in_as)


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    results, count = outcome.results, outcome.samples
    print(
        f"{'fault':<20} {'down s':>7} {'live again s':>13} {'covered at s':>13} {'alarms':>7} {'shown':>6} {'lost':>6}"
    )
    for r in results:
        recovery = "NOT LIVE" if r.recovery_s is None else f"{r.recovery_s:.2f}"
        covered = "-" if r.covered_after_s is None else f"{r.covered_after_s:.1f}"
        print(
            f"{r.fault:<20} {r.down_s:>7.1f} {recovery:>13} {covered:>13} {r.alarms:>7} {r.alarms_shown:>6} {r.lost:>6}"
        )
        for item in r.missing:
            print(f"{'':<20} missing on screen: {item}")
        for label, beds in _by_label(r.shown).items():
            print(f"{'':<20} shown: {label} — {', '.join(beds)}")
        if r.error:
            print(f"{'':<20} error: {r.error}")
    recoveries = [r.recovery_s for r in results]
    figures = {
        "faults": len(results),
        "max_recovery_s": None if None in recoveries or not recoveries else max(recoveries),
        "not_live": sum(r is None for r in recoveries),
        "alarms": sum(r.alarms for r in results),
        "alarms_missing": sum(len(r.missing) for r in results),
        "published": count.published,
        "lost": count.lost,
        "duplicated": count.duplicated,
        "duplicated_alarms": outcome.duplicated_alarms,
        "monitors": args.monitors,
        "outage_s": args.outage,
        "station": outcome.station,
        "target_met": bool(
            len(results) == 5
            and None not in recoveries
            and max(recoveries) <= TARGET_RECOVERY_S
            and not any(r.missing for r in results)
            and not count.lost
            and not count.duplicated
            and not outcome.duplicated_alarms
        ),
        "per_fault": [{k: v for k, v in asdict(r).items() if k not in ("started_ms", "ended_ms")} for r in results],
    }
    shown = ("faults", "max_recovery_s", "alarms", "alarms_missing", "published", "lost", "duplicated")
    for key in (*shown, "duplicated_alarms", "station"):
        print(f"{key:>17}: {figures[key]}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    raise SystemExit(main())
