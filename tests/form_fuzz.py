"""Generated bad input for Pantau's forms, and one helper that drives a form in the browser.

The strategies give what staff actually type or paste: emoji, combining and direction marks, zero-width
characters, full-width digits from an IME, the Indonesian decimal comma, leading and trailing spaces, very long
strings and pasted HTML. ``submit`` fills a form on an open Playwright page, presses its button, waits for the
callback's answer and returns what the page shows: the message by each field and the text left in each field.

``plain_decimal`` is the tests' own statement of what a number field accepts (kept apart from the code under test,
so a parser that reads more than a person means is caught).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from playwright.sync_api import Page, expect

# One browser page is reused for every example of a test: Hypothesis must not complain that the fixture is
# function-scoped, and a browser round trip is far slower than its default deadline. No shrinking: in a browser
# it can take many minutes, and each assertion already names the input that failed.
BROWSER_EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

EMOJI = ("😀", "🩺", "👩🏽‍⚕️", "🇮🇩", "❤️")
ODD_CHARS = (
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # byte-order mark
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u0301",  # combining acute accent
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
)
SNIPPETS = ("<script>alert(1)</script>", "<b>tebal</b>", "'; DROP TABLE patient; --", "{{7*7}}", "%s%n")
FULL_WIDTH_DIGITS = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


def full_width(text: str) -> str:
    """``text`` with its digits and separators as an IME in full-width mode types them."""
    return text.translate(FULL_WIDTH_DIGITS)


def bad_text(max_size: int = 80) -> st.SearchStrategy[str]:
    """Names, reasons, models: ordinary text mixed with what breaks naive handling."""
    piece = st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
        st.sampled_from(EMOJI),
        st.sampled_from(ODD_CHARS),
        st.sampled_from(SNIPPETS),
        st.sampled_from(("Siti Nurhaliza", "dr. Sari, Sp.PD", "PPOK — target 88-92 %")),
        st.integers(0, 10**16).map(lambda n: full_width(str(n))),
        st.sampled_from((" ", "  ", "\t")),
    )
    long_text = st.integers(200, 600).map(lambda n: "x" * n)
    return st.one_of(st.lists(piece, max_size=6).map("".join).map(lambda s: s[:max_size]), long_text)


def identifier() -> st.SearchStrategy[str]:
    """Device ids and codes: valid ASCII ones, and ones with spaces, full-width or look-alike characters."""
    valid = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
    return st.one_of(
        valid,
        valid.map(full_width),
        valid.map(lambda s: f" {s} "),
        st.tuples(valid, st.sampled_from(ODD_CHARS + EMOJI + (" ", "/", "#", "+", "é", "О"))).map("".join),
        st.just("x" * 65),
        bad_text(30),
    )


def decimal_text(low: float, high: float, places: int = 1) -> st.SearchStrategy[str]:
    """A number between ``low`` and ``high`` as people type it: point or comma, maybe full-width or padded."""
    numbers = st.decimals(Decimal(str(low)), Decimal(str(high)), places=places, allow_nan=False)
    plain = numbers.map(lambda d: format(d.normalize(), "f"))
    return st.one_of(
        plain,
        plain.map(lambda s: s.replace(".", ",")),
        plain.map(full_width),
        plain.map(lambda s: f"  {s} "),
    )


def bad_number() -> st.SearchStrategy[str]:
    """What lands in a number field besides a clean number."""
    return st.one_of(
        st.sampled_from(
            (
                "36,8",
                "1e3",
                "1E2",
                "NaN",
                "nan",
                "inf",
                "-inf",
                "-0",
                "0",
                "1_00",
                "1.000,5",
                "9" * 400,
                "٣٦",  # Arabic-Indic digits
                "12 0",
                "+-5",
                "36.",
                ".5",
                "0x1F",
                "½",
                "delapan puluh",
            )
        ),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.integers(-(10**12), 10**12).map(str),
        st.integers(0, 500).map(lambda n: full_width(str(n))),
        st.tuples(st.integers(0, 300), st.sampled_from(EMOJI + ODD_CHARS)).map(lambda p: f"{p[0]}{p[1]}"),
        bad_text(20),
    )


def bad_date() -> st.SearchStrategy[str]:
    """Dates as typed: day/month orders, impossible days, full-width, far past and future, words."""
    return st.one_of(
        st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
        st.dates().map(lambda d: d.isoformat()),
        st.dates().map(lambda d: full_width(d.strftime("%d-%m-%Y"))),
        st.sampled_from(
            ("31/02/2026", "00/00/0000", "29/02/2025", "2026-13-01", "kemarin", "9999-12-31", "0001-01-01")
        ),
        bad_text(20),
    )


_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def plain_decimal(text: str) -> Decimal | None:
    """What a number field should read in ``text``: a plain decimal (point or comma, full-width allowed, padded),
    else None. Empty text is not a number either: callers treat it as "left blank"."""
    normal = unicodedata.normalize("NFKC", text).strip()
    return Decimal(normal.replace(",", ".")) if _PLAIN_DECIMAL.fullmatch(normal) else None


@dataclass(frozen=True)
class Shown:
    """What the page shows after a submit: the message by each field (empty: none) and each field's text."""

    feedback: str
    errors: dict[str, str]
    values: dict[str, str]

    @property
    def refused(self) -> dict[str, str]:
        return {name: text for name, text in self.errors.items() if text}


def fill(page: Page, fields: dict[str, str], typed: dict[str, str]) -> dict[str, str]:
    """Type ``typed[name]`` into the field ``fields[name]`` (a selector); return what each field then holds (the
    browser drops line breaks from a one-line field and applies ``maxlength``: the text the person sees counts)."""
    held = {}
    for name, text in typed.items():
        field = page.locator(fields[name])
        field.fill(text)
        held[name] = field.input_value()
    return held


def submit(page: Page, button: str, feedback: str, fields: dict[str, str], errors: dict[str, str]) -> Shown:
    """Press ``button`` (a selector of a Dash component id), wait for its callback's answer to be drawn, and read
    ``feedback``, each field's message (``errors``: name → selector) and each field's text (``fields``)."""
    element_id = button.removeprefix("#")
    with page.expect_response(
        lambda r: "_dash-update-component" in r.url and f'"{element_id}.n_clicks"' in (r.request.post_data or "")
    ) as answer:
        page.click(button)
    assert answer.value.ok, f"the form's callback failed: HTTP {answer.value.status}"
    expect(page.locator("._dash-loading-callback")).to_have_count(0)
    return Shown(
        feedback=page.locator(feedback).text_content() or "",
        errors={name: page.locator(selector).text_content() or "" for name, selector in errors.items()},
        values={name: page.locator(selector).input_value() for name, selector in fields.items()},
    )
