"""The screens a display token may open: a queue TV board (``/papan/<board>``, data.queue_boards) or a ward
central station (``/bangsal/<ward>``, read-only)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from data.queue_boards import board_path, known_boards
from data.wards import list_wards

WARD_PATH = "/bangsal/"


def ward_path(ward_code: str) -> str:
    return f"{WARD_PATH}{ward_code}"


def display_paths(session: Session, site_id: int) -> list[str]:
    """Every path a display token of the site may open: its queue boards, then its wards' central stations."""
    boards = [board_path(b) for b in known_boards(session, site_id)]
    return boards + [ward_path(w.code) for w in list_wards(session, site_id)]
