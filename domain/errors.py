"""The one exception type for mistakes a person can make and correct."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a person; ``key`` names the message in the i18n catalogue, ``params`` fill it in."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
