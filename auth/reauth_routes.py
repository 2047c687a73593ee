"""``/akun/konfirmasi``: confirm it is you (password, or the authenticator code with MFA) before a sensitive
action, then go back to it (``?next=``, a local path only). Plain Flask view with CSRF (``auth.reauth``)."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from auth.reauth import CONFIRM_PATH, asks_for_code, confirm_identity, mark_checked, prompt_texts
from auth.routes import safe_next, throttled_response
from auth.session import current_actor
from data.runtime import current_runtime
from i18n.web import t

bp = Blueprint("reauth", __name__, template_folder="templates")


class ConfirmForm(FlaskForm):
    """The password or code, and where to go after."""

    answer = PasswordField(validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


@bp.route(CONFIRM_PATH, methods=["GET", "POST"])
def confirm() -> Response | str:
    form = ConfirmForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        return _page(form)
    if not form.validate_on_submit():
        error = t("login_form_expired") if form.csrf_token.errors else t("thr_confirm_required")
        return _page(form, error=error, status=400)
    runtime = current_runtime()
    with runtime.db.session() as db:
        result = confirm_identity(db, current_actor(), form.answer.data, settings=runtime.settings)
    if result.outcome == "throttled":
        return throttled_response(_page(form, error=t("thr_wait", seconds=result.wait_seconds)), result.wait_seconds)
    if not result.ok:
        return _page(form, error=t("thr_confirm_wrong"), status=400)
    mark_checked()
    return redirect(safe_next(form.next.data))


def _page(form: ConfirmForm, *, error: str | None = None, status: int = 200) -> Response:
    """The confirmation form; the answer is never refilled, the way back is kept."""
    code = asks_for_code()
    intro, label = prompt_texts(code)
    page = render_template(
        "reauth.html", form=form, intro=intro, label=label, error=error, code=code, name=current_user.username
    )
    return make_response(page, status)
