"""Operator commands on the server (``flask --app app <command>``): users, TV tokens, demo data, key rotation."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from auth import users
from auth.demo_accounts import seed_demo
from auth.passwords import generate_password
from data import audit
from data.census import ensure_census, record_census
from data.pii_keys import rotate_keys
from data.schedules import local_today
from data.seed import ensure_site
from domain.actor import Actor
from domain.errors import FieldErrors, InputError
from domain.roles import ROLES
from i18n import translate

CLI_ACTOR = Actor(user_id=None, username="cli", site_id=None)


def _runtime():
    return current_app.extensions["pantau"]


def _fail(exc: InputError) -> None:
    """Stop with the message of ``exc``, or of each field it refused."""
    errors = exc.errors.values() if isinstance(exc, FieldErrors) else [exc]
    raise click.ClickException(" ".join(translate(e.key, "en", **e.params) for e in errors))


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
    if set(roles) == {"display"}:  # a TV has no keyboard: it signs in with a token, never with this password
        click.echo(f"created {username.lower()}; give it a screen with create-display-token {username.lower()}")
        return
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
@click.option(
    "--board", default="", help="What the TV opens: /papan/farmasi or a ward station /bangsal/ICU (default: home)."
)
def create_display_token(username: str, label: str, board: str) -> None:
    """Issue a TV sign-in URL (queue board or read-only ward station) for a user whose only role is display."""
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
@click.option("--batch", default=500, show_default=True, help="Rows re-encrypted per transaction.")
@with_appcontext
def rotate_data_keys(batch: int) -> None:
    """Re-encrypt every personal-data ciphertext under the first key of PANTAU_DATA_KEYS, bound to its row.
    Safe to run again (it goes on where it stopped); once it reports nothing, old keys may be removed."""
    runtime = _runtime()
    counts = rotate_keys(runtime.db, runtime.cipher, batch=batch)
    with runtime.db.session() as db:
        detail = {"key": runtime.cipher.active_key_id, "rows": counts}
        audit.record(db, "data_keys_rotated", username=CLI_ACTOR.username, detail=detail)
    for table, changed in counts.items():
        click.echo(f"{table}: re-encrypted {changed} rows")


def _broker_admin():
    from data.broker_admin import open_broker_admin

    runtime = _runtime()
    return open_broker_admin(runtime.settings, runtime.broker)


def _echo_credential(issued) -> None:
    click.echo(f"device {issued.device_id}: MQTT username {issued.device_id}, password {issued.password}")
    click.echo("(shown once; " + ("provisioned on the broker)" if issued.provisioned else "no broker provisioning)"))


@click.command("create-device")
@with_appcontext
@click.argument("device_id")
@click.option("--model", required=True, help="Make and model of the monitor.")
@click.option("--bed", default=None, help="Bed code it serves, e.g. ICU-03 (optional).")
def create_device(device_id: str, model: str, bed: str | None) -> None:
    """Register a monitor and issue its broker credential (the password is printed once)."""
    from data.device_credentials import register_device

    runtime = _runtime()
    try:
        with runtime.db.session() as db:
            site = ensure_site(db, runtime.settings)
            issued = register_device(
                db, CLI_ACTOR, _broker_admin(), site_id=site.id, site_code=site.code, device_id=device_id,
                model=model, bed_code=bed,
            )  # fmt: skip
    except InputError as exc:
        _fail(exc)
    _echo_credential(issued)


@click.command("rotate-device-credential")
@with_appcontext
@click.argument("device_id")
def rotate_device_credential(device_id: str) -> None:
    """Give a monitor a new broker password (printed once); the old one stops working at once."""
    from data.device_credentials import rotate_credential

    runtime = _runtime()
    try:
        with runtime.db.session() as db:
            site = ensure_site(db, runtime.settings)
            issued = rotate_credential(
                db, CLI_ACTOR, _broker_admin(), site_id=site.id, site_code=site.code, device_id=device_id
            )
    except InputError as exc:
        _fail(exc)
    _echo_credential(issued)


@click.command("retire-device")
@with_appcontext
@click.argument("device_id")
def retire_device_command(device_id: str) -> None:
    """Take a monitor out of service: off its bed, its broker credential deleted, its history kept."""
    from data.device_credentials import retire_device

    runtime = _runtime()
    try:
        with runtime.db.session() as db:
            site = ensure_site(db, runtime.settings)
            retire_device(db, CLI_ACTOR, _broker_admin(), site_id=site.id, device_id=device_id)
    except InputError as exc:
        _fail(exc)
    click.echo(f"retired {device_id}")


@click.command("mqtt-setup")
@with_appcontext
@click.option("--consumer-password", envvar="MQTT_CONSUMER_PASSWORD", default="", help="Env MQTT_CONSUMER_PASSWORD.")
@click.option("--web-password", envvar="MQTT_WEB_PASSWORD", default="", help="Env MQTT_WEB_PASSWORD.")
@click.option("--simulator-password", envvar="MQTT_SIMULATOR_PASSWORD", default="", help="Env MQTT_SIMULATOR_PASSWORD.")
def mqtt_setup(consumer_password: str, web_password: str, simulator_password: str) -> None:
    """Default-deny ACL and one broker user per Pantau process (idempotent; run at every start)."""
    from data.broker_admin import BrokerAdminError

    admin = _broker_admin()
    if not admin.enabled:
        raise click.ClickException("no broker admin configured (PANTAU_MQTT_ADMIN_USERNAME); nothing to set up")
    passwords = {"pantau-consumer": consumer_password, "pantau-web": web_password}
    passwords["pantau-simulator"] = simulator_password
    try:
        done = admin.setup(passwords)
    except BrokerAdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("broker users ready: " + (", ".join(done) or "none (no passwords given)"))


@click.command("sync-site-credential")
@with_appcontext
@click.argument("site")
def sync_site_credential(site: str) -> None:
    """Give a site's facility sync worker its broker user (new password, printed once; the old one stops working):
    it may write only that site's sync topics. Run it on the broker's hospital for each linked site."""
    import secrets

    from data.broker_admin import BrokerAdminError, sync_user
    from data.sync_store import SyncError, check_site_id

    try:
        check_site_id(site)
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    admin = _broker_admin()
    if not admin.enabled:
        raise click.ClickException("no broker admin configured (PANTAU_MQTT_ADMIN_USERNAME); nothing to set up")
    password = secrets.token_urlsafe(24)
    try:
        admin.set_sync_site(site, password)
    except BrokerAdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"site {site}: MQTT username {sync_user(site)}, password {password}")
    click.echo("(shown once: set it as PANTAU_MQTT_USERNAME / PANTAU_MQTT_PASSWORD of that site's sync worker)")


@click.command("provision-sim-devices")
@with_appcontext
@click.option("--file", "path", required=True, type=click.Path(dir_okay=False), help="JSON file to write.")
@click.option("--devices", required=True, help="Comma-separated device ids, e.g. MON-ICU-01,MON-ICU-02.")
def provision_sim_devices(path: str, devices: str) -> None:
    """Issue credentials for the simulator's monitors (registering missing ones, at bed ICU-03 for MON-ICU-03
    when that bed exists and is free) and write {device_id: password} to a file only its owner can read."""
    import json
    import os

    from data.device_credentials import issue_simulator_credentials

    runtime = _runtime()
    ids = [d.strip() for d in devices.split(",") if d.strip()]
    try:
        with runtime.db.session() as db:
            site = ensure_site(db, runtime.settings)
            creds = issue_simulator_credentials(
                db, CLI_ACTOR, _broker_admin(), site_id=site.id, site_code=site.code, device_ids=ids
            )
    except InputError as exc:
        _fail(exc)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(creds, out)
    click.echo(f"credentials for {len(creds)} simulated monitors written to {path}")


@click.command("census")
@with_appcontext
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Recompute this site-local day only.")
def census_command(day: datetime | None) -> None:
    """Record the midnight ward census: one day, or every missing day up to yesterday (site-local)."""
    with _runtime().db.session() as db:
        site = ensure_site(db, _runtime().settings)
        if day is not None:
            rows = record_census(db, site.id, day.date())
            click.echo(f"census {day.date().isoformat()}: {len(rows)} wards")
            return
        filled = ensure_census(db, site.id, local_today(db, site.id) - timedelta(days=1))
    click.echo(f"census: {filled} missing days recorded")


COMMANDS = (
    create_user,
    reset_password,
    disable_user,
    create_display_token,
    seed_demo_command,
    rotate_data_keys,
    create_device,
    rotate_device_credential,
    retire_device_command,
    mqtt_setup,
    provision_sim_devices,
    sync_site_credential,
    census_command,
)
