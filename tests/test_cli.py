"""Operator commands: create users, reset passwords, TV tokens, demo seeding."""

from __future__ import annotations

import re

from tests.fixtures_app import login


def test_create_user_then_sign_in_with_the_printed_password(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["create-user", "Bidan.Ani", "--name", "Bidan Ani", "--role", "nurse"])
    assert result.exit_code == 0, result.output
    password = re.search(r"temporary password: (\S+)", result.output).group(1)
    response = login(sqlite_app.server.test_client(), "bidan.ani", password)
    assert response.headers["Location"] == "/akun/kata-sandi"


def test_bad_input_gets_a_clear_message(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["create-user", "perawat", "--name", "Dua", "--role", "nurse"])
    assert result.exit_code != 0 and "already taken" in result.output
    result = runner.invoke(args=["reset-password", "tidak-ada"])
    assert result.exit_code != 0 and "no user" in result.output


def test_reset_password_and_display_token(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["reset-password", "perawat"])
    password = re.search(r": (\S+)$", result.output.strip()).group(1)
    assert login(sqlite_app.server.test_client(), "perawat", password).status_code == 302
    result = runner.invoke(args=["create-display-token", "display", "--label", "Poli lantai 1"])
    token = re.search(r"/tv/(\S+)", result.output).group(1)
    assert sqlite_app.server.test_client().get(f"/tv/{token}").status_code == 302
    refused = runner.invoke(args=["create-display-token", "perawat", "--label", "x"])
    assert refused.exit_code != 0


def test_disable_user_blocks_sign_in(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    assert runner.invoke(args=["disable-user", "farmasi"]).exit_code == 0
    assert login(sqlite_app.server.test_client(), "farmasi").status_code == 401
