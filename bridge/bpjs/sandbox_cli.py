"""Run the BPJS Antrean RS sandbox: ``python -m bridge.bpjs.sandbox_cli --port 8081 --failure-rate 0.05``.

Credentials default to ``PANTAU_BPJS_CONS_ID`` / ``PANTAU_BPJS_SECRET`` / ``PANTAU_BPJS_USER_KEY``.
"""

from __future__ import annotations

import argparse
import logging

from bridge.bpjs.sandbox import BpjsRequestHandler, create_sandbox
from config import configure_logging, load_settings

log = logging.getLogger("bridge.bpjs.sandbox_cli")


def main(argv: list[str] | None = None) -> None:
    """Parse the options and serve the sandbox until interrupted."""
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m bridge.bpjs.sandbox_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--cons-id", default=settings.bpjs_cons_id)
    parser.add_argument("--secret", default=settings.bpjs_secret)
    parser.add_argument("--user-key", default=settings.bpjs_user_key)
    parser.add_argument("--failure-rate", type=float, default=0.0, help="share of answers that are a transient 404")
    parser.add_argument("--seed", type=int, default=None, help="seed of the failure injection")
    parser.add_argument("--timestamp-window", type=int, default=300, help="accepted x-timestamp skew, seconds")
    args = parser.parse_args(argv)
    if not (args.cons_id and args.secret and args.user_key):
        parser.error("give --cons-id, --secret and --user-key (or set PANTAU_BPJS_CONS_ID, _SECRET, _USER_KEY)")
    if not 0.0 <= args.failure_rate <= 1.0:
        parser.error("--failure-rate must be between 0 and 1")
    configure_logging(settings.log_level)
    app = create_sandbox(
        args.cons_id,
        args.secret,
        args.user_key,
        failure_rate=args.failure_rate,
        seed=args.seed,
        timestamp_window_seconds=args.timestamp_window,
        timezone=settings.timezone,
    )
    log.info("BPJS sandbox on http://%s:%s/ (view: /sandbox/)", args.host, args.port)
    app.run(host=args.host, port=args.port, threaded=True, request_handler=BpjsRequestHandler)


if __name__ == "__main__":
    main()
