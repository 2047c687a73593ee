"""Optimistic locking for edit forms: the form carries the row version it showed; saving from a stale one is a
conflict the person is told about, never a silent overwrite of another admin's change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from data.models import Versioned
from domain.errors import InputError


class EditConflict(InputError):
    """Someone else saved the row since this form was opened (``err_edit_conflict``)."""

    def __init__(self) -> None:
        super().__init__("err_edit_conflict")


def check_version(row: Versioned, shown: int | None) -> None:
    """Raise ``EditConflict`` unless ``row`` is still at the version the form showed (``None``: a new row)."""
    if shown is not None and row.version != int(shown):
        raise EditConflict()


@contextmanager
def conflicts_as_input_errors() -> Iterator[None]:
    """Turn SQLAlchemy's ``StaleDataError`` (another worker committed between our read and our write) into
    ``EditConflict``."""
    try:
        yield
    except StaleDataError as exc:
        raise EditConflict() from exc
