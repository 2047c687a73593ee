"""A stored UTC time as staff read it: the site's zone, the user's language, "—" when there is none."""

from __future__ import annotations

from datetime import datetime

from data.runtime import current_runtime
from domain.formats import local_datetime
from i18n.web import current_language


def local_when(moment: datetime | None) -> str:
    """``moment`` in the site's time zone and the request's language, or "—"."""
    if moment is None:
        return "—"
    return local_datetime(moment, current_runtime().settings.timezone, current_language())
