"""The generated access matrix: every Dash page, every Dash callback and every Flask route, × every role and no one
signed in, sent as a real request and compared with the declared policy.

Declared means: a page's registry ``roles``; a callback's owner page in ``callbacks.registry`` (its roles, or every
signed-in user for the app shell); a route's ``roles_required(...)`` or its entry in ``auth.guards.ROUTE_ACCESS``.
A page, callback or route that declares nothing fails here, so a new one cannot slip in unguarded. Allowed answers
neither 401 nor 403 (nor sends to the sign-in page); refused answers 403 when signed in, and 401 or a redirect to
``/login`` when not. ``tests/test_access_control.py`` keeps the hand-written list of pages as a second opinion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import dash
import pytest
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from auth.guards import (
    CALLBACK,
    CALLBACK_OWNERS,
    NOT_FOUND_PAGE,
    OWN_CREDENTIAL,
    PAGE,
    PUBLIC,
    ROUTER_OUTPUT,
    SHELL_OWNER,
    SIGNED_IN,
    route_access,
)
from domain.roles import ROLES
from tests.fixtures_app import PantauApp, build_app, make_settings

ANONYMOUS = "anonymous"
EVERYONE = (*ROLES, ANONYMOUS)
PLACEHOLDER = "x"  # a path parameter no record has: allowed requests may answer 404, never 401/403
LAST_ENDPOINT = "auth.logout"  # ends the client's session, so it is sent last
_PARAMETER = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory, mqtt_url: str) -> Iterator[PantauApp]:
    """One embedded app (SQLite, in-memory live store) for the whole matrix."""
    tmp = tmp_path_factory.mktemp("matrix")
    pantau = build_app(make_settings(tmp, f"sqlite:///{tmp / 'pantau.db'}", "memory://access-matrix", mqtt_url))
    yield pantau
    pantau.runtime.close()


def client_for(pantau: PantauApp, who: str) -> FlaskClient:
    return pantau.client() if who == ANONYMOUS else pantau.login(who)


def verdict(who: str, allowed: bool, response: TestResponse) -> str | None:
    """What is wrong with ``response`` for ``who`` under the policy, or None when it is right."""
    if allowed:
        refused = response.status_code in (401, 403) or guard_sent_to_sign_in(response)
        return f"allowed but answered {response.status_code}" if refused else None
    if who == ANONYMOUS:
        refused = response.status_code == 401 or guard_sent_to_sign_in(response)
        return None if refused else f"signed out but answered {response.status_code}"
    return None if response.status_code == 403 else f"refused but answered {response.status_code}"


def guard_sent_to_sign_in(response: TestResponse) -> bool:
    """The request guard's answer to a page request without a session: to the sign-in page, and back after it."""
    return response.status_code in (302, 303) and response.location.startswith("/login?next=")


def public_problem(response: TestResponse) -> str | None:
    """A public route is never the guard's refusal; it may refuse a wrong credential of its own (401, as
    ``/login`` does), never with 403."""
    if guard_sent_to_sign_in(response) or response.status_code == 403:
        return f"public but answered {response.status_code} {response.location or ''}".strip()
    return None


def may(who: str, roles: tuple[str, ...] | list[str] | str) -> bool:
    """Whether the declaration lets ``who`` in: a list of roles, or every signed-in user."""
    if roles == SIGNED_IN:
        return who != ANONYMOUS
    return who in roles


# ---- pages ------------------------------------------------------------------------------------------------------


def page_address(page: dict) -> str:
    """The page's own path, or its path template with each parameter filled with a placeholder."""
    template = page.get("path_template")
    return _PARAMETER.sub(PLACEHOLDER, template) if template else page["path"]


@pytest.mark.parametrize("who", EVERYONE)
def test_every_page_answers_as_its_roles_declare(who, matrix_app):
    client = client_for(matrix_app, who)
    wrong = []
    for module, page in dash.page_registry.items():
        if module == NOT_FOUND_PAGE:  # drawn inside the app for an unknown path; no address of its own
            continue
        roles = page.get("roles")
        if not roles:
            wrong.append(f"{page['path']}: declares no roles")
            continue
        problem = verdict(who, who in roles, client.get(page_address(page)))
        if problem:
            wrong.append(f"GET {page_address(page)}: {problem}")
    assert not wrong, "\n".join([who, *wrong])


# ---- callbacks --------------------------------------------------------------------------------------------------


def _dependency(spec: dict, value: bool) -> dict | list:
    """One input, state or output of a callback request with nothing in it: a wildcard ``ALL`` matches no
    component (an empty list), ``MATCH`` one component with placeholder keys."""
    property_ = spec["property"].split("@")[0]  # an allow_duplicate output's key carries a hash
    if not spec["id"].startswith("{"):
        return {"id": spec["id"], "property": property_} | ({"value": None} if value else {})
    pattern = json.loads(spec["id"])
    if any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values()):
        return []
    concrete = {k: PLACEHOLDER if v == ["MATCH"] else v for k, v in pattern.items()}
    return {"id": concrete, "property": property_} | ({"value": None} if value else {})


def callback_request(key: str, callback: dict) -> dict:
    """The body Dash's renderer posts to ``/_dash-update-component`` for this callback, with empty inputs."""
    declared = callback["output"] if isinstance(callback["output"], list) else [callback["output"]]
    outputs = [_dependency(o.to_dict(), value=False) for o in declared]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [_dependency(i, value=True) for i in callback["inputs"]],
        "state": [_dependency(s, value=True) for s in callback.get("state", [])],
        "changedPropIds": [],
    }


def callback_roles(pantau: PantauApp, key: str) -> tuple[str, ...] | list[str] | str | None:
    """The declared roles of the callback with output ``key``: its owner page's, or every signed-in user's for the
    app shell and Dash's page router (which draws a page only after the page's own check)."""
    owner = pantau.server.extensions[CALLBACK_OWNERS].get(key)
    if owner == SHELL_OWNER or (owner is None and key == ROUTER_OUTPUT):
        return SIGNED_IN
    return None if owner is None else dash.page_registry.get(owner, {}).get("roles")


@pytest.mark.parametrize("who", EVERYONE)
def test_every_callback_answers_as_its_page_declares(who, matrix_app):
    client = client_for(matrix_app, who)
    callbacks = matrix_app.dash.callback_map
    assert len(callbacks) > 100  # the app's real map, not an empty one
    wrong = []
    for key, callback in callbacks.items():
        if "callback" not in callback:  # a clientside callback runs in the browser: no request to guard
            continue
        roles = callback_roles(matrix_app, key)
        if not roles:
            wrong.append(f"{key}: no owner page with roles in callbacks.registry")
            continue
        response = client.post("/_dash-update-component", json=callback_request(key, callback))
        problem = verdict(who, may(who, roles), response)
        if problem:
            wrong.append(f"callback {key}: {problem}")
    assert not wrong, "\n".join([who, *wrong])


# ---- routes -----------------------------------------------------------------------------------------------------


def route_address(rule: Rule) -> str:
    """The rule with each path parameter filled: ``1`` for an integer, the placeholder for anything else."""
    return _PARAMETER.sub(
        lambda m: "1" if isinstance(rule._converters[m.group(2)], IntegerConverter) else PLACEHOLDER, rule.rule
    )


def routes(pantau: PantauApp) -> list[tuple[Rule, str]]:
    """Every (rule, method) of the Flask app, sign-out last."""
    found = [
        (rule, method)
        for rule in pantau.server.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(found, key=lambda item: item[0].endpoint == LAST_ENDPOINT)


def test_every_route_declares_its_access(matrix_app):
    undeclared = [rule.rule for rule, _ in routes(matrix_app) if route_access(matrix_app.server, rule.endpoint) is None]
    assert undeclared == [], "declare these with roles_required(...) or in auth.guards.ROUTE_ACCESS"


def own_credential_problem(response: TestResponse) -> str | None:
    """A route with a credential of its own refuses a request without it, signed in or not: the session is no
    credential there (nor is it a reason to send anyone to the sign-in page). Mobile JKN refuses in its envelope's
    ``metadata.code`` (HTTP 200), as BPJS specifies."""
    if guard_sent_to_sign_in(response):
        return "sent to the sign-in page"
    body = response.get_json(silent=True) or {}
    refused = response.status_code >= 400 or body.get("metadata", {}).get("code", 200) != 200
    return None if refused else f"accepted without its credential ({response.status_code})"


@pytest.mark.parametrize("who", EVERYONE)
def test_every_route_answers_as_it_declares(who, matrix_app):
    client = client_for(matrix_app, who)
    wrong = []
    for rule, method in routes(matrix_app):
        access = route_access(matrix_app.server, rule.endpoint)
        if access in (None, PAGE, CALLBACK):  # undeclared fails above; pages and callbacks have their own tests
            continue
        address = route_address(rule)
        response = client.open(address, method=method)
        if access == OWN_CREDENTIAL:
            problem = own_credential_problem(response)
        elif access == PUBLIC:
            problem = public_problem(response)
        else:
            problem = verdict(who, may(who, access), response)
        response.close()  # a stream opened by an allowed role ends here
        if problem:
            wrong.append(f"{method} {address}: {problem}")
    assert not wrong, "\n".join([who, *wrong])
