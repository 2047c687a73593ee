"""The one clock: timezone-aware UTC (local days come from the site's zone, in ``data.schedules``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
