"""Whether the patient of a stay is pregnant or up to six weeks after giving birth: NEWS2 does not score her
(RCP 2017; ``domain.news2.scored_from_at``). Recorded on the bed page, audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from data import live_keys
from data.audit import record_by
from data.drawn_stay import stay_drawn_for
from data.live_notify import notify
from data.live_store import LiveStore
from data.models import Admission
from domain.actor import Actor
from domain.errors import InputError


def set_obstetric(session: Session, actor: Actor, *, bed_id: int, admission_id: int | None, obstetric: bool) -> bool:
    """Record whether the patient of stay ``admission_id``, lying in the bed, is pregnant or just delivered;
    audited. False when it was recorded so already. Raises ``InputError`` for a man, and for an empty bed or
    another patient in it (the page was drawn before she left)."""
    admission = session.get(Admission, stay_drawn_for(session, bed_id, admission_id).admission_id)
    if obstetric and admission.patient.sex != "P":
        raise InputError("obstetric_err_sex")
    if admission.obstetric == obstetric:
        return False
    admission.obstetric = obstetric
    record_by(session, actor, "obstetric_set", target_type="admission", target_id=admission.id,
              detail={"bed_id": bed_id, "obstetric": obstetric})  # fmt: skip
    return True


def publish_obstetric_changed(live: LiveStore, bed_code: str) -> bool:
    """After the commit: the clinical step re-reads the bed's stay (``adt``) and scores NEWS2 or stops; its ``n``
    message updates the tile. No ``b``: the bed page does not reload, and keeps what is typed on it."""
    return notify(live, [(live_keys.CONTROL_CHANNEL, live_keys.control_message("adt", bed_code))])
