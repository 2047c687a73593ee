"""The one exception type for mistakes a person can make and correct."""

from __future__ import annotations

from collections.abc import Callable


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


def check_fields(checks: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Every field's normalised value, or every wrong field's error at once (``FieldErrors``)."""
    values, errors = {}, {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except InputError as exc:
            errors[field] = exc
    if errors:
        raise FieldErrors(errors)
    return values
