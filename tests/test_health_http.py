"""The workers' probe server: its routes answer, other paths are 404, and a route that fails answers 500."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from bridge.health_http import HealthHttpServer, Reply


def _broken() -> Reply:
    raise RuntimeError("counters unreadable")


@pytest.fixture
def server():
    routes = {"/healthz": lambda: (503, b'{"ok": false}', "application/json"), "/broken": _broken}
    probe = HealthHttpServer(routes, "127.0.0.1", 0, "test-health")
    probe.start()
    yield probe
    probe.stop()


def _get(server: HealthHttpServer, path: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as answer:
            return answer.status, answer.read(), answer.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def test_routes_answer_with_their_status_body_and_type(server):
    assert _get(server, "/healthz?verbose=1") == (503, b'{"ok": false}', "application/json")
    assert _get(server, "/nothing")[0] == 404


def test_a_failing_route_answers_500_and_is_logged(server, caplog):
    assert _get(server, "/broken")[0] == 500
    assert "health route failed" in caplog.text
    assert _get(server, "/healthz")[0] == 503  # the server goes on
