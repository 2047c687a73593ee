"""The graphs' plotly.js is the partial "basic" bundle (``api/plotly_bundle.py``): served where ``dcc.Graph`` loads
it from, to anyone (the sign-in page's visitors load no graph, but a TV board does), revalidated by its ETag; in the
``plotly`` package's major version; and every figure Pantau builds draws a trace type it holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from api.plotly_bundle import BUNDLE, DCC_PLOTLY_PATH, TRACE_TYPES, VENDOR

ROOT = Path(__file__).resolve().parents[1]
APP_PACKAGES = ("api", "auth", "bridge", "callbacks", "components", "data", "domain", "pages", "streams")
HEADER = re.compile(r"plotly\.js \(basic - minified\) v(\d+)\.(\d+)\.(\d+)")


def _bundle_version() -> tuple[int, ...]:
    match = HEADER.search((VENDOR / BUNDLE).read_text(encoding="utf-8")[:300])
    assert match, f"{BUNDLE} does not start with plotly.js's basic bundle header"
    return tuple(int(part) for part in match.groups())


def test_the_address_dcc_graph_loads_answers_the_basic_bundle_to_anyone(client):
    answer = client.get(DCC_PLOTLY_PATH)
    assert answer.status_code == 200
    assert answer.mimetype == "application/javascript"
    assert HEADER.search(answer.get_data(as_text=True)[:300])
    assert answer.content_length < 2_000_000  # not the plotly package's full bundle (4.8 MB)
    again = client.get(DCC_PLOTLY_PATH, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_dash_serves_the_other_plotly_package_files_as_before(client):
    """Only that one address is taken over: Dash's own route still answers the rest of its component suites."""
    assert client.get("/_dash-component-suites/plotly/package_data/no-such-file.js").status_code != 200
    assert client.get(DCC_PLOTLY_PATH.replace("plotly.min.js", "plotly.min.jsx")).status_code != 200


def test_the_bundle_is_of_the_plotly_packages_major_version():
    """plotly.py writes figures for its own plotly.js; within a major version newer attributes are ignored, across
    one they may not be. Re-vendor the bundle (assets/vendor/README.md) when this fails."""
    assert _bundle_version()[0] == int(get_plotlyjs_version().split(".")[0])


def _graph_object_names(path: Path) -> set[str]:
    """The ``go.<Name>`` attributes a module uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "go"
    }


def test_every_trace_pantau_draws_is_in_the_bundle():
    """A trace type outside the bundle would draw an empty chart with no error in the console, so the figures'
    trace classes are checked here; plotly express (which picks trace types itself) is not used."""
    sources = [path for package in APP_PACKAGES for path in (ROOT / package).rglob("*.py")]
    traces = {
        getattr(go, name)().type: path.relative_to(ROOT)
        for path in sources
        for name in _graph_object_names(path)
        if isinstance(getattr(go, name, None), type) and issubclass(getattr(go, name), BaseTraceType)
    }
    assert traces, "no figure found: is the scan looking in the right place?"
    outside = {trace: str(where) for trace, where in traces.items() if trace not in TRACE_TYPES}
    assert not outside, f"trace types the basic bundle does not draw: {outside}"
    assert not [p for p in sources if "plotly.express" in p.read_text(encoding="utf-8")]
