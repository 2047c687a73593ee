"""The queue TV board's frame: full-screen, dark, readable from 5 m. The server renders the empty frame once;
assets/board.js fills it from the board's server-sent-events stream (no Dash callbacks)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import html

from data.queue_boards import board_path
from domain.queue_points import DEFAULT_BOARD_GROUP
from i18n.web import t

# Labels board.js needs, sent once with the page so live updates speak the board's language.
JS_TEXT_KEYS = (
    "board_no_calls",
    "board_no_doctors",
    "board_running_default",
    "board_status_not_started",
    "board_status_serving",
    "board_status_finished",
    "board_status_closed",
    "board_connection_lost",
    "sess_board_signed_out",  # a revoked TV's board (board.js)
)


@dataclass(frozen=True)
class BoardFrame:
    board: str
    title: str
    site_name: str
    timezone: str
    language: str
    doctors: bool  # poli boards list today's doctors; the pharmacy and the registration desk do not
    kiosk: bool  # a TV (display role): nothing but the board; staff previewing it get a way back


def board_title(board: str) -> str:
    if board in ("farmasi", "loket"):
        return t(f"board_title_{board}")
    if board == DEFAULT_BOARD_GROUP:  # every poli's board: "Antrean Poli · Umum" read as Poli Umum's own
        return t("board_title_all_poli")
    return t("board_title_poli", group=board.replace("-", " ").replace("_", " ").title())


def _panel(title: str, list_id: str, paged: bool = False) -> html.Section:
    """A titled list that board.js fills (``list_id`` is also the panel's class). A ``paged`` list's title also
    says which page is showing (``{list_id}-page``, "1/2"), so a viewer knows the rest is on the next one."""
    heading = [title, html.Span("", id=f"{list_id}-page", className="board-page")] if paged else title
    return html.Section(
        [html.H2(heading, className="board-panel-title"), html.Ol([], id=list_id, className="board-list")],
        className=f"board-panel {list_id}",
    )


def _head(frame: BoardFrame) -> html.Header:
    back = [] if frame.kiosk else [html.A("×", href="/", className="board-exit", title=t("back_home"))]
    return html.Header(
        [
            *back,
            html.Div(
                [html.Div(frame.title, className="board-title"), html.Div(frame.site_name, className="board-site")],
                className="board-name",
            ),
            html.Button(
                [html.I(className="bi bi-volume-up-fill me-2"), t("board_enable_sound")],
                id="board-sound",
                type="button",
                className="board-sound",
                hidden=True,
            ),
            html.Div(
                "--:--:--",
                id="board-clock",
                className="pantau-clock board-clock",
                **{"data-tz": frame.timezone, "data-lang": frame.language, "data-date": "1"},
            ),
        ],
        className="board-head",
    )


def _now_calling() -> html.Section:
    return html.Section(
        [
            html.Div(t("board_now_calling"), className="board-panel-title"),
            html.Div("—", id="board-now-number", className="board-now-number"),
            html.Div(
                [html.I(className="bi bi-arrow-right-circle-fill me-3"), html.Span("", id="board-now-destination")],
                className="board-now-destination",
            ),
            html.Div("", id="board-now-name", className="board-now-name"),
        ],
        id="board-now",
        className="board-now",
    )


def queue_board(frame: BoardFrame) -> html.Div:
    texts = {key: t(key) for key in JS_TEXT_KEYS}
    side = [_panel(t("board_waiting"), "board-waiting")]
    if frame.doctors:
        side.append(_panel(t("board_doctors"), "board-doctors", paged=True))
    return html.Div(
        [
            _head(frame),
            html.Div(
                [_now_calling(), _panel(t("board_recent"), "board-recent")],
                className="board-main",
            ),
            html.Div(side, className="board-side"),
            html.Footer(
                html.Div(html.Span("", id="board-running-text"), className="board-marquee"), className="board-foot"
            ),
            html.Div(t("board_connection_lost"), id="board-offline", className="board-offline-banner", role="alert"),
        ],
        id="queue-board",
        className="queue-board" + (" board-kiosk" if frame.kiosk else ""),
        **{"data-board": frame.board, "data-text": json.dumps(texts)},
    )


def board_chooser(boards: list[str]) -> dbc.Card:
    """``/papan`` without a board: the site's boards, for staff who preview one or set up a TV."""
    return dbc.Card(
        [
            dbc.CardHeader(t("board_choose")),
            dbc.ListGroup(
                [
                    dbc.ListGroupItem(board_title(b), href=board_path(b), action=True, id=f"board-link-{b}")
                    for b in boards
                ],
                flush=True,
                tag="div",  # a list of links is a <div> (a <ul> may hold only <li>)
            ),
        ],
        id="board-chooser",
        className="mt-3",
    )


def unknown_board(board: str, boards: list[str]) -> dbc.Alert:
    return dbc.Alert(
        [
            html.H4(t("board_unknown", board=board), id="board-unknown"),
            html.P(t("board_known", boards=", ".join(board_path(b) for b in boards))),
        ],
        color="warning",
        className="mt-4",
    )
