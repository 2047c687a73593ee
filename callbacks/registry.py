"""Callback registration that records which page owns each callback, so the server can check roles.

Callback modules decorate with ``page_callback("pages.x", ...)`` and declare browser-side callbacks with
``clientside_callback``; ``register_callbacks(app)`` attaches them all to a Dash app and returns the map from
Dash's callback output key to the owning page. Any callback absent from that map is refused.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash

from auth.guards import SHELL_OWNER


@dataclass(frozen=True)
class _Entry:
    owner: str
    args: tuple
    kwargs: dict
    func: Callable | None  # None for a clientside callback


_ENTRIES: list[_Entry] = []


def page_callback(owner: str, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
    """Declare a server callback belonging to page module ``owner`` (e.g. ``"pages.admin_users"``)."""

    def decorate(func: Callable) -> Callable:
        _ENTRIES.append(_Entry(owner, args, kwargs, func))
        return func

    return decorate


def clientside_callback(*args: Any, **kwargs: Any) -> None:
    """Declare a clientside callback (runs in the browser; no server request to guard)."""
    _ENTRIES.append(_Entry(SHELL_OWNER, args, kwargs, None))


def register_callbacks(app: dash.Dash) -> dict[str, str]:
    """Import every module of this package and attach its callbacks to ``app``; return output key → owner."""
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    owners: dict[str, str] = {}
    for entry in _ENTRIES:
        if entry.func is None:
            app.clientside_callback(*entry.args, **entry.kwargs)
            continue
        if entry.owner != SHELL_OWNER and entry.owner not in dash.page_registry:
            raise LookupError(f"callback {entry.func.__qualname__} names unknown page {entry.owner!r}")
        before = set(app.callback_map)
        app.callback(*entry.args, **entry.kwargs)(entry.func)
        owners.update(dict.fromkeys(set(app.callback_map) - before, entry.owner))
    return owners
