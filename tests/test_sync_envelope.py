"""Facility sync's wire format: sealed changes, tampering, link keys and rotation, chunks and their reassembly."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.sync_envelope import (
    MAX_HEADER,
    MESSAGE_LIMIT,
    Chunk,
    EnvelopeError,
    Expired,
    Keyring,
    Reassembler,
    decode_change,
    encode_change,
    open_change,
    parse_chunk,
    seal_change,
    sync_topic,
)
from domain.hlc import Hlc
from domain.record_merge import Change, Op, Write

T0 = 1_764_835_200_000
LINK = "PKM-01_RS-01"
KEY_1, KEY_2 = bytes(range(32)), bytes(range(1, 33))
AT = Hlc(T0, 0, "PKM-01")
CHANGE = Change(
    "c-0001",
    "p-42",
    "PKM-01",
    Op.UPSERT,
    AT,
    None,
    {"name": Write("Siti Aminah", AT), "weight": Write(51.5, AT), "phone": Write(None, AT, Hlc(T0 - 9, 2, "PKM-01"))},
)


def keyring(*keys: tuple[str, bytes], link: str = LINK) -> Keyring:
    return Keyring(link, keys or (("k1", KEY_1),))


def deliver(ring: Keyring, messages: list[bytes], assembler: Reassembler | None = None) -> Change | None:
    """What a receiving site does with each message: parse, reassemble, open the completed change."""
    assembler = assembler or Reassembler()
    change = None
    for message in messages:
        chunks = assembler.add(parse_chunk(message), T0)
        if chunks is not None:
            change = open_change(ring, chunks)
    return change


def messages_of(change: Change = CHANGE, ring: Keyring | None = None, **kwargs) -> list[bytes]:
    return [chunk.encode() for chunk in seal_change(ring or keyring(), change, seq=7, **kwargs)]


def test_a_change_round_trips_and_the_broker_sees_no_personal_data() -> None:
    [message] = messages_of()
    assert deliver(keyring(), [message]) == CHANGE
    assert b"Siti" not in message and b"Aminah" not in message and b"p-42" not in message
    header = orjson.loads(message.split(b"\n", 1)[0])
    assert header | {"sha256": "-", "size": 0} == {
        "v": 1,
        "link": LINK,
        "change": "c-0001",
        "origin": "PKM-01",
        "key": "k1",
        "seq": 7,
        "i": 0,
        "n": 1,
        "size": 0,
        "sha256": "-",
    }
    assert sync_topic("PKM-01") == "pantau/v1/sync/PKM-01/patients"


def test_the_change_codec_keeps_types_and_clocks() -> None:
    assert decode_change(encode_change(CHANGE)) == CHANGE
    delete = Change("c-2", "p-42", "RS-01", Op.DELETE, Hlc(T0, 3, "RS-01"), AT)
    assert decode_change(encode_change(delete)) == delete


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"id":"c"}',
        encode_change(CHANGE).replace(b'"upsert"', b'"merge"'),
        encode_change(CHANGE).replace(b'"Siti Aminah"', b'["Siti"]'),
        encode_change(CHANGE).replace(AT.encode().encode(), b"yesterday"),
        encode_change(CHANGE).replace(b'"fields":{', b'"fields":{"x":1,'),
    ],
)
def test_a_payload_that_is_not_a_change_is_refused(payload: bytes) -> None:
    with pytest.raises(EnvelopeError) as refused:
        decode_change(payload)
    assert refused.value.reason == "payload" and "Siti" not in str(refused.value)


def _tamper(message: bytes, key: str, value: object) -> bytes:
    head, body = message.split(b"\n", 1)
    return orjson.dumps(orjson.loads(head) | {key: value}) + b"\n" + body


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("v", 2, "version"),
        ("link", "PKM-02_RS-01", "link"),
        ("change", "c-0002", "auth"),
        ("origin", "RS-01", "auth"),
        ("key", "k0", "key"),
        ("seq", 8, "auth"),
        ("i", 1, "format"),
        ("n", 2, None),  # waits for a second chunk that never comes
        ("size", 4096, "checksum"),
        ("sha256", "0" * 64, "checksum"),
    ],
)
def test_changing_any_header_field_makes_the_message_fail(key: str, value: object, reason: str | None) -> None:
    [message] = messages_of()
    if reason is None:
        assert deliver(keyring(), [_tamper(message, key, value)]) is None
        return
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(), [_tamper(message, key, value)])
    assert refused.value.reason == reason


def test_a_changed_body_byte_or_a_body_in_another_message_fails() -> None:
    [message] = messages_of()
    flipped = bytearray(message)
    flipped[-1] ^= 1
    with pytest.raises(EnvelopeError, match="checksum"):
        deliver(keyring(), [bytes(flipped)])
    body = parse_chunk(message).body
    other = seal_change(keyring(), replace(CHANGE, change_id="c-0002"), seq=7)[0].header
    moved = Chunk(replace(other, size=len(body), sha256=hashlib.sha256(body).hexdigest()), body)  # c-0001's body
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(), [moved.encode()])
    assert refused.value.reason == "auth"


def test_another_links_key_does_not_open_and_a_link_name_is_bound() -> None:
    [message] = messages_of()
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(("k1", KEY_2)), [message])
    assert refused.value.reason == "auth"
    relabelled = _tamper(message, "link", "PKM-02_RS-01")  # same key bytes, another link's name
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(link="PKM-02_RS-01"), [relabelled])
    assert refused.value.reason == "auth"


def test_rotation_seals_with_the_newest_key_and_opens_with_any_known() -> None:
    old = messages_of()
    rotated = keyring(("k2", KEY_2), ("k1", KEY_1))
    new = messages_of(ring=rotated)
    assert orjson.loads(new[0].split(b"\n", 1)[0])["key"] == "k2"
    assert deliver(rotated, old) == CHANGE and deliver(rotated, new) == CHANGE
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(), new)  # a site that has not got the new key yet
    assert refused.value.reason == "key"


@pytest.mark.parametrize(
    ("link", "keys"),
    [
        ("PKM 01", [("k1", KEY_1)]),
        (LINK + "\n", [("k1", KEY_1)]),
        (LINK, []),
        (LINK, [("k 1", KEY_1)]),
        (LINK, [("k1", KEY_1[:16])]),
    ],
)
def test_malformed_keyrings_are_refused(link: str, keys: list) -> None:
    with pytest.raises(EnvelopeError):
        Keyring(link, keys)


def big_change(size: int, seed: int = 1) -> Change:
    letter = random.Random(seed).randbytes(size // 2).hex()  # a scanned referral letter, as text
    return replace(CHANGE, fields={"letter": Write(letter, AT)})


def test_a_large_change_travels_in_chunks_under_the_message_limit() -> None:
    messages = messages_of(big_change(1_000_000))
    assert len(messages) == 11 and all(len(m) <= MESSAGE_LIMIT for m in messages)
    assert {orjson.loads(m.split(b"\n", 1)[0])["n"] for m in messages} == {11}
    assert deliver(keyring(), messages) == big_change(1_000_000)


def test_chunks_shuffled_and_duplicated_give_the_change_once() -> None:
    messages = messages_of(big_change(300_000), max_message=16_384)
    shuffled = messages * 2
    random.Random(3).shuffle(shuffled)
    assembler = Reassembler()
    results = [assembler.add(parse_chunk(m), T0) for m in shuffled]
    done = [r for r in results if r is not None]
    assert len(done) == 1 and open_change(keyring(), done[0]) == big_change(300_000)
    assert assembler.duplicates == len(messages) and assembler.open_payloads == 0 and assembler.held_bytes == 0


def test_swapped_chunk_indexes_fail() -> None:
    messages = messages_of(big_change(40_000), max_message=16_384)
    swapped = [_tamper(messages[0], "i", 1), _tamper(messages[1], "i", 0), *messages[2:]]
    with pytest.raises(EnvelopeError) as refused:
        deliver(keyring(), swapped)
    assert refused.value.reason == "checksum"


def test_a_lost_chunk_never_yields_and_is_reported_when_it_expires() -> None:
    messages = messages_of(big_change(40_000), max_message=16_384)
    assembler = Reassembler(idle_ms=1_000)
    assert deliver(keyring(), messages[:1] + messages[2:], assembler) is None
    assert assembler.open_payloads == 1 and assembler.held_bytes > 0
    assert assembler.expire(T0 + 1_000) == []
    assert assembler.expire(T0 + 1_001) == [Expired(LINK, "c-0001", "PKM-01", 7, len(messages) - 1, len(messages))]
    assert assembler.open_payloads == 0 and assembler.held_bytes == 0
    assert deliver(keyring(), messages, assembler) == big_change(40_000)  # the sender's resend completes it


def test_a_chunk_that_disagrees_with_its_payload_is_refused() -> None:
    messages = messages_of(big_change(40_000), max_message=16_384)
    assembler = Reassembler()
    assembler.add(parse_chunk(messages[0]), T0)
    with pytest.raises(EnvelopeError, match="inconsistent"):
        assembler.add(parse_chunk(_tamper(messages[1], "seq", 8)), T0)
    flipped = bytearray(messages[0])
    flipped[-1] ^= 1
    with pytest.raises(EnvelopeError, match="inconsistent"):
        assembler.add(parse_chunk(bytes(flipped)), T0)


def test_memory_is_bounded_by_open_payloads_and_bytes() -> None:
    ring = keyring()
    payloads = [seal_change(ring, big_change(40_000, seed), seq=seed, max_message=16_384) for seed in range(4)]
    payloads = [
        [Chunk(replace(c.header, change_id=f"c-{i}"), c.body) for c in chunks] for i, chunks in enumerate(payloads)
    ]
    by_count = Reassembler(max_open=3)
    for chunks in payloads[:3]:
        by_count.add(chunks[0], T0)
    with pytest.raises(EnvelopeError) as refused:
        by_count.add(payloads[3][0], T0)
    assert refused.value.reason == "full" and by_count.open_payloads == 3
    size = payloads[0][0].header.size
    by_bytes = Reassembler(max_bytes=2 * size - 1)  # a begun payload reserves its whole size: a second won't fit
    by_bytes.add(payloads[0][0], T0)
    with pytest.raises(EnvelopeError) as refused:
        by_bytes.add(payloads[1][0], T0)
    assert refused.value.reason == "full" and by_bytes.open_payloads == 1
    done = [by_bytes.add(chunk, T0) for chunk in payloads[0][1:]]
    assert done[-1] is not None and by_bytes.held_bytes == 0  # a begun payload always finishes
    assert by_bytes.add(payloads[1][0], T0) is None and by_bytes.open_payloads == 1
    with pytest.raises(EnvelopeError) as refused:
        Reassembler(max_bytes=size - 1).add(payloads[0][0], T0)
    assert refused.value.reason == "too_large"


@pytest.mark.parametrize(
    "message",
    [b"", b"{}", b"no header line", b"[1]\nbody", b"{" + b" " * MAX_HEADER + b"}\nbody"],
)
def test_malformed_messages_are_refused(message: bytes) -> None:
    with pytest.raises(EnvelopeError, match="format"):
        parse_chunk(message)


def test_the_longest_header_fits_its_bound() -> None:
    longest = "x" * 64
    ring = Keyring(longest, [("k" * 16, KEY_1)])
    change = Change(longest, "p", longest, Op.DELETE, Hlc(T0, 0, longest))
    [chunk] = seal_change(ring, change, seq=2**63 - 1)
    head = replace(chunk.header, index=2**20 - 1, count=2**20, size=2**63 - 1)
    assert len(head.encode()) < MAX_HEADER
    with pytest.raises(EnvelopeError, match="leaves no room"):
        seal_change(ring, change, seq=1, max_message=1_000)


sizes = st.builds(lambda exponent, jitter: max(0, 2**exponent + jitter), st.integers(0, 22), st.integers(-99, 99))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, seed=st.integers(0, 2**32), limit=st.sampled_from([1_024, 4_096, 65_536, MESSAGE_LIMIT]))
def test_sizes_up_to_4_mb_round_trip_in_any_order_with_duplicates(size: int, seed: int, limit: int) -> None:
    rng = random.Random(seed)
    payload = rng.randbytes(size)
    chunks = keyring().seal(payload, change_id="c-1", origin="PKM-01", seq=1, max_message=limit)
    messages = [chunk.encode() for chunk in chunks]
    assert all(len(m) <= limit for m in messages)
    arrivals = messages + rng.choices(messages, k=3)
    rng.shuffle(arrivals)
    assembler = Reassembler()
    done = [chunks for m in arrivals if (chunks := assembler.add(parse_chunk(m), T0)) is not None]
    assert len(done) == 1 and keyring().open(done[0]) == payload and assembler.held_bytes == 0
