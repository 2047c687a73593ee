"""Masked patient names for screens others can see (ward overview, TV boards): ``SIT* N****``."""

from __future__ import annotations

# Honorifics written before Indonesian patient names (Tuan, Nyonya, Nona, Anak, Bayi, Saudara/i).
TITLES = frozenset({"TN", "NY", "NN", "AN", "BY", "SDR", "SDRI"})


def mask_name(full_name: str) -> str:
    """First three letters of the first word and the initial of each other word, the rest as ``*``.

    ``"Siti Nurhaliza"`` → ``"SIT* N****"``; short words keep at least one ``*`` so length is not revealed
    exactly; honorifics (``Ny.``, ``Tn.``, …) and punctuation are dropped."""
    words = [w for w in full_name.replace(".", " ").replace(",", " ").split() if w.isalpha()]
    while len(words) > 1 and words[0].upper() in TITLES:
        words = words[1:]
    if not words:
        return "***"
    first, rest = words[0].upper(), [w.upper() for w in words[1:]]
    masked = [first[:3] + "*"] + [w[0] + "****" for w in rest]
    return " ".join(masked)
