"""Every component id a callback names (input, state, output, ``running=``) exists in the app's layout or in a
page's layout as each role allowed to open the page is served it. The app runs with
``suppress_callback_exceptions=True`` (pages draw their components later), so Dash itself never checks: a typo in
an id would silently leave a callback that never fires or updates nothing.

A pattern-matching id (``{"type": ..., "index": ALL}``) matches a drawn id on its keys that are not wildcards.
Rows a callback draws later (search hits, failures to retry, mapping rows) are in no layout when the page opens;
such an id counts when its ``type`` is a declared id: a constant of a page's ``Ids`` class (the one home of the
ids a page's layout and callbacks share) or a ``*_ID`` constant of the shared component that draws it."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator

import dash

import components
from auth.users import find_user
from data.queue_boards import known_boards
from data.wards import list_wards, ward_beds
from domain.roles import ROLES
from tests.fixtures_app import PantauApp
from tests.test_access_control import router_request

Id = str | dict
WILDCARDS = (["ALL"], ["MATCH"], ["ALLSMALLER"])  # how Dash's dependency list spells ALL, MATCH, ALLSMALLER
TEMPLATE_PART = re.compile(r"<(\w+)>")


def template_values(pantau: PantauApp) -> dict[str, list[str]]:
    """Demo values for each path-template part: every board and ward, an occupied and an empty bed."""
    with pantau.runtime.db.session() as session:
        site_id = find_user(session, "admin").site_id
        wards = list_wards(session, site_id)
        beds = [bed for ward in wards for bed in ward_beds(session, ward.id)]
        occupied = next(bed.code for bed in beds if bed.patient_id is not None)
        empty = next(bed.code for bed in beds if bed.patient_id is None)
        return {
            "board": known_boards(session, site_id),
            "ward": [w.code for w in wards],
            "bed": [occupied, empty],
            "mrn": ["DEMO-00001"],
        }


def page_paths(page: dict, values: dict[str, list[str]]) -> list[str]:
    """The page's own path and, for a path template, the template filled with each demo value."""
    template = page.get("path_template")
    if not template:
        return [page["path"]]
    (name,) = TEMPLATE_PART.findall(template)  # one part each: /bed/<bed>, /bangsal/<ward>, /papan/<board>
    return [page["path"], *(template.replace(f"<{name}>", value) for value in values[name])]


def drawn_components(node: object) -> Iterator[dict]:
    """Every component in a piece of Dash's layout JSON (children and component-valued props alike)."""
    if isinstance(node, list):
        for child in node:
            yield from drawn_components(child)
    elif isinstance(node, dict) and "props" in node and "type" in node:
        yield node
        for value in node["props"].values():
            yield from drawn_components(value)


def drawn_ids(node: object) -> Iterator[Id]:
    """Every component id in a piece of Dash's layout JSON."""
    return (component["props"]["id"] for component in drawn_components(node) if "id" in component["props"])


def served_layouts(pantau: PantauApp) -> Iterator[object]:
    """The app's layout and every page, as each role that may open it gets it (layout JSON)."""
    values = template_values(pantau)
    for role in ROLES:
        client = pantau.login(role)
        yield client.get("/_dash-layout").get_json()
        for page in dash.page_registry.values():
            if role not in page["roles"]:
                continue
            for path in page_paths(page, values):
                answer = client.post("/_dash-update-component", json=router_request(path)).get_json()
                content = answer["response"]["_pages_content"]["children"]
                assert "forbidden" not in json.dumps(content), (role, path)
                yield content


def all_drawn_ids(pantau: PantauApp) -> list[Id]:
    """The ids of the app's layout and of every page as each role that may open it gets it."""
    return [drawn for layout in served_layouts(pantau) for drawn in drawn_ids(layout)]


def declared_ids() -> set[str]:
    """The ids declared once: the constants of each page's ``Ids`` class and the ``*_ID`` constants of components."""
    declared: set[str] = set()
    for page in dash.page_registry.values():
        ids = getattr(importlib.import_module(page["module"]), "Ids", None)
        declared |= {v for k, v in vars(ids or object).items() if not k.startswith("_") and isinstance(v, str)}
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"components.{info.name}")
        declared |= {v for k, v in vars(module).items() if k.endswith("_ID") and isinstance(v, str)}
    return declared


def parse_id(text: str) -> Id:
    """An id as the dependency list spells it: a string, or a pattern-matching dict in JSON."""
    return json.loads(text) if text.startswith("{") else text


def named_ids(spec: dict) -> Iterator[tuple[Id, str]]:
    """(component id, where) for every output, input, state and ``running`` output of one callback."""
    outputs = spec["output"][2:-2].split("...") if spec["output"].startswith("..") else [spec["output"]]
    for output in outputs:
        yield parse_id(output.rsplit(".", 1)[0].replace("\\.", ".")), f"output {output}"
    for kind in ("inputs", "state"):
        for dependency in spec[kind]:
            yield parse_id(dependency["id"]), f"{kind} {dependency['id']}.{dependency['property']}"
    for running in (spec.get("running") or {}).get("running", {}):
        yield parse_id(running.rsplit(".", 1)[0]), f"running {running}"


def matches(wanted: Id, drawn: Id) -> bool:
    if isinstance(wanted, str) or isinstance(drawn, str):
        return wanted == drawn
    fixed = {key: value for key, value in wanted.items() if value not in WILDCARDS}
    return drawn.keys() == wanted.keys() and all(drawn[key] == value for key, value in fixed.items())


def missing_ids(callbacks: list[dict], drawn: list[Id], declared: set[str]) -> list[str]:
    """Where each callback (as Dash's dependency list gives it) names an id that is neither drawn nor declared."""
    drawn_strings = {i for i in drawn if isinstance(i, str)}
    drawn_dicts = [i for i in drawn if isinstance(i, dict)]
    missing = []
    for spec in callbacks:
        for wanted, where in named_ids(spec):
            if isinstance(wanted, str):
                found = wanted in drawn_strings
            else:
                drawn_later = any(v in WILDCARDS for v in wanted.values()) and wanted.get("type") in declared
                found = drawn_later or any(matches(wanted, d) for d in drawn_dicts)
            if not found:
                missing.append(where)
    return missing


def test_every_callback_names_ids_that_exist(sqlite_app):
    callbacks = sqlite_app.login("admin").get("/_dash-dependencies").get_json()
    assert len(callbacks) > 20  # the app's callbacks, not an error page
    missing = missing_ids(callbacks, all_drawn_ids(sqlite_app), declared_ids())
    assert not missing, "callbacks name ids that no layout draws:\n" + "\n".join(missing)


def test_a_misspelt_id_is_found():
    callbacks = [
        {"output": "reg-hits.children", "inputs": [{"id": "reg-serach-submit", "property": "n_clicks"}], "state": []},
        {
            "output": "..a.children...b.children..",
            "inputs": [{"id": '{"index":["ALL"],"type":"reg-pikc"}', "property": "n_clicks"}],
            "state": [{"id": '{"index":["ALL"],"type":"reg-pick"}', "property": "value"}],
            "running": {"running": {"c.disabled": True}},
        },
    ]
    drawn = ["reg-hits", "a", {"type": "reg-pick", "index": 3}]
    assert missing_ids(callbacks, drawn, declared={"reg-pick"}) == [
        "inputs reg-serach-submit.n_clicks",
        "output b.children",
        'inputs {"index":["ALL"],"type":"reg-pikc"}.n_clicks',
        "running c.disabled",
    ]
