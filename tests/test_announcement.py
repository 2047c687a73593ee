"""The queue call: the sentence for the speech voice, the clip sequence, and the shipped clips themselves."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import pytest

from domain.announcement import CLIP_TEXT, CLIP_WORDS, Announcement, call_announcement

SOUNDS = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "id"


def test_poli_anak():
    assert call_announcement("A", 12, "Poli Anak") == Announcement(
        text="Nomor antrean A dua belas, silakan menuju Poli Anak",
        clips=("nomor_antrean", "huruf_a", "dua", "belas", "silakan_menuju", "poli", "anak"),
    )


def test_unknown_destination_words_stay_in_text_only():
    call = call_announcement("KB", 1011, "Ruang Dahlia (Poli Gigi & Mulut), Loket 2")
    assert call.text == "Nomor antrean KB seribu sebelas, silakan menuju Ruang Dahlia (Poli Gigi & Mulut), Loket 2"
    assert call.clips == (
        "nomor_antrean",
        "huruf_k",
        "huruf_b",
        "seribu",
        "sebelas",
        "silakan_menuju",
        "ruang",
        "poli",
        "gigi",
        "dan",
        "mulut",
        "loket",
        "dua",
    )


def test_acronyms_spacing_and_case():
    call = call_announcement("q", 100, "  poli   THT-KL ")
    assert call.text == "Nomor antrean Q seratus, silakan menuju poli THT-KL"
    assert call.clips == ("nomor_antrean", "huruf_q", "seratus", "silakan_menuju", "poli", "tht")


def test_without_prefix():
    call = call_announcement("", 7, "Apotek")
    assert call.text == "Nomor antrean tujuh, silakan menuju Apotek"
    assert call.clips == ("nomor_antrean", "tujuh", "silakan_menuju", "apotek")


@pytest.mark.parametrize(
    "prefix,number,destination",
    [("A1", 1, "Poli"), ("Á", 1, "Poli"), ("A", -1, "Poli"), ("A", True, "Poli"), ("A", 1, " ")],
)
def test_rejects_bad_calls(prefix, number, destination):
    with pytest.raises(ValueError):
        call_announcement(prefix, number, destination)


def test_announcement_is_frozen():
    call = call_announcement("A", 1, "Poli Umum")
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.text = "x"  # type: ignore[misc]


def test_vocabulary():
    assert frozenset(CLIP_TEXT) == CLIP_WORDS
    assert {f"huruf_{c}" for c in "abcdefghijklmnopqrstuvwxyz"} <= CLIP_WORDS
    assert {"nomor_antrean", "silakan_menuju", "poli", "umum", "kia", "tht", "orthopedi", "ibu"} <= CLIP_WORDS
    assert CLIP_TEXT["huruf_q"] == "ki" and CLIP_TEXT["huruf_z"] == "zet" and CLIP_TEXT["tht"] == "te ha te"
    assert all(name.replace("_", "").isalnum() and name.islower() for name in CLIP_WORDS)


def _clip(name: str) -> tuple[int, int, int, float]:
    with wave.open(str(SOUNDS / f"{name}.wav")) as clip:
        return clip.getnchannels(), clip.getframerate(), clip.getsampwidth(), clip.getnframes() / clip.getframerate()


@pytest.mark.parametrize("name", sorted(CLIP_WORDS))
def test_clip_is_shipped(name):
    channels, rate, width, seconds = _clip(name)
    assert (channels, rate, width) == (1, 16_000, 2)
    assert 0.1 <= seconds <= 3.0


def test_chime_is_shipped():
    channels, rate, width, seconds = _clip("chime")
    assert (channels, rate, width) == (1, 16_000, 2)
    assert 0.5 <= seconds <= 2.0


def test_no_stale_clips_and_small():
    shipped = {path.stem for path in SOUNDS.glob("*.wav")}
    assert shipped == CLIP_WORDS | {"chime"}
    assert sum(path.stat().st_size for path in SOUNDS.glob("*.wav")) < 1_600_000
