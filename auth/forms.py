"""Server-rendered forms (Flask-WTF) with CSRF tokens: sign-in and password change."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=256)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    """No length limits here: the password policy says what is too short or too long, in words."""

    current = PasswordField(validators=[DataRequired()])
    new = PasswordField(validators=[DataRequired()])
    repeat = PasswordField(validators=[DataRequired()])
