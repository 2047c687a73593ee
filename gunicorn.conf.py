"""gunicorn settings for the Pantau web app (``gunicorn --config gunicorn.conf.py app:server``).

Thread budget: the web app answers the desks', counters' and managers' requests; the live screens — TV queue
boards, ward central stations — are not on it in production: the proxy sends ``/stream/*`` to the stream server
(``python -m streams``, docs/streams.md), where an open screen costs a socket, not a thread. So a worker needs
threads only for the requests it answers at once: a request is mostly Python (the GIL lets one thread run at a
time) with waits on PostgreSQL and Redis in between. Four threads per worker cover those waits; more only queue
half-done requests on the one GIL, and a registration then waits for the GIL after each statement while it holds
its session's quota row locked (100 desks on 2 cores: 16 threads gave 57–67 registrations a second, p95 2.9–3.6 s,
max up to 8.6 s; 4 threads 73–83 a second, p95 1.5–1.8 s, max 1.6–2.1 s; docs/performance.md). ``PANTAU_WEB_WORKERS``
(one per core; on those 2 cores 3 workers × 4 threads gave 80–89 a second) adds capacity;
``PANTAU_WEB_THREADS`` is for a site whose requests wait longer on the database. The embedded demo (``python
app.py``) still serves the streams from the web app itself, one thread each. The three are read, with every other
setting, by ``config.Settings``.
"""

from typing import Any

from config import configure_logging, load_settings

_settings = load_settings()

bind = _settings.web_bind
workers = _settings.web_workers
worker_class = "gthread"
threads = _settings.web_threads
# Behind the proxy, an idle connection must outlive the proxy's own idle timeout for it (Caddy: 60 s in
# deploy/caddy/Caddyfile; ingress-nginx: 60 s by default): when gunicorn closes first, a request the proxy sends at
# that moment meets a closed connection and the desk gets an error instead of its ticket. gthread keeps an idle
# connection in its poller, not on a thread.
keepalive = 75
graceful_timeout = 30  # requests in flight finish at shutdown


def post_worker_init(worker: Any) -> None:
    """Each worker logs as every Pantau process does (JSON lines, with the trace of a failed request) and finishes
    Dash's first-request setup before its threads serve (app.finish_dash_setup)."""
    from app import finish_dash_setup

    configure_logging(_settings.log_level)
    finish_dash_setup(worker.wsgi)
