"""``python -m streams``: the stream server on ``PANTAU_STREAMS_BIND`` (host:port)."""

from __future__ import annotations

from types import FrameType

import uvicorn
from starlette.applications import Starlette

from config import configure_logging, load_settings
from data.live_store import is_redis_url
from streams.app import create_app

SHUTDOWN_SECONDS = 5  # what is still open then is cut; the screens reconnect by themselves


class StreamServer(uvicorn.Server):
    """uvicorn, ending every open stream as soon as it is told to stop: a stream never ends by itself before
    ``PANTAU_LIVE_STREAM_SECONDS``, and uvicorn would wait for each until ``SHUTDOWN_SECONDS`` and then cut it."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        services = getattr(self.app.state, "services", None)  # there once the app has started
        if services is not None:
            services.book.end_all()


def main() -> None:
    settings = load_settings()
    settings.require_own_secrets()
    if not is_redis_url(settings.redis_url):
        raise SystemExit(
            "The stream server reads the live store the web app and the consumer write: set PANTAU_REDIS_URL "
            "(redis://…). The embedded demo serves its streams from the web app itself."
        )
    configure_logging(settings.log_level)
    host, port = settings.streams_bind.rsplit(":", 1)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=int(port),
        log_config=None,  # the JSON lines of config.configure_logging
        access_log=False,
        proxy_headers=False,  # client addresses come through PANTAU_TRUSTED_PROXIES only (streams/access.py)
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    StreamServer(config, app).run()


if __name__ == "__main__":
    main()
