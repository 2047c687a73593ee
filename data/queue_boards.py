"""Which queue TV boards a site has and the path each one opens at (``/papan/<board>``). A board is a poli group
(``Poli.board_group``), the pharmacy or the registration desk, as ``data.queue_views.board_points`` reads it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Poli

BOARD_PATH = "/papan/"
FIXED_BOARDS = ("farmasi", "loket")


def known_boards(session: Session, site_id: int) -> list[str]:
    """The site's boards: its poli groups (of active polis), then the pharmacy and the registration desk."""
    groups = session.scalars(
        select(Poli.board_group).where(Poli.site_id == site_id, Poli.active.is_(True)).distinct()
    ).all()
    return sorted({g for g in groups if g} - set(FIXED_BOARDS)) + list(FIXED_BOARDS)


def board_path(board: str) -> str:
    return f"{BOARD_PATH}{board}"
