"""Telling the live side (the clinical step, the ward stations) of a change the database already holds.

These messages only hurry it along: the clinical step reloads every bed each minute and when its control
subscription returns (``bridge.clinical``), a ward station redraws a tile whose patient changed at its stream's
next snapshot (``BedView.tile_key``), and an acknowledgement is taken over from the database. So a live store that
cannot be reached delays the change on the screens but never loses it, and the caller says so instead of failing
a save that was kept."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from data.live_store import LiveStore, LiveStoreError

log = logging.getLogger(__name__)


def notify(live: LiveStore, messages: Iterable[tuple[str, str]]) -> bool:
    """Publish each ``(channel, message)`` after the commit, in one round trip; False, and logged, when the live
    store cannot be reached."""
    batch = live.batch()
    for channel, message in messages:
        batch.publish(channel, message)
    try:
        batch.execute()
    except LiveStoreError as exc:
        log.warning("change saved; the live side not told now, it reads it later", extra={"error": str(exc)[:300]})
        return False
    return True
