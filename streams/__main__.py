"""``python -m streams``: the stream server on ``PANTAU_STREAMS_BIND`` (host:port)."""

from __future__ import annotations

import uvicorn

from config import configure_logging, load_settings
from streams.app import create_app

SHUTDOWN_SECONDS = 5  # open streams are cut at shutdown; the screens reconnect by themselves


def main() -> None:
    settings = load_settings()
    settings.require_own_secrets()
    configure_logging(settings.log_level)
    host, port = settings.streams_bind.rsplit(":", 1)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=int(port),
        log_config=None,  # the JSON lines of config.configure_logging
        access_log=False,
        proxy_headers=False,  # client addresses come through PANTAU_TRUSTED_PROXIES only (streams/access.py)
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )


if __name__ == "__main__":
    main()
