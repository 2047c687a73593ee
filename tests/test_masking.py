"""Masked names show enough to recognise, not enough to identify."""

from __future__ import annotations

import pytest

from domain.masking import mask_name


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Siti Nurhaliza", "SIT* N****"),
        ("budi", "BUD*"),
        ("Ani", "ANI*"),
        ("Muhammad Rizky Pratama", "MUH* R**** P****"),
        ("Ny. Siti Aminah", "SIT* A****"),
        ("By. Ny. Rina", "RIN*"),
        ("  ", "***"),
    ],
)
def test_mask_name(name, expected):
    assert mask_name(name) == expected


def test_full_name_never_appears():
    assert "NURHALIZA" not in mask_name("Siti Nurhaliza") and "Nurhaliza" not in mask_name("Siti Nurhaliza")
