"""``python -m iot_sim``: simulated bedside monitors over MQTT (see ``--help``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from data.mqtt_topics import sim_control_topic, sim_state_topic, wave_topic
from data.simulator_commands import ARTEFACTS, SCENARIOS
from iot_sim.devices import DEFAULT_NIBP_INTERVAL, DEFAULT_TREND_MEMORY, demo_devices
from iot_sim.faults import Faults
from iot_sim.scenarios import normalise_scenario

__all__ = ["build_parser", "main"]

log = logging.getLogger("iot_sim")

EPILOG = f"""\
scenarios: {", ".join(SCENARIOS)}
artefacts: {", ".join(ARTEFACTS)} (none = clear)

Broker and site come from PANTAU_MQTT_URL (+ _USERNAME, _PASSWORD, _CA_FILE) and PANTAU_SITE_CODE; without
PANTAU_MQTT_URL the embedded broker at 127.0.0.1:PANTAU_EMBEDDED_MQTT_PORT is used.

Run-time control: publish to {sim_control_topic("{site}")}
  {{"bed":"ICU-03","scenario":"sepsis"}}   or   {{"bed":"ICU-03","artefact":"spo2_off","seconds":30}}
("bed" may be a bed code, a device id or "*"). Current scenarios: retained on {sim_state_topic("{site}")}.

examples:
  python -m iot_sim --scenario ICU-03=sepsis --speed 60
  python -m iot_sim --beds 4 --waveforms --scenario ICU-02=af
  python -m iot_sim --beds 200 --rate 2 --duration 60 --drop 0.01 --duplicate 0.01 --reorder 0.01
"""


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _scenario(text: str) -> tuple[str, str]:
    who, name = _pair(text)
    try:
        return who, normalise_scenario(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _skew(text: str) -> tuple[str, float]:
    who, value = _pair(text)
    try:
        return who, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"clock skew must be seconds, got {value!r}") from None


def _artefact(text: str) -> tuple[str, str, float]:
    who, value = _pair(text)
    kind, _, seconds = value.partition(":")
    if kind not in ARTEFACTS:
        raise argparse.ArgumentTypeError(f"unknown artefact {kind!r}; known: {', '.join(ARTEFACTS)}")
    try:
        return who, kind, float(seconds) if seconds else 30.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"artefact seconds must be a number, got {seconds!r}") from None


def _raise_file_limit(needed: int) -> None:
    """One socket per monitor: lift the soft open-files limit towards the hard one when many devices run."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning("open-files limit too low for this many devices", extra={"limit": target, "needed": needed})


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (every flag documented in ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m iot_sim",
        description="Pantau bedside-monitor simulator: realistic vitals over MQTT (DESIGN.md §3), with clinical "
        "scenarios, sensor artefacts and transport faults. Stops cleanly on SIGTERM / Ctrl-C.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("broker")
    g.add_argument("--mqtt-url", help="broker URL mqtt://host:port or mqtts://host:port (default: PANTAU_MQTT_URL)")
    g.add_argument("--site", help="site code used in the topics (default: PANTAU_SITE_CODE)")
    g.add_argument(
        "--credentials",
        metavar="FILE",
        help='JSON {"MON-ICU-01": "password", ...} (flask --app app provision-sim-devices): each monitor logs in '
        "as itself; without --devices/--beds, the monitors in the file are simulated",
    )

    g = p.add_argument_group("devices")
    who = g.add_mutually_exclusive_group()
    who.add_argument(
        "--devices",
        metavar="ID,ID,...",
        help="comma-separated device ids, e.g. MON-ICU-01,MON-ICU-02 (bed = id without MON-); "
        "default: every demo bed (MON-ICU-01..16, MON-MEL-01..16)",
    )
    who.add_argument(
        "--beds",
        type=int,
        metavar="N",
        help="the first N demo beds (ICU-01.., MEL-01..); beyond 32, extra beds SIM-033, SIM-034, ...",
    )
    g.add_argument("--seed", type=int, default=1, help="random seed; same seed and inputs = same payloads (default 1)")

    g = p.add_argument_group("timing")
    g.add_argument(
        "--speed",
        type=_positive,
        default=1.0,
        help="simulated physiological seconds per real second: compresses scenarios (sepsis takes 4 h at 1, "
        "4 min at 60); sampling, NIBP and artefact times stay in real seconds (default 1)",
    )
    g.add_argument("--rate", type=_positive, default=1.0, help="numerics messages per second per device (default 1)")
    g.add_argument("--duration", type=_positive, metavar="SECONDS", help="stop after this many seconds")
    g.add_argument(
        "--nibp-interval",
        type=_positive,
        default=DEFAULT_NIBP_INTERVAL,
        metavar="SECONDS",
        help="cuff (NIBP) reading every so many seconds per bed, staggered; the first within 30 s (default 300)",
    )
    g.add_argument(
        "--waveforms",
        action="store_true",
        help=f"also publish 1 s chunks on {wave_topic('{site}', '{device}')} (250 ECG + 125 pleth samples, QoS 0)",
    )

    g = p.add_argument_group("clinical")
    g.add_argument(
        "--scenario",
        type=_scenario,
        action="append",
        default=[],
        metavar="BED=NAME",
        help=f"run scenario NAME on a bed (code or device id; repeatable): {', '.join(SCENARIOS)}",
    )
    g.add_argument(
        "--artefact",
        type=_artefact,
        action="append",
        default=[],
        metavar="BED=KIND[:SECONDS]",
        help=f"start with a sensor artefact (repeatable; default 30 s): {', '.join(ARTEFACTS)}",
    )

    g = p.add_argument_group("transport faults (seeded)")
    g.add_argument(
        "--drop",
        type=_probability,
        default=0.0,
        metavar="P",
        help="skip publishing; seq still advances, so the consumer sees a gap and asks for a resend",
    )
    g.add_argument(
        "--memory",
        type=float,
        default=DEFAULT_TREND_MEMORY,
        metavar="SECONDS",
        help="seconds of numerics each monitor keeps to answer resend commands (default 3600; 0 = none)",
    )
    g.add_argument("--duplicate", type=_probability, default=0.0, metavar="P", help="publish a message twice")
    g.add_argument(
        "--reorder", type=_probability, default=0.0, metavar="P", help="hold a message back, publish it after the next"
    )
    g.add_argument(
        "--burst",
        action="store_true",
        help="store and forward: queue numerics while disconnected, flush them at once after the reconnect "
        "(without it, numerics produced while disconnected are lost)",
    )
    g.add_argument(
        "--clock-skew",
        type=_skew,
        action="append",
        default=[],
        metavar="DEVICE=SECONDS",
        help="offset a device's clock (ts) by SECONDS, may be negative (repeatable; bed code or device id)",
    )
    g.add_argument(
        "--reboot-every",
        type=_positive,
        metavar="SECONDS",
        help="each device reboots every SECONDS (staggered): seq restarts at 0, ts keeps increasing",
    )

    p.add_argument("--log-level", help="DEBUG, INFO, WARNING... (default: PANTAU_LOG_LEVEL)")
    return p


def read_credentials(path: str) -> dict[str, str] | None:
    """``{device_id: password}`` from ``path``, or ``None`` (after saying why) when it cannot be used."""
    import json

    try:
        with open(path, encoding="utf-8") as source:
            data = json.load(source)
    except (OSError, ValueError) as exc:
        print(f"iot_sim: cannot read credentials {path}: {exc}", file=sys.stderr)
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        print(f"iot_sim: {path} must hold a JSON object of device id -> password", file=sys.stderr)
        return None
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until SIGTERM / Ctrl-C or ``--duration``; the process exit code."""
    args = build_parser().parse_args(argv)

    from config import configure_logging, load_settings

    overrides: dict[str, object] = {}
    if args.mqtt_url:
        overrides["mqtt_url"] = args.mqtt_url
    if args.site:
        overrides["site_code"] = args.site
    try:
        settings = load_settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError or config.ConfigError: say what is wrong, no trace
        print(f"iot_sim: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level or settings.log_level)

    from iot_sim.simulator import Simulator

    credentials = read_credentials(args.credentials) if args.credentials else {}
    if credentials is None:
        return 2
    if args.devices:
        devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    elif credentials and args.beds is None:
        devices = sorted(credentials)
    elif args.beds is not None:
        devices = demo_devices(args.beds) if args.beds > 0 else []
    else:
        devices = demo_devices()
    try:
        faults = Faults(
            drop=args.drop,
            duplicate=args.duplicate,
            reorder=args.reorder,
            clock_skew=dict(args.clock_skew),
            reboot_every=args.reboot_every,
        )
        sim = Simulator(
            settings,
            settings.site_code,
            devices,
            seed=args.seed,
            speed=args.speed,
            rate=args.rate,
            nibp_interval=args.nibp_interval,
            waveforms=args.waveforms,
            scenarios=dict(args.scenario),
            faults=faults,
            burst=args.burst,
            memory=args.memory,
            credentials=credentials,
        )
        for who, kind, seconds in args.artefact:
            sim.inject_artefact(who, kind, seconds)
    except (ValueError, KeyError) as exc:
        print(f"iot_sim: {exc}", file=sys.stderr)
        return 2

    _raise_file_limit(len(devices) + 64)

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        sim.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sim.run(args.duration)
    return 0
