"""Forms driven in the browser with generated bad input (``tests/form_fuzz.py``).

For every example: EITHER the form refuses — a message by each offending field, nothing saved, everything typed
still in its field — OR what is saved (read back through the data service) is what the page shows and what the
person typed. One signed-in page serves all examples of a test."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from playwright.sync_api import expect
from sqlalchemy import func, select

from data.alarm_limits import overrides
from data.device_credentials import list_devices
from data.models import Observation
from data.wards import bed_by_code
from domain.alarm_limit_ranges import ADJUSTABLE, SIDES
from domain.alarms import PARAMETERS, PROFILES
from domain.free_text import clean_text, readable
from domain.observations import MANUAL_RANGES
from tests.form_fuzz import (
    BROWSER_EXAMPLES,
    bad_number,
    bad_text,
    decimal_text,
    fill,
    identifier,
    plain_decimal,
    submit,
)
from tests.test_browser_bed import limit
from tests.test_browser_shell import settled, sign_in

pytestmark = pytest.mark.browser

INVALID = re.compile(r"\bis-invalid\b")


def _signed_in(page, base: str, user: str, path: str, ready: str) -> None:
    """Sign in, open ``path`` and wait until ``ready`` (the form's button) is shown and no callback is in flight
    (not for network idle: the bed page keeps its live stream open)."""
    sign_in(page, base, user)
    expect(page.locator("#home-greeting")).to_be_visible()
    page.goto(f"{base}{path}")
    expect(page.locator(ready)).to_be_visible()
    settled(page)


# ---- the bed page's observation form -------------------------------------------------------------------------

# Readings a nurse plausibly takes (systolic above diastolic), so that some examples are saved.
PLAUSIBLE = {
    "rr": (8, 30, 0),
    "spo2": (85, 100, 0),
    "hr": (40, 150, 0),
    "sbp": (110, 200, 0),
    "dbp": (40, 100, 0),
    "temp": (35, 40, 1),
}
OBS_FIELDS = {name: f"#obs-{name}" for name in MANUAL_RANGES}
OBS_ERRORS = {name: f"#obs-{name}-error" for name in MANUAL_RANGES}


def _with_some_broken(good: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Good values for every field, then blank or bad input in up to two of them (none in about a third of the
    examples, so that saves are exercised as well as refusals)."""
    broken = st.dictionaries(st.sampled_from(sorted(good)), st.one_of(st.just(""), bad_number()), max_size=2)
    return st.tuples(st.fixed_dictionaries(good), broken).map(lambda pair: pair[0] | pair[1])


def _reading(name: str) -> st.SearchStrategy[str]:
    low, high, places = PLAUSIBLE[name]
    return decimal_text(low, high, places)


def _expected_number(name: str, text: str) -> Decimal | str | None:
    """The spec: blank → None; a plain decimal inside the plausible range → that number; else "bad"."""
    if not text.strip():
        return None
    number = plain_decimal(text)
    low, high = MANUAL_RANGES[name]
    return number if number is not None and low <= number <= high else "bad"


def _observation_count(pantau, bed_id: int) -> int:
    with pantau.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Observation).where(Observation.bed_id == bed_id))


def test_observation_form_saves_what_is_typed_or_refuses_by_the_field(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "ICU-03").id
    _signed_in(page, base, "perawat", "/bed/ICU-03", "#obs-submit")

    @BROWSER_EXAMPLES
    @given(
        oxygen=st.integers(0, 1),
        acvpu=st.integers(0, 4),
        typed=_with_some_broken({name: _reading(name) for name in MANUAL_RANGES}),
    )
    def example(oxygen: int, acvpu: int, typed: dict[str, str]) -> None:
        held = fill(page, OBS_FIELDS, typed)
        page.locator("#obs-on_oxygen input").nth(oxygen).check()
        page.locator("#obs-consciousness input").nth(acvpu).check()
        before = _observation_count(pantau, bed_id)
        shown = submit(page, "#obs-submit", "#obs-feedback", OBS_FIELDS, OBS_ERRORS)
        expected = {name: _expected_number(name, text) for name, text in held.items()}
        bad = {name for name, value in expected.items() if value == "bad"}
        sbp, dbp = expected["sbp"], expected["dbp"]
        pair_ok = (sbp is None) == (dbp is None) and (sbp is None or "bad" in (sbp, dbp) or dbp < sbp)

        event("refused" if bad or not pair_ok else "saved")
        if bad or not pair_ok:
            assert _observation_count(pantau, bed_id) == before, f"saved although refused: {held!r}"
            assert bad <= set(shown.refused), f"no message by {bad - set(shown.refused)} for {held!r}"
            for name in shown.refused:
                expect(page.locator(OBS_FIELDS[name])).to_have_class(INVALID)
            assert shown.values == held, "what was typed must stay in the fields"
            return
        assert not shown.refused, f"refused good input {held!r}: {shown.refused}"
        assert _observation_count(pantau, bed_id) == before + 1
        with pantau.runtime.db.session() as s:
            row = s.scalars(
                select(Observation).where(Observation.bed_id == bed_id).order_by(Observation.id.desc())
            ).first()
            stored = {name: getattr(row, name) for name in MANUAL_RANGES}
            assert (row.on_oxygen, row.consciousness) == (oxygen == 1, "ACVPU"[acvpu])
        summary = page.locator("#obs-feedback .obs-saved-values")
        for name, value in stored.items():
            item = summary.locator(f"[data-field='{name}']")
            if expected[name] is None:
                assert value is None
                expect(item).to_have_count(0)
            else:
                assert Decimal(repr(value)) == expected[name], f"{name}: typed {held[name]!r}, saved {value!r}"
                assert Decimal(item.get_attribute("data-value")) == expected[name]
        assert all(text == "" for text in shown.values.values()), "a saved form is cleared for the next set"

    example()


# ---- the bed page's alarm-limit editor ---------------------------------------------------------------------

LIMIT_PARAMS = ("hr", "spo2", "temp")
PROFILE = PROFILES["adult"]  # MEL-10 is on an adult ward


def _limit_value(param: str, side: str) -> st.SearchStrategy[str]:
    """Blank or a limit inside the profile (no reason needed)."""
    spec, (low, high) = ADJUSTABLE[param], PROFILE[param]
    span = 5 if high is None else min(5, (high - low) / 3)
    if side == "low":
        good = decimal_text(low, low + span, 1)
    else:
        good = decimal_text(high - span, high, 1) if high is not None else decimal_text(98, spec.highest, 0)
    return st.one_of(st.just(""), good, good)


def _limit_selectors() -> tuple[dict[str, str], dict[str, str]]:
    fields, errors = {}, {}
    for param in PARAMETERS:
        for side in SIDES:
            name = f"{param}_{side}"
            fields[name] = f'input[id*=\'"param":"{param}"\'][id*=\'"side":"{side}"\']'
            errors[name] = f'[id*=\'"type":"limit-error"\'][id*=\'"param":"{param}"\'][id*=\'"side":"{side}"\']'
    return fields, errors


def _stored_limits(pantau, bed_id: int) -> dict[str, Decimal | None]:
    with pantau.runtime.db.session() as s:
        stored = overrides(s, bed_id)
    return {
        f"{param}_{side}": None if value is None else Decimal(repr(value))
        for param in PARAMETERS
        for side, value in zip(SIDES, stored.get(param, (None, None)), strict=True)
    }


def test_limits_editor_saves_what_is_typed_or_refuses_by_the_field(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "MEL-10").id
    fields, errors = _limit_selectors()
    _signed_in(page, base, "perawat", "/bed/MEL-10", "#limits-save")
    dialog = page.locator("#limits-confirm")

    @BROWSER_EXAMPLES
    @given(
        typed=_with_some_broken(
            {f"{param}_{side}": _limit_value(param, side) for param in LIMIT_PARAMS for side in SIDES}
        )
    )
    def example(typed: dict[str, str]) -> None:
        before = _stored_limits(pantau, bed_id)
        fill(page, fields, typed)
        held = {name: page.locator(selector).input_value() for name, selector in fields.items()}
        shown = submit(page, "#limits-save", "#limits-feedback", fields, errors)
        wanted = {name: plain_decimal(text) if text.strip() else None for name, text in held.items()}
        bad = set()
        for name, text in held.items():
            param = name.rsplit("_", 1)[0]
            spec = ADJUSTABLE[param]
            if text.strip() and (wanted[name] is None or not spec.lowest <= wanted[name] <= spec.highest):
                bad.add(name)

        event("reason asked" if dialog.is_visible() else "refused" if shown.refused else "saved")
        if dialog.is_visible():  # a widening asks for a reason first: nothing saved until confirmed
            assert not bad and _stored_limits(pantau, bed_id) == before
            page.click("#limits-cancel")
            expect(dialog).to_be_hidden()
            assert {n: page.locator(s).input_value() for n, s in fields.items()} == held
            return
        if shown.refused:
            assert bad <= set(shown.refused), f"no message by {bad - set(shown.refused)} for {typed!r}"
            assert _stored_limits(pantau, bed_id) == before, f"saved although refused: {typed!r}"
            assert shown.values == held, "what was typed must stay in the fields"
            for name in shown.refused:
                expect(page.locator(fields[name])).to_have_class(INVALID)
            return
        assert not bad, f"bad input {bad} was not refused: {typed!r} → {shown.feedback!r}"
        stored = _stored_limits(pantau, bed_id)
        assert stored == wanted, f"typed {held!r}, saved {stored!r}"
        assert {name: plain_decimal(text) if text else None for name, text in shown.values.items()} == stored

    example()


def test_a_reason_nobody_can_read_does_not_widen_a_limit(page, live_server):
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "MEL-10").id
    _signed_in(page, base, "perawat", "/bed/MEL-10", "#limits-save")
    limit(page, "spo2", "low").fill("88")
    page.click("#limits-save")
    expect(page.locator("#limits-confirm")).to_be_visible()
    page.fill("#limits-reason", "\u200b\u200f")  # looks empty: a zero-width space and a direction mark
    page.click("#limits-confirm-save")
    expect(page.locator("#limits-reason-error")).to_have_text("Tuliskan alasan klinis untuk melebarkan batas.")
    with pantau.runtime.db.session() as s:
        assert overrides(s, bed_id) == {}


def test_the_widening_dialog_shows_the_limit_that_will_be_saved(page, live_server):
    """Before: the dialog rounded to six digits ("88.1235") while 88.12345 was what the nurse confirmed."""
    base, _ = live_server
    _signed_in(page, base, "perawat", "/bed/MEL-10", "#limits-save")
    limit(page, "spo2", "low").fill("88,12345")
    page.click("#limits-save")
    expect(page.locator("#limits-widened")).to_have_text("SpO2 (%) bawah: 88.12345 (profil 90)")


def test_a_decimal_comma_limit_is_saved_as_typed(page, live_server):
    """Before: the number field gave Dash nothing for "35,8", and nothing meant "the profile's limit"."""
    base, pantau = live_server
    with pantau.runtime.db.session() as s:
        bed_id = bed_by_code(s, 1, "MEL-10").id
    _signed_in(page, base, "perawat", "/bed/MEL-10", "#limits-save")
    field = limit(page, "temp", "low")
    field.click()
    field.press_sequentially("35,8")
    page.click("#limits-save")
    expect(page.locator("#limits-feedback")).to_contain_text("Batas alarm disimpan")
    expect(field).to_have_value("35.8")
    with pantau.runtime.db.session() as s:
        assert overrides(s, bed_id) == {"temp": (35.8, None)}


# ---- the admin monitors page -----------------------------------------------------------------------------------

DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_monitor_registration_saves_what_is_typed_or_refuses_by_the_field(page, live_server):
    base, pantau = live_server
    fields = {"device_id": "#devices-new-id", "model": "#devices-new-model"}
    errors = {"device_id": "#devices-new-id-error", "model": "#devices-new-model-error"}
    _signed_in(page, base, "admin", "/admin/monitor", "#devices-new-submit")

    def devices() -> dict[str, str]:
        with pantau.runtime.db.session() as s:
            return {d.device_id: d.model for d in list_devices(s, 1)}

    @BROWSER_EXAMPLES
    @given(
        device_id=st.one_of(st.from_regex(r"MON-[A-Z0-9]{1,8}", fullmatch=True), identifier()),
        model=st.one_of(st.sampled_from(("Mindray ePM 10", "Philips IntelliVue MX450")), bad_text(100)),
    )
    def example(device_id: str, model: str) -> None:
        before = devices()
        held = fill(page, fields, {"device_id": device_id, "model": model})
        shown = submit(page, "#devices-new-submit", "#devices-new-feedback", fields, errors)
        after = devices()
        wanted_id = held["device_id"].strip()
        id_ok = bool(DEVICE_ID.fullmatch(wanted_id)) and wanted_id not in before
        id_ok = id_ok and wanted_id.lower() != "admin" and not wanted_id.lower().startswith("pantau-")
        event("refused" if after == before else "saved")
        if after == before:
            assert shown.refused, f"nothing saved and no message by a field: {held!r} → {shown.feedback!r}"
            assert shown.values == held, "what was typed must stay in the fields"
            if not id_ok:
                assert shown.refused.get("device_id"), f"bad device id {wanted_id!r} without a message by it"
                expect(page.locator(fields["device_id"])).to_have_class(INVALID)
            elif not readable(clean_text(held["model"])):  # the device id is checked first
                assert shown.refused.get("model")
            return
        assert id_ok, f"bad device id {wanted_id!r} was saved"
        assert set(after) - set(before) == {wanted_id}
        assert after[wanted_id] == clean_text(held["model"])  # stored as free text is: NFKC, no control characters
        row = page.locator("#devices-grid tr", has=page.get_by_text(wanted_id, exact=True))
        expect(row.locator("td").nth(1)).to_have_text(after[wanted_id] or "—")
        assert shown.values == {"device_id": "", "model": ""}

    example()
