"""TV boards an admin sets up from the browser: each TV gets its own read-only ``display`` account and one token
that opens one screen (a queue board ``/papan/<group>`` or a ward station). Revoking a TV disables its account
and every token of it, which ends the TV's session at its next request."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.passwords import generate_password
from auth.users import create_display_token, create_user, set_active
from data.audit import record_by
from data.display_screens import display_paths
from data.models import DisplayToken, User
from domain.actor import Actor
from domain.errors import InputError, check_fields
from domain.free_text import clean_text

__all__ = ["TvBoard", "board_paths", "create_tv_board", "list_tv_boards", "revoke_tv_board"]

_SLUG = re.compile(r"[^a-z0-9]+")
LABEL_LEN = 100


@dataclass(frozen=True)
class TvBoard:
    """One TV's token as the admin page lists it."""

    token_id: int
    label: str
    board_path: str
    username: str
    active: bool
    created_at: datetime
    last_used_at: datetime | None


def board_paths(session: Session, site_id: int) -> list[str]:
    """The screens a TV of the site may open: queue boards, then ward stations."""
    return display_paths(session, site_id)


def _username(board_path: str) -> str:
    slug = _SLUG.sub("-", board_path.rsplit("/", 1)[-1].lower()).strip("-")[:40] or "layar"
    return f"tv-{slug}-{secrets.token_hex(3)}"


def _tv_label(label: str) -> str:
    label = clean_text(label or "")
    if not label:
        raise InputError("tv_err_label")
    if len(label) > LABEL_LEN:
        raise InputError("err_setup_too_long", n=LABEL_LEN)
    return label


def _known_board(session: Session, site_id: int, board_path: str) -> str:
    board_path = (board_path or "").strip()
    if board_path not in board_paths(session, site_id):
        raise InputError("tv_err_board")
    return board_path


def create_tv_board(session: Session, actor: Actor, board_path: str, label: str) -> tuple[User, str]:
    """A new TV for ``board_path``: its ``display`` account (named ``label``) and its token, returned once.
    ``FieldErrors`` names each wrong field at once (``board``, ``label``)."""
    values = check_fields(
        {"board": lambda: _known_board(session, actor.site_id, board_path), "label": lambda: _tv_label(label)}
    )
    board_path, label = values["board"], values["label"]
    user = create_user(
        session,
        actor,
        site_id=actor.site_id,
        username=_username(board_path),
        full_name=label,
        roles=["display"],
        password=generate_password(24),  # never typed: the TV signs in by its token
    )
    return user, create_display_token(session, actor, user, label, board_path)


def list_tv_boards(session: Session, site_id: int) -> list[TvBoard]:
    """Every TV token of the site, the usable ones first, newest first."""
    rows = session.execute(
        select(DisplayToken, User)
        .join(User, User.id == DisplayToken.user_id)
        .where(User.site_id == site_id)
        .order_by(DisplayToken.created_at.desc())
    ).all()
    boards = [
        TvBoard(t.id, t.label, t.board_path, u.username, t.active and u.active, t.created_at, t.last_used_at)
        for t, u in rows
    ]
    return sorted(boards, key=lambda b: not b.active)


def revoke_tv_board(session: Session, actor: Actor, token_id: int) -> User:
    """Revoke a TV: its account is disabled and all its tokens stop working (audited)."""
    token = session.get(DisplayToken, token_id)
    user = session.get(User, token.user_id) if token is not None else None
    if user is None or user.site_id != actor.site_id or user.role_names != {"display"}:
        raise InputError("err_setup_not_found")
    revoked = []
    for row in session.scalars(select(DisplayToken).where(DisplayToken.user_id == user.id, DisplayToken.active)):
        row.active = False
        revoked.append(row.label)
    record_by(
        session, actor, "display_token_revoked", target_type="user", target_id=user.id, detail={"tokens": revoked}
    )
    set_active(session, actor, user, False)
    return user
