"""Merging one patient record's changes from several sites: per-field last writer wins, deletes as tombstones,
conflicts recorded for review — the same result whatever order and however often the changes arrive.

The rules, stated once:

* **Writes.** A change made at a site carries, for every field it sets, the value, the write's hybrid logical
  clock (:mod:`domain.hlc`) and its **base**: the clock of the version of that field the site had when it wrote
  (``None`` when it had none). A site's clock is always ahead of what it has seen, so ``base < hlc``.
* **Last writer wins.** A field's value is the value of its write with the greatest clock. Clocks are unique
  (the node breaks ties), so every site picks the same winner.
* **Deletes.** Whether the record is deleted is one more register, :data:`DELETED`: a delete writes ``True``,
  every upsert writes ``False``, each with the change's clock and base. So a tombstone wins over older writes and
  loses to newer ones: an edit made after a delete (by clock) brings the record back, with every field's
  last-writer value — deletes are soft (records are kept 25 years, Permenkes 24/2022), nothing is erased.
* **Conflicts.** Two writes of the same field (the deletion register included) **conflict** when neither writer
  had seen the other — the newer one's base is older than the older one's clock (a base at least as new means
  the older write had already been seen, or had already lost, at the newer writer) — and their values differ.
  Writing the same value at both sites is no conflict; an edit and a delete that did not see each other are one.
  A conflict names the two writes (clock and value); the newer one won.
* **Determinism.** The state keeps every write of every field (deduplicated by clock), and a write is compared
  with all the writes already there when it arrives, so each conflicting pair is found exactly once — when the
  second of the two arrives — at every site. The state and the set of conflicts are therefore functions of the
  *set* of changes applied: any order, any number of repetitions, the same result at both sites.

Pruning writes that can no longer conflict (once every site has seen them) is left to the sync worker, which
knows what each site has acknowledged; a patient record sees tens of writes, not thousands.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.hlc import ID_PATTERN, Hlc

Value = str | int | float | bool | None
DELETED = "_deleted"
"""The register that says whether the record is deleted (``True``) or present (``False``)."""

_FIELD = re.compile(r"[a-z][a-z0-9_]{0,63}")  # a record's own fields never start with '_' (DELETED's prefix)


class MergeError(ValueError):
    """A change that breaks the rules above: a malformed id, field or value, a base not before its write, a
    clock not of its origin, or one clock carrying two different values."""


class Op(StrEnum):
    """What a change does to its record."""

    UPSERT = "upsert"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Write:
    """One field's value as written at a site, with its clock and the version it was written over."""

    value: Value
    hlc: Hlc
    base: Hlc | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One change to one record made at ``origin``: an upsert of ``fields`` (none: a restore) or a delete.

    ``hlc`` is the change's own clock (not before any of its fields'), ``base`` the version of the record's
    :data:`DELETED` register the site had when it made the change.
    """

    change_id: str
    record_id: str
    origin: str
    op: Op
    hlc: Hlc
    base: Hlc | None = None
    fields: Mapping[str, Write] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, ident in (("change id", self.change_id), ("record id", self.record_id), ("origin", self.origin)):
            if not isinstance(ident, str) or not ID_PATTERN.fullmatch(ident):
                raise MergeError(f"{name} {ident!r} must be 1-64 letters, digits, '_' or '-'")
        try:
            object.__setattr__(self, "op", Op(self.op))
        except ValueError as exc:
            raise MergeError(f"operation {self.op!r} is neither upsert nor delete") from exc
        if self.op is Op.DELETE and self.fields:
            raise MergeError("a delete carries no fields")
        _check_write(DELETED, self.register_write(), self.origin)
        for name, write in self.fields.items():
            if not isinstance(name, str) or not _FIELD.fullmatch(name):
                raise MergeError(f"field name {name!r} must be 1-64 lower-case letters, digits or '_'")
            _check_write(name, write, self.origin)
            if write.hlc > self.hlc:
                raise MergeError(f"field {name} is written after its change")

    def register_write(self) -> Write:
        """The change's write of the :data:`DELETED` register."""
        return Write(self.op is Op.DELETE, self.hlc, self.base)

    def writes(self) -> dict[str, Write]:
        """Every write of the change, the deletion register included."""
        return {**self.fields, DELETED: self.register_write()}


def _check_write(name: str, write: Write, origin: str) -> None:
    value = write.value
    if not (value is None or isinstance(value, str | int | float)):
        raise MergeError(f"field {name} holds a {type(value).__name__}, not text, a number, true/false or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise MergeError(f"field {name} holds {value}, not a finite number")
    if write.hlc.node != origin:
        raise MergeError(f"field {name} is stamped by {write.hlc.node}, not by the change's origin {origin}")
    if write.base is not None and not write.base < write.hlc:
        raise MergeError(f"field {name}'s base is not before its write")


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two writes of one field that did not see each other and disagree; ``won`` is the newer."""

    record_id: str
    field: str
    lost: Hlc
    won: Hlc
    lost_value: Value
    won_value: Value

    def sort_key(self) -> tuple[str, str, Hlc, Hlc]:
        """Record, field, then the two clocks: the order conflicts are listed in."""
        return (self.record_id, self.field, self.lost, self.won)


@dataclass(frozen=True, slots=True)
class RecordState:
    """Every write a site holds for one record, per field (the deletion register too), oldest first.

    Treat it as immutable: :func:`apply` returns a new state and never changes the one it was given.
    """

    record_id: str
    history: Mapping[str, tuple[Write, ...]] = field(default_factory=dict)

    def winner(self, name: str) -> Write | None:
        """The write of ``name`` that wins (the newest), or ``None`` when the field was never written."""
        writes = self.history.get(name)
        return writes[-1] if writes else None

    def values(self) -> dict[str, Value]:
        """Each field's winning value (without the deletion register)."""
        return {name: writes[-1].value for name, writes in sorted(self.history.items()) if name != DELETED}

    @property
    def exists(self) -> bool:
        """True once any change of the record has been applied."""
        return DELETED in self.history

    @property
    def deleted(self) -> bool:
        """True while the newest write of the deletion register is a delete."""
        register = self.winner(DELETED)
        return register is not None and register.value is True

    @property
    def tombstone(self) -> Hlc | None:
        """The clock of the delete in force, or ``None`` when the record is not deleted."""
        register = self.winner(DELETED)
        return register.hlc if register is not None and register.value is True else None

    def version(self, name: str) -> Hlc | None:
        """The clock of ``name``'s winning write: the base of this site's next write of it."""
        write = self.winner(name)
        return write.hlc if write is not None else None

    def fingerprint(self) -> str:
        """SHA-256 of what the record is — each field's winning value and clock, and the deletion register — for
        comparing two sites record by record without sending the values."""
        winners = {name: [writes[-1].value, writes[-1].hlc.encode()] for name, writes in self.history.items()}
        canonical = json.dumps([self.record_id, winners], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of :func:`apply`: the new state, whether the record as seen (values or deletion) changed, and
    the conflicts found by this change (none when it was applied before)."""

    state: RecordState
    changed: bool
    conflicts: tuple[Conflict, ...]


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b  # True == 1 in Python, but not here


def _concurrent(older: Write, newer: Write) -> bool:
    return newer.base is None or newer.base < older.hlc


def apply(state: RecordState, change: Change) -> Applied:
    """Apply ``change`` to ``state`` (a record's writes at this site); see the module's rules."""
    if change.record_id != state.record_id:
        raise MergeError(f"a change of record {change.record_id} applied to record {state.record_id}")
    history = dict(state.history)
    conflicts: list[Conflict] = []
    for name, write in change.writes().items():
        writes = history.get(name, ())
        known = next((old for old in writes if old.hlc == write.hlc), None)
        if known is not None:
            if not _same(known.value, write.value) or known.base != write.base:
                raise MergeError(f"clock {write.hlc.encode()} carries two different writes of {name}")
            continue
        for old in writes:
            older, newer = (old, write) if old.hlc < write.hlc else (write, old)
            if _concurrent(older, newer) and not _same(older.value, newer.value):
                conflicts.append(
                    Conflict(state.record_id, name, older.hlc, newer.hlc, older.value, newer.value),
                )
        history[name] = tuple(sorted((*writes, write), key=lambda w: w.hlc))
    new = RecordState(state.record_id, history)
    changed = (new.values(), new.deleted) != (state.values(), state.deleted) or new.exists != state.exists
    return Applied(new, changed, tuple(sorted(conflicts, key=Conflict.sort_key)))


def edit(state: RecordState, values: Mapping[str, Value], *, change_id: str, at: Hlc) -> Change | None:
    """The upsert a site makes when its user saves ``values`` at clock ``at`` (a fresh :func:`domain.hlc.tick`):
    only the fields whose value differs, each based on this site's version of it; ``None`` when nothing differs
    and the record is present. Saving a deleted record restores it, even with no field changed."""
    fields = {
        name: Write(value, at, state.version(name))
        for name, value in values.items()
        if state.winner(name) is None or not _same(state.winner(name).value, value)
    }
    if not fields and state.exists and not state.deleted:
        return None
    return Change(change_id, state.record_id, at.node, Op.UPSERT, at, state.version(DELETED), fields)


def delete(state: RecordState, *, change_id: str, at: Hlc) -> Change:
    """The delete a site makes at clock ``at``, based on this site's version of the deletion register."""
    return Change(change_id, state.record_id, at.node, Op.DELETE, at, state.version(DELETED))
