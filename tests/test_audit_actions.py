"""Every action and every kind of object the code can write into the audit trail has a name in both languages, for
the audit viewer, and every name belongs to such an action or kind.

They are found by reading the code, not by running it: from each ``AuditLog(action=..., target_type=...)`` the
value is followed back through the functions that pass it on (``record``, ``record_by``, ``audit_account`` …) to
every caller, through local and module constants, conditional expressions, f-strings and ``**`` spreads. A value
the reading cannot follow fails the test, so a new way of writing one cannot slip past it."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.audit_view import (
    ACTION_WORDS,
    KIND_WORDS,
    action_name,
    action_options,
    kind_name,
    kind_options,
    name_order,
)
from i18n import catalogue_keys, translations_with_prefix

ROOT = Path(__file__).resolve().parents[1]
NOT_THE_APP = {".venv", ".venv-scan", "tests", "testkit", "bench", "migrations", "node_modules"}


class Unresolved(Exception):
    """An expression whose possible values the reading cannot tell."""


def _modules(root: Path) -> list[ast.Module]:
    """The project's modules, each node knowing its parent and each module its dotted name."""
    modules = []
    packages = [d for d in sorted(root.iterdir()) if (d / "__init__.py").is_file() and d.name not in NOT_THE_APP]
    for path in [*sorted(root.glob("*.py")), *(p for d in packages for p in sorted(d.rglob("*.py")))]:
        if NOT_THE_APP & set(path.relative_to(root).parts):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
        tree.dotted = ".".join(path.relative_to(root).with_suffix("").parts)  # type: ignore[attr-defined]
        modules.append(tree)
    return modules


def _up(node: ast.AST) -> Iterator[ast.AST]:
    while (node := getattr(node, "parent", None)) is not None:
        yield node


def _function(node: ast.AST) -> ast.FunctionDef | None:
    return next((n for n in _up(node) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)


def _module(node: ast.AST) -> ast.Module:
    return next(n for n in _up(node) if isinstance(n, ast.Module))


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


class ActionReader:
    """The string values an expression of the project can take, followed across calls and constants."""

    def __init__(self, modules: list[ast.Module]) -> None:
        self.modules = {m.dotted: m for m in modules}  # type: ignore[attr-defined]
        self.calls = [n for m in modules for n in ast.walk(m) if isinstance(n, ast.Call)]
        self.imports = {
            m.dotted: [n for n in ast.walk(m) if isinstance(n, ast.Import | ast.ImportFrom)]  # type: ignore[attr-defined]
            for m in modules
        }

    def written(self, column: str) -> set[str]:
        """Every value an ``AuditLog(<column>=...)`` of the project can be given (``None`` left out)."""
        found: set[str] = set()
        for call in self.calls:
            if _callee(call) == "AuditLog":
                found |= set().union(*(self.values(k.value) for k in call.keywords if k.arg == column))
        return found

    def values(self, expr: ast.AST, depth: int = 0) -> set[str]:
        if depth > 20:
            raise Unresolved(ast.unparse(expr))
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.Constant) and expr.value is None:
            return set()
        if isinstance(expr, ast.IfExp):
            return self.values(expr.body, depth + 1) | self.values(expr.orelse, depth + 1)
        if isinstance(expr, ast.JoinedStr):
            parts = [
                {p.value} if isinstance(p, ast.Constant) else self.values(p.value, depth + 1)  # type: ignore[attr-defined]
                for p in expr.values
            ]
            return {"".join(words) for words in itertools.product(*parts)}
        if isinstance(expr, ast.Name):
            return self._name(expr, depth)
        raise Unresolved(f"{ast.unparse(expr)} in {_module(expr).dotted}:{expr.lineno}")  # type: ignore[attr-defined]

    def _name(self, name: ast.Name, depth: int) -> set[str]:
        function = _function(name)
        if function is not None:
            args = function.args
            if name.id in [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]:
                return self._argument(function, name.id, depth)
            assigned = [value for value in self._assignments(function, name.id)]
            if assigned:
                return set().union(*(self.values(value, depth + 1) for value in assigned))
        return self._global(_module(name), name.id, depth)

    @staticmethod
    def _assignments(function: ast.AST, name: str) -> Iterator[ast.AST]:
        """The values ``name`` is given inside ``function`` (plain and tuple assignments)."""
        for node in ast.walk(function):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    yield node.value
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    yield from (
                        v
                        for t, v in zip(target.elts, node.value.elts, strict=True)
                        if isinstance(t, ast.Name) and t.id == name
                    )
                elif isinstance(target, ast.Tuple) and any(
                    isinstance(t, ast.Name) and t.id == name for t in target.elts
                ):
                    raise Unresolved(f"{name} unpacked from {ast.unparse(node.value)}")

    def _global(self, module: ast.Module, name: str, depth: int) -> set[str]:
        """A module-level name: assigned in ``module`` or imported into it from another module of the project."""
        for node in module.body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return self.values(node.value, depth + 1)
            if isinstance(node, ast.ImportFrom) and node.module in self.modules:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return self._global(self.modules[node.module], alias.name, depth + 1)
        raise Unresolved(f"{name} in {module.dotted}")  # type: ignore[attr-defined]

    def _argument(self, function: ast.FunctionDef | ast.AsyncFunctionDef, param: str, depth: int) -> set[str]:
        """What every call of ``function`` passes as ``param``: given by name or place, in a ``**`` spread, or its
        default where a call leaves it out."""
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        found: set[str] = set()
        for call in self.calls:
            if _callee(call) != function.name or not self._calls(call, function):
                continue
            given = [k.value for k in call.keywords if k.arg == param]
            index = positional.index(param) if param in positional else len(call.args)
            if not given and index < len(call.args):
                if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
                    raise Unresolved(f"*args to {function.name}")
                given = [call.args[index]]
            if not given:
                for spread in (k.value for k in call.keywords if k.arg is None):
                    found |= self._spread(spread, param, depth + 1)
                given = self._default(function, param)
            found |= set().union(*(self.values(value, depth + 1) for value in given))
        return found

    @staticmethod
    def _default(function: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> list[ast.expr]:
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        pairs = [*zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)]
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        return [default for arg, default in pairs if arg.arg == param]

    def _spread(self, spread: ast.expr, param: str, depth: int) -> set[str]:
        """What a ``**spread`` of a call holds as ``param``: the caller's own ``**kwargs`` (followed to its callers),
        or a dict the caller made with its keys written out."""
        function = _function(spread)
        if not isinstance(spread, ast.Name) or function is None:
            raise Unresolved(f"**{ast.unparse(spread)} in {_module(spread).dotted}:{spread.lineno}")  # type: ignore[attr-defined]
        if function.args.kwarg is not None and function.args.kwarg.arg == spread.id:
            return self._argument(function, param, depth)
        made = list(self._assignments(function, spread.id))
        if not made:
            raise Unresolved(f"**{spread.id} in {_module(spread).dotted}:{spread.lineno}")  # type: ignore[attr-defined]
        return set().union(*(self._dict_value(value, param, depth) for value in made))

    def _dict_value(self, made: ast.expr, param: str, depth: int) -> set[str]:
        if isinstance(made, ast.IfExp):
            return self._dict_value(made.body, param, depth) | self._dict_value(made.orelse, param, depth)
        if isinstance(made, ast.Call) and _callee(made) == "dict" and not made.args:
            values = [k.value for k in made.keywords if k.arg == param]
        elif isinstance(made, ast.Dict) and all(isinstance(k, ast.Constant) for k in made.keys):
            values = [v for k, v in zip(made.keys, made.values, strict=True) if k.value == param]  # type: ignore[union-attr]
        else:
            raise Unresolved(f"**{ast.unparse(made)}")
        return set().union(*(self.values(value, depth + 1) for value in values))

    def _calls(self, call: ast.Call, function: ast.AST) -> bool:
        """Whether ``call`` calls the module-level ``function``: by its name in its own module or where it is
        imported by name, or through its module imported under a name."""
        home, here = _module(function).dotted, _module(call)  # type: ignore[attr-defined]
        name = function.name  # type: ignore[attr-defined]
        imports = self.imports[here.dotted]  # type: ignore[attr-defined]
        if isinstance(call.func, ast.Name):
            return here.dotted == home or any(  # type: ignore[attr-defined]
                isinstance(n, ast.ImportFrom) and n.module == home and any(a.name == name for a in n.names)
                for n in imports
            )
        base = call.func.value  # type: ignore[attr-defined]
        if not isinstance(base, ast.Name):
            return False
        package, _, leaf = home.rpartition(".")
        return any(
            (
                isinstance(n, ast.ImportFrom)
                and n.module == package
                and (a.asname or a.name) == base.id
                and a.name == leaf
            )
            or (isinstance(n, ast.Import) and a.name == home and a.asname == base.id)
            for n in imports
            for a in n.names
        )


@pytest.fixture(scope="module")
def reader() -> ActionReader:
    return ActionReader(_modules(ROOT))


@pytest.fixture(scope="module")
def written(reader) -> set[str]:
    return reader.written("action")


def test_the_reading_follows_every_way_the_code_writes_an_action(written):
    assert "login" in written  # a literal to audit.record
    assert "leave_booking_moved" in written  # a module constant to record_by
    assert {"user_enabled", "user_disabled"} <= written  # a conditional, through audit_account
    assert "patient_sync_deleted" in written  # a local variable given in a tuple
    assert "reauth_failed" in written  # a keyword argument, two functions up
    assert {"bpjs_poli_mapped", "bpjs_doctor_mapped"} <= written  # an f-string of the callers' kinds


def test_the_reading_follows_an_object_through_keyword_spreads(reader):
    kinds = reader.written("target_type")
    assert "user" in kinds  # audit_account → record_by(**fields) → record(**fields)
    assert "bed" in kinds  # audit_signed_in(**fields) → record_by(**fields) → record(**fields)
    assert {"poli", "doctor"} <= kinds  # a parameter given by the callers


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(("column", "prefix"), [("action", ACTION_WORDS), ("target_type", KIND_WORDS)])
def test_every_action_and_kind_of_object_the_code_writes_has_a_name(reader, column, prefix, lang):
    written = reader.written(column)
    named = {key.removeprefix(prefix) for key in catalogue_keys(lang) if key.startswith(prefix)}
    assert sorted(written - named) == []
    assert sorted(named - written) == [], "a name for something nothing writes"
    names = translations_with_prefix(prefix, lang)
    assert all(names[code].strip() and names[code] != code for code in written)


def test_a_new_action_without_a_name_or_an_unreadable_one_fails_the_reading(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "__init__.py").write_text("")
    (tmp_path / "data" / "audit.py").write_text(
        "def record(session, action):\n    session.add(AuditLog(action=action))\n"
    )
    (tmp_path / "data" / "beds.py").write_text(
        "from data import audit\nKIND = 'bed'\n"
        "def close(s, reason):\n    audit.record(s, f'{KIND}_closed' if reason else 'bed_kept')\n"
    )
    assert ActionReader(_modules(tmp_path)).written("action") == {"bed_closed", "bed_kept"}
    (tmp_path / "data" / "wards.py").write_text(
        "from data import audit\ndef close(s, what):\n    audit.record(s, what.upper())\n"
    )
    with pytest.raises(Unresolved, match=r"what.upper\(\)"):
        ActionReader(_modules(tmp_path)).written("action")


def test_an_object_is_named_by_its_kind_and_a_kind_without_a_name_shows_its_code():
    assert kind_name("patient") == "Pasien"
    assert kind_name("bed_view") == "bed_view"
    codes = [o["value"] for o in kind_options("bed_view")]
    assert "bed_view" in codes and "patient" in codes and len(codes) == len(set(codes))


def test_an_action_without_a_name_shows_its_code_and_the_filter_finds_either():
    assert action_name("patient_read") == "Data pasien dibuka"
    assert action_name("bed_viewed") == "bed_viewed"  # a row an older version wrote
    options = action_options("bed_viewed")
    labels = [o["label"] for o in options]
    assert labels == sorted(labels, key=str.casefold) and labels.index("bed_viewed") < labels.index("Masuk")
    assert {"patient_read", "login", "bed_viewed"} <= {o["value"] for o in options}
    assert len(options) == len(action_options(None)) + 1
    assert all(o["value"] in o["search"] and o["label"] in o["search"] for o in options)


def test_the_named_columns_sort_by_the_names_of_the_users_language(monkeypatch):
    order = name_order()
    actions = [action_name(code) for code in order["action"]]
    assert actions == sorted(actions, key=str.casefold) and set(order["action"]) == {
        o["value"] for o in action_options(None)
    }
    kinds = [kind_name(code) for code in order["target"]]
    assert kinds == sorted(kinds, key=str.casefold) and "patient" in order["target"]
    monkeypatch.setattr("components.audit_view.current_language", lambda: "en")
    assert name_order()["action"] != order["action"]  # "Masuk" and "Sign-in" fall in different places
