"""A time typed on the 24-hour clock (``14.30``, ``14:30``, ``1430``), for every time a person types. The browser's
own time field follows its language: in American English it asks for am or pm. Under the field the time as read,
with the part of the day ("pukul 02.30 dini hari"), so 02.30 typed for half past two in the afternoon shows at once
(``TYPED_TIME_WORDS``, a clientside callback that callbacks/typed_fields.py attaches to each field)."""

from __future__ import annotations

import json
from datetime import time

from dash import html

from components.typed_field import read_typed, typed_field
from domain.formats import clock, parse_clock
from i18n import LANGUAGES, translate
from i18n.web import current_language

# Where each part of the day begins (hour), and its catalogue key.
DAY_PARTS = ((0, "dawn"), (4, "morning"), (11, "midday"), (15, "afternoon"), (18, "evening"))


def typed_time_input(element_id: str, value: time | None = None, **props: object) -> html.Div:
    """A text field for a time on the 24-hour clock, ``value`` written the user's way (``14.30``), and its line
    of words."""
    text = clock(value, current_language()) if value else ""
    # room for "02.30 PM", so that a suffix is refused as a whole rather than cut off and read as 02.30
    return typed_field(element_id, text, placeholder_key="typed_time_placeholder", max_length=8, **props)


def read_typed_time(value: str | None, key: str = "typed_time_invalid") -> time | None:
    """The time a field holds (``None`` when empty); one that cannot be read raises ``InputError(key)``."""
    return read_typed(value, parse_clock, key)


# The same reading as domain.formats.parse_clock, in the browser: the time and the part of the day in the page's
# language, a hint while it cannot be read yet, nothing for an empty field.
_WORDS_SCRIPT = """function (value) {
    const WORDS = __WORDS__, PARTS = __PARTS__;
    const CLOCK = /^(?:([0-9]{1,2})[.:]([0-9]{2})|([0-9]{1,2})([0-9]{2}))$/;
    const lang = WORDS[document.documentElement.lang] ? document.documentElement.lang : "id";
    const text = (value || "").trim();
    if (!text) { return ""; }
    const found = CLOCK.exec(text);
    if (found) {
        const [hours, minutes] = found.slice(1).filter((part) => part !== undefined).map(Number);
        if (hours <= 23 && minutes <= 59) {
            const pad = (n) => String(n).padStart(2, "0");
            const part = PARTS.filter(([from]) => hours >= from).pop()[1];
            return WORDS[lang].at.replace("{hours}", pad(hours)).replace("{minutes}", pad(minutes))
                + " " + WORDS[lang][part];
        }
    }
    return WORDS[lang].hint;
}"""


def _words(lang: str) -> dict[str, str]:
    return {
        "at": translate("typed_time_at", lang),
        "hint": translate("typed_time_unreadable", lang),
        **{part: translate(f"typed_time_part_{part}", lang) for _, part in DAY_PARTS},
    }


TYPED_TIME_WORDS = _WORDS_SCRIPT.replace(
    "__WORDS__", json.dumps({lang: _words(lang) for lang in LANGUAGES}, ensure_ascii=False)
).replace("__PARTS__", json.dumps(DAY_PARTS))
