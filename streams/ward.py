"""``/stream/ward/<ward>``: a ward station's stream, the same events as the web app's route (api/live.py). All the
screens of one ward share one subscription of its channel, and each message is put into words (who acknowledged
an alarm) once for all of them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from auth.users import usernames
from data import live_keys
from data.db import Database
from data.live_store import LiveStoreError
from data.stream_protocol import RETRY, sse_event, sse_message
from data.ward_screen import VIEW_ROLES, AckNames, ward_screen, ward_snapshot
from streams.event_stream import EventStream
from streams.feeds import Feed, Feeds
from streams.pubsub import ChannelHub
from streams.screens import Blocking

if TYPE_CHECKING:
    from streams.services import Services


class WardFeed(Feed):
    """A ward's screens and its channel; messages reach them in order, with names in place of user ids."""

    def __init__(self, hub: ChannelHub, ward: str, names: AckNames, blocking: Blocking) -> None:
        super().__init__(hub, live_keys.ward_channel(ward))
        self.names, self.blocking = names, blocking
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.tasks.append(asyncio.get_running_loop().create_task(self._pump()))

    def receive(self, message: str) -> None:
        self.inbox.put_nowait(message)

    async def _pump(self) -> None:
        while True:
            raw = await self.inbox.get()
            named = await self.blocking(self.names.message, raw) if '"ack_by"' in raw else raw
            self.broadcast(sse_message(named))


async def ward_stream(request: Request) -> Response | EventStream:
    services: Services = request.app.state.services
    ward = request.path_params["ward"]
    admitted = await services.admit(request, VIEW_ROLES, lambda session, site_id: ward_screen(session, site_id, ward))
    if isinstance(admitted, Response):
        return admitted
    screen, drawn = admitted.screen, admitted.found
    try:
        feed, close = await services.join(services.wards, ward, screen)
    except LiveStoreError:
        return services.unavailable("ward")
    try:
        snapshot = await services.blocking(ward_snapshot, services.runtime.live, ward, drawn.beds)
        snapshot = await services.blocking(feed.names.snapshot, snapshot, drawn, admitted.user.roles)
    except LiveStoreError:
        await close()
        return services.unavailable("ward")
    except BaseException:
        await close()
        raise
    return services.stream(screen, [RETRY, sse_event("snapshot", snapshot)], lambda item: [item], close)


def ward_feeds(hub: ChannelHub, db: Database, blocking: Blocking) -> Feeds[WardFeed]:
    """The ward feeds of the server, each with its own cache of names."""
    return Feeds(lambda ward: WardFeed(hub, str(ward), AckNames(db, usernames), blocking))
