"""The password policy (NIST SP 800-63B): what it refuses and why, what it lets through, and hashing that
agrees with its NFKC normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth import passwords
from auth.password_policy import LOCAL_COMMON, MAX_LENGTH, MIN_LENGTH, check_new_password, common_passwords
from auth.passwords import generate_password, hash_password, verify_password
from domain.errors import InputError

CONTEXT = ("bidan.ani", "Ani Lestari", "RSUD Sehat Sentosa", "RSS")
# Words for passphrases, none holding a context word (or forming one across a join).
WORDS = (
    "jeruk", "mangga", "kelapa", "durian", "rambutan", "salak", "nanas", "pepaya", "kopi", "gula", "garam", "merah",
    "biru", "hijau", "kuda", "gajah", "harimau", "kancil", "sungai", "gunung", "pohon", "awan", "hujan", "pelangi",
    "kereta", "sepeda", "perahu", "layang", "batik", "wayang", "gamelan", "rendang", "soto", "bakso", "tempe",
)  # fmt: skip


def refusal(password: str, context: tuple[str, ...] = CONTEXT) -> str | None:
    """The catalogue key of the refusal, or None when the policy accepts ``password``."""
    try:
        check_new_password(password, context)
    except InputError as exc:
        return exc.key
    return None


printable = st.characters(min_codepoint=0x21, max_codepoint=0x2FF, exclude_categories=("Cc", "Cs", "Mn"))


@given(printable, st.integers(MIN_LENGTH, 80))
def test_one_character_repeated_is_refused(char: str, length: int):
    assert refusal(char * length) in {"err_password_repetitive", "err_password_short"}
    assert refusal("aaaaaaaaaa") == "err_password_repetitive"  # the value the issue saw accepted


@given(st.lists(printable, min_size=2, max_size=5, unique=True), st.integers(MIN_LENGTH, 60))
def test_a_short_pattern_repeated_is_refused(unit: list[str], length: int):
    repeated = ("".join(unit) * length)[:length]
    assert refusal(repeated) in {"err_password_repetitive", "err_password_short"}


ALPHABETS = (range(0x21, 0x7F), range(0x3B1, 0x3CA), range(0x430, 0x450))  # ASCII, Greek, Cyrillic


@given(st.sampled_from(ALPHABETS), st.data(), st.booleans())
def test_a_run_of_consecutive_characters_is_refused(alphabet: range, data, backwards: bool):
    length = data.draw(st.integers(MIN_LENGTH, len(alphabet)))
    start = data.draw(st.integers(alphabet.start, alphabet.stop - length))
    run = "".join(chr(start + i) for i in range(length))
    assert refusal(run[::-1] if backwards else run) == "err_password_sequence"


@given(st.integers(0, 9), st.integers(MIN_LENGTH, 30), st.booleans())
def test_digits_counting_up_or_down_are_refused(first: int, length: int, backwards: bool):
    digits = "".join(str((first + i) % 10) for i in range(length))
    refused = refusal(digits[::-1] if backwards else digits)
    assert refused == "err_password_sequence" or (length > 10 and refused == "err_password_repetitive")


@pytest.mark.parametrize("walk", ["1234567890", "abcdefghij", "qwertyuiop", "poiuytrewq", "asdfghjkl;", "ZYXWVUTSRQ"])
def test_named_sequences_are_refused(walk: str):
    assert refusal(walk) == "err_password_sequence"


@given(st.sampled_from(["bidan.ani", "lestari", "sentosa", "pantau"]), st.data())
def test_context_words_in_any_case_are_refused(word: str, data):
    cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in word)
    padding = data.draw(st.sampled_from(["-kopi-tubruk", "Gajah Biru "]))
    password = data.draw(st.sampled_from([cased + padding + "!7", padding + cased + "#29"]))
    assert refusal(password) == "err_password_context"


def test_the_username_and_site_name_are_refused_whatever_the_spelling():
    assert refusal("BIDAN.ANI-2026") == "err_password_context"
    assert refusal("p-a-n-t-a-u 2026!") == "err_password_context"
    assert refusal("ＰＡＮＴＡＵ-ｉｃｕ-９") == "err_password_context"  # full-width: NFKC first
    assert refusal("rumah sehat kita") == "err_password_context"  # a word of the site's name


@given(st.sampled_from(sorted(w for w in common_passwords() if len(w) >= MIN_LENGTH)), st.booleans())
def test_listed_passwords_are_refused_in_any_case(listed: str, upper: bool):
    assert refusal(listed.upper() if upper else listed, ()) in {
        "err_password_common",
        "err_password_sequence",
        "err_password_repetitive",
    }


@pytest.mark.parametrize(
    "password",
    ["password123", "Bismillah2024", "rumahsakit", "PUSKESMAS123", "sayangku123!", "indonesia1945", "iloveyou99"],
)
def test_common_and_local_passwords_with_a_few_digits_are_refused(password: str):
    assert refusal(password, ()) == "err_password_common"
    assert {"rumahsakit", "puskesmas", "bismillah", "indonesia", "sayangku", "password123"} <= LOCAL_COMMON


@given(st.lists(st.sampled_from(WORDS), min_size=4, max_size=8, unique=True), st.sampled_from([" ", "-", ".", ""]))
def test_long_random_passphrases_pass(words: list[str], separator: str):
    phrase = separator.join(words)
    if len(phrase) <= MAX_LENGTH:
        assert refusal(phrase) is None


def test_long_passwords_are_allowed_up_to_the_maximum():
    long = " ".join(WORDS + WORDS[::-1])[:MAX_LENGTH]
    assert len(long) >= 64 and refusal(long) is None
    assert refusal("x" + long) == "err_password_long"
    assert refusal("kopi gula") == "err_password_short"


@given(st.integers(0, 10_000))
def test_generated_passwords_pass(_n: int):
    assert refusal(generate_password(), ("admin", "Administrator (demo)", "RSUD Pantau (demo)", "DEMO")) is None


def test_hashing_is_consistent_with_the_normalisation():
    full_width = "ｋｏｐｉ－ｔｕｂｒｕｋ－１２３"
    stored = hash_password(check_new_password(full_width))
    assert verify_password(stored, "kopi-tubruk-123")  # the same password typed on another keyboard
    assert verify_password(stored, full_width)
    assert not verify_password(stored, "kopi-tubruk-124")


def test_production_hashes_with_argon2id_at_rfc_9106s_low_memory_work_factors(cheapest_password_hashing):
    """The suite hashes at the cheapest work factors (tests/fixtures_app.py); production's must stay RFC 9106's."""
    production = cheapest_password_hashing
    assert production.hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")  # the suite's, through the same code
