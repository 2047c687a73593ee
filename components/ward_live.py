"""The parts of a live ward screen that ``assets/ward.js`` finds and fills: the tile grid (carrying the ward's
code and the labels the browser needs), the alarm list and the connection state. The ward page draws them for
every bed of a ward, the bed page for its one bed."""

from __future__ import annotations

import json

from dash import html

from i18n import translations_with_prefix
from i18n.web import current_language, t

# Labels the browser needs, sent once with the page so the live updates speak the user's language.
JS_TEXT_KEYS = (
    "ward_stale",
    "ward_no_data",
    "ward_paused",
    "ward_ack",
    "ward_ack_failed",
    "ward_pause_failed",
    "ward_sound_on",
    "ward_sound_off",
    "ward_connection_lost",
    "ward_connecting",
    "ward_no_alarms",
    "ward_alarms_unknown",
    "ward_interrupted_title",
    "ward_interrupted_detail",
    "ward_interrupted_beds",
    "ward_signed_out_title",
    "ward_signed_out_detail",
    "ward_sign_in",
    "ward_sound_enable",
    "ward_limits_custom",
    "ward_news2_incomplete",
    "news2_not_applicable",
    "news2_not_applicable_why",
    "ago_s",
    "ago_min",
)


def live_grid(tiles: list[html.Div], ward_code: str, *, single_bed: bool = False) -> html.Div:
    """The grid of bed ``tiles`` of ward ``ward_code`` that the live stream fills (one wide tile on a bed's page)."""
    texts = {k: t(k) for k in JS_TEXT_KEYS} | {"alarms": translations_with_prefix("alarm_", current_language())}
    return html.Div(
        tiles,
        className="ward-grid ward-grid-single" if single_bed else "ward-grid",
        id="ward-grid",
        **{"data-ward": ward_code, "data-text": json.dumps(texts)},
    )


def alarm_list() -> html.Ol:
    """The active alarms, newest first, written by the live stream."""
    return html.Ol([], id="ward-alarm-list", className="list-unstyled mb-0")


def connection_state() -> html.Span:
    """Whether the live stream is connected, written by the live stream."""
    return html.Span("", id="ward-connection", className="small")
