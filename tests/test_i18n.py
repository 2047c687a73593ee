"""Both catalogues hold the same keys, with the same placeholders; no widget of the app keeps English words of its
own."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

from domain.formats import Rupiah
from i18n import catalogue_keys, en, translate
from i18n import id as id_

ROOT = Path(__file__).resolve().parents[1]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    assert catalogue_keys("id") == catalogue_keys("en")
    for key, text in id_.STRINGS.items():
        assert placeholders(text) == placeholders(en.STRINGS[key]), key


def test_a_count_of_one_reads_singular_in_english():
    assert translate("inpatient_los_days", "en", n=1) == "1 day"
    assert translate("inpatient_los_days", "en", n=2) == "2 days"
    assert translate("inpatient_los_days", "en", n=0) == "0 days"
    assert translate("inpatient_los_days", "id", n=1) == "1 hari"
    assert translate("reg_possible_duplicate", "en", n=1).startswith("There is already 1 patient with")
    for key, text in en.ONE.items():  # each replaces a text of the catalogue, with the same placeholders
        assert placeholders(text) == placeholders(en.STRINGS[key]), key


def test_translate_formats_and_falls_back_to_indonesian():
    assert translate("thr_wait", "en", seconds=4).startswith("Too many wrong attempts. Wait 4 seconds")
    assert translate("login_invalid", "xx") == id_.STRINGS["login_invalid"]


def test_a_number_in_a_message_is_written_the_language_way() -> None:
    assert translate("limits_err_range", "id", low=35.5, high=43.0, unit="°C") == (
        "Di luar rentang yang bisa diatur: 35,5–43 °C."
    )
    assert translate("limits_err_range", "en", low=35.5, high=43.0, unit="°C").endswith("35.5–43 °C.")
    assert "30–43" in translate("obs_err_range", "id", low=30.0, high=43.0)
    assert translate("cash_err_overpay_now", "en", outstanding=Rupiah(150_000)).endswith("only Rp 150,000 is left.")
    assert translate("cash_err_overpay_now", "id", outstanding=Rupiah(150_000)).endswith("tinggal Rp 150.000.")


def _app_syntax() -> Iterator[tuple[str, ast.AST]]:
    """Every node of the modules that draw the app, with where it is."""
    for package in ("pages", "components", "callbacks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                yield f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}", node


# Dash widgets with English words of their own, and the one module allowed to make each (with the catalogue's).
WIDGET_MAKERS = {
    "Dropdown": "components/dropdown.py",
    "DatePickerSingle": "components/date_picker.py",
    "DatePickerRange": "components/date_picker.py",
}


def test_every_dropdown_and_date_picker_takes_its_own_words_from_the_catalogue():
    """Dash's dropdown says "Search" and "No options found", its date pickers "Select Date" and "Start Date", unless
    told otherwise: each is made by its module in ``components``, which gives them in the user's language."""
    made_directly = [
        where
        for where, node in _app_syntax()
        if isinstance(node, ast.Attribute)
        and node.attr in WIDGET_MAKERS
        and not where.startswith(WIDGET_MAKERS[node.attr] + ":")
    ]
    assert made_directly == []


def test_every_chart_takes_its_config_from_graph_config():
    """Plotly's mode bar says "Zoom", "Pan" and "Download plot as a PNG" unless given a locale: every graph's
    ``config`` is ``components.graph_config.graph_config``'s."""
    graphs, other = 0, []
    for where, node in _app_syntax():
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Graph":
            graphs += 1
            config = next((k.value for k in node.keywords if k.arg == "config"), None)
            if not (isinstance(config, ast.Call) and getattr(config.func, "id", None) == "graph_config"):
                other.append(where)
    assert graphs >= 4 and other == []


def test_every_grid_takes_its_own_words_from_the_catalogue():
    """AG Grid's pager ("Page 1 of 3", "Page Size:") and "Loading..." are English unless told otherwise: every grid
    gives ``localeText`` from ``components.grid.grid_words``."""
    grids, untranslated = 0, []
    for where, node in _app_syntax():
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "AgGrid":
            grids += 1
            options = next((k.value for k in node.keywords if k.arg == "dashGridOptions"), None)
            pairs = zip(options.keys, options.values, strict=True) if isinstance(options, ast.Dict) else ()
            words = {k.value: v for k, v in pairs if isinstance(k, ast.Constant)}
            text = words.get("localeText")
            if not (isinstance(text, ast.Call) and getattr(text.func, "id", None) == "grid_words"):
                untranslated.append(where)
    assert grids >= 5 and untranslated == []
