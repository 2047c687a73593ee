"""Exponential backoff with full jitter for retrying transient failures (BPJS 404 "Gagal dicoba kembali",
5xx, timeouts)."""

from __future__ import annotations

import random
from datetime import timedelta

BASE_SECONDS = 2.0
CAP_SECONDS = 600.0


def retry_delay(
    attempts: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS, rng: random.Random | None = None
) -> timedelta:
    """Delay before attempt ``attempts + 1``: uniform in [base/2, min(cap, base × 2^(attempts−1))] seconds, so
    many workers retrying at once spread out instead of hammering BPJS in step."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=(rng or random).uniform(min(base / 2, ceiling), ceiling))
