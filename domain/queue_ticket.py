"""A queue ticket as people read it — number, poli, doctor, estimated call time, booking code — formatted from
``data.queue_views.booking_status``; the registration page, the printout and the status page show it."""

from __future__ import annotations

from dataclasses import dataclass

from domain.formats import long_date, wall_clock


@dataclass(frozen=True)
class Line:
    """One place in a line: the poli's or, after the doctor, the pharmacy's."""

    label: str
    point: str
    status: str
    position: int | None
    estimate: str
    serving: str

    @property
    def status_key(self) -> str:
        """The catalogue key of the status in words."""
        return f"status_state_{self.status}"


@dataclass(frozen=True)
class TicketFacts:
    """What a ticket, its printout and the public status page show; the name is already masked."""

    booking_code: str
    name: str
    date: str
    poli: str
    doctor: str
    cancelled: bool
    poli_line: Line | None
    pharmacy: tuple[Line, ...]


def ticket_facts(status: dict, timezone: str, lang: str) -> TicketFacts:
    """Format ``booking_status(...)`` for people: long date, wall-clock estimates."""
    lines = tuple(
        Line(
            label=line["label"],
            point=line["point"],
            status=line["status"],
            position=line["position"],
            estimate=wall_clock(line["estimate"], timezone, lang) if line["estimate"] else "",
            serving=line["serving"],
        )
        for line in status["lines"]
    )
    return TicketFacts(
        booking_code=status["booking_code"],
        name=status["name"],
        date=long_date(status["date"], lang),
        poli=status["poli"],
        doctor=status["doctor"],
        cancelled=status["visit_status"] == "cancelled",
        poli_line=lines[0] if lines else None,
        pharmacy=lines[1:],
    )
