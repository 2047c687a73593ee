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
    current = PasswordField(validators=[DataRequired(), Length(max=256)])
    new = PasswordField(validators=[DataRequired(), Length(max=256)])
    repeat = PasswordField(validators=[DataRequired(), Length(max=256)])
