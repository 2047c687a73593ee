"""Queue TV board (``/papan/<board>``): the number now called, the last calls, who waits where, today's doctors,
a running text and a clock, kept live by assets/board.js. Staff may open it to preview a TV."""

from __future__ import annotations

import dash
from dash import html
from flask_login import current_user

from components.queue_board import BoardFrame, board_chooser, board_title, queue_board, unknown_board
from data.queue_boards import FIXED_BOARDS, known_boards
from data.runtime import current_runtime
from i18n.web import current_language

dash.register_page(
    __name__,
    path="/papan",
    path_template="/papan/<board>",
    name_key="board_nav",
    title="Papan antrean · Pantau",
    roles=["display", "admin", "front_desk"],
    order=40,
    nav=True,
    nav_group="queue",
)


def layout(board: str | None = None, **_query: str) -> html.Div:
    runtime = current_runtime()
    with runtime.db.session() as session:
        boards = known_boards(session, current_user.site_id)
    if board is None:
        return board_chooser(boards)
    if board not in boards:
        return unknown_board(board, boards)
    return queue_board(
        BoardFrame(
            board=board,
            title=board_title(board),
            site_name=current_user.site_name,
            timezone=runtime.settings.timezone,
            language=current_language(),
            doctors=board not in FIXED_BOARDS,
            kiosk=current_user.is_display,
        )
    )
