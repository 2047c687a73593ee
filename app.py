"""Pantau's web app. ``create_app(settings)`` builds it; ``server`` is the WSGI app for gunicorn
(``gunicorn app:server``); ``python app.py`` runs the embedded all-in-one demo."""

from __future__ import annotations

import logging
import signal
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import click
import dash
from flask import Flask, Response, current_app, jsonify
from flask.cli import ScriptInfo
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

from api.alarms import bp as alarms_blueprint
from api.jkn import bp as jkn_blueprint
from api.jkn import limit_token_requests
from api.live import bp as live_blueprint
from api.plotly_bundle import bp as plotly_bundle_blueprint
from api.queue_public import bp as queue_public_blueprint
from api.queue_public import limit_status_page
from api.queue_stream import bp as queue_stream_blueprint
from auth.cli import COMMANDS as CLI_COMMANDS
from auth.demo_accounts import DEMO_USERS, DemoCredentials, seed_demo
from auth.errors import install_error_handlers
from auth.guards import guard_page_layouts, install_request_guard
from auth.mfa_routes import bp as mfa_blueprint
from auth.reauth_routes import bp as reauth_blueprint
from auth.routes import bp as auth_blueprint
from auth.session import SESSION_COOKIE, SESSION_LIFETIME, init_login_manager
from callbacks.registry import register_callbacks
from components.forbidden import forbidden
from components.shell import shell_layout
from config import Settings, configure_logging, load_settings
from data.health import cached_checks
from data.live_store import is_redis_url
from data.runtime import Runtime, build_runtime
from i18n.web import current_language

if TYPE_CHECKING:
    from bridge.embedded_sync import EmbeddedFacilitySync

ROOT = Path(__file__).resolve().parent
VENDOR_CSS = ["/assets/vendor/bootstrap.min.css", "/assets/vendor/bootstrap-icons/bootstrap-icons.min.css"]
VENDOR_JS = ["/assets/vendor/date-fns/locale-id.min.js"]  # before assets/date_locale.js, which picks one
THEME_JS = '<script src="/assets/theme.js"></script>'  # in <head>, as on the server-rendered pages
# A Redis that does not answer must not hold a sign-in for long: the limiter falls back to memory after this.
LIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
log = logging.getLogger("pantau")


class PantauDash(dash.Dash):
    """Dash whose pages name their language (``<html lang>``), so screen readers and the date pickers' calendar
    (assets/date_locale.js) follow the user's language rather than the browser's, and set the theme in ``<head>``,
    so no page paints in the other theme before Dash's scripts (at the end of the body) run."""

    def interpolate_index(self, **kwargs: str) -> str:
        page = super().interpolate_index(**kwargs).replace("<html>", f'<html lang="{current_language()}">', 1)
        return page.replace("<head>", f"<head>\n{THEME_JS}", 1)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> dash.Dash:
    """Build the Dash app (and its Flask server) for ``settings``; opens no connection, starts no thread."""
    settings = settings or load_settings()
    runtime = runtime or build_runtime(settings)
    server = Flask(__name__, template_folder=str(ROOT / "auth" / "templates"))
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=SESSION_COOKIE,  # the stream server reads it too (auth/stream_access.py)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    server.extensions["pantau"] = runtime
    if settings.trusted_proxies:
        # X-Forwarded-For/-Proto/-Host count only through this many proxies (each appends the address it saw), so
        # request.remote_addr is the real client for limits, throttle and audit; with 0 they are ignored entirely.
        n = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    init_login_manager(server)
    install_error_handlers(server)
    server.register_blueprint(auth_blueprint)
    server.register_blueprint(mfa_blueprint)
    server.register_blueprint(reauth_blueprint)
    server.register_blueprint(live_blueprint)
    server.register_blueprint(alarms_blueprint)
    server.register_blueprint(queue_stream_blueprint)
    server.register_blueprint(queue_public_blueprint)
    server.register_blueprint(jkn_blueprint)
    server.register_blueprint(plotly_bundle_blueprint)
    _limit_sign_in(server, settings)
    server.add_url_rule("/healthz", "healthz", _healthz)
    for command in CLI_COMMANDS:
        server.cli.add_command(command)

    app = PantauDash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        assets_path_ignore=["vendor"],
        assets_ignore=r"^theme\.js$",  # loaded in <head> (PantauDash), not again with the other assets
        external_stylesheets=VENDOR_CSS,
        external_scripts=VENDOR_JS,
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="Pantau",
        update_title=None,
    )
    app.layout = shell_layout
    callback_owner = register_callbacks(app)
    guard_page_layouts(forbidden)
    install_request_guard(server, callback_owner, settings.session_timeout_minutes)
    _security_headers(app, settings)
    return app


def finish_dash_setup(server: Flask) -> None:
    """Let Dash finish the setup it does on the first request (the pages' router and their callbacks) now, in one
    thread, once every route is mounted (gunicorn's ``post_worker_init``, the demo before it serves): Dash marks it
    done before it is, so two threads' first requests at once met a half-built callback map (HTTP 500 on a fresh
    worker under load). A request without a session to a path nobody serves reads nothing."""
    with server.test_client() as client:
        client.get("/_pantau-setup")


def _limit_sign_in(server: Flask, settings: Settings) -> None:
    """Rate limits per real client address (after ``PANTAU_TRUSTED_PROXIES``), shared by the workers through Redis.

    Redis away must not take sign-in with it: the limiter then counts in this process's memory (a WARNING from
    ``flask-limiter`` says so, and it goes back to Redis once Redis answers), and any other storage error is logged,
    never a 500."""
    storage = settings.redis_url if is_redis_url(settings.redis_url) else "memory://"
    limiter = Limiter(
        get_remote_address,
        app=server,
        storage_uri=storage,
        storage_options=LIMIT_STORAGE_OPTIONS if is_redis_url(storage) else {},
        default_limits=[],
        strategy="moving-window",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    # Flask-Limiter checks a route's limit inside the wrapper it returns: the wrapper must replace the view.
    login = server.view_functions["auth.login"]
    server.view_functions["auth.login"] = limiter.limit(settings.login_rate_limit, methods=["POST"])(login)
    limit_status_page(limiter, server)
    limit_token_requests(limiter, server)


def _security_headers(app: dash.Dash, settings: Settings) -> None:
    """Talisman for the usual headers; the Content-Security-Policy is set per response because Dash registers
    its page-title script (an inline script whose hash must be allowed) only on the first request."""
    Talisman(
        app.server,
        force_https=False,  # TLS ends at the reverse proxy; HSTS below tells browsers to stay on HTTPS
        strict_transport_security=settings.production,
        session_cookie_secure=settings.production,
        content_security_policy=None,
        frame_options="DENY",
        referrer_policy="same-origin",
    )

    @app.server.after_request
    def _content_security_policy(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; object-src 'none'; "  # no plug-in content (wapiti's csp module, tests/test_scanner.py)
            f"script-src 'self' {' '.join(app.csp_hashes())}; "
            "style-src 'self' 'unsafe-inline'; "  # Dash components set inline styles
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
        )
        return response


def _healthz():
    from data.runtime import current_runtime

    checks = cached_checks(current_app.extensions, current_runtime())
    healthy = all(c.ok for c in checks)
    body = {
        "status": "ok" if healthy else "degraded",
        "checks": {c.name: {"ok": c.ok, "backend": c.backend, "ms": c.ms} for c in checks},
    }
    return jsonify(body), 200 if healthy else 503


@cache
def _default_app() -> dash.Dash:
    """The app gunicorn serves and ``flask --app app`` commands run in: never with the published demo secrets,
    except an operator command on the embedded demo's own database (README, docs/hospital-setup.md)."""
    settings = load_settings()
    settings.require_own_secrets(allow_demo_database=_in_flask_cli())
    return create_app(settings)


def _in_flask_cli() -> bool:
    """True while ``flask --app app <command>`` loads the app: its click context carries Flask's ScriptInfo."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None


def __getattr__(name: str) -> object:
    # ``gunicorn app:server`` looks the attribute up; building on first access keeps import free of work.
    # ``application`` lets ``flask --app app <command>`` find the same server.
    if name in ("server", "application"):
        return _default_app().server
    raise AttributeError(name)


def _banner(settings: Settings, creds: DemoCredentials | None, puskesmas_url: str | None = None) -> str:
    url = f"http://{settings.host}:{settings.port}"
    lines = ["", "Pantau is running (embedded demo).", f"  Open:  {url}/login", ""]
    if puskesmas_url:
        lines += [f"  Puskesmas (second site, patient records synced with the hospital): {puskesmas_url}/login", ""]
    if creds is not None:
        lines.append("  Demo logins (demo only; set PANTAU_DEMO_PASSWORD to choose the password):")
        lines += [
            f"    {username:<8} {creds.password}   ({full_name})"
            for username, full_name, role in DEMO_USERS
            if role != "display"
        ]
        lines += ["", f"  TV board (display role): {url}/tv/{creds.display_token}", ""]
    if not settings.mfa_required_roles:
        lines += [f"  Two-step sign-in (TOTP): optional here; enrol at {url}/akun/mfa", ""]
    if settings.bpjs_base_url.startswith(url):
        lines += [f"  BPJS sandbox (what BPJS received): {settings.bpjs_base_url}/sandbox/", ""]
    return "\n".join(lines)


def _demo_mfa_policy(settings: Settings) -> Settings:
    """The embedded demo requires TOTP of no role unless ``PANTAU_MFA_REQUIRED_ROLES`` says otherwise: anyone
    trying it can sign in at once, and enrol at /akun/mfa to see the second step."""
    if "mfa_required_roles" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"mfa_required_roles": ""})


def _start_puskesmas(hospital: Runtime, mqtt_port: int | None) -> EmbeddedFacilitySync:
    """The demo's second site (its own database, seeded like the hospital's) and both sites' sync workers."""
    from bridge.embedded_sync import EmbeddedFacilitySync, puskesmas_settings
    from data.migrate import upgrade

    settings = puskesmas_settings(hospital.settings)
    upgrade(settings.database_url)
    runtime = build_runtime(settings, embedded_mqtt_port=mqtt_port)
    with runtime.db.session() as session:
        seed_demo(session, settings)
    sync = EmbeddedFacilitySync(hospital, runtime, create_app(settings, runtime=runtime))
    sync.start()
    return sync


def main() -> int:
    """The embedded all-in-one demo: migrate, seed, start the embedded broker, then serve."""
    from bridge.bpjs.sandbox import BpjsRequestHandler
    from bridge.embedded_bpjs import EmbeddedBpjs, with_demo_sandbox
    from bridge.embedded_broker import EmbeddedBroker
    from bridge.embedded_stack import EmbeddedStack
    from bridge.embedded_sync import with_demo_sync
    from data.finance_demo import start_demo_slice
    from data.migrate import upgrade

    settings = _demo_mfa_policy(load_settings())
    settings = with_demo_sandbox(settings) if settings.demo else settings
    two_sites = settings.demo and settings.demo_puskesmas
    settings = with_demo_sync(settings) if two_sites else settings
    configure_logging(settings.log_level)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the clean-up below on SIGTERM too
    upgrade(settings.database_url)
    broker = EmbeddedBroker() if settings.embedded_broker else None
    mqtt_port = broker.start(settings.embedded_mqtt_port) if broker else None
    runtime = build_runtime(settings, embedded_mqtt_port=mqtt_port)
    creds = None
    if settings.demo:
        with runtime.db.session() as session:
            creds = seed_demo(session, settings)
    app = create_app(settings, runtime=runtime)
    stack = EmbeddedStack(runtime, simulate=settings.demo and settings.simulate)
    stack.start()
    if settings.demo:
        start_demo_slice(runtime)  # a year's finance reports need history: the last 60 days, loaded meanwhile
    puskesmas = _start_puskesmas(runtime, mqtt_port) if two_sites else None
    bpjs = EmbeddedBpjs(runtime) if settings.bpjs_base_url else None
    if bpjs:
        bpjs.mount(app.server)
        bpjs.start()
    print(
        _banner(settings, creds, puskesmas.url if puskesmas else None), flush=True
    )  # the operator reads this on the console
    finish_dash_setup(app.server)
    try:
        # BpjsRequestHandler keeps BPJS's ``user_key`` header, which werkzeug drops (underscore), for the sandbox.
        app.run(host=settings.host, port=settings.port, debug=False, threaded=True, request_handler=BpjsRequestHandler)
    finally:
        if bpjs:
            bpjs.stop()
        if puskesmas:
            puskesmas.stop()
        stack.stop()
        if broker:
            broker.stop()
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
