"""TV boards set up by an admin: each TV its own display account and token for one screen; revoking disables it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth.tv_boards import create_tv_board, list_tv_boards, revoke_tv_board
from auth.users import display_token_board, user_for_display_token
from data.models import AuditLog
from domain.actor import Actor
from domain.errors import FieldErrors, InputError

ADMIN = Actor(None, "test-admin", 1)


def test_a_tv_opens_its_board_until_revoked(any_app):
    with any_app.runtime.db.session() as db:
        user, token = create_tv_board(db, ADMIN, "/papan/umum", "TV Ruang Tunggu")
        assert user.role_names == {"display"} and user.username.startswith("tv-umum-")
    with any_app.runtime.db.session() as db:
        assert user_for_display_token(db, token).id == user.id
        assert display_token_board(db, token) == "/papan/umum"
        mine = next(b for b in list_tv_boards(db, 1) if b.username == user.username)
        assert mine.active and mine.label == "TV Ruang Tunggu"
        revoke_tv_board(db, ADMIN, mine.token_id)
    with any_app.runtime.db.session() as db:
        assert user_for_display_token(db, token) is None
        assert not next(b for b in list_tv_boards(db, 1) if b.username == user.username).active
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.target_id == str(user.id))))
        assert {"user_created", "display_token_created", "display_token_revoked", "user_disabled"} <= actions


@pytest.mark.parametrize(
    "board,label,keys",
    [
        ("/papan/tidak-ada", "TV", {"board": "tv_err_board"}),
        ("/papan/umum", "  ", {"label": "tv_err_label"}),
        ("", "TV", {"board": "tv_err_board"}),
        ("", "", {"board": "tv_err_board", "label": "tv_err_label"}),
        ("/papan/umum", "x" * 101, {"label": "err_setup_too_long"}),
    ],
)
def test_a_tv_needs_a_known_screen_and_a_name_each_wrong_field_named(sqlite_app, board, label, keys):
    with sqlite_app.runtime.db.session() as db, pytest.raises(FieldErrors) as refused:
        create_tv_board(db, ADMIN, board, label)
    assert {field: error.key for field, error in refused.value.errors.items()} == keys


def test_only_a_tv_of_the_site_can_be_revoked(sqlite_app):
    with sqlite_app.runtime.db.session() as db:
        _user, _token = create_tv_board(db, ADMIN, "/papan/umum", "TV")
        board = list_tv_boards(db, 1)[0]
        with pytest.raises(InputError):
            revoke_tv_board(db, Actor(None, "other", 2), board.token_id)
