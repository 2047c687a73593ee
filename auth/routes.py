"""Sign-in, sign-out, TV-board sign-in, language switch and own-password change: plain Flask views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from auth import users
from auth.session import CurrentUser, audit_signed_in, client_ip, end_session
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
            lockout_attempts=runtime.settings.lockout_attempts,
            lockout_minutes=runtime.settings.lockout_minutes,
        )
        user = db.get(User, result.user_id) if result.ok else None
        signed_in = CurrentUser.from_model(user) if user else None
    if signed_in is None:
        messages = {
            "invalid": t("login_invalid"),
            "locked": t("login_locked", minutes=result.locked_minutes),
            "disabled": t("login_disabled"),
        }
        return render_template("login.html", form=form, error=messages[result.outcome]), 401
    session.clear()  # a fresh session on sign-in: no session fixation
    login_user(signed_in)
    session.permanent = True
    if signed_in.must_change_password:
        return redirect("/akun/kata-sandi")
    return redirect(safe_next(form.next.data))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        with current_runtime().db.session() as db:
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
    session.clear()
    login_user(signed_in)
    session.permanent = True
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
    from auth.forms import PasswordForm

    form = PasswordForm()
    if request.method == "GET":
        return render_template("password.html", form=form, error=None, forced=current_user.must_change_password)
    error = None
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("login_fields_required")
    elif form.new.data != form.repeat.data:
        error = t("err_password_mismatch")
    else:
        actor = users.Actor(current_user.id, current_user.username, current_user.site_id, client_ip())
        try:
            with current_runtime().db.session() as db:
                users.change_own_password(db, actor, db.get(User, current_user.id), form.current.data, form.new.data)
        except InputError as exc:
            error = t(exc.key, **exc.params)
    if error:
        return render_template("password.html", form=form, error=error, forced=current_user.must_change_password), 400
    return redirect("/")
