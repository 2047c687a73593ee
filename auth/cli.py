"""Operator commands on the server (``flask --app app <command>``): users, TV tokens, demo data, key rotation."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from auth import users
from auth.passwords import generate_password
from auth.roles import ROLES
from data.patients import rotate_keys
from data.seed import ensure_site, seed_demo
from domain.errors import InputError
from i18n import translate

CLI_ACTOR = users.Actor(user_id=None, username="cli", site_id=None)


def _runtime():
    return current_app.extensions["pantau"]


def _fail(exc: InputError) -> None:
    raise click.ClickException(translate(exc.key, "en", **exc.params))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name as shown in Pantau.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeatable.")
@click.option("--password", default=None, help="Temporary password (generated and printed when omitted).")
def create_user(username: str, full_name: str, roles: tuple[str, ...], password: str | None) -> None:
    """Create a user who must change the temporary password at first sign-in."""
    runtime = _runtime()
    chosen = password or generate_password()
    try:
        with runtime.db.session() as db:
            site = ensure_site(db, runtime.settings)
            users.create_user(
                db, CLI_ACTOR, site_id=site.id, username=username, full_name=full_name, roles=roles, password=chosen
            )
    except InputError as exc:
        _fail(exc)
    click.echo(f"created {username.lower()}" + ("" if password else f"; temporary password: {chosen}"))


@click.command("reset-password")
@with_appcontext
@click.argument("username")
def reset_password(username: str) -> None:
    """Give a user a new temporary password (printed) and unlock the account."""
    chosen = generate_password()
    with _runtime().db.session() as db:
        user = users.find_user(db, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        users.reset_password(db, CLI_ACTOR, user, chosen)
    click.echo(f"temporary password for {username}: {chosen}")


@click.command("disable-user")
@with_appcontext
@click.argument("username")
def disable_user(username: str) -> None:
    """Disable an account (it can no longer sign in; its history stays)."""
    with _runtime().db.session() as db:
        user = users.find_user(db, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        users.set_active(db, CLI_ACTOR, user, False)
    click.echo(f"disabled {username}")


@click.command("create-display-token")
@with_appcontext
@click.argument("username")
@click.option("--label", required=True, help="Where the board hangs, e.g. 'Poli lantai 1'.")
@click.option("--board", default="", help="The board the TV opens, e.g. /papan/farmasi (default: the home page).")
def create_display_token(username: str, label: str, board: str) -> None:
    """Issue a TV-board sign-in URL for a user whose only role is display."""
    try:
        with _runtime().db.session() as db:
            user = users.find_user(db, username)
            if user is None:
                raise click.ClickException(f"no user {username!r}")
            token = users.create_display_token(db, CLI_ACTOR, user, label, board)
    except InputError as exc:
        _fail(exc)
    click.echo(f"open on the TV: /tv/{token}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create (or refresh) the demo site, wards, beds, monitors, polis, doctors and demo users."""
    runtime = _runtime()
    if runtime.settings.production:
        raise click.ClickException("demo data is never seeded in production")
    with runtime.db.session() as db:
        creds = seed_demo(db, runtime.settings)
    click.echo(f"demo data ready; demo password: {creds.password}")


@click.command("rotate-data-keys")
@with_appcontext
def rotate_data_keys() -> None:
    """Re-encrypt patient identifiers under the first key of PANTAU_DATA_KEYS."""
    runtime = _runtime()
    with runtime.db.session() as db:
        changed = rotate_keys(db, runtime.cipher)
    click.echo(f"re-encrypted {changed} patient records")


COMMANDS = (create_user, reset_password, disable_user, create_display_token, seed_demo_command, rotate_data_keys)
