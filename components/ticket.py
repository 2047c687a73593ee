"""A queue ticket as people read it — number, poli, doctor, estimated call time, booking code — built from
``data.queue_views.booking_status`` and shared by the registration page, the printout and the status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import html

from domain.formats import ZONE_ABBREVIATIONS, long_date
from i18n.web import t


def clock_time(moment: datetime, timezone: str) -> str:
    """An aware time as the site's wall clock: ``08:05 WIB``."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} {ZONE_ABBREVIATIONS.get(timezone, local.tzname() or timezone)}"


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
    def status_text(self) -> str:
        return t(f"status_state_{self.status}")


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
    """Format ``booking_status(...)`` for people: long date, wall-clock estimates, status words."""
    lines = tuple(
        Line(
            label=line["label"],
            point=line["point"],
            status=line["status"],
            position=line["position"],
            estimate=clock_time(line["estimate"], timezone) if line["estimate"] else "",
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


def _fact(label: str, value: str, value_id: str) -> html.Div:
    return html.Div(
        [html.Dt(label, className="col-5 fw-normal"), html.Dd(value, className="col-7", id=value_id)],
        className="row mb-1",
    )


def ticket_summary(facts: TicketFacts, holder: str, print_href: str, status_href: str) -> dbc.Card:
    """The ticket just issued, on the registration page, with links to print it and to its status page. ``holder``
    says whose it is (full name and MRN: the desk may see them), so nobody prints it for the next patient."""
    line = facts.poli_line
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [html.I(className="bi bi-person me-1"), holder],
                    className="fw-semibold mb-2",
                    id="reg-ticket-holder",
                ),
                html.Div(t("ticket_number"), className="text-body-secondary small"),
                html.Div(line.label if line else "—", className="reg-ticket-number", id="reg-ticket-number"),
                html.Dl(
                    [
                        _fact(t("ticket_poli"), facts.poli, "reg-ticket-poli"),
                        _fact(t("ticket_doctor"), facts.doctor, "reg-ticket-doctor"),
                        _fact(t("ticket_date"), facts.date, "reg-ticket-date"),
                        _fact(t("ticket_estimate"), (line.estimate if line else "") or "—", "reg-ticket-estimate"),
                        _fact(t("ticket_booking_code"), facts.booking_code, "reg-ticket-code"),
                    ],
                    className="mb-3",
                ),
                html.Div(
                    [
                        dbc.Button(
                            [html.I(className="bi bi-printer me-1"), t("ticket_print")],
                            href=print_href,
                            target="_blank",
                            external_link=True,
                            color="primary",
                            id="reg-ticket-print",
                        ),
                        dbc.Button(
                            [html.I(className="bi bi-box-arrow-up-right me-1"), t("ticket_status_link")],
                            href=status_href,
                            target="_blank",
                            external_link=True,
                            color="secondary",
                            outline=True,
                            id="reg-ticket-status",
                        ),
                    ],
                    className="d-flex gap-2 flex-wrap",
                ),
            ]
        ),
        color="success",
        outline=True,
        id="reg-ticket",
    )
