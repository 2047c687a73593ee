"""The stream server: the live screens' server-sent-event streams (``/stream/ward/<ward>``,
``/stream/queue/<board>``, ``/stream/session``) served by a small Starlette app under uvicorn beside the web app,
so an open ward station or TV board costs a socket and a few kilobytes, not a web thread (docs/streams.md).

Same origin, same session cookie, same checks and the same events as the web app's Flask routes (api/live.py,
api/queue_stream.py), which keep serving the embedded demo; in production the proxy sends ``/stream/*`` here.
Start it with ``python -m streams`` (``PANTAU_STREAMS_BIND``)."""
