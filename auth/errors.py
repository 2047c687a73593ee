"""Pantau's own answer to every HTTP error: a page in the user's language for people, JSON for data requests.

The page keeps the status code, says what happened and what to do next (go back, go home, sign in, sign in as
someone else) and never shows a traceback: an unexpected failure is logged with a short reference that the page
shows, so the admin can find it. Blueprints with their own contract (Mobile JKN's BPJS envelope) keep their own
handlers, which Flask prefers for errors raised in their views.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from data.db_errors import database_unavailable
from i18n.web import t

log = logging.getLogger(__name__)

# Requests made by scripts rather than a person reading a page: Dash's own endpoints, the JSON API, live streams.
DATA_PREFIXES = ("/_dash-", "/api/", "/stream/")
DATABASE_RETRY_AFTER_S = 5  # a request that found the database away: try again this much later


@dataclass(frozen=True)
class ErrorText:
    """Catalogue keys for one status: the page's title and advice, the one-line message of a JSON answer, and the
    title's element id (the Dash pages' "no access" and "not found" panels use the same ids)."""

    title: str
    advice: str
    message: str
    anchor: str = "error-title"


_TEXTS = {
    400: ErrorText("error_400_title", "error_400_text", "error_400_title"),
    401: ErrorText("error_401_title", "error_401_text", "err_signed_out"),
    403: ErrorText("forbidden_title", "forbidden_text", "err_forbidden", "forbidden"),
    404: ErrorText("not_found_title", "not_found_text", "error_404_message", "not-found"),
    405: ErrorText("error_405_title", "error_405_text", "error_405_title"),
    413: ErrorText("error_413_title", "error_413_text", "error_413_title"),
    429: ErrorText("error_429_title", "error_429_text", "error_429_title"),
    500: ErrorText("error_500_title", "error_500_text", "error_500_title"),
    503: ErrorText("error_503_title", "error_503_text", "error_503_title"),
}
_OTHER = ErrorText("error_other_title", "error_other_text", "error_other_title")


def wants_json() -> bool:
    """Whether the current request is a data request, answered with JSON rather than a page.

    A live stream answers 401 rather than a redirect to the sign-in page, so a screen can tell it was signed out."""
    if request.path.startswith(DATA_PREFIXES) or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def error_response(status: int, message_key: str | None = None, *, reference: str | None = None) -> Response:
    """The answer for ``status``: ``{"error": ...}`` for a data request, else Pantau's error page.

    ``message_key`` replaces the status's usual JSON message (e.g. "change your password first")."""
    text = _TEXTS.get(status, _OTHER)
    if wants_json():
        body = {"error": t(message_key or text.message)}
        if reference:
            body["reference"] = reference
        return make_response(jsonify(body), status)
    page = render_template(
        "error.html",
        status=status,
        anchor=text.anchor,
        title=t(text.title),
        advice=t(text.advice, limit_mb=_upload_limit_mb()),
        reference=reference,
        back=_back_link(),
        signed_in=current_user.is_authenticated,
    )
    return make_response(page, status)


def _upload_limit_mb() -> int:
    return (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)


def _back_link() -> str | None:
    """The page the user came from, when it is one of ours and not the address that just failed (a link, since no
    inline script runs); after a refused form post that is the form, to fill in again."""
    referrer = request.referrer
    if not referrer:
        return None
    parts, here = urlsplit(referrer), urlsplit(request.url)
    if parts.netloc != here.netloc or not parts.path.startswith("/"):
        return None
    if request.method == "GET" and parts.path == request.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _http_error(err: HTTPException) -> Response | HTTPException:
    if err.code is None or err.code < 400:  # not an error (Flask's own redirects are raised as exceptions)
        return err
    if isinstance(err, InternalServerError):
        return _failure(err.original_exception or err)
    response = error_response(err.code)
    for name, value in err.get_headers():  # e.g. Allow on a 405, Retry-After on a 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _failure(err: BaseException) -> Response:
    """500 for an unexpected failure; 503 with ``Retry-After`` when the database is unreachable or busy, so a
    screen or a script tries again (a live screen's reconnect during a database outage)."""
    reference = secrets.token_hex(4)
    away = database_unavailable(err)
    # Where it failed, without the exception's message: a database error can quote the values it was given.
    log.log(
        logging.WARNING if away else logging.ERROR,
        "database unavailable" if away else "request failed",
        extra={
            "reference": reference,
            "path": request.path,
            "method": request.method,
            "error": type(err).__name__,
            "at": traceback.format_tb(err.__traceback__),
        },
    )
    status = 503 if away else 500
    try:
        response = error_response(status, reference=reference)
    except Exception:  # the failure took the signed-in user with it (e.g. the database is down)
        g._login_user = current_app.login_manager.anonymous_user()  # draw the page as for a signed-out visitor
        response = error_response(status, reference=reference)
    if away:
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def install_error_handlers(server: Flask) -> None:
    """Answer every HTTP error and every unexpected exception of ``server`` with Pantau's page or JSON."""
    server.register_error_handler(HTTPException, _http_error)
    server.register_error_handler(Exception, _failure)
