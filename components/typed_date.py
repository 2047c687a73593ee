"""A date typed day first (``17-08-1975``), for every date a person types. The browser's own date field writes
dates its language's way: in an American English browser ``mm/dd/yyyy``, so a clerk typing 01/02/1950 for
1 February would store 2 January. Under the field the date as read, in words ("1 Februari 1950"), while it is typed
(``TYPED_DATE_WORDS``, a clientside callback that callbacks/typed_fields.py attaches to each field)."""

from __future__ import annotations

import json
from datetime import date

from dash import html

from components.typed_field import read_typed, typed_field
from domain.errors import FieldErrors, InputError
from domain.formats import MONTHS, day_first, parse_day_first
from i18n import LANGUAGES, translate


def typed_date_input(element_id: str, value: date | None = None, **props: object) -> html.Div:
    """A text field for a date typed day first, ``value`` written the same way, and its line of words."""
    text = day_first(value) if value else ""
    return typed_field(element_id, text, placeholder_key="typed_date_placeholder", max_length=10, **props)


def read_typed_date(value: str | None, key: str = "reg_birth_invalid") -> date | None:
    """The date a field holds (``None`` when empty); one that cannot be read raises ``InputError(key)`` (by default
    the birth date's message)."""
    return read_typed(value, parse_day_first, key)


def typed_date_or_none(value: str | None) -> date | None:
    """A filter's date: ``None`` when empty or not readable (its line of words says which)."""
    try:
        return read_typed_date(value)
    except InputError:
        return None


def read_typed_dates(**typed: str | None) -> dict[str, date | None]:
    """Several fields' dates by field name; every one that cannot be read raises, together, ``FieldErrors``."""
    days: dict[str, date | None] = {}
    errors: dict[str, InputError] = {}
    for name, value in typed.items():
        try:
            days[name] = read_typed_date(value, "typed_date_invalid")
        except InputError as exc:
            errors[name] = exc
    if errors:
        raise FieldErrors(errors)
    return days


# The same reading as domain.formats.parse_day_first, in the browser: the date in words in the page's language, a
# hint while it cannot be read yet, nothing for an empty field.
_WORDS_SCRIPT = """function (value) {
    const MONTHS = __MONTHS__, HINT = __HINT__;
    const YEAR_FIRST = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$/;
    const DAY_FIRST = /^(?:([0-9]{1,2})[-/. ]([0-9]{1,2})[-/. ]([0-9]{4})|([0-9]{2})([0-9]{2})([0-9]{4}))$/;
    const lang = MONTHS[document.documentElement.lang] ? document.documentElement.lang : "id";
    const text = (value || "").trim();
    if (!text) { return ""; }
    let parts = null, found = YEAR_FIRST.exec(text);
    if (found) {
        parts = [found[3], found[2], found[1]];
    } else if ((found = DAY_FIRST.exec(text))) {
        parts = found.slice(1).filter((part) => part !== undefined);
    }
    if (parts) {
        const [day, month, year] = parts.map(Number);
        const read = new Date(Date.UTC(2000, month - 1, day));
        read.setUTCFullYear(year);
        const same = read.getUTCFullYear() === year && read.getUTCMonth() === month - 1 && read.getUTCDate() === day;
        if (year >= 1 && same) {
            return day + " " + MONTHS[lang][month - 1] + " " + year;
        }
    }
    return HINT[lang];
}"""
TYPED_DATE_WORDS = _WORDS_SCRIPT.replace("__MONTHS__", json.dumps({lang: MONTHS[lang] for lang in LANGUAGES})).replace(
    "__HINT__", json.dumps({lang: translate("typed_date_unreadable", lang) for lang in LANGUAGES}, ensure_ascii=False)
)
