"""CPU time of process trees, read from ``/proc`` (Linux): what a bench's service used during one of its phases."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(roots: Iterable[int]) -> list[int]:
    """``roots`` and all their living descendants."""
    tree, seen, pending = _children(), dict[int, None](), list(roots)  # a dict: an ordered set
    while pending:
        pid = pending.pop()
        if pid not in seen:
            seen[pid] = None
            pending.extend(tree.get(pid, ()))
    return list(seen)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process; 0 once it has exited."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields is not None else 0.0


def tree_cpu_seconds(roots: Iterable[int]) -> float:
    """User + system CPU seconds of ``roots`` and all their living descendants (a PostgreSQL postmaster with its
    backends, say). A process that exited meanwhile is no longer counted, so sample long-lived processes."""
    return sum(cpu_seconds(pid) for pid in descendants(roots))


def own_pid(server: object | None) -> list[int]:
    """The process id of a service a bench started (a testkit server), as ``PhaseCpu`` takes it; none for a service
    the bench was given."""
    pid = getattr(server, "pid", None)
    return [pid] if pid else []


class PhaseCpu:
    """CPU of named process trees over one phase: ``start()`` before it, ``used()`` after."""

    def __init__(self, roots: dict[str, list[int]]) -> None:
        self.roots = {name: pids for name, pids in roots.items() if pids}
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: tree_cpu_seconds(pids) for name, pids in self.roots.items()}

    def used(self) -> dict[str, float]:
        """CPU seconds each tree used since ``start()``."""
        return {name: tree_cpu_seconds(pids) - self._start[name] for name, pids in self.roots.items()}
