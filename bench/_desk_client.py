"""One front desk's browser in the registration bench, as light as a client can be: a keep-alive HTTP/1.1
connection that posts JSON and sends back the cookies the app sets (the session cookie is written again as the
clerk works).

The bench runs its clients on the machine it measures. A ``requests`` session took 1.4–2 ms of that machine's CPU
per registration (docs/performance.md), CPU a real desk spends on its own PC; ``http.client`` takes a fraction of
it. Nothing is retried: a registration whose connection fails is an error, as a clerk would see it."""

from __future__ import annotations

import http.client
import json
import select
from collections.abc import Mapping
from urllib.parse import urlsplit

ClientError = (OSError, http.client.HTTPException, ValueError)  # what a failed post raises (ValueError: bad JSON)


class DeskClient:
    """Posts to one app (``base``, ``http://host:port``) with the cookies of a signed-in session."""

    def __init__(self, base: str, cookies: Mapping[str, str], timeout: float) -> None:
        address = urlsplit(base)
        self._connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
        self._cookies = dict(cookies)

    def post_json(self, path: str, body: object) -> tuple[int, object]:
        """POST ``body`` as JSON to ``path``: the status, and the decoded answer when it is 200 (else None)."""
        if self._closed_by_server():
            self._connection.close()  # the next request opens a new connection, as a browser would
        headers = {
            "Content-Type": "application/json",
            "Cookie": "; ".join(f"{name}={value}" for name, value in self._cookies.items()),
        }
        self._connection.request("POST", path, json.dumps(body).encode(), headers)
        response = self._connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self._cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, json.loads(data) if response.status == 200 else None

    def close(self) -> None:
        self._connection.close()

    def _closed_by_server(self) -> bool:
        """An idle keep-alive connection the server has closed reads as ready (EOF) before anything is sent."""
        sock = self._connection.sock
        return sock is not None and bool(select.select([sock], [], [], 0)[0])
