"""A worker's small HTTP server for probes and scrapes: fixed GET routes, each answered by a function that returns
``(status, body, content type)``, served by a daemon thread from :meth:`HealthHttpServer.start` until
:meth:`HealthHttpServer.stop`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HealthHttpServer", "Reply"]

log = logging.getLogger(__name__)

Reply = tuple[int, bytes, str]
"""An answer: HTTP status, body and its content type."""


class HealthHttpServer:
    """``routes`` (path -> answer) on ``host:port`` (port 0: any free one, then :attr:`port`); other paths are 404."""

    def __init__(self, routes: Mapping[str, Callable[[], Reply]], host: str, port: int, name: str) -> None:
        self._routes = dict(routes)
        self._http = ThreadingHTTPServer((host, port), self._handler())
        self._http.daemon_threads = True
        self.name = name
        self.host = host
        self.port: int = self._http.server_address[1]

    def start(self) -> None:
        threading.Thread(target=self._http.serve_forever, name=self.name, daemon=True).start()
        log.info("health server listening", extra={"server": self.name, "host": self.host, "port": self.port})

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        routes = self._routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = routes.get(self.path.split("?")[0])
                try:
                    code, body, content_type = route() if route else (404, b"not found\n", "text/plain")
                except Exception as exc:  # a probe gets an answer, and the log says why, not a dropped connection
                    log.warning("health route failed", extra={"path": self.path, "error": repr(exc)[:300]})
                    code, body, content_type = 500, b"error\n", "text/plain"
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
