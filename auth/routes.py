"""Sign-in, sign-out, TV-board sign-in, language switch and own-password change: plain Flask views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, redirect, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from auth import mfa, users
from auth.mfa_routes import await_second_step
from auth.password_policy import MIN_LENGTH
from auth.session import (
    CurrentUser,
    audit_signed_in,
    client_ip,
    current_actor,
    end_session,
    keep_session,
    start_session,
)
from data import audit
from data.models import User
from data.runtime import current_runtime
from domain.errors import InputError
from i18n import LANGUAGES
from i18n.web import current_language, t

bp = Blueprint("auth", __name__, template_folder="templates")


def safe_next(target: str | None, default: str = "/") -> str:
    """Follow ``next`` only when it is a local path (no scheme, no host): no open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if not target.isprintable():  # a line break would split the Location header (werkzeug refuses it: a 500)
        return default
    return target


@bp.app_context_processor
def _template_helpers() -> dict:
    """``t``, the current language and the language list in every server-rendered template."""
    return {"t": t, "lang": current_language(), "languages": LANGUAGES}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    from auth.forms import LoginForm

    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if current_user.is_authenticated:
            return redirect(form.next.data)
        return render_template("login.html", form=form, error=None)
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("login_fields_required")
        return render_template("login.html", form=form, error=error), 400
    runtime = current_runtime()
    with runtime.db.session() as db:
        result = users.authenticate(
            db,
            form.username.data,
            form.password.data,
            ip=client_ip(),
            settings=runtime.settings,
        )
        user = db.get(User, result.user_id) if result.ok else None
        signed_in = CurrentUser.from_model(user) if user else None
        needs_code = user is not None and mfa.mfa_enabled(user)
    if signed_in is None:
        if result.outcome == "throttled":
            page = render_template("login.html", form=form, error=t("thr_wait", seconds=result.wait_seconds))
            return throttled_response(page, result.wait_seconds)
        return render_template("login.html", form=form, error=t("login_invalid")), 401
    if needs_code:  # no session until the second step (auth.mfa_routes)
        return await_second_step(signed_in, safe_next(form.next.data))
    start_session(signed_in)
    if signed_in.must_change_password:
        return redirect("/akun/kata-sandi")
    return redirect(safe_next(form.next.data))


@bp.app_context_processor
def _csrf_helper() -> dict:
    """``csrf_token()`` for the plain POST forms of server-rendered pages (sign-out buttons)."""
    return {"csrf_token": generate_csrf}


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """Sign out by POST with the form's CSRF token: every session of the account ends (``users.end_sessions``), so
    a copy of the cookie or a request still in flight cannot bring it back. A GET (an old bookmark, a link, a
    prefetch) signs no one out: it asks, with the button that does."""
    if not current_user.is_authenticated:
        return redirect("/login")
    if request.method == "GET":
        return render_template("sess_logout.html", error=None)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return make_response(render_template("sess_logout.html", error=t("sess_logout_expired")), 400)
    with current_runtime().db.session() as db:
        users.end_sessions(db, db.get(User, current_user.id))
        audit_signed_in(db, "logout")
    end_session()
    return redirect("/login")


@bp.route("/tv/<token>")
def display_sign_in(token: str) -> Response:
    """A TV board opens its URL once; the token signs it in as its read-only ``display`` user."""
    with current_runtime().db.session() as db:
        user = users.user_for_display_token(db, token)
        if user is None:
            abort(404)
        signed_in = CurrentUser.from_model(user)
        board = users.display_token_board(db, token)
        audit.record(db, "display_login", user_id=user.id, username=user.username, site_id=user.site_id, ip=client_ip())
    start_session(signed_in)
    return redirect(safe_next(board))


@bp.route("/lang/<code>")
def switch_language(code: str) -> Response:
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        with current_runtime().db.session() as db:
            user = db.get(User, current_user.id)
            if user is not None:
                user.language = code
    return redirect(safe_next(request.args.get("next")))


@bp.route("/akun/kata-sandi", methods=["GET", "POST"])
def change_password() -> Response | str:
    """Change one's own password. A wrong current password counts in the sign-in throttle's keys (one count for
    both doors, kept in the database so every web worker sees it); inside a wait the page answers 429 with
    Retry-After, even for the right password, without checking it. The session stays: it already holds every
    right a guessed password would give; the growing wait, the audit and the idle timeout stop a guesser."""
    from auth.forms import PasswordForm

    form = PasswordForm()
    if request.method == "GET":
        return _password_page(form)
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("password_fields_required")
        return _password_page(form, error=error, status=400)
    if form.new.data != form.repeat.data:
        return _password_page(form, field="repeat", error=t("err_password_mismatch"), status=400)
    runtime = current_runtime()
    actor = current_actor()
    try:
        with runtime.db.session() as db:
            result = users.change_own_password(
                db,
                actor,
                db.get(User, current_user.id),
                form.current.data,
                form.new.data,
                settings=runtime.settings,
            )
    except InputError as exc:
        return _password_page(form, field="new", error=t(exc.key, **exc.params), status=400)
    if result.outcome == "throttled":
        page = _password_page(form, error=t("thr_wait", seconds=result.wait_seconds))
        return throttled_response(page, result.wait_seconds)
    if not result.ok:
        return _password_page(form, field="current", error=t("err_current_password_wrong"), status=400)
    keep_session(result.extra["session_version"])  # the account's other sessions have ended; this one goes on
    return redirect("/")


def throttled_response(page: Response | str, seconds: int) -> Response:
    """``page`` as the answer to an attempt inside a throttle wait: 429 with Retry-After."""
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _password_page(form: object, *, error: str | None = None, field: str | None = None, status: int = 200) -> Response:
    """The password form; an error about one field is shown under that field, any other above the form.
    Nothing is refilled: the form holds only passwords."""
    page = render_template(
        "password.html",
        form=form,
        error=None if field else error,
        field_errors={field: error} if field else {},
        forced=current_user.must_change_password,
        min_length=MIN_LENGTH,
    )
    return make_response(page, status)
