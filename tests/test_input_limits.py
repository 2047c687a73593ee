"""Length limits on free text: every text field of the Dash forms carries ``maxLength`` (a convenience), and the
server refuses over-long input with a message (the limit that counts): Mobile JKN's fields with BPJS's code 201,
a patient's name on every path that stores one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from api.jkn_fields import DEFAULT_LIMIT, FIELD_LIMITS, Body, new_patient_request
from data.admissions import emergency_name
from domain.errors import InputError
from domain.formats import NAME_MAX, normalise_name
from tests.test_jkn_api import new_patient_body, refused, signed_in

ROOT = Path(__file__).resolve().parent.parent
TEXT_COMPONENTS = {(m, c) for m in ("dcc", "dbc", "html") for c in ("Input", "Textarea")}
# Inputs whose value is not free text: the browser and the callback's parser bound them (a password's length is
# the password policy's).
NOT_FREE_TEXT = {"password", "number", "date", "time", "datetime-local", "month", "week", "range", "color", "file"}
NOT_FREE_TEXT |= {"checkbox", "radio", "hidden"}


def _limited(keywords: list[ast.keyword]) -> bool:
    """The call sets ``maxLength`` or a ``type`` that is not free text."""
    given = {k.arg: k.value for k in keywords if k.arg}
    kind = given.get("type")
    return "maxLength" in given or (isinstance(kind, ast.Constant) and kind.value in NOT_FREE_TEXT)


def _unlimited_inputs(path: Path) -> list[str]:
    """Text inputs of one module without a length limit. An input that takes ``**props`` from its enclosing helper
    counts as limited when every call of that helper in the module passes a limit."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    helpers = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    calls_of: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls_of.setdefault(node.func.id, []).append(node)
    missing = []
    for helper in [None, *helpers.values()]:
        scope = tree if helper is None else helper
        for node in ast.walk(scope):
            func = getattr(node, "func", None)
            if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
                continue
            if (func.value.id, func.attr) not in TEXT_COMPONENTS or _limited(node.keywords):
                continue
            forwards = any(k.arg is None for k in node.keywords)
            if helper is not None and forwards and all(_limited(c.keywords) for c in calls_of.get(helper.name, [])):
                continue
            if helper is None and any(node in ast.walk(f) for f in helpers.values()):
                continue  # judged with its enclosing function
            missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return missing


def test_every_text_field_of_the_forms_has_a_max_length():
    modules = [p for folder in ("pages", "components", "callbacks") for p in sorted((ROOT / folder).rglob("*.py"))]
    missing = sorted({line for path in modules for line in _unlimited_inputs(path)})
    assert not missing, f"text inputs without maxLength: {missing}"


def test_the_walk_finds_a_text_field_without_a_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / "page.py"
    module.write_text(
        "def field(**props):\n    return dbc.Input(id='a', **props)\n\n"
        "LAYOUT = [field(type='date'), field(maxLength=9), dbc.Textarea(id='b'), dbc.Input(type='password')]\n"
        "OTHER = field(placeholder='x')\n",
        encoding="utf-8",
    )
    assert sorted(_unlimited_inputs(module)) == ["page.py:2", "page.py:4"]


@pytest.mark.parametrize("field", [*sorted(FIELD_LIMITS), "tanggalperiksa", "nomorkartu"])
def test_each_jkn_field_is_refused_past_its_limit(field):
    limit = FIELD_LIMITS.get(field, DEFAULT_LIMIT)
    assert Body({field: "7" * limit}).text(field) == "7" * limit
    with pytest.raises(InputError) as refused_field:
        Body({field: "7" * (limit + 1)}).text(field)
    assert refused_field.value.key == "lim_jkn_too_long"
    assert refused_field.value.params == {"field": field, "limit": limit}


def test_a_new_patient_with_an_over_long_address_is_refused_not_cut():
    with pytest.raises(InputError, match="lim_jkn_too_long"):
        new_patient_request(Body(new_patient_body(alamat="Jl. Merdeka " + "x" * FIELD_LIMITS["alamat"])))


@pytest.mark.parametrize(
    ("endpoint", "body", "message"),
    [
        ("batalantrean", {"kodebooking": "B" * 33}, "kodebooking terlalu panjang, paling banyak 32 karakter"),
        (
            "batalantrean",
            {"kodebooking": "20261204ABCDEF", "keterangan": "batal " * 40},
            "keterangan terlalu panjang, paling banyak 200 karakter",
        ),
        ("pasienbaru", new_patient_body(nama="Siti " * 50), "nama terlalu panjang, paling banyak 200 karakter"),
        ("statusantrean", {"kodepoli": "U" * 11}, "kodepoli terlalu panjang, paling banyak 10 karakter"),
    ],
)
def test_the_api_answers_code_201_with_the_field_and_its_limit(sqlite_app, endpoint, body, message):
    assert refused(signed_in(sqlite_app).post(endpoint, body)) == message


def test_a_patient_name_longer_than_the_record_keeps_is_refused():
    assert normalise_name("Siti " * 40) == ("Siti " * 40).strip()  # 199 characters
    for too_long in (lambda: normalise_name("Siti " * 41), lambda: emergency_name("Tn. " + "X" * NAME_MAX, "L")):
        with pytest.raises(InputError) as refused_name:
            too_long()
        assert refused_name.value.key == "lim_name_too_long"
