"""Addresses that leave the screen — the QR code and link on a printed ticket, a TV's sign-in address — built on
``PANTAU_PUBLIC_URL`` when it is set (production requires it), so a forged ``Host`` header never reaches paper or a
TV. Without it (the embedded demo, a development server) they use this request's own address."""

from __future__ import annotations

from flask import url_for

from data.runtime import current_runtime


def public_url_for(endpoint: str, **values: object) -> str:
    """The absolute address of ``endpoint`` as patients and staff reach it."""
    base = current_runtime().settings.public_url
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)
