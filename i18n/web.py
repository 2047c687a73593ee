"""The language of the current request: the signed-in user's choice, else the session's, else the site's."""

from __future__ import annotations

from flask import has_request_context, session
from flask_login import current_user

from domain.formats import rupiah
from i18n import LANGUAGES, translate


def current_language() -> str:
    if not has_request_context():
        return "id"
    if current_user.is_authenticated and getattr(current_user, "language", None) in LANGUAGES:
        return current_user.language
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    from data.runtime import current_runtime

    return current_runtime().settings.default_language


def t(key: str, **values: object) -> str:
    """Translate ``key`` into the current request's language."""
    return translate(key, current_language(), **values)


def money(amount: int) -> str:
    """Rupiah written the current request's language's way (``Rp 1.234.567``, ``Rp 1,234,567``)."""
    return rupiah(amount, current_language())
