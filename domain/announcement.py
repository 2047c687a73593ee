"""What a queue TV board says when a number is called: the sentence for the browser's Indonesian speech voice,
and the same call as a sequence of recorded clips (``assets/sounds/id/<clip>.wav``) for boards without one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from domain.terbilang import NUMBER_UNITS, number_words

# fmt: off
# Indonesian letter names, as a ticket prefix is read aloud ("A" → "a", "B" → "be", "Q" → "ki").
LETTER_NAMES = MappingProxyType(dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "a", "be", "ce", "de", "e", "ef", "ge", "ha", "i", "je", "ka", "el", "em", "en", "o", "pe", "ki", "er", "es", "te",
    "u", "fe", "we", "eks", "ye", "zet",
), strict=True)))

# Words on clinic signs in Indonesian hospitals and puskesmas, said as written...
_PLAIN_WORDS = (
    "poli", "umum", "anak", "penyakit", "dalam", "gigi", "dan", "mulut", "kebidanan", "kandungan", "bedah", "mata",
    "saraf", "kulit", "kelamin", "jantung", "paru", "jiwa", "rehabilitasi", "medik", "fisioterapi", "gizi", "lansia",
    "laboratorium", "radiologi", "farmasi", "apotek", "racikan", "non", "loket", "pendaftaran", "kasir", "ruang",
    "periksa", "konseling", "imunisasi", "gawat", "darurat", "obat", "orthopedi", "urologi", "kesehatan", "ibu",
)
# fmt: on
# ... and the acronyms, spelled out letter by letter.
DESTINATION_WORDS = MappingProxyType(
    {
        **{word: word for word in _PLAIN_WORDS},
        "tht": "te ha te",
        "kia": "ka i a",
        "kb": "ka be",
        "mtbs": "em te be es",
        "tb": "te be",
    }
)

# Clip name → what the clip says. Clip names are file names: lower case, words joined by "_".
CLIP_TEXT = MappingProxyType(
    {
        "nomor_antrean": "nomor antrean",
        "silakan_menuju": "silakan menuju",
        **{unit: unit for unit in sorted(NUMBER_UNITS)},
        **{f"huruf_{letter}": name for letter, name in LETTER_NAMES.items()},
        **DESTINATION_WORDS,
    }
)
CLIP_WORDS = frozenset(CLIP_TEXT)


@dataclass(frozen=True)
class Announcement:
    """A call as spoken text (for ``speechSynthesis``, lang id-ID) and as the ordered clip names that say it."""

    text: str
    clips: tuple[str, ...]


def _destination_clips(destination: str) -> list[str]:
    """Clips for the destination's words; numerals ("Loket 2") are read as numbers, "&" as "dan", unknown words
    are skipped."""
    clips: list[str] = []
    for word in re.findall(r"[a-z0-9]+", destination.lower().replace("&", " dan ")):
        if word.isdigit() and len(word) <= 9:
            clips += number_words(int(word))
        elif word in DESTINATION_WORDS:
            clips.append(word)
    return clips


def call_announcement(prefix: str, number: int, destination: str) -> Announcement:
    """``("A", 12, "Poli Anak")`` → "Nomor antrean A dua belas, silakan menuju Poli Anak" and its clips.

    ``prefix`` is the service point's letters (may be empty); raises ``ValueError`` for a prefix that is not
    plain letters, a number ``terbilang`` cannot read, or an empty destination."""
    if prefix and not (prefix.isascii() and prefix.isalpha()):
        raise ValueError(f"queue prefix must be letters A-Z, got {prefix!r}")
    place = " ".join(destination.split())
    if not place:
        raise ValueError("destination must not be empty")
    words = number_words(number)
    called = " ".join(filter(None, [prefix.upper(), " ".join(words)]))
    clips = [
        "nomor_antrean",
        *(f"huruf_{letter}" for letter in prefix.lower()),
        *words,
        "silakan_menuju",
        *_destination_clips(place),
    ]
    return Announcement(text=f"Nomor antrean {called}, silakan menuju {place}", clips=tuple(clips))
