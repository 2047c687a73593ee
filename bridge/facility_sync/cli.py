"""``python -m bridge.facility_sync run`` (the worker, until SIGTERM/SIGINT) and
``python -m bridge.facility_sync verify [--peer SITE]`` (exit 0 when identical, 1 when not, 2 without answer) and
``python -m bridge.facility_sync backfill [--peer SITE]`` (what a late peer and the records from before sync need)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bridge.facility_sync.options import SyncSetup, load_setup
from bridge.facility_sync.verify import NoAnswer, verify
from bridge.facility_sync.worker import SyncWorker
from bridge.stop_signal import stop_on_signals
from config import ConfigError, configure_logging, load_settings
from data.db import Database
from data.field_crypto import FieldCipher
from data.mqtt_client import broker_address
from data.sync_store import backfill, note_unsynced, register_site

__all__ = ["main"]

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, check the configuration and run the command."""
    parser = argparse.ArgumentParser(prog="python -m bridge.facility_sync", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="send, receive and acknowledge changes until stopped")
    run.add_argument("--window", type=int, default=100, help="changes in flight per peer, unacknowledged")
    run.add_argument("--heartbeat-file", type=Path, default=None, help="touched every few seconds (health checks)")
    check = commands.add_parser("verify", help="compare this site with a peer, record by record")
    check.add_argument("--peer", help="the peer's site code (default: the only peer)")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the peer's answer")
    fill = commands.add_parser("backfill", help="queue every record held for a peer added later, then the records "
                               "registered before sync was on for every peer")  # fmt: skip
    fill.add_argument("--peer", help="the peer that joined later (omit to queue only the records from before sync)")
    args = parser.parse_args(argv)
    if args.command == "run" and args.window < 1:
        parser.error("--window must be at least 1")

    settings = load_settings()
    configure_logging(settings.log_level)
    try:
        settings.require_own_secrets()
        setup = load_setup(settings)
    except ConfigError as exc:
        print(f"facility sync cannot start: {exc}", file=sys.stderr)
        return 2
    db = Database(
        settings.database_url,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    broker = broker_address(settings)
    try:
        cipher = FieldCipher(settings.data_keys, settings.blind_index_key)
        if args.command == "run":
            return _run(SyncWorker(setup, db, cipher, broker, window=args.window), args.heartbeat_file)
        if args.command == "backfill":
            return _backfill(setup, db, cipher, args.peer)
        peer = args.peer or (setup.peers[0] if len(setup.peers) == 1 else None)
        if peer not in setup.peers:
            print(f"--peer must be one of {', '.join(setup.peers)}", file=sys.stderr)
            return 2
        try:
            result = verify(setup, db, broker, peer, timeout=args.timeout)
        except NoAnswer:
            print(f"no answer from {peer} within {args.timeout:g} s (is its sync worker running?)", file=sys.stderr)
            return 2
    except ConfigError as exc:
        print(f"facility sync cannot start: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    if not result.differences:
        print(f"identical: {result.records} records")
        return 0
    for difference in result.differences:
        print(f"{difference.record_id}: {difference.state}")
    print(f"{len(result.differences)} of {result.records} records differ")
    return 1


def _backfill(setup: SyncSetup, db: Database, cipher: FieldCipher, peer: str | None) -> int:
    """Queue in batches, each committed (an interrupted run is simply run again): a late peer's copy of every
    record held, then the records never noted, for every peer."""
    if peer is not None and peer not in setup.peers:
        print(f"--peer must be one of {', '.join(setup.peers)}", file=sys.stderr)
        return 2
    with db.session() as session:
        register_site(session, setup.site, setup.peers)
    after: int | None = 0
    while peer is not None and after is not None:
        with db.session() as session:
            after = backfill(session, cipher, peer, after_id=after)
    unsynced = 0
    while True:
        with db.session() as session:
            done = note_unsynced(session, cipher)
        if not done:
            break
        unsynced += done
    late = f"every record held, for {peer}; " if peer else ""
    print(f"queued: {late}{unsynced} records from before sync, for every peer")
    return 0


def _run(worker: SyncWorker, heartbeat: Path | None) -> int:
    stop = stop_on_signals(log, "facility sync")
    worker.run(stop, heartbeat)
    return 0
