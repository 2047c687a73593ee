"""The ticket just issued, as the registration page shows it (its facts: ``domain.queue_ticket``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from domain.queue_ticket import TicketFacts
from i18n.web import t


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
