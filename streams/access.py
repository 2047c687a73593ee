"""Who is asking: the web app's session cookie read with its secret key, the client's address as the web app sees
it (through ``PANTAU_TRUSTED_PROXIES`` proxies), and the JSON refusals the screens' client (assets/live_stream.js)
reads, in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

from auth.session import SESSION_COOKIE, CurrentUser
from auth.stream_access import Refusal
from config import Settings
from data.stream_protocol import REFUSED_RETRY_SECONDS
from i18n import LANGUAGES, translate


def session_values(request: Request, read: Callable[[str], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The request's session (None without a valid cookie)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return read(cookie) if cookie else None


def client_address(request: Request, trusted_proxies: int) -> str | None:
    """The socket's peer, or behind ``trusted_proxies`` proxies the address the outermost trusted one saw (as
    werkzeug's ProxyFix gives the web app); a client-sent X-Forwarded-For alone never changes it."""
    peer = request.client.host if request.client else None
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    if trusted_proxies and len(hops) >= trusted_proxies:
        return hops[-trusted_proxies]
    return peer


def language(values: Mapping[str, Any] | None, user: CurrentUser | None, settings: Settings) -> str:
    """The user's language, else the session's, else the site's (as i18n.web does for the web app)."""
    for lang in (user.language if user else None, (values or {}).get("lang")):
        if lang in LANGUAGES:
            return lang
    return settings.default_language


def refused(refusal: Refusal, lang: str, **values: object) -> JSONResponse:
    """The refusal as the web app answers a data request: ``{"error": message}`` (429 with ``Retry-After``)."""
    headers = {"Retry-After": str(REFUSED_RETRY_SECONDS)} if refusal.status == 429 else None
    return JSONResponse({"error": translate(refusal.key, lang, **values)}, refusal.status, headers)


def unavailable(what: str = "live store") -> PlainTextResponse:
    """503 while the live store (or the database) does not answer: the screen tries again shortly."""
    return PlainTextResponse(f"{what} unavailable", 503, {"Retry-After": "5"})
