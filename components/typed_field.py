"""A text field for a value a person types in a fixed local form (a date day first, a time on the 24-hour clock),
with a line under it that says the value as read while it is typed (a clientside callback,
callbacks/typed_fields.py). The browser's own date and time fields write values its language's way (mm/dd/yyyy and
am/pm in American English), not the way an Indonesian hospital writes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import dash_bootstrap_components as dbc
from dash import html

from domain.errors import InputError
from i18n.web import t

Value = TypeVar("Value")

WORDS_SUFFIX = "-words"


def words_id(element_id: str) -> str:
    """The id of the line under the field that says the value as read."""
    return element_id + WORDS_SUFFIX


def typed_field(element_id: str, text: str, *, placeholder_key: str, max_length: int, **props: object) -> html.Div:
    """The field holding ``text`` and its line of words; ``props`` go to the field (``debounce=True`` for a filter
    that applies on Enter or leaving the field). A field error's ``invalid-feedback`` placed after the wrapper shows
    when the field is marked invalid (assets/pantau.css)."""
    return html.Div(
        [
            dbc.Input(
                id=element_id,
                value=text,
                inputMode="numeric",
                placeholder=t(placeholder_key),
                maxLength=max_length,
                autoComplete="off",
                className="typed-value",
                **props,
            ),
            html.Div(id=words_id(element_id), className="form-text mt-0 typed-words", **{"aria-live": "polite"}),
        ],
        className="typed-field",
    )


def read_typed(value: str | None, parse: Callable[[str], Value], key: str) -> Value | None:
    """What a field holds, read by ``parse`` (``None`` when empty); a value ``parse`` refuses (``ValueError``)
    raises ``InputError(key)``."""
    if not value or not value.strip():
        return None
    try:
        return parse(value)
    except ValueError:
        raise InputError(key) from None
