"""UI strings: one catalogue per language (``i18n/id.py``, ``i18n/en.py``); Bahasa Indonesia is the default."""

from __future__ import annotations

from datetime import time

from domain.formats import Rupiah, Weekday, clock, rupiah, weekday_name
from i18n import en
from i18n import id as id_

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
_CATALOGUES = {"id": id_.STRINGS, "en": en.STRINGS}
_ONE = {"en": en.ONE}  # a language's texts for a count ``n`` of one, where they differ


def translate(key: str, lang: str = "id", **values: object) -> str:
    """The text for ``key`` in ``lang`` (falling back to Indonesian), formatted with ``values``; a float value is
    written the language's way (``36,8`` in Indonesian, ``36.8`` in English; ``30.0`` is ``30``), and so are a
    time of day (``08.00``, ``08:00``), a :class:`Weekday` (``Senin``, ``Monday``) and a :class:`Rupiah` (``Rp
    1.500``, ``Rp 1,500``). A count ``n`` of 1 takes the language's singular text where it has one ("1 day", not
    "1 days")."""
    catalogue = _CATALOGUES.get(lang, id_.STRINGS)
    text = catalogue.get(key) or id_.STRINGS[key]
    if values.get("n") == 1:
        text = _ONE.get(lang, {}).get(key, text)
    if not values:
        return text
    return text.format(**{name: _written(value, lang) for name, value in values.items()})


def _written(value: object, lang: str) -> object:
    if isinstance(value, time):
        return clock(value, lang)
    if isinstance(value, Rupiah):
        return rupiah(value, lang)
    if isinstance(value, Weekday):
        return weekday_name(value, lang)
    if not isinstance(value, float):
        return value
    written = f"{value:.6f}".rstrip("0").rstrip(".")
    return written.replace(".", ",") if lang == "id" else written


def catalogue_keys(lang: str) -> set[str]:
    return set(_CATALOGUES[lang])


def translations_with_prefix(prefix: str, lang: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix``, keyed by the rest of the key (e.g. alarm conditions)."""
    return {key[len(prefix) :]: translate(key, lang) for key in id_.STRINGS if key.startswith(prefix)}
