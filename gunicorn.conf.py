"""gunicorn settings for the Pantau web app (``gunicorn --config gunicorn.conf.py app:server``).

Thread budget: every open live screen — a TV queue board or a ward central station — holds one thread for as long
as it is on (server-sent events), and gunicorn's threaded worker queues a request behind them rather than handing
it to the other worker. So each worker needs a thread per screen it may carry plus room for the desks' requests:
the default, 2 workers × 48 threads, carries 32 screens on one worker and still answers 16 requests at once. A
waiting stream costs a thread and a Redis subscription, no CPU. Raise ``PANTAU_WEB_THREADS`` for more screens
(bench/queue_load.py ``--screens`` shows what happens when they run out), ``PANTAU_WEB_WORKERS`` for more cores.
The three are read, with every other setting, by ``config.Settings``.
"""

from config import load_settings

_settings = load_settings()

bind = _settings.web_bind
workers = _settings.web_workers
worker_class = "gthread"
threads = _settings.web_threads
keepalive = 5  # behind the TLS proxy: an idle connection outlives a desk's pause between two requests
graceful_timeout = 30  # open streams are cut at shutdown; the boards reconnect by themselves
