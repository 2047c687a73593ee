"""The registration bench's desk client (``bench/_desk_client.py``): it must send back the session cookie the app
wrote last, and survive the server closing an idle keep-alive connection, or the bench's figures would count
refusals and broken connections that no browser would meet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench._desk_client import DeskClient
from testkit.threaded_http import serving


class _App(BaseHTTPRequestHandler):
    """Answers each POST with the cookie it was sent and sets the next one (``n`` counts up), as Flask rewrites
    its session cookie; ``/drop`` answers as if keeping the connection and then closes it, as a server does with
    an idle keep-alive connection."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        super().setup()
        _App.connections += 1

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        sent = self.headers.get("Cookie", "")
        jar = SimpleCookie(sent)
        n = int(jar["n"].value) + 1 if "n" in jar else 1
        answer = json.dumps({"cookie": sent, "body": body}).encode()
        self.send_response(200 if self.path != "/refuse" else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", f"n={n}; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.close_connection = self.path == "/drop"

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def desk() -> Iterator[DeskClient]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _App)) as base:
        client = DeskClient(base, {"session": "abc"}, timeout=10)
        yield client
        client.close()


def test_the_cookie_the_app_set_last_is_sent_back(desk):
    status, first = desk.post_json("/", {"a": 1})
    assert status == 200
    assert first == {"cookie": "session=abc", "body": {"a": 1}}
    _, second = desk.post_json("/", {"a": 2})
    assert second["cookie"] == "session=abc; n=1"
    _, third = desk.post_json("/", {"a": 3})
    assert third["cookie"] == "session=abc; n=2"


def test_a_connection_the_server_closed_is_opened_again(desk):
    _App.connections = 0
    assert desk.post_json("/", {})[0] == 200
    assert desk.post_json("/drop", {})[0] == 200
    assert _App.connections == 1  # kept alive so far
    time.sleep(0.2)  # the server closes its end
    status, answer = desk.post_json("/", {"after": "drop"})
    assert status == 200 and answer["body"] == {"after": "drop"}
    assert _App.connections == 2


def test_a_refusal_is_a_status_without_an_answer(desk):
    assert desk.post_json("/refuse", {}) == (403, None)
