"""A bed tile of the ward central station. The server renders the frame once; ``assets/ward.js`` fills in the
live values from the push stream (no Python callback per bed, no figure re-sent per tick)."""

from __future__ import annotations

import json
from datetime import datetime

from dash import html

from data.cuff_readings import CuffReading
from data.wards import BedView
from domain.clock import epoch_ms
from i18n.web import t

# (css class, label key, unit) of each numeric, in monitor colours (see assets/pantau.css).
NUMERICS = (
    ("hr", "vital_hr", "/min"),
    ("spo2", "vital_spo2", "%"),
    ("rr", "vital_rr", "/min"),
    ("temp", "vital_temp", "°C"),
)


def _numeric(name: str, label_key: str, unit: str) -> html.Div:
    return html.Div(
        [
            html.Span(t(label_key), className="v-label"),
            html.Span("---", className=f"v-value v-{name}"),
            html.Span(unit, className="v-unit"),
        ],
        className=f"numeric numeric-{name}",
    )


def _epoch_ms(moment: datetime | None) -> str:
    """A stay's start as ``assets/ward.js`` reads it (epoch ms; empty for an empty bed)."""
    if moment is None:
        return ""
    return str(epoch_ms(moment))


def _cuff(reading: CuffReading | None) -> str:
    """The cuff reading the patient brought from the bed she was transferred from, as ``assets/ward.js`` reads it
    (the server's receipt time in epoch ms; empty when there is none)."""
    if reading is None:
        return ""
    at = epoch_ms(reading.received)
    return json.dumps({"sbp": reading.sbp, "dbp": reading.dbp, "map": reading.map, "at": at}, separators=(",", ":"))


def _spo2_scale(bed: BedView) -> html.Span:
    """The mark of a patient a doctor put on NEWS2's SpO2 Scale 2 (her SpO2 scores against 88–92 %, not 96 %),
    shown and hidden from then on by ``assets/ward.js`` (the snapshot's ``spo2_scale_2``, ``sc`` messages)."""
    shown = bed.patient_mask is not None and bed.spo2_scale == 2
    return html.Span(
        t("ward_spo2_scale_2"),
        className="tile-spo2-scale badge" + ("" if shown else " d-none"),
        title=t("ward_spo2_scale_2_why"),
    )


def bed_tile(bed: BedView, *, read_only: bool = False, carried: CuffReading | None = None) -> html.Div:
    """The tile's frame; ``read_only`` (a display's station) has no pause button and no link to the bed page;
    ``carried``: the patient's cuff reading from the bed she left (``data.cuff_readings.carried_cuff_readings``)."""
    occupant = (
        [html.Span(bed.patient_mask, className="tile-patient"), html.Span(bed.mrn, className="tile-mrn")]
        if bed.patient_mask
        else [html.Span(t("ward_bed_empty"), className="tile-patient text-body-secondary")]
    )
    return html.Div(
        [
            html.Div(
                [
                    html.Span(bed.code, className="tile-bed")
                    if read_only
                    else html.A(bed.code, href=f"/bed/{bed.code}", className="tile-bed"),
                    html.Span(
                        [
                            html.Span("", className="tile-qsofa badge d-none", title="qSOFA"),
                            html.Span("", className="tile-news2 badge", title="NEWS2"),
                            html.Span(t("ward_limits_custom"), className="tile-limits badge d-none"),
                            _spo2_scale(bed),
                        ],
                        className="tile-badges",
                    ),
                ],
                className="tile-head",
            ),
            html.Div(occupant, className="tile-who"),
            html.Div("", className="tile-alarm", role="alert"),
            html.Div([_numeric(*n) for n in NUMERICS], className="tile-numerics"),
            html.Div(
                [
                    html.Span(t("vital_nibp"), className="v-label"),
                    html.Span("---", className="v-value v-nibp"),
                    html.Span("", className="v-age v-nibp-age"),
                ],
                className="numeric numeric-nibp",
            ),
            html.Div(html.Canvas(className="tile-spark", width=180, height=22), className="tile-spark-wrap"),
            html.Div(
                [
                    html.Span("", className="tile-stale-text"),
                    *(
                        []
                        if read_only
                        else [
                            html.Button(
                                html.I(className="bi bi-volume-mute"),
                                className="tile-pause btn btn-sm btn-outline-light",
                                title=t("ward_pause"),
                                type="button",
                            )
                        ]
                    ),
                    html.Span("", className="tile-pause-left"),
                ],
                className="tile-foot",
            ),
        ],
        className="bed-tile" + ("" if bed.patient_mask else " bed-empty"),
        id=f"tile-{bed.code}",
        **{
            "data-bed": bed.code,
            "data-device": bed.device or "",
            "data-since": _epoch_ms(bed.since),
            "data-tile": bed.tile_key,
            "data-stay": bed.stay_key,
            "data-cuff": _cuff(carried),
        },
    )
