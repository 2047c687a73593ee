"""The Mobile JKN web service (BPJS "WS RS") under ``/api/jkn/``: BPJS's app books, follows, checks in and
cancels at this hospital through the front desk's own services (``data.jkn_service``).

Plain JSON in BPJS's field names. Answers are ``{"response": ..., "metadata": {"message", "code"}}`` with HTTP
200 even when refused, as BPJS's catalogue has it: code 200 ok, 201 refused with a message that says what is
wrong (always in Indonesian: Mobile JKN shows it to the patient), 202 for a card unknown here (``pasienbaru``).
No session: ``GET /auth`` gives a token (``api.jkn_auth``), the other calls bring it in ``x-token``. The log
gets the endpoint, code and duration only: the bodies carry NIK and card numbers."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask, Response, jsonify, request
from flask_limiter import Limiter
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from api.jkn_auth import check_credentials, check_token, issue_token
from api.jkn_fields import Body, booking_request, date_range, new_patient_request, session_request
from auth.session import client_ip
from data import audit, jkn_service
from data.jkn_service import Answer, NewPatient, service_actor
from data.queue_tickets import publish
from data.runtime import current_runtime
from domain.actor import Actor
from domain.clock import utcnow
from domain.errors import InputError
from i18n import translate

bp = Blueprint("jkn", __name__, url_prefix="/api/jkn")
log = logging.getLogger(__name__)
# Per client address. BPJS's gateway asks for a token about once per expiry, from a few addresses; refused
# credentials use up a much smaller budget, so that passwords cannot be tried cheaply.
AUTH_LIMIT = "60 per minute"
REFUSED_LIMIT = "5 per minute; 30 per hour"


def _envelope(code: int, message: str, response: dict | None = None) -> Response:
    """BPJS's shape; an answer without data (and every refusal) carries ``metadata`` only."""
    body: dict = {"metadata": {"message": message, "code": code}}
    if response:
        body["response"] = response
    return jsonify(body)


def _message(err: InputError) -> str:
    return translate(err.key, "id", **err.params)


def _handle(endpoint: str, work: Callable[[], Answer]) -> Response:
    """Run one call: its answer, or code 201 (202 for a new patient) with the reason; log without the body."""
    started = time.perf_counter()
    try:
        result = work()
        code, reply = 200, _envelope(200, translate(result.message_key or "jkn_ok", "id"), result.response)
    except NewPatient as err:
        code, reply = 202, _envelope(202, _message(err))
    except InputError as err:
        code, reply = 201, _envelope(201, _message(err))
    elapsed_ms = round(1000 * (time.perf_counter() - started))
    log.info("mobile jkn", extra={"endpoint": endpoint, "code": code, "ms": elapsed_ms})
    return reply


def _body() -> Body:
    values = request.get_json(silent=True, force=True)
    if not isinstance(values, dict):
        raise InputError("jkn_bad_request")
    return Body(values)


def _in_transaction(work: Callable[[Session, Actor, datetime], Answer]) -> Answer:
    """``work`` in one transaction as the Mobile JKN actor; its queue events are published once committed. A refused
    call changes nothing, but the patient searches it made stay in the audit log (who looked up which card)."""
    runtime = current_runtime()
    searches: list[dict] = []
    try:
        with runtime.db.session() as session:
            actor = service_actor(session, runtime.settings.site_code, client_ip())
            try:
                result = work(session, actor, utcnow())
            except InputError:
                searches = audit.uncommitted(session, "patient_search")
                raise
    except InputError:
        if searches:
            with runtime.db.session() as session:
                audit.record_rows(session, searches)
        raise
    publish(runtime.live, actor.site_id, list(result.events))
    return result


def _endpoint(rule: str) -> Callable[[Callable[[Body], Answer]], Callable[[Body], Answer]]:
    """A token-protected ``POST`` endpoint whose function takes the request's body and returns the answer."""

    def decorate(work: Callable[[Body], Answer]) -> Callable[[Body], Answer]:
        def run() -> Answer:
            settings = current_runtime().settings
            check_token(settings, request.headers.get("x-token", ""), request.headers.get("x-username", ""))
            return work(_body())

        bp.add_url_rule(rule, work.__name__, lambda: _handle(rule, run), methods=["POST"])
        return work

    return decorate


# ---- token ------------------------------------------------------------------------------------------------------


@bp.get("/auth")
def auth() -> Response:
    def run() -> Answer:
        settings = current_runtime().settings
        username = request.headers.get("x-username", "")
        try:
            check_credentials(settings, username, request.headers.get("x-password", ""))
        except InputError:
            _audit_token("jkn_token_refused", username)
            raise
        _audit_token("jkn_token_issued", username)
        return Answer({"token": issue_token(settings, utcnow())})

    return _handle("/auth", run)


def _audit_token(action: str, username: str) -> None:
    with current_runtime().db.session() as session:
        audit.record(session, action, username=username[:64] or None, ip=client_ip())


def limit_token_requests(limiter: Limiter, server: Flask) -> None:
    """Rate-limit ``GET /api/jkn/auth`` per client address; refused credentials count against ``REFUSED_LIMIT``.
    Behind ``PANTAU_TRUSTED_PROXIES`` that is the real client's address, so a guesser elsewhere uses up only its own
    budget, never BPJS's gateway's.

    Flask-Limiter checks a decorated limit in the wrapper it returns, so the wrapper must replace the view."""
    view = server.view_functions["jkn.auth"]
    view = limiter.limit(REFUSED_LIMIT, deduct_when=_refused)(view)
    server.view_functions["jkn.auth"] = limiter.limit(AUTH_LIMIT)(view)


def _refused(response: Response) -> bool:
    return (response.get_json(silent=True) or {}).get("metadata", {}).get("code") != 200


# ---- queue ------------------------------------------------------------------------------------------------------


@_endpoint("/statusantrean")
def status_antrean(body: Body) -> Answer:
    wanted = session_request(body)
    return _in_transaction(lambda s, actor, now: jkn_service.queue_status(s, actor, wanted, now))


@_endpoint("/ambilantrean")
def ambil_antrean(body: Body) -> Answer:
    booking = booking_request(body)
    cipher = current_runtime().cipher
    return _in_transaction(lambda s, actor, now: jkn_service.take_queue(s, cipher, actor, booking, now))


@_endpoint("/sisaantrean")
def sisa_antrean(body: Body) -> Answer:
    code = body.text("kodebooking")
    return _in_transaction(lambda s, actor, now: jkn_service.remaining(s, actor, code, now))


@_endpoint("/batalantrean")
def batal_antrean(body: Body) -> Answer:
    code, reason = body.text("kodebooking"), body.text("keterangan", required=False)
    return _in_transaction(lambda s, actor, now: jkn_service.cancel_booking(s, actor, code, reason, now))


@_endpoint("/checkinantrean")
def checkin_antrean(body: Body) -> Answer:
    code = body.text("kodebooking")
    # ``waktu`` (the app's clock, epoch ms) is checked but not used: task 3 is recorded at the server's own time,
    # the moment Pantau learns of the arrival, so that task times stay real and in order with the desk's.
    body.integer("waktu")
    return _in_transaction(lambda s, actor, now: jkn_service.check_in_booking(s, actor, code, now))


@_endpoint("/pasienbaru")
def pasien_baru(body: Body) -> Answer:
    form = new_patient_request(body)
    cipher = current_runtime().cipher
    return _in_transaction(lambda s, actor, now: jkn_service.register_new_patient(s, cipher, actor, form, now))


# Pantau has no operating-theatre schedule yet: both lists are truthfully empty (never invented operations).
@_endpoint("/jadwaloperasirs")
def jadwal_operasi_rs(body: Body) -> Answer:
    date_range(body)
    return Answer({"list": []})


@_endpoint("/jadwaloperasipasien")
def jadwal_operasi_pasien(body: Body) -> Answer:
    body.digits("nopeserta", 13)
    return Answer({"list": []})


@_endpoint("/ambilantreanfarmasi")
def ambil_antrean_farmasi(body: Body) -> Answer:
    code = body.text("kodebooking")
    return _in_transaction(lambda s, actor, _now: jkn_service.pharmacy_ticket(s, actor, code))


@_endpoint("/statusantreanfarmasi")
def status_antrean_farmasi(body: Body) -> Answer:
    code = body.text("kodebooking")
    return _in_transaction(lambda s, actor, _now: jkn_service.pharmacy_status(s, actor, code))


# ---- errors -----------------------------------------------------------------------------------------------------


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Response:
    """In BPJS's shape, with the HTTP status kept (429 when the token limit is reached)."""
    if err.code == 429:
        log.warning("mobile jkn token requests over the limit", extra={"endpoint": request.path, "code": 429})
        reply = _envelope(201, translate("jkn_too_many", "id"))
    else:
        reply = _envelope(201, translate("jkn_http_error", "id", status=f"{err.code} {err.name}"))
    reply.status_code = err.code or 500
    return reply


@bp.errorhandler(Exception)
def _failure(err: Exception) -> Response:
    # where it failed, without the exception's message (a database error can quote the values it was given)
    log.error(
        "mobile jkn request failed",
        extra={
            "endpoint": request.path,
            "code": 500,
            "error": type(err).__name__,
            "at": traceback.format_tb(err.__traceback__),
        },
    )
    reply = _envelope(201, translate("jkn_server_error", "id"))
    reply.status_code = 500
    return reply
