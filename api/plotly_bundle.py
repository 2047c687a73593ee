"""plotly.js for the graphs, in the partial bundle that holds the trace types Pantau draws.

``dcc.Graph`` loads plotly.js on the first page with a graph, from the ``plotly`` package's full bundle (4.8 MB) at a
fixed address under ``/_dash-component-suites/``. Pantau's figures draw only scatter, bar and pie traces, which
plotly.js's "basic" bundle holds in 1.2 MB (``assets/vendor/plotly-basic.min.js``); this blueprint answers that
address with it. The first graph page in a browser then costs 0.1–0.2 s less CPU, the finance page opened again 0.5 s
less, and the server no longer reads and hashes 4.8 MB for each of those requests (docs/performance.md, "twelfth
session"): on the ward PCs and TV sticks hospitals have, that is a page drawn sooner. Its route is more specific than
Dash's, so it is the one Flask matches; ``TRACE_TYPES`` lists what the bundle draws, and
``tests/test_plotly_bundle.py`` keeps the figures within it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

VENDOR = Path(__file__).resolve().parents[1] / "assets" / "vendor"
BUNDLE = "plotly-basic.min.js"
# Where dash-renderer tells dcc.Graph to load plotly.js from when Dash serves its scripts itself (serve_locally).
DCC_PLOTLY_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"
TRACE_TYPES = frozenset({"scatter", "bar", "pie"})

bp = Blueprint("plotly_bundle", __name__)


@bp.get(DCC_PLOTLY_PATH)
def plotly_js() -> Response:
    """The basic bundle; revalidated by its ETag (304 when unchanged), as Dash serves an unversioned script."""
    return send_from_directory(VENDOR, BUNDLE, mimetype="application/javascript", max_age=0)
