"""BPJS Antrean task ids of one visit and the order they must come in (DESIGN §6).

1 admission wait → 2 admission service → 3 poli wait → 4 poli service → 5 pharmacy wait (end of poli service)
→ 6 drug preparation → 7 done; 99 = no-show or cancelled. New patients start at 1 when they came through the
admission desk's queue, otherwise (and existing patients always) at 3. Times are strictly increasing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise

from domain.errors import InputError

CANCELLED = 99
TASK_NAMES = {
    1: "mulai waktu tunggu admisi",
    2: "akhir waktu tunggu admisi/mulai waktu layan admisi",
    3: "akhir waktu layan admisi/mulai waktu tunggu poli",
    4: "akhir waktu tunggu poli/mulai waktu layan poli",
    5: "akhir waktu layan poli/mulai waktu tunggu farmasi",
    6: "akhir waktu tunggu farmasi/mulai waktu layan farmasi membuat obat",
    7: "akhir waktu obat selesai dibuat",
    CANCELLED: "tidak hadir/batal",
}


def first_tasks(new_patient: bool) -> tuple[int, ...]:
    """The task ids a visit may start with."""
    return (1, 3) if new_patient else (3,)


def check_next(recorded: Mapping[int, datetime], task: int, at: datetime, *, new_patient: bool) -> None:
    """Raise ``InputError`` unless ``task`` at ``at`` may follow the tasks already ``recorded`` (id → time)."""
    if task not in TASK_NAMES:
        raise InputError("err_task_unknown", task=task)
    if task in recorded:
        raise InputError("err_task_done", task=task)
    if CANCELLED in recorded:
        raise InputError("err_task_cancelled")
    if task == CANCELLED:
        if 4 in recorded:
            raise InputError("err_task_cancel_served")
    else:
        expected = (max(recorded) + 1,) if recorded else first_tasks(new_patient)
        if task not in expected:
            raise InputError("err_task_order", task=task, expected=expected[0])
    if recorded and at <= max(recorded.values()):
        raise InputError("err_task_time", task=task)


def is_complete(recorded: Mapping[int, datetime], *, new_patient: bool, pharmacy: bool) -> bool:
    """True when the visit has every task it should have, in order, with increasing times."""
    if CANCELLED in recorded:
        return True
    last = 7 if pharmacy else 5
    start = 1 if new_patient and 1 in recorded else 3
    wanted = list(range(start, last + 1))
    if sorted(recorded) != wanted:
        return False
    times = [recorded[t] for t in wanted]
    return all(a < b for a, b in pairwise(times))
