"""The one exception type for mistakes a person can make and correct."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a person; ``key`` names the message in the i18n catalogue, ``params`` fill it in."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class FieldErrors(InputError):
    """Several fields of one form wrong at once: ``errors`` maps each field to its own ``InputError``. Its own key
    and params are the first error's, for a caller that shows only one message."""

    def __init__(self, errors: dict[str, InputError]) -> None:
        first = next(iter(errors.values()))
        super().__init__(first.key, **first.params)
        self.errors = errors
