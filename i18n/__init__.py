"""UI strings: one catalogue per language (``i18n/id.py``, ``i18n/en.py``); Bahasa Indonesia is the default."""

from __future__ import annotations

from i18n import en
from i18n import id as id_

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
_CATALOGUES = {"id": id_.STRINGS, "en": en.STRINGS}


def translate(key: str, lang: str = "id", **values: object) -> str:
    """The text for ``key`` in ``lang`` (falling back to Indonesian), formatted with ``values``."""
    catalogue = _CATALOGUES.get(lang, id_.STRINGS)
    text = catalogue.get(key) or id_.STRINGS[key]
    return text.format(**values) if values else text


def catalogue_keys(lang: str) -> set[str]:
    return set(_CATALOGUES[lang])


def translations_with_prefix(prefix: str, lang: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix``, keyed by the rest of the key (e.g. alarm conditions)."""
    return {key[len(prefix) :]: translate(key, lang) for key in id_.STRINGS if key.startswith(prefix)}
