"""After a callback's commit that moved a patient or a monitor, or changed a bed: the live side is told."""

from __future__ import annotations

from collections.abc import Iterable

from flask_login import current_user

from data.admissions import BedRef
from data.adt_notify import publish_adt
from data.runtime import current_runtime


def tell_live_side(beds: Iterable[BedRef]) -> bool:
    """``data.adt_notify.publish_adt`` for the signed-in user's site; False when the live side could not be told
    now (the caller shows ``components.live_note``)."""
    runtime = current_runtime()
    return publish_adt(runtime.live, runtime.db, current_user.site_id, beds)
