"""The rules behind the bed page's forms, with hundreds of generated inputs each (the browser tests in
``test_browser_forms.py`` drive the same forms with a dozen): a number is read as the person meant it or refused,
never read as something else; an observation saves what was typed; a widened limit needs a reason someone can
read."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bridge.bpjs_reference_pull import pull_reference
from data.bpjs_reference import map_poli
from data.models import BpjsRefPoli, Poli
from domain.alarm_limit_ranges import ReasonRequired, validate_overrides
from domain.alarms import PROFILES
from domain.decimal_input import format_decimal, parse_decimal
from domain.errors import InputError
from domain.observations import MANUAL_RANGES, validate_observation
from tests.form_fuzz import (
    ODD_CHARS,
    bad_date,
    bad_number,
    bad_text,
    decimal_text,
    full_width,
    identifier,
    plain_decimal,
)
from tests.test_bpjs_client import client_for
from tests.test_bpjs_reference import admin_actor, site_day
from tests.test_bpjs_reference import sandbox as bpjs_sandbox  # noqa: F401 (a fixture, asked for by name)
from tests.test_queue_actions import dash_post

MANY = settings(max_examples=100, deadline=None, database=None)


@MANY
@given(st.decimals(-1000, 1000, places=2, allow_nan=False), st.sampled_from(("", "  ", "\u3000")))
def test_a_number_reads_the_same_with_point_comma_full_width_or_padding(number: Decimal, pad: str) -> None:
    text = format(number, "f")
    for typed in (text, text.replace(".", ","), full_width(text), f"{pad}{text}{pad}"):
        assert Decimal(repr(parse_decimal(typed))) == number.normalize()


@MANY
@given(bad_number())
def test_a_number_is_read_as_typed_or_refused(typed: str) -> None:
    """``1e3``, ``1_000``, ``nan``, ``inf``, Arabic-Indic digits: float() reads them all; a form must not."""
    expected = plain_decimal(typed)
    if expected is None:
        with pytest.raises(ValueError):
            parse_decimal(typed)
    else:
        value = parse_decimal(typed)
        # A double holds 15 significant digits; longer numbers lie outside every form's range and are refused there.
        if math.isfinite(value) and len(expected.normalize().as_tuple().digits) <= 15:
            assert Decimal(repr(value)) == expected
        assert math.copysign(1, value) == 1 or value < 0  # never a "-0"


@MANY
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_stored_number_is_shown_as_text_that_reads_back_exactly(value: float) -> None:
    shown = format_decimal(value)
    assert "e" not in shown.lower() and parse_decimal(shown) == value


def _observation_raw() -> st.SearchStrategy[dict[str, str]]:
    fields = {
        name: st.one_of(st.just(""), decimal_text(low, high, 1), bad_number())
        for name, (low, high) in MANUAL_RANGES.items()
    }
    return st.fixed_dictionaries({"on_oxygen": st.just("no"), "consciousness": st.just("A"), **fields})


@MANY
@given(_observation_raw())
def test_an_observation_keeps_what_was_typed_or_names_every_bad_field(raw: dict[str, str]) -> None:
    obs, errors = validate_observation(raw)
    for name, (low, high) in MANUAL_RANGES.items():
        text = raw[name]
        if not text.strip():
            assert obs is None or getattr(obs, name) is None
            continue
        number = plain_decimal(text)
        if number is None or not low <= number <= high:
            assert name in errors, f"{name}={text!r} was not refused"
        elif obs is not None:
            assert Decimal(repr(getattr(obs, name))) == number, f"{name}={text!r} saved as {getattr(obs, name)!r}"
    assert (obs is None) == bool(errors)


@pytest.mark.parametrize("typed", ["1e2", "1_00", "nan", "٩٦", "9_6"])
def test_an_observation_refuses_what_float_would_misread(typed: str) -> None:
    """Before: SpO2 "1e2" and "1_00" were saved as 100, "٩٦" as 96."""
    _, errors = validate_observation({"on_oxygen": "no", "consciousness": "A", "spo2": typed})
    assert errors["spo2"][0] in {"obs_err_number", "obs_err_range"}


def test_a_blank_looking_reading_is_left_blank() -> None:
    obs, errors = validate_observation({"on_oxygen": "no", "consciousness": "A", "hr": "   ", "temp": "\u3000"})
    assert errors == {} and obs.hr is None and obs.temp is None


WIDENED = {"spo2": (86.0, None)}  # below the adult profile's 90


@MANY
@given(st.lists(st.sampled_from((*ODD_CHARS, " ", "\t", "\n", "\x00", "\x1b")), max_size=8).map("".join))
def test_a_reason_nobody_can_read_is_no_reason(reason: str) -> None:
    """Before: a reason of only zero-width or direction marks passed as given and went to the audit log."""
    with pytest.raises(ReasonRequired):
        validate_overrides(PROFILES["adult"], WIDENED, reason)


@MANY
@given(bad_text(120))
def test_a_reason_with_a_letter_or_digit_is_kept_as_written(reason: str) -> None:
    try:
        kept = validate_overrides(PROFILES["adult"], WIDENED, reason)
    except ReasonRequired as exc:
        assert exc.key == "limits_err_reason_long" or not any(char.isalnum() for char in reason)
    else:
        assert kept == reason.strip() and len(kept) <= 200


@pytest.mark.parametrize("bed", ["NOPE-99", None, "ICU-03\u200b"])
def test_the_simulator_refuses_a_bed_the_site_does_not_have(sqlite_app, bed: str | None) -> None:
    """Before: the command went out for any bed sent and was lost in the simulator without a word."""
    client = sqlite_app.login("admin")
    values = {"sim-bed.value": bed, "sim-scenario.value": "stable", "sim-artefact.value": "spo2_off"}
    answer = dash_post(client, sqlite_app, "sim-feedback.children", "sim-apply.n_clicks", values)
    assert "Bed tidak ditemukan." in answer


def test_a_bpjs_code_is_mapped_exactly_or_refused(sqlite_app, request):
    """The mapping page's code fields: whatever is sent (the page offers a list; a request can carry anything),
    the poli keeps its code or gets exactly one of BPJS's current codes, never a variant of one."""
    _, url = request.getfixturevalue("bpjs_sandbox")
    site, day = site_day(sqlite_app)
    pull_reference(sqlite_app.runtime.db, client_for(url), site, day)
    actor, db = admin_actor(sqlite_app, site), sqlite_app.runtime.db
    with db.session() as s:
        poli_id = s.scalar(select(Poli.id).where(Poli.code == "UMU"))
        codes = set(s.scalars(select(BpjsRefPoli.kode_subspesialis)))
    variants = st.sampled_from(sorted(codes)).flatmap(
        lambda c: st.sampled_from((c, f" {c} ", c.lower(), full_width(c), f"{c}\u200b", f"{c}/", ""))
    )

    @settings(MANY, max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(variants, identifier()))
    def example(code: str) -> None:
        with db.session() as s:
            before = s.get(Poli, poli_id).bpjs_code
        try:
            with db.session() as s:
                map_poli(s, actor, poli_id, code)
        except InputError:
            with db.session() as s:
                assert s.get(Poli, poli_id).bpjs_code == before
            return
        with db.session() as s:
            after = s.get(Poli, poli_id).bpjs_code
        assert after == (code.strip() or None) and (after is None or after in codes)

    example()


@settings(MANY, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=st.one_of(bad_date(), st.dates().map(date.isoformat)))
def test_the_sync_page_answers_any_day_it_is_sent(sqlite_app, day: str) -> None:
    """The BPJS sync page's day field: a day the picker can give (any date, typed) or anything else gets the
    day's table or "pick a day", never a server error."""
    client = sqlite_app.login("admin")
    answer = dash_post(client, sqlite_app, "bsync-completeness.children", "bsync-day.date", {"bsync-day.date": day})
    assert "bsync-completeness-table" in answer
