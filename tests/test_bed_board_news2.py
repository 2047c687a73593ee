"""The bed board shows each bed's NEWS2 in the ward station's colours, from what the clinical step published."""

from __future__ import annotations

from components.bed_board import ward_card
from data import live_keys
from data.inpatient_views import BoardBed, WardBoard, news2_by_bed
from data.live_store import MemoryLiveStore


def _bed(code: str, masked: str | None = "SIT* N****") -> BoardBed:
    status = "occupied" if masked else "available"
    return BoardBed(1, code, code, "3", status, 1, masked, 2 if masked else None)


def _badges(component) -> dict[str, tuple[str, str]]:
    """Bed tile id → (badge text, class) of its NEWS2 badge."""
    found = {}

    def walk(node, tile=None):
        tile = getattr(node, "id", None) if str(getattr(node, "id", "")).startswith("bedboard-bed-") else tile
        if "news2-" in (getattr(node, "className", None) or ""):
            found[tile] = (node.children, node.className)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child, tile)

    walk(component)
    return found


def test_each_risk_band_gets_the_ward_station_colour_and_an_incomplete_score_its_star():
    live = MemoryLiveStore()
    published = {  # as the clinical step writes a bed's score (bridge/clinical.py); an incomplete one has no risk
        "MEL-01": {"news2": "1", "news2_complete": "1", "news2_risk": "low"},
        "MEL-02": {"news2": "3", "news2_complete": "1", "news2_risk": "low-medium"},
        "MEL-06": {"news2": "6", "news2_complete": "1", "news2_risk": "medium"},
        "MEL-07": {"news2": "9", "news2_complete": "1", "news2_risk": "high"},
        "MEL-08": {"news2": "2", "news2_complete": "0", "news2_risk": None},
        "MEL-10": {"news2": None, "news2_complete": "1", "news2_risk": "not_applicable"},  # a patient under 16
    }
    for code, fields in published.items():
        live.set_latest(live_keys.latest(code), fields)
    codes = [*published, "MEL-09"]
    board = WardBoard(1, "MEL", "Bangsal Melati", tuple(_bed(code) for code in codes))

    badges = _badges(ward_card(board, news2_by_bed(live, codes)))

    assert badges == {
        "bedboard-bed-MEL-01": ("NEWS2 1", "badge news2-low"),
        "bedboard-bed-MEL-02": ("NEWS2 3", "badge news2-low-medium"),
        "bedboard-bed-MEL-06": ("NEWS2 6", "badge news2-medium"),
        "bedboard-bed-MEL-07": ("NEWS2 9", "badge news2-high"),
        "bedboard-bed-MEL-08": ("NEWS2 2*", "badge news2-incomplete"),
        "bedboard-bed-MEL-10": ("NEWS2 n/a", "badge news2-not_applicable"),
    }  # MEL-09 has no score yet: "NEWS2 —", no badge
