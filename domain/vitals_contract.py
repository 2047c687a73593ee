"""The MQTT contract of bedside monitors (DESIGN.md §3): topics, payload checks, rejection reasons.

Pure and dependency-free except for ``orjson`` (the parser runs 15,000+ times a second in the consumer):

* :func:`parse_vitals` turns a ``pantau/v1/{site}/vitals/{device_id}`` message into a :class:`VitalsMessage`
  or raises :class:`Rejected` with a short machine ``reason`` (the dead-letter reason);
* :func:`parse_status` does the same for the retained ``pantau/v1/{site}/status/{device_id}`` topic;
* :func:`parse_topic` splits a topic into ``(site, kind, device_id)``;
* :func:`parse_command`: the ``resend`` command a monitor receives (sequence gaps).

``TOPIC_ROOT`` is where every topic of the contract starts; :mod:`data.mqtt_topics` builds the topics from it.

A sensor whose status is ``off`` yields ``None`` for its values (ECG off -> ``hr`` None, SpO2 off -> ``spo2``
None): a screen must show ``---``, never the last value. A device clock off by more than ``max_skew_ms``
(default 5 minutes) is rejected; smaller skews are accepted and left to the alarm engine.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

__all__ = [
    "MAX_PAYLOAD",
    "MAX_SKEW_MS",
    "MEASURED_FIELDS",
    "RANGES",
    "REASONS",
    "SENSOR_STATES",
    "TOPIC_ROOT",
    "DeviceStatus",
    "Rejected",
    "ResendCommand",
    "VitalsMessage",
    "parse_command",
    "parse_status",
    "parse_topic",
    "parse_vitals",
]

TOPIC_ROOT = "pantau/v1"
MAX_PAYLOAD = 64 * 1024
MAX_SKEW_MS = 5 * 60 * 1000
MAX_ID_LEN = 64
MAX_SEQ = 2**63 - 1  # vital_sample.seq is a BIGINT
SENSOR_STATES = frozenset({"ok", "off", "noisy"})

# Physically possible ranges (inclusive); anything outside is a broken device, not a patient.
RANGES: dict[str, tuple[float, float]] = {
    "hr": (0, 350),
    "spo2": (0, 100),
    "rr": (0, 120),
    "sbp": (0, 300),
    "dbp": (0, 250),
    "map": (0, 300),
    "temp": (25, 45),
}
SQI_RANGE = (0.0, 1.0)
BATTERY_RANGE = (0, 100)

# Every reason a message can be refused with (dead_letter.reason). ``unknown_device`` and ``store_error`` are
# given by the consumer (the device table and the database are not known here).
REASONS = (
    "oversize",
    "bad_topic",
    "not_json",
    "not_object",
    "missing_field",
    "bad_version",
    "device_mismatch",
    "bad_type",
    "impossible_value",
    "clock_skew",
    "unknown_device",
    "store_error",
)

_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_TOPIC_CACHE_MAX = 20_000
# topic -> (site, kind, device_id) for the valid topics seen so far (a few hundred devices in practice).
_topic_cache: dict[str, tuple[str, str, str]] = {}


class Rejected(ValueError):
    """A message that breaks the contract: ``reason`` is a short machine word from :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "", *, device_id: str | None = None, site: str | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.device_id = device_id
        self.site = site


class VitalsMessage(NamedTuple):
    """One validated numerics message. Times are epoch milliseconds (``ts`` device clock, ``received`` ours)."""

    site: str
    device_id: str
    seq: int
    ts: int
    received: int
    hr: float | None = None
    spo2: float | None = None
    rr: float | None = None
    sbp: float | None = None
    dbp: float | None = None
    map: float | None = None
    temp: float | None = None
    ecg_status: str | None = None
    spo2_status: str | None = None
    sqi_ecg: float | None = None
    sqi_spo2: float | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        """The unique key that makes redelivery harmless: ``(device_id, ts, seq)``."""
        return (self.device_id, self.ts, self.seq)

    @property
    def has_nibp(self) -> bool:
        """True when the message carries a new cuff (NIBP) reading."""
        return self.sbp is not None or self.dbp is not None or self.map is not None


MEASURED_FIELDS = VitalsMessage._fields[VitalsMessage._fields.index("hr") :]
"""What a monitor measured, in :class:`VitalsMessage`'s order: the vitals, each sensor's status and signal quality
(``domain.alarms.Reading`` takes these fields from here)."""


class DeviceStatus(NamedTuple):
    """The retained device status: online flag (the last will says ``false``) and battery percent."""

    site: str
    device_id: str
    online: bool | None
    battery: float | None


def _valid_id(value: str) -> bool:
    return 0 < len(value) <= MAX_ID_LEN and _ID_CHARS.issuperset(value)


def parse_topic(topic: str) -> tuple[str, str, str]:
    """``{TOPIC_ROOT}/{site}/{kind}/{device_id}`` -> ``(site, kind, device_id)``; :class:`Rejected` otherwise."""
    cached = _topic_cache.get(topic)
    if cached is not None:
        return cached
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != TOPIC_ROOT:
        raise Rejected("bad_topic", topic[:200])
    site, kind, device_id = parts[2], parts[3], parts[4]
    if not _valid_id(site) or not _valid_id(device_id) or kind not in ("vitals", "status", "wave"):
        raise Rejected("bad_topic", topic[:200])
    if len(_topic_cache) >= _TOPIC_CACHE_MAX:
        _topic_cache.clear()
    result = _topic_cache[topic] = (site, kind, device_id)
    return result


def _load_object(payload: bytes, site: str, device_id: str) -> dict:
    if len(payload) > MAX_PAYLOAD:
        raise Rejected("oversize", f"{len(payload)} bytes > {MAX_PAYLOAD}", device_id=device_id, site=site)
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejected("not_json", str(exc)[:200], device_id=device_id, site=site) from None
    if type(data) is not dict:
        raise Rejected("not_object", type(data).__name__, device_id=device_id, site=site)
    return data


def _number(data: dict, name: str, low: float, high: float, site: str, device_id: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    kind = type(value)
    if kind is not int and kind is not float:  # bool is not a number here, nor "82"
        raise Rejected("bad_type", f"{name} is {kind.__name__}", device_id=device_id, site=site)
    if not low <= value <= high:
        raise Rejected("impossible_value", f"{name} {value} outside {low}-{high}", device_id=device_id, site=site)
    return value


def _sub_object(data: dict, name: str, site: str, device_id: str) -> dict | None:
    value = data.get(name)
    if value is None:
        return None
    if type(value) is not dict:
        raise Rejected("bad_type", f"{name} is {type(value).__name__}", device_id=device_id, site=site)
    return value


def _sensor_state(status: dict | None, name: str, site: str, device_id: str) -> str | None:
    if status is None:
        return None
    value = status.get(name)
    if value is None:
        return None
    if type(value) is not str:
        raise Rejected("bad_type", f"status.{name} is {type(value).__name__}", device_id=device_id, site=site)
    if value not in SENSOR_STATES:
        raise Rejected("impossible_value", f"status.{name} {value[:20]!r}", device_id=device_id, site=site)
    return value


def _integer(data: dict, name: str, site: str, device_id: str) -> int:
    value = data.get(name)
    if value is None:
        raise Rejected("missing_field", name, device_id=device_id, site=site)
    if type(value) is not int:
        raise Rejected("bad_type", f"{name} is {type(value).__name__}", device_id=device_id, site=site)
    return value


def parse_vitals(topic: str, payload: bytes, received_ms: int, *, max_skew_ms: int = MAX_SKEW_MS) -> VitalsMessage:
    """Validate one vitals message; raise :class:`Rejected` (reason + detail) when it breaks the contract.

    ``received_ms`` is the consumer's clock (epoch ms) when the message arrived; a device ``ts`` further than
    ``max_skew_ms`` from it is ``clock_skew``.
    """
    site, kind, device_id = parse_topic(topic)
    if kind != "vitals":
        raise Rejected("bad_topic", f"not a vitals topic: {topic[:200]}", device_id=device_id, site=site)
    data = _load_object(payload, site, device_id)

    version = data.get("v")
    if version is None:
        raise Rejected("missing_field", "v", device_id=device_id, site=site)
    if type(version) is not int or version != 1:
        raise Rejected("bad_version", repr(version)[:50], device_id=device_id, site=site)
    body_id = data.get("device_id")
    if body_id is None:
        raise Rejected("missing_field", "device_id", device_id=device_id, site=site)
    if type(body_id) is not str:
        raise Rejected("bad_type", f"device_id is {type(body_id).__name__}", device_id=device_id, site=site)
    if body_id != device_id:
        raise Rejected("device_mismatch", f"payload says {body_id[:64]!r}", device_id=device_id, site=site)
    seq = _integer(data, "seq", site, device_id)
    ts = _integer(data, "ts", site, device_id)
    if not 0 <= seq <= MAX_SEQ:
        raise Rejected("impossible_value", f"seq {seq}", device_id=device_id, site=site)
    if ts - received_ms > max_skew_ms or received_ms - ts > max_skew_ms:
        raise Rejected("clock_skew", f"ts {ts} vs received {received_ms}", device_id=device_id, site=site)

    hr = _number(data, "hr", 0, 350, site, device_id)
    spo2 = _number(data, "spo2", 0, 100, site, device_id)
    rr = _number(data, "rr", 0, 120, site, device_id)
    sbp = _number(data, "sbp", 0, 300, site, device_id)
    dbp = _number(data, "dbp", 0, 250, site, device_id)
    mean = _number(data, "map", 0, 300, site, device_id)
    temp = _number(data, "temp", 25, 45, site, device_id)

    status = _sub_object(data, "status", site, device_id)
    ecg_status = _sensor_state(status, "ecg", site, device_id)
    spo2_status = _sensor_state(status, "spo2", site, device_id)
    sqi = _sub_object(data, "sqi", site, device_id)
    if sqi is not None:
        sqi_ecg = _number(sqi, "ecg", 0.0, 1.0, site, device_id)
        sqi_spo2 = _number(sqi, "spo2", 0.0, 1.0, site, device_id)
    else:
        sqi_ecg = sqi_spo2 = None

    # A sensor that is off has no value, whatever the device still sends.
    if ecg_status == "off":
        hr = None
    if spo2_status == "off":
        spo2 = None
    return VitalsMessage(
        site,
        device_id,
        seq,
        ts,
        received_ms,
        hr,
        spo2,
        rr,
        sbp,
        dbp,
        mean,
        temp,
        ecg_status,
        spo2_status,
        sqi_ecg,
        sqi_spo2,
    )


def parse_status(topic: str, payload: bytes) -> DeviceStatus | None:
    """Validate a retained status message ``{"online": bool, "battery": 0-100}``.

    Returns ``None`` for an empty payload (the retained message was cleared); raises :class:`Rejected`.
    """
    site, kind, device_id = parse_topic(topic)
    if kind != "status":
        raise Rejected("bad_topic", f"not a status topic: {topic[:200]}", device_id=device_id, site=site)
    if not payload:
        return None
    data = _load_object(payload, site, device_id)
    online = data.get("online")
    if online is None:
        raise Rejected("missing_field", "online", device_id=device_id, site=site)
    if type(online) is not bool:
        raise Rejected("bad_type", f"online is {type(online).__name__}", device_id=device_id, site=site)
    battery = _number(data, "battery", BATTERY_RANGE[0], BATTERY_RANGE[1], site, device_id)
    return DeviceStatus(site, device_id, online, battery)


# ------------------------------------------------------------------------------------------- commands


class ResendCommand(NamedTuple):
    """``{"cmd":"resend","from_seq":N,"to_seq":M}``: republish the samples with ``N <= seq <= M`` unchanged."""

    from_seq: int
    to_seq: int

    @property
    def payload(self) -> bytes:
        return orjson.dumps({"cmd": "resend", "from_seq": self.from_seq, "to_seq": self.to_seq})


def parse_command(payload: bytes) -> ResendCommand:
    """Decode a command to a monitor; ``ValueError`` saying what is wrong otherwise (only ``resend`` exists)."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise ValueError("command is not JSON") from None
    if not isinstance(data, dict) or data.get("cmd") != "resend":
        raise ValueError('unknown command (expected {"cmd":"resend",...})')
    first, last = data.get("from_seq"), data.get("to_seq")
    if type(first) is not int or type(last) is not int or not 0 <= first <= last <= MAX_SEQ:
        raise ValueError("resend needs integer from_seq <= to_seq")
    return ResendCommand(first, last)
