"""The vitals consumer: MQTT -> validate -> resolve bed -> live store -> batch insert -> clinical feed -> ack.

``python -m bridge.consumer``: run until SIGTERM/SIGINT, then flush, ack, disconnect, exit 0. Stored samples are
fed to the clinical streams (:mod:`bridge.clinical_feed`; while subscribed, the consumer is among their announced
feeders), and an in-process evaluator
(:mod:`bridge.clinical_worker`) evaluates the partitions whose lease it wins; ``--no-evaluator`` leaves that to
``python -m bridge.clinical_worker`` processes, ``--no-clinical`` does neither.
"""

from __future__ import annotations

import argparse
import logging

from bridge.consumer.options import DEFAULT_CLIENT_ID, ConsumerHooks, ConsumerOptions
from bridge.consumer.service import Consumer
from bridge.stop_signal import stop_on_signals

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """``python -m bridge.consumer``: run until SIGTERM/SIGINT, then flush, ack, disconnect, exit 0."""
    from config import configure_logging, load_settings

    parser = argparse.ArgumentParser(prog="python -m bridge.consumer", description=__doc__.split("\n")[0])
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="fixed MQTT client id (persistent session)")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics and /healthz on this port")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for the metrics server")
    parser.add_argument("--shared", action="store_true", help="use a shared subscription ($share/pantau/...)")
    parser.add_argument("--retention-days", type=int, default=None, help="days of raw samples to keep")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-wait", type=float, default=0.05, help="seconds a batch may wait to fill")
    parser.add_argument("--maintenance-interval", type=float, default=300.0, help="seconds between upkeep runs")
    parser.add_argument("--no-clinical", action="store_true", help="store and show only: no NEWS2, no alarms")
    parser.add_argument(
        "--no-evaluator", action="store_true", help="feed the clinical streams, evaluate in clinical_worker processes"
    )
    args = parser.parse_args(argv)

    from bridge.clinical_feed import ClinicalFeed
    from bridge.clinical_worker import ClinicalWorker
    from bridge.collector import collect_for_batches
    from data import live_keys
    from data.runtime import build_runtime

    settings = load_settings()
    settings.require_own_secrets()
    configure_logging(settings.log_level)
    collect_for_batches()
    runtime = build_runtime(settings)
    feed = ClinicalFeed(runtime.live, settings.clinical_partitions, settings.clinical_stream_maxlen, args.client_id)
    evaluator = None if args.no_clinical or args.no_evaluator else ClinicalWorker.from_settings(runtime, args.client_id)
    options = ConsumerOptions(
        client_id=args.client_id,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        shared_subscription=True if args.shared else None,
        retention_days=args.retention_days,
        batch_size=args.batch_size,
        batch_wait=args.batch_wait,
        maintenance_interval=args.maintenance_interval,
        announce_in=() if args.no_clinical else (live_keys.CLINICAL_FEEDERS,),
    )
    hooks = None if args.no_clinical else ConsumerHooks(on_stored=(feed.append,))
    consumer = Consumer(runtime, options, hooks)
    if evaluator:
        evaluator.pipeline.adt_listeners.append(consumer.directory.invalidate)  # a new pairing counts at once
        consumer.metrics.clinical = evaluator.counters
    stop = stop_on_signals(log, "consumer")
    if evaluator:
        evaluator.start()
    try:
        consumer.run_forever(stop)
    finally:
        if evaluator:
            evaluator.stop()
        runtime.close()
    return 0
