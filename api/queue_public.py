"""Queue printouts and the patient's status page: server-rendered, no Dash.

``/antrean/tiket/<kode>`` and ``/antrean/tiket-loket/<id>`` are thermal-receipt printouts for the front desk;
``/antrean/status/<kode>`` is public (the booking code is the only credential), shows masked names only and is
rate-limited so that codes cannot be tried cheaply."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from flask import Blueprint, Flask, Response, abort, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BaseConverter

from auth.guards import roles_required
from auth.proxy_urls import public_url_for
from data.queue_lookup import admission_ticket, booking_site
from data.queue_views import booking_status, point_names
from data.runtime import current_runtime
from domain.clock import utcnow
from domain.formats import long_date, wall_clock
from domain.queue_points import ADMISSION
from domain.queue_ticket import TicketFacts, ticket_facts
from i18n.web import current_language


class _Rest(BaseConverter):
    """The rest of the path, slashes included (even a leading one): a status code with "/" in it (or none at all) is
    still the status page's "not found", never another route's page or the staff sign-in."""

    regex = ".*"
    part_isolating = False


bp = Blueprint("queue_public", __name__, template_folder="templates")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("rest", _Rest))
PRINT_ROLES = ("front_desk", "admin")
PAPER_WIDTHS = ("80", "58")
STATUS_REFRESH_SECONDS = 30
# Per client address: a patient's phone reloads every 30 s (2 a minute); a guesser mostly hits unknown codes.
STATUS_LIMIT = "300 per minute"
UNKNOWN_CODE_LIMIT = "10 per minute; 60 per hour"
_BOOKING = re.compile(r"^[A-Z0-9]{6,32}$")


def _booking(code: str) -> str:
    code = code.strip().upper()
    return code if _BOOKING.match(code) else ""


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (no image request, nothing leaves the server)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return Markup(image.to_string(encoding="unicode"))  # noqa: S704 (SVG made here from our own URL)


def _facts(code: str, site_id: int | None) -> tuple[TicketFacts, str] | None:
    """The booking's facts and its site's name, or None when unknown (or of another site than ``site_id``)."""
    if not code:
        return None
    with current_runtime().db.session() as session:
        site = booking_site(session, code)
        if site is None or (site_id is not None and site.id != site_id):
            return None
        status = booking_status(session, code, utcnow())
    return ticket_facts(status, site.timezone, current_language()), site.name


def _paper() -> str:
    width = request.args.get("lebar", "80")
    return width if width in PAPER_WIDTHS else "80"


@bp.get("/antrean/tiket/<booking>")
@roles_required(*PRINT_ROLES)
def ticket(booking: str) -> ResponseReturnValue:
    found = _facts(_booking(booking), current_user.site_id)
    if found is None:
        abort(404)
    facts, site_name = found
    status_url = public_url_for("queue_public.status", booking=facts.booking_code)
    return render_template(
        "queue/ticket.html",
        facts=facts,
        site_name=site_name,
        qr=qr_svg(status_url),
        status_url=status_url,
        paper=_paper(),
        autoprint=request.args.get("cetak") == "1",
    )


@bp.get("/antrean/tiket-loket/<int:ticket_id>")
@roles_required(*PRINT_ROLES)
def admission(ticket_id: int) -> ResponseReturnValue:
    settings = current_runtime().settings
    with current_runtime().db.session() as session:
        found = admission_ticket(session, current_user.site_id, ticket_id)
        point = point_names(session, current_user.site_id)[ADMISSION]
    if found is None:
        abort(404)
    return render_template(
        "queue/admission.html",
        ticket=found,
        point=point,
        site_name=current_user.site_name,
        date=long_date(found.service_date, current_language()),
        taken=wall_clock(found.created_at, settings.timezone, current_language()),
        paper=_paper(),
        autoprint=request.args.get("cetak") == "1",
    )


@bp.get("/antrean/status", defaults={"booking": ""})
@bp.get("/antrean/status/<rest:booking>")
def status(booking: str) -> ResponseReturnValue:
    found = _facts(_booking(booking), None)
    if found is None:
        return render_template("queue/status_unknown.html"), 404
    facts, site_name = found
    response = make_response(
        render_template("queue/status.html", facts=facts, site_name=site_name, refresh=STATUS_REFRESH_SECONDS)
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _too_many(_limit: object) -> Response:
    return make_response(render_template("queue/status_busy.html"), 429)


def limit_status_page(limiter: Limiter, server: Flask) -> None:
    """Rate-limit the public status page per client address (the real one behind ``PANTAU_TRUSTED_PROXIES``: a
    hospital's waiting room shares no budget with a guesser elsewhere); unknown codes use up a much smaller budget.

    Flask-Limiter checks a decorated limit in the wrapper it returns, so the wrapper must replace the view."""
    view = server.view_functions["queue_public.status"]
    view = limiter.limit(UNKNOWN_CODE_LIMIT, deduct_when=lambda r: r.status_code == 404, on_breach=_too_many)(view)
    server.view_functions["queue_public.status"] = limiter.limit(STATUS_LIMIT, on_breach=_too_many)(view)
