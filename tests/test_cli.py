"""Operator commands: create users (a typed password held to the policy), reset passwords, TV tokens, demo seeding."""

from __future__ import annotations

import re

from tests.fixtures_app import post_login


def test_create_user_then_sign_in_with_the_printed_password(sqlite_app, client):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["create-user", "Bidan.Ani", "--name", "Bidan Ani", "--role", "nurse"])
    assert result.exit_code == 0, result.output
    password = re.search(r"temporary password: (\S+)", result.output).group(1)
    response = post_login(client, "bidan.ani", password)
    assert response.headers["Location"] == "/akun/kata-sandi"


def test_bad_input_gets_a_clear_message(sqlite_app):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["create-user", "perawat", "--name", "Dua", "--role", "nurse"])
    assert result.exit_code != 0 and "already taken" in result.output
    result = runner.invoke(args=["create-user", "perawat", "--name", " ", "--role", "nurse", "--password", "pendek"])
    for reason in ("already taken", "full name is required", "at least 10 characters."):  # every one at once
        assert reason in result.output, result.output
    result = runner.invoke(args=["reset-password", "tidak-ada"])
    assert result.exit_code != 0 and "no user" in result.output


def test_reset_password_and_display_token(sqlite_app, client):
    runner = sqlite_app.server.test_cli_runner()
    result = runner.invoke(args=["reset-password", "perawat"])
    password = re.search(r": (\S+)$", result.output.strip()).group(1)
    assert post_login(client, "perawat", password).status_code == 302
    result = runner.invoke(args=["create-display-token", "display", "--label", "Poli lantai 1"])
    token = re.search(r"/tv/(\S+)", result.output).group(1)
    assert sqlite_app.client().get(f"/tv/{token}").status_code == 302
    refused = runner.invoke(args=["create-display-token", "perawat", "--label", "x"])
    assert refused.exit_code != 0


def test_disable_user_blocks_sign_in(sqlite_app, client):
    runner = sqlite_app.server.test_cli_runner()
    assert runner.invoke(args=["disable-user", "farmasi"]).exit_code == 0
    assert post_login(client, "farmasi").status_code == 401


def test_a_typed_password_is_held_to_the_policy(sqlite_app, client):
    runner = sqlite_app.server.test_cli_runner()
    create = ["create-user", "bidan.ani", "--name", "Bidan Ani", "--role", "nurse", "--password"]
    for weak, reason in (
        ("aaaaaaaaaa", "only repeats"),
        ("1234567890", "only a sequence"),
        ("Bidan.Ani.2026", "may not contain the username"),
        ("password123", "among the most used or leaked"),
    ):
        result = runner.invoke(args=[*create, weak])
        assert result.exit_code != 0 and reason in result.output, (weak, result.output)
    assert runner.invoke(args=[*create, "jeruk nipis di meja jaga"]).exit_code == 0
    assert post_login(client, "bidan.ani", "jeruk nipis di meja jaga").status_code == 302
