"""Server-side access control for every request: pages, Dash callbacks and Flask routes.

Public: the sign-in page, language switch, TV token sign-in, ``/healthz``, static files and the Mobile JKN web
service (``/api/jkn/``, which checks its own token). Everything else needs a signed-in user; a page needs one of
its registry ``roles``; a Dash callback needs the roles of the page that owns it (``callbacks.registry``), or
none beyond signing in when the shell owns it.
Unknown callbacks are refused: access is granted, never assumed.

An address that is no page and no route answers 404 before any of this, to everyone: Dash would otherwise serve
its index (HTTP 200) for any path, and a patient who mistyped a public address would be sent to the staff
sign-in. Which staff pages exist is no secret (they refuse without a session); what they show is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import quote

import dash
from flask import Flask, abort, has_request_context, redirect, request, session
from flask_login import current_user

from auth import mfa
from auth.errors import error_response, wants_json
from auth.session import SIGNED_IN_AT_KEY, audit_signed_in, end_session, session_expiry
from data.runtime import current_runtime
from domain.roles import may_open

log = logging.getLogger(__name__)

# /logout answers anyone: signed out, it only sends to the sign-in page (not back to /logout after signing in).
PUBLIC_PATHS = frozenset(
    {"/login", "/login/kode", "/logout", "/healthz", "/favicon.ico", "/_favicon.ico", "/antrean/status"}
)
# /api/jkn/ is BPJS's Mobile JKN gateway: no session, its own token (api/jkn_auth.py) on every request.
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/tv/", "/lang/", "/antrean/status/", "/api/jkn/")
PASSWORD_PATHS = frozenset({"/akun/kata-sandi"})
# A live screen's periodic "still here" (api/live.py): it renews the session cookie and is not a person's activity.
KEEP_SESSION_PATH = "/akun/sesi"
MFA_ENROL_PATHS = PASSWORD_PATHS | {"/akun/mfa"}  # all an account that must enrol in TOTP may open first
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
DASH_CATCHALL = "/<path:path>"  # Dash's rule that serves its index for any other GET path
NOT_FOUND_PAGE = "pages.not_found_404"  # Dash draws it for an unknown path inside the app; not an address itself
_AUTOMATIC_PROPS = (".n_intervals",)
SHELL_OWNER = "__shell__"  # owner of the app shell's callbacks (callbacks.registry): open to every signed-in user

# ---- declared access of every route (helper 7): the generated access matrix (tests/test_access_matrix.py) sends
# each request as each role and compares the answer with this declaration. A route guarded by ``roles_required``
# declares its roles there (``required_roles`` on the view); every other route is listed here, by Flask endpoint
# (``"blueprint.*"`` for a whole blueprint). A route declared nowhere fails that test.
PUBLIC = "public"  # anyone, signed in or not
OWN_CREDENTIAL = "own_credential"  # no session: a credential of its own in the request (a TV token, Mobile JKN's token)
SIGNED_IN = "signed_in"  # any signed-in user, whatever the role: one's own account and session, the app shell
PAGE = "page"  # Dash serves a page: the page's registry ``roles`` decide
CALLBACK = "callback"  # a Dash callback: the roles of the page that owns it (callbacks.registry)
ROUTE_ACCESS: Mapping[str, str] = {
    "static": SIGNED_IN,  # Flask's own static folder: Pantau serves nothing there, and it is not a public path
    "_dash_assets.static": PUBLIC,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": PUBLIC,
    "plotly_bundle.plotly_js": PUBLIC,  # the graphs' plotly.js (api/plotly_bundle.py), at a Dash scripts' address
    "/_favicon.ico": PUBLIC,
    "healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.switch_language": PUBLIC,
    "queue_public.status": PUBLIC,  # a patient looks up her own booking by its code
    "auth.display_sign_in": OWN_CREDENTIAL,
    "jkn.*": OWN_CREDENTIAL,  # api/jkn_auth.py
    "auth.logout": PUBLIC,  # signed out, it only sends to the sign-in page
    "auth.change_password": SIGNED_IN,
    "mfa.second_step": PUBLIC,  # the pending sign-in in the Flask session says whose code it is
    "mfa.*": SIGNED_IN,  # one's own authenticator
    "reauth.*": SIGNED_IN,  # one confirms one's own password or code again (auth/reauth_routes.py)
    "live.stream_session": SIGNED_IN,
    "live.keep_session": SIGNED_IN,
    "/_dash-layout": SIGNED_IN,
    "/_dash-dependencies": SIGNED_IN,
    "/_reload-hash": SIGNED_IN,
    "/": PAGE,
    DASH_CATCHALL: PAGE,
    "/_dash-update-component": CALLBACK,
}
CALLBACK_OWNERS = "pantau.callback_owner"  # server.extensions key: Dash output key → owner page (the guard's map)


def route_access(server: Flask, endpoint: str) -> str | tuple[str, ...] | None:
    """The declared access of ``endpoint``: the roles of its ``roles_required``, else its ``ROUTE_ACCESS`` entry;
    None when it declares none."""
    roles = getattr(server.view_functions[endpoint], "required_roles", None)
    if roles is not None:
        return roles
    return ROUTE_ACCESS.get(endpoint) or ROUTE_ACCESS.get(endpoint.split(".")[0] + ".*")


# ---- end of declared access (helper 7)


def _refuse(status: int, key: str) -> Any:
    if status == 401 and not wants_json():
        return redirect(f"/login?next={quote(request.full_path.rstrip('?'))}")
    return error_response(status, key)


def _session_expired(timeout_minutes: int) -> str | None:
    """Why this session has ended by time: ``"idle"`` (no activity for ``timeout_minutes``) or ``"absolute"``
    (``Settings.session_absolute_hours`` since sign-in, active or not); None while it lasts. A TV board (display
    role) stays signed in: it signs in by token, and revoking the TV is what ends it."""
    if current_user.is_display:
        return None
    now = time.time()
    session.setdefault(SIGNED_IN_AT_KEY, now)  # signed in before the limit existed: from now on
    return session_expiry(session, current_runtime().settings.session_absolute_hours, timeout_minutes, now)


def _is_user_activity() -> bool:
    """A callback fired only by a timer is not activity, so an idle session still times out."""
    if request.path.startswith("/stream/") or request.path == KEEP_SESSION_PATH:  # a screen, not a person
        return False
    if request.path != "/_dash-update-component":
        return True
    changed = (request.get_json(silent=True) or {}).get("changedPropIds") or []
    return not changed or not all(p.endswith(_AUTOMATIC_PROPS) for p in changed)


def _expire_session(reason: str) -> None:
    with current_runtime().db.session() as db:
        audit_signed_in(db, "session_expired", detail={"reason": reason})
    end_session()


def page_for_path(path: str) -> dict | None:
    """The Dash page registered for ``path`` (exact path or a ``path_template``), if any; like Dash's own router,
    a trailing slash makes no difference."""
    for page in dash.page_registry.values():
        if page["path"].strip("/") == path.strip("/"):
            return page
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template and _matches_template(template, path):
            return page
    return None


def _is_unknown_address() -> bool:
    """A GET that only Dash's catch-all rule matched, for a path that is none of its pages."""
    rule = request.url_rule
    if rule is None or rule.rule != DASH_CATCHALL:
        return False
    page = page_for_path(request.path)
    return page is None or page["module"] == NOT_FOUND_PAGE


def _matches_template(template: str, path: str) -> bool:
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(w.startswith("<") or w == g for w, g in zip(want, got, strict=True))


def install_request_guard(server: Flask, callback_owner: Mapping[str, str], timeout_minutes: int) -> None:
    """Register the before-request check that every non-public request passes through."""
    server.extensions[CALLBACK_OWNERS] = callback_owner

    @server.before_request
    def _guard() -> Any:
        path = request.path
        if request.routing_exception is not None:  # no view will run: Flask answers 404/405 (or its redirect)
            return None
        if _is_unknown_address():
            abort(404)
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if current_user.is_authenticated and (expired := _session_expired(timeout_minutes)):
            _expire_session(expired)
        if not current_user.is_authenticated:
            return _refuse(401, "err_signed_out")
        # A display signs in by token and has no one to type a password (accounts made before that rule too).
        if current_user.must_change_password and not current_user.is_display and path not in PASSWORD_PATHS:
            return _refuse(403, "err_change_password_first") if wants_json() else redirect("/akun/kata-sandi")
        if path not in MFA_ENROL_PATHS and _must_enrol_mfa():
            return _refuse(403, "mfa_enrol_first") if wants_json() else redirect(_enrolment_address())
        if _is_user_activity():
            session["seen"] = time.time()
        if path == "/_dash-update-component":
            return _check_callback(callback_owner)
        if request.method in ("GET", "HEAD") and not path.startswith("/_dash-"):
            page = page_for_path(path)
            if page is not None and not may_open(current_user.roles, page.get("roles")):
                log.warning("page refused", extra={"user": current_user.username, "path": path})
                return _refuse(403, "err_forbidden")
        return None


def _must_enrol_mfa() -> bool:
    """This session has not passed (or enrolled in) TOTP, and the account's roles require it (``auth.mfa``)."""
    return not session.get(mfa.VERIFIED_KEY) and mfa.mfa_required(current_user.roles, current_runtime().settings)


def _enrolment_address() -> str:
    """The enrolment page, coming back afterwards to the page that was asked for."""
    if request.method != "GET" or request.path.startswith("/_dash-"):
        return "/akun/mfa"
    return f"/akun/mfa?next={quote(request.full_path.rstrip('?'))}"


def _check_callback(callback_owner: Mapping[str, str]) -> Any:
    output = (request.get_json(silent=True) or {}).get("output", "")
    owner = callback_owner.get(output)
    if owner is None and output != ROUTER_OUTPUT:
        log.warning("unknown callback refused", extra={"user": current_user.username, "output": output[:200]})
        return _refuse(403, "err_forbidden")
    if owner in (None, SHELL_OWNER):
        return None
    if not may_open(current_user.roles, dash.page_registry.get(owner, {}).get("roles")):
        log.warning("callback refused", extra={"user": current_user.username, "page": owner})
        return _refuse(403, "err_forbidden")
    return None


def guard_page_layouts(forbidden: Callable[[], Any]) -> None:
    """Wrap each registered page's layout so client-side navigation is checked on the server too."""
    for module, page in dash.page_registry.items():
        layout = page["layout"]
        if getattr(layout, "_pantau_guarded", False):
            continue
        page["layout"] = _guarded(module, layout, forbidden)


def _guarded(module: str, layout: Any, forbidden: Callable[[], Any]) -> Callable[..., Any]:
    @wraps(layout if callable(layout) else _guarded)
    def guarded_layout(**kwargs: Any) -> Any:
        if not has_request_context() or not current_user.is_authenticated:
            return forbidden()
        if not may_open(current_user.roles, dash.page_registry[module].get("roles")):
            return forbidden()
        return layout(**kwargs) if callable(layout) else layout

    guarded_layout._pantau_guarded = True  # type: ignore[attr-defined]
    return guarded_layout


def roles_required(*roles: str) -> Callable:
    """Decorator for Flask routes outside Dash: signed in (checked globally) and holding one of ``roles``."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _refuse(401, "err_signed_out")
            if not may_open(current_user.roles, roles):
                log.warning("route refused", extra={"user": current_user.username, "path": request.path})
                return _refuse(403, "err_forbidden")
            return view(*args, **kwargs)

        checked.required_roles = roles  # type: ignore[attr-defined]  # the declared policy (ROUTE_ACCESS above)
        return checked

    return decorate
