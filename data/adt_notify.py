"""Telling the live side of a committed admission, transfer, discharge, monitor or bed change (docs/live-data.md).

The clinical step gets an ``adt`` control message per bed (it reloads the bed; the consumer re-reads its device
map), and each bed's ward channel a ``b`` message with what its tile shows now (``BedView.tile_state``): a station
or bed page drawn for the same stay re-marks the tile's monitor in place, so a nurse's half-typed observation is not
lost to a monitor being paired; another stay redraws the page."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import orjson
from sqlalchemy.exc import SQLAlchemyError

from data import live_keys
from data.admissions import BedRef
from data.db import Database
from data.live_notify import notify
from data.live_store import LiveStore
from data.wards import find_ward, ward_beds

log = logging.getLogger(__name__)


def publish_adt(live: LiveStore, db: Database, site_id: int, beds: Iterable[BedRef]) -> bool:
    """After the commit: tell the clinical step and each bed's open ward stations. False when they could not be
    told now (``data.live_notify``)."""
    touched = tuple(dict.fromkeys(beds))
    if not touched:
        return True
    tiles = _tile_states(db, site_id, touched)
    messages = []
    for bed in touched:
        messages.append((live_keys.CONTROL_CHANNEL, live_keys.control_message("adt", bed.code)))
        ward_message = {"t": "b", "bed": bed.code} | tiles.get(bed, {})
        messages.append((live_keys.ward_channel(bed.ward), orjson.dumps(ward_message).decode()))
    return notify(live, messages)


def _tile_states(db: Database, site_id: int, beds: tuple[BedRef, ...]) -> dict[BedRef, dict[str, str]]:
    """Each bed's tile as committed; none when the database cannot be read now: a bare ``b`` message makes the
    stations redraw the page, which is always right."""
    states = {}
    try:
        with db.session() as session:
            for ward_code in dict.fromkeys(b.ward for b in beds):
                ward = find_ward(session, site_id, ward_code)
                for view in ward_beds(session, ward.id) if ward is not None else ():
                    states[BedRef(view.ward, view.code)] = view.tile_state
    except SQLAlchemyError as exc:
        log.warning("the beds' tiles not read; the stations redraw them", extra={"error": str(exc)[:300]})
        return {}
    return states
