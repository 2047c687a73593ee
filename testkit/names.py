"""Patient names for tests that register many patients through the desk's rules (letters only, no digits)."""

from __future__ import annotations

import string


def numbered_name(prefix: str, n: int) -> str:
    """``prefix`` and ``n`` spelt in letters (0 → ``A``, 25 → ``Z``, 26 → ``BA``): a distinct valid name per ``n``."""
    digits = ""
    while True:
        n, rest = divmod(n, 26)
        digits = string.ascii_uppercase[rest] + digits
        if n == 0:
            return f"{prefix} {digits}"
