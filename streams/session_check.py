"""``/stream/session``: whether a screen whose stream failed is still signed in (200), signed out (401) or holds too
many streams (429), as the web app's route (api/live.py) answers assets/live_stream.js."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.stream_access import Refusal, stream_user
from data.live_store import LiveStoreError
from data.stream_protocol import first_full, refusal_key

if TYPE_CHECKING:
    from streams.services import Services


async def stream_session(request: Request) -> Response:
    services: Services = request.app.state.services
    values = services.session(request)

    def check() -> object:
        with services.runtime.db.session() as session:
            return stream_user(session, values, services.settings, None, time.time())

    user = await services.blocking(check)
    if isinstance(user, Refusal):
        return services.refuse(user, values)
    caps = services.caps(request, user)
    try:
        full = await services.blocking(first_full, services.runtime.live, caps)
    except LiveStoreError:  # a live store that does not answer refuses nothing
        full = None
    if full:
        return services.refuse(Refusal(429, refusal_key(caps, full)), values, user, n=caps[full])
    return JSONResponse({"signed_in": True, "display": user.is_display})
