"""The second sign-in step (``/login/kode``) and one's own authenticator (``/akun/mfa``): plain Flask views.

After a right password, an account with an authenticator gets no session yet: the Flask session holds only a
pending marker (the account, its session version and where to go next) for ``PENDING_SECONDS``. A right code then
starts the session; ``MAX_WRONG_CODES`` wrong ones drop the marker, back to the password. Wrong codes are also
counted per account in the database (``auth.mfa``), which a replayed cookie cannot reset.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, make_response, redirect, render_template, request, session
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from auth import mfa
from auth.session import CurrentUser, end_session, start_session
from data.models import User
from data.runtime import current_runtime
from domain.errors import InputError
from i18n.web import t

bp = Blueprint("mfa", __name__, template_folder="templates")

CODE_PATH = "/login/kode"
ACCOUNT_PATH = "/akun/mfa"
PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 300
MAX_WRONG_CODES = 5  # wrong codes before the pending sign-in is dropped (the throttle is what bounds guessing)


class CodeForm(FlaskForm):
    """A TOTP code or a recovery code, in one field."""

    code = StringField(validators=[DataRequired(), Length(max=32)])


# ---- the second sign-in step


def await_second_step(user: CurrentUser, next_url: str) -> Response:
    """After a right password: no session yet, only the pending marker; off to the code page. ``next_url`` has
    already been checked to be a local path."""
    end_session()  # nothing of an earlier session survives into this sign-in
    session[PENDING_KEY] = {
        "uid": user.id,
        "name": user.username,  # typed in again for her if the password is asked again
        "sv": user.session_version,
        "next": next_url,
        "at": time.time(),
    }
    return redirect(CODE_PATH)


def _pending() -> dict | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    return pending


def _back_to_password(key: str, status: int, **params: object) -> Response:
    """Drop the pending sign-in and show the password form again with why."""
    from auth.forms import LoginForm

    pending = session.pop(PENDING_KEY, None) or {}
    form = LoginForm(formdata=None, username=pending.get("name"), next=pending.get("next") or "/")
    return make_response(render_template("login.html", form=form, error=t(key, **params)), status)


@bp.route(CODE_PATH, methods=["GET", "POST"])
def second_step() -> Response | str:
    pending = _pending()
    if pending is None:
        return _back_to_password("mfa_pending_expired", 401) if request.method == "POST" else redirect("/login")
    form = CodeForm()
    recovery = request.args.get("pemulihan") == "1"
    if request.method == "GET":
        return render_template("mfa_code.html", form=form, error=None, recovery=recovery)
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("mfa_code_required")
        return make_response(render_template("mfa_code.html", form=form, error=error, recovery=recovery), 400)
    with current_runtime().db.session() as db:
        user = db.get(User, pending["uid"])
        if user is None or not user.active or user.session_version != pending["sv"] or not mfa.mfa_enabled(user):
            return _back_to_password("mfa_pending_expired", 401)
        check = mfa.verify_second_factor(db, user, form.code.data)
        signed_in = CurrentUser.from_model(user) if check.ok else None
    if check.outcome == "blocked":
        return _back_to_password("mfa_blocked", 429, seconds=check.wait_seconds)
    if signed_in is None:
        pending["wrong"] = pending.get("wrong", 0) + 1
        session[PENDING_KEY] = pending
        if pending["wrong"] >= MAX_WRONG_CODES:
            return _back_to_password("mfa_too_many", 401)
        page = render_template("mfa_code.html", form=form, error=t("mfa_code_wrong"), recovery=recovery)
        return make_response(page, 401)
    start_session(signed_in)
    session[mfa.VERIFIED_KEY] = True
    if check.recovery_left is not None and check.recovery_left <= 3:
        session["mfa_notice"] = check.recovery_left  # shown on the account page; the link below goes there
    if signed_in.must_change_password:
        return redirect("/akun/kata-sandi")
    return redirect(ACCOUNT_PATH if "mfa_notice" in session else pending["next"])


# ---- one's own authenticator


def _qr_data_uri(uri: str) -> str:
    """The ``otpauth://`` address as a QR code, an SVG data URI (the CSP allows ``img-src data:``)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _next_url() -> str:
    from auth.routes import safe_next  # auth.routes imports this module for the sign-in step

    return safe_next(request.values.get("next"))


def _account_page(
    form: CodeForm, *, error: str | None = None, status: int = 200, notice: str | None = None
) -> Response:
    """The enrolment page (QR code and secret) while no authenticator is confirmed, else its management page."""
    runtime = current_runtime()
    required = mfa.mfa_required(current_user.roles, runtime.settings)
    with runtime.db.session() as db:
        user = db.get(User, current_user.id)
        if mfa.mfa_enabled(user):
            page = render_template(
                "mfa_manage.html",
                form=form,
                error=error,
                notice=notice,
                required=required,
                left=mfa.recovery_codes_left(db, user),
            )
            return make_response(page, status)
        secret = mfa.pending_secret(db, user)
        uri = mfa.provisioning_uri(secret, user.username, runtime.settings)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    page = render_template(
        "mfa_enrol.html",
        form=form,
        error=error,
        notice=notice,
        required=required,
        qr=_qr_data_uri(uri),
        secret=grouped,
        next_url=_next_url(),
    )
    return make_response(page, status)


def _codes_page(codes: list[str], next_url: str) -> Response:
    return make_response(render_template("mfa_codes.html", codes=codes, next_url=next_url, error=None))


def _refused(form: CodeForm, check: mfa.CodeCheck) -> Response:
    if check.outcome == "blocked":
        response = _account_page(form, error=t("mfa_blocked_here", seconds=check.wait_seconds), status=429)
        response.headers["Retry-After"] = str(check.wait_seconds)
        return response
    return _account_page(form, error=t("mfa_code_wrong"), status=400)


@bp.route(ACCOUNT_PATH, methods=["GET", "POST"])
def account() -> Response | str:
    """Enrol (GET shows the QR code, POST confirms with a code) or, once enrolled, manage the authenticator."""
    if current_user.is_display:
        abort(404)
    form = CodeForm()
    if request.method == "GET":
        if _enrolled_without_code():
            return _sign_in_again()
        notice = t("mfa_disabled_done") if request.args.get("nonaktif") == "1" else None
        left = session.pop("mfa_notice", None)
        if left is not None:
            notice = t("mfa_recovery_low", n=left)
        return _account_page(form, notice=notice)
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("mfa_code_required")
        return _account_page(form, error=error, status=400)
    try:
        with current_runtime().db.session() as db:
            result = mfa.confirm_enrolment(db, db.get(User, current_user.id), form.code.data)
    except InputError as exc:  # confirmed meanwhile (another tab)
        return _account_page(form, error=t(exc.key, **exc.params), status=409)
    if isinstance(result, mfa.CodeCheck):
        return _refused(form, result)
    session[mfa.VERIFIED_KEY] = True
    return _codes_page(result, _next_url())


@bp.route(f"{ACCOUNT_PATH}/kode-pemulihan", methods=["POST"])
def regenerate() -> Response:
    """Ten new recovery codes for a current code; the old ones stop working."""
    form = CodeForm()
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("mfa_code_required")
        return _account_page(form, error=error, status=400)
    with current_runtime().db.session() as db:
        result = mfa.regenerate_recovery_codes(db, db.get(User, current_user.id), form.code.data)
    if isinstance(result, mfa.CodeCheck):
        return _refused(form, result)
    return _codes_page(result, "/")


@bp.route(f"{ACCOUNT_PATH}/matikan", methods=["POST"])
def disable() -> Response:
    """Turn the second step off, for a current code, when the account's roles do not require it."""
    form = CodeForm()
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("mfa_code_required")
        return _account_page(form, error=error, status=400)
    runtime = current_runtime()
    try:
        with runtime.db.session() as db:
            check = mfa.disable_mfa(db, db.get(User, current_user.id), form.code.data, runtime.settings)
    except InputError as exc:
        return _account_page(form, error=t(exc.key, **exc.params), status=403)
    if not check.ok:
        return _refused(form, check)
    session.pop(mfa.VERIFIED_KEY, None)
    return redirect(f"{ACCOUNT_PATH}?nonaktif=1")


def _enrolled_without_code() -> bool:
    """A session that never passed the second step, though the account has an authenticator (signed in before it
    was confirmed elsewhere): it must sign in again, with a code."""
    if session.get(mfa.VERIFIED_KEY):
        return False
    with current_runtime().db.session() as db:
        return mfa.mfa_enabled(db.get(User, current_user.id))


def _sign_in_again() -> Response:
    end_session()
    return redirect(f"/login?next={quote(ACCOUNT_PATH)}")
