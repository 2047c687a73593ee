"""The SpO2 scale a doctor chose for the patient in a bed (``domain.spo2_scale``): change it with an audit record,
and read the stay's scales over time for the bed page's NEWS2 history."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import live_keys
from data.audit import record_by
from data.drawn_stay import stay_drawn_for
from data.live_notify import notify
from data.live_store import LiveStore
from data.models import Spo2ScaleOrder, User
from domain.actor import Actor
from domain.clock import utcnow
from domain.spo2_scale import checked_order


@dataclass(frozen=True)
class ScaleOrder:
    """One choice of scale, as the bed page shows it."""

    scale: int
    at: datetime
    by: str | None
    reason: str | None


@dataclass(frozen=True)
class ScaleHistory:
    """The stay's scale at any time: ``changes`` ``(from, scale)`` in order, ``first`` before the earliest."""

    first: int
    changes: tuple[tuple[datetime, int], ...] = ()

    def at(self, when: datetime) -> int:
        index = bisect.bisect_right([since for since, _ in self.changes], when)
        return self.changes[index - 1][1] if index else self.first


class Prescribed(NamedTuple):
    scale: int  # the scale the patient is on now
    changed: bool  # False: she was on it already
    amended: bool = False  # she was on it already, and the doctor wrote a new indication for it


def prescribe(
    session: Session, actor: Actor, *, bed_id: int, admission_id: int | None, scale: object, reason: str | None
) -> Prescribed:
    """Put the patient of stay ``admission_id``, lying in the bed, on ``scale`` from now
    (``domain.spo2_scale.checked_order``); audited. The scale she is on already, with another indication than its
    order's, is a new order of the same scale: the doctor corrects the indication. Raises ``InputError`` for a
    choice refused, and for an empty bed or another patient in it (the page was drawn before she left): a choice is
    never made for the next one."""
    chosen, text = checked_order(scale, reason)
    occupancy = stay_drawn_for(session, bed_id, admission_id)
    previous = occupancy.spo2_scale
    if previous == chosen:
        last = last_order(session, occupancy.admission_id)
        if not text or last is None or last.reason == text:
            return Prescribed(chosen, changed=False)
    occupancy.spo2_scale = chosen
    session.add(
        Spo2ScaleOrder(
            admission_id=occupancy.admission_id,
            scale=chosen,
            previous=previous,
            ordered_at=utcnow(),
            ordered_by=actor.user_id,
            reason=text,
        )
    )
    detail = {"bed_id": bed_id, "from": previous, "to": chosen, "reason": text}
    record_by(session, actor, "spo2_scale_set", target_type="admission", target_id=occupancy.admission_id,
              detail=detail)  # fmt: skip
    return Prescribed(chosen, changed=previous != chosen, amended=previous == chosen)


def publish_scale_changed(live: LiveStore, ward: str, bed_code: str, scale: int) -> bool:
    """After the commit: the clinical step re-reads the bed's stay and rescores (``adt``); the ward station shows
    or hides the tile's Scale 2 mark (``sc``) without reloading, so a form being filled on the bed page keeps what
    was typed. False when they could not be told now (``data.live_notify``)."""
    return notify(
        live,
        [
            (live_keys.CONTROL_CHANNEL, live_keys.control_message("adt", bed_code)),
            (live_keys.ward_channel(ward), orjson.dumps({"t": "sc", "bed": bed_code, "scale2": scale == 2}).decode()),
        ],
    )


def scale_history(session: Session, admission_id: int, current: int) -> ScaleHistory:
    """The admission's scales over time; ``current`` (the open occupancy's) throughout when none was chosen."""
    rows = session.execute(
        select(Spo2ScaleOrder.ordered_at, Spo2ScaleOrder.scale, Spo2ScaleOrder.previous)
        .where(Spo2ScaleOrder.admission_id == admission_id)
        .order_by(Spo2ScaleOrder.ordered_at, Spo2ScaleOrder.id)
    ).all()
    if not rows:
        return ScaleHistory(current)
    return ScaleHistory(rows[0].previous, tuple((at, scale) for at, scale, _ in rows))


def last_order(session: Session, admission_id: int) -> ScaleOrder | None:
    """The newest choice of scale for the admission, with who made it (her full name, as the ward knows her)."""
    row = session.execute(
        select(Spo2ScaleOrder, func.coalesce(func.nullif(User.full_name, ""), User.username))
        .outerjoin(User, User.id == Spo2ScaleOrder.ordered_by)
        .where(Spo2ScaleOrder.admission_id == admission_id)
        .order_by(Spo2ScaleOrder.ordered_at.desc(), Spo2ScaleOrder.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    order, username = row
    return ScaleOrder(order.scale, order.ordered_at, username, order.reason)
