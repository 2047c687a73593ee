"""Alarm engine after IEC 60601-1-8: a deterministic state machine per bed and alarm condition.

Pure: the standard library and the monitor contract (:mod:`domain.vitals_contract`) only, no I/O, no clock. Every
call takes ``now_ms`` (epoch milliseconds, server clock) and returns the :class:`Change` objects it caused; the
caller persists them (``alarm_event``) and publishes them.

How one condition moves (``_step``), the same for every condition:

* **onset** – the condition must be present without interruption for its *condition delay* before the alarm
  starts (IEC 60601-1-8 calls this the ALARM CONDITION DELAY; 0 s for latching extremes).
* **hysteresis** – an active alarm clears only when the value is back inside the limit *by a margin* and has
  stayed there for the *clearing delay*. A value inside the limit but within the margin neither clears nor
  re-confirms: it restarts the clearing delay.
* **one alarm per episode** – while the clearing delay runs the alarm stays active; a condition that returns in
  that time continues the same alarm instead of starting a new one.
* **unknown** – a missing, ``off``, noisy or implausible measurement can neither start nor confirm a physiological
  alarm (signal-quality gating): a pending onset is dropped and an active alarm ends after its clearing delay. The
  technical alarm (leads off, probe off, noisy signal, no data) takes over. Leads-off is never asystole.
* **latching** – a latching alarm (IEC 60601-1-8 LATCHING ALARM SIGNAL) stays after its condition has cleared
  and ends only when it has been acknowledged *and* the condition has cleared.
* **supersession** – while an extreme alarm is active the ordinary alarm of the same parameter is not shown
  (``spo2_extreme_low`` supersedes ``spo2_low``; ``news2_high`` supersedes ``news2_medium``), so one physiological
  problem raises one alarm.

Priorities and limits chosen here (see ``CONDITIONS`` and ``PROFILES``): life-threatening extremes and NEWS2 ≥ 7
are high (red); ordinary limit violations of HR, SpO2, RR, SBP and MAP, NEWS2 5–6, and — on a monitored bed —
leads-off and no data are medium (yellow); temperature, DBP, SBP/MAP high and the other technical conditions are
low (cyan). This follows common bedside-monitor practice (limit alarm = yellow, extreme = red).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, make_dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any, Literal, get_type_hints

from domain.vitals_contract import MEASURED_FIELDS, VitalsMessage

PARAMETERS = ("hr", "spo2", "rr", "sbp", "dbp", "map", "temp")
NIBP_PARAMETERS = ("sbp", "dbp", "map")
LABELS = {"hr": "HR", "spo2": "SpO2", "rr": "RR", "sbp": "SBP", "dbp": "DBP", "map": "MAP", "temp": "Temp"}

Priority = Literal["high", "medium", "low"]
Kind = Literal["physiological", "technical", "clinical"]
ChangeKind = Literal["started", "ended", "acknowledged", "escalated"]
Bounds = tuple[float | None, float | None]

HIGH: Priority = "high"
MEDIUM: Priority = "medium"
LOW: Priority = "low"
PRIORITY_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}
PRIORITY_COLOURS = {HIGH: "red", MEDIUM: "yellow", LOW: "cyan"}
# IEC 60601-1-8 Table 2 (visual alarm signals): high = red flashing at 1.4–2.8 Hz, medium = yellow flashing at
# 0.4–0.8 Hz, both with a 20–60 % "on" duty cycle; low = cyan (or yellow), constant.
HIGH_FLASH_HZ = 2.0
MEDIUM_FLASH_HZ = 0.5
LOW_FLASH_HZ = 0.0  # steady, no flashing
FLASH_HZ = {HIGH: HIGH_FLASH_HZ, MEDIUM: MEDIUM_FLASH_HZ, LOW: LOW_FLASH_HZ}
FLASH_DUTY = 0.5

ESCALATE_AFTER_MS = 60_000
AUDIO_PAUSE_MS = 120_000
EXPECTED_INTERVAL_MS = 1_000
NO_DATA_INTERVALS = 3
SQI_MIN = 0.5  # signal quality index below this counts as noisy ...
SQI_CLEAR = 0.6  # ... and the noisy alarm clears only at or above this
BATTERY_LOW_PCT = 20  # battery_low below 20 % ...
BATTERY_CLEAR_PCT = 25  # ... clears at 25 % or more
CLOCK_SKEW_MS = 5_000  # |device ts − received| above 5 s ...
CLOCK_SKEW_CLEAR_MS = 4_000  # ... clears at 4 s or less
HR_EXTREME_LOW = 30.0
SPO2_EXTREME_LOW = 80.0
NEWS2_MEDIUM = 5
NEWS2_HIGH = 7
# Hysteresis: how far back inside the limit a value must be before the alarm may clear.
CLEAR_MARGIN = {"hr": 2.0, "spo2": 2.0, "rr": 2.0, "sbp": 5.0, "dbp": 5.0, "map": 5.0, "temp": 0.2}
SENSOR_STATUSES = ("ok", "off", "noisy")


@dataclass(frozen=True)
class Limits:
    """Alarm limits per parameter as ``(low, high)``; ``None`` on a side means no alarm on that side.
    ``hr_extreme_low``: the profile's life-threatening heart rate (``hr_extreme_low``, high priority), which no
    bed's own limits move."""

    hr: Bounds = (None, None)
    spo2: Bounds = (None, None)
    rr: Bounds = (None, None)
    sbp: Bounds = (None, None)
    dbp: Bounds = (None, None)
    map: Bounds = (None, None)
    temp: Bounds = (None, None)
    hr_extreme_low: float = HR_EXTREME_LOW

    def __post_init__(self) -> None:
        for param in PARAMETERS:
            low, high = getattr(self, param)
            if low is not None and high is not None and low >= high:
                raise ValueError(f"{param}: low limit {low} must be below high limit {high}")

    def __getitem__(self, param: str) -> Bounds:
        if param not in PARAMETERS:
            raise KeyError(param)
        return getattr(self, param)

    def as_dict(self) -> dict[str, Bounds]:
        """``{"hr": (50, 120), ...}``."""
        return {param: getattr(self, param) for param in PARAMETERS}


# Adult ward defaults. ICU is deliberately looser on rate and temperature limits (HR 45–130, RR 8–35, temp up to
# 39.0 °C): ICU patients are watched 1:1 or 1:2, tachycardia, tachypnoea and fever are common and already known,
# and most ICU limit alarms are non-actionable (alarm fatigue). Oxygenation and perfusion limits (SpO2 90, SBP 90,
# MAP 65) are the same in both: those are never loosened by profile, only per bed by a clinician.
PROFILES: dict[str, Limits] = {
    "adult": Limits(
        hr=(50, 120),
        spo2=(90, None),
        rr=(8, 30),
        sbp=(90, 180),
        dbp=(40, 110),
        map=(65, 110),
        temp=(35.5, 38.5),
    ),
    "icu": Limits(
        hr=(45, 130),
        spo2=(90, None),
        rr=(8, 35),
        sbp=(90, 180),
        dbp=(40, 110),
        map=(65, 110),
        temp=(35.5, 39.0),
    ),
}


# Children's profiles, on any ward: the bedside monitors' own defaults for their "pediatric" and "neonate" patient
# categories (the Mindray operator's manuals, and monitors built on them such as the Contec CMS8000: pulse rate
# 75–160 and 100–200/min, SpO2 low limit 90 and 85 %, NIBP systolic 70–120 and 40–90, diastolic 40–70 and 20–60,
# mean 50–90 and 25–70, respiration 8–30 and 30–100/min). Two deviations, both Pantau's: no SpO2 high limit for a
# neonate (the monitors' 95 % is for a preterm baby on oxygen; a term baby in room air sits at 97–100 % and would
# alarm all day), and a neonate's low limit at 90 %, the WHO's threshold of hypoxaemia in children, not 85 %. The
# temperature limits follow the adult profile for a child and the WHO's thermal care of the newborn for a neonate
# (below 36.0 °C is moderate hypothermia; 38.0 °C and over a fever to act on). A child's life-threatening heart rate
# is below 60/min, where paediatric and newborn resuscitation (PALS, NRP) start chest compressions, not an adult's
# 30. A clinician sets a child's own limits on the bed page, as for anyone.
PROFILES |= {
    "paediatric": Limits(
        hr=(75, 160),
        spo2=(90, None),
        rr=(8, 30),
        sbp=(70, 120),
        dbp=(40, 70),
        map=(50, 90),
        temp=(35.5, 38.5),
        hr_extreme_low=60.0,
    ),
    "neonatal": Limits(
        hr=(100, 200),
        spo2=(90, None),
        rr=(30, 100),
        sbp=(40, 90),
        dbp=(20, 60),
        map=(25, 70),
        temp=(36.0, 38.0),
        hr_extreme_low=60.0,
    ),
}
NEONATAL_DAYS = 28  # a neonate up to and including her 28th day of life, as the monitors' patient category
PAEDIATRIC_BEFORE_YEARS = 12  # a child's profile until the 12th birthday; the ward's adult or ICU profile from then


def ward_profile(ward_kind: str | None) -> str:
    """The alarm profile of a ward's kind (``domain.hospital.WARD_KINDS``): ``icu`` for an intensive care ward,
    ``adult`` for any other (a general or a maternity ward)."""
    return "icu" if ward_kind == "icu" else "adult"


def patient_profile(ward_kind: str | None, birth_date: date, today: date) -> str:
    """The alarm profile of a patient born on ``birth_date`` lying on a ward of ``ward_kind``, on the site's
    ``today``: ``neonatal`` up to her 28th day of life, ``paediatric`` until her 12th birthday, on any ward; the
    ward's profile from then."""
    if (today - birth_date).days <= NEONATAL_DAYS:
        return "neonatal"
    if (today.year, today.month, today.day) < (
        birth_date.year + PAEDIATRIC_BEFORE_YEARS,
        birth_date.month,
        birth_date.day,
    ):
        return "paediatric"
    return ward_profile(ward_kind)


def effective_limits(profile: str | Limits, overrides: Mapping[str, Bounds] | None = None) -> Limits:
    """The unit profile's limits with a bed's overrides applied per side (``None`` in an override = inherit).

    A limit cannot be switched off per bed; raises ``ValueError`` for an unknown profile or parameter or when a
    resulting low limit is not below its high limit.
    """
    if isinstance(profile, Limits):
        base = profile
    elif profile in PROFILES:
        base = PROFILES[profile]
    else:
        raise ValueError(f"unknown alarm profile {profile!r}")
    merged: dict[str, Bounds] = {}
    for param, (low, high) in (overrides or {}).items():
        if param not in PARAMETERS:
            raise ValueError(f"unknown alarm parameter {param!r}")
        base_low, base_high = base[param]
        merged[param] = (base_low if low is None else float(low), base_high if high is None else float(high))
    return replace(base, **merged)


@dataclass(frozen=True)
class ConditionSpec:
    """How one alarm condition behaves. ``priority_unmonitored`` applies when the bed is not monitored."""

    kind: Kind
    priority: Priority
    onset_delay_ms: int
    clear_delay_ms: int
    latching: bool = False
    parameter: str | None = None
    priority_unmonitored: Priority | None = None


def _phys(priority: Priority, param: str, onset_ms: int, clear_ms: int, latching: bool = False) -> ConditionSpec:
    return ConditionSpec("physiological", priority, onset_ms, clear_ms, latching, param)


def _tech(priority: Priority, onset_ms: int, clear_ms: int, unmonitored: Priority | None = None) -> ConditionSpec:
    return ConditionSpec("technical", priority, onset_ms, clear_ms, priority_unmonitored=unmonitored)


# Order matters: extremes come before the ordinary condition they supersede. NIBP (sbp/dbp/map) delays are 0:
# each cuff reading is a discrete, already-averaged measurement that stands until the next one.
CONDITIONS: dict[str, ConditionSpec] = {
    "hr_extreme_low": _phys(HIGH, "hr", 0, 5_000, latching=True),
    "spo2_extreme_low": _phys(HIGH, "spo2", 0, 5_000, latching=True),
    "hr_low": _phys(MEDIUM, "hr", 5_000, 5_000),
    "hr_high": _phys(MEDIUM, "hr", 5_000, 5_000),
    "spo2_low": _phys(MEDIUM, "spo2", 10_000, 5_000),
    "spo2_high": _phys(LOW, "spo2", 10_000, 5_000),
    "rr_low": _phys(MEDIUM, "rr", 10_000, 10_000),
    "rr_high": _phys(MEDIUM, "rr", 10_000, 10_000),
    "sbp_low": _phys(MEDIUM, "sbp", 0, 0),
    "sbp_high": _phys(LOW, "sbp", 0, 0),
    "dbp_low": _phys(LOW, "dbp", 0, 0),
    "dbp_high": _phys(LOW, "dbp", 0, 0),
    "map_low": _phys(MEDIUM, "map", 0, 0),
    "map_high": _phys(LOW, "map", 0, 0),
    "temp_low": _phys(LOW, "temp", 30_000, 30_000),
    "temp_high": _phys(LOW, "temp", 30_000, 30_000),
    # Technical. "off" is reported by the device itself: raised at once so that no gap opens between the
    # suppressed physiological alarm and its replacement.
    "ecg_leads_off": _tech(MEDIUM, 0, 5_000, unmonitored=LOW),
    "spo2_probe_off": _tech(LOW, 0, 5_000),
    "ecg_noisy": _tech(LOW, 5_000, 5_000),
    "spo2_noisy": _tech(LOW, 5_000, 5_000),
    "no_data": _tech(MEDIUM, 0, 0, unmonitored=LOW),  # the 3-interval wait is the delay
    "battery_low": _tech(LOW, 0, 0),
    "clock_skew": _tech(LOW, 10_000, 10_000),
    # Clinical, fed by observe_news2(); NEWS2 from per-second vitals flickers, hence the delays.
    "news2_high": ConditionSpec("clinical", HIGH, 30_000, 120_000),
    "news2_medium": ConditionSpec("clinical", MEDIUM, 30_000, 120_000),
}
SUPERSEDED_BY = {"hr_low": "hr_extreme_low", "spo2_low": "spo2_extreme_low", "news2_medium": "news2_high"}
# Conditions derived from numerics messages: unknown while no data arrives.
READING_CONDITIONS = (
    *(c for c, s in CONDITIONS.items() if s.kind == "physiological"),
    *("ecg_leads_off", "spo2_probe_off", "ecg_noisy", "spo2_noisy", "clock_skew"),
)
# Conditions fed by sporadic calls: their last evaluation stands, and tick() lets their delays run on.
EVENT_CONDITIONS = ("news2_high", "news2_medium", "battery_low")


Reading = make_dataclass(
    "Reading",
    [
        ("ts_ms", int),
        ("received_ms", int),
        *((name, get_type_hints(VitalsMessage)[name], None) for name in MEASURED_FIELDS),
    ],
    frozen=True,
    namespace={
        "__module__": __name__,
        "__doc__": """One numerics message: its device time, when we received it, and the measured fields of
    :class:`~domain.vitals_contract.VitalsMessage` under the same names (``MEASURED_FIELDS``). Vitals are ``None``
    when not measured; ``sbp``/``dbp``/``map`` only come with a new cuff reading (the previous one stands until
    then). Sensor status ``"ok"``/``"off"``/``"noisy"``/``None``.""",
    },
)


@dataclass
class Alarm:
    """One alarm episode of one condition on one bed. ``id`` is the caller's (``alarm_event.id``)."""

    condition: str
    kind: Kind
    priority: Priority
    started_ms: int
    value: float | None
    message: str
    latched: bool = False
    onset_ms: int | None = None  # when the condition was first seen (started_ms − condition delay)
    acked_by: str | int | None = None
    acked_ms: int | None = None
    acked_where: str | None = None
    escalated_ms: int | None = None
    ended_ms: int | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alarm:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def live(self) -> dict[str, Any]:
        """The object stored in ``pantau:alarms:{ward}`` (docs/live-data.md)."""
        return {
            "id": self.id,
            "condition": self.condition,
            "kind": self.kind,
            "priority": self.priority,
            "since": self.started_ms,
            "value": self.value,
            "message": self.message,
            "acked": self.acked_ms is not None,
            "ack_by": self.acked_by,
            "latched": self.latched,
        }


@dataclass(frozen=True)
class Change:
    """Something that happened to an alarm; ``alarm`` is a snapshot taken at that moment."""

    kind: ChangeKind
    alarm: Alarm


class _Eval(StrEnum):
    PRESENT = "present"  # condition met
    BAND = "band"  # not met, but inside the hysteresis margin: neither starts nor clears
    ABSENT = "absent"  # clearly not met
    UNKNOWN = "unknown"  # cannot be judged (missing or invalid signal): counts towards clearing, never onset


@dataclass
class _Track:
    pending_since: int | None = None  # condition present, onset delay running
    clear_since: int | None = None  # alarm active, clearing delay running
    cleared: bool = False  # the active alarm's condition has cleared (kept only by a latched alarm)
    last: _Eval | None = None
    value: float | None = None  # value and message of the last PRESENT evaluation
    message: str = ""

    def reset(self) -> None:
        self.pending_since = self.clear_since = None
        self.cleared = False


def _finite(value: float | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _num(value: float) -> str:
    return f"{round(value, 1):g}"


def _signal_bad(status: str | None, sqi: float | None) -> tuple[bool, bool]:
    """(off, noisy) for one sensor. Unknown status strings count as noisy; a low SQI is noisy."""
    off = status == "off"
    noisy = not off and ((status is not None and status != "ok") or (sqi is not None and sqi < SQI_MIN))
    return off, noisy


def _limit_eval(value: float | None, limit: float | None, side: str, margin: float) -> _Eval:
    if limit is None:
        return _Eval.ABSENT
    if value is None:
        return _Eval.UNKNOWN
    if side == "low":
        if value < limit:
            return _Eval.PRESENT
        return _Eval.ABSENT if value >= round(limit + margin, 6) else _Eval.BAND
    if value > limit:
        return _Eval.PRESENT
    return _Eval.ABSENT if value <= round(limit - margin, 6) else _Eval.BAND


class BedAlarms:
    """The alarm state of one bed. Feed it with ``observe*`` and call ``tick`` about once a second."""

    def __init__(
        self,
        *,
        monitored: bool = True,
        expected_interval_ms: int = EXPECTED_INTERVAL_MS,
        escalate_after_ms: int = ESCALATE_AFTER_MS,
        pause_ms: int = AUDIO_PAUSE_MS,
    ) -> None:
        self.monitored = monitored
        self.expected_interval_ms = expected_interval_ms
        self.escalate_after_ms = escalate_after_ms
        self.pause_ms = pause_ms  # the UI's default pause length; pause() takes an explicit end
        self.paused_until_ms: int | None = None
        self._online = True
        self._battery: int | None = None
        self._last_data_ms: int | None = None
        self._watch_since_ms: int | None = None
        self._nibp: dict[str, float] = {}
        self._tracks: dict[str, _Track] = {}
        self._alarms: dict[str, Alarm] = {}

    # ---------------------------------------------------------------- inputs

    def observe(self, reading: Reading, limits: Limits, now_ms: int) -> list[Change]:
        """Evaluate one numerics message against ``limits``; ``now_ms`` is normally ``reading.received_ms`` (all
        delays run on the server clock, the device clock is only compared with it for ``clock_skew``)."""
        self._touch(now_ms)
        self._last_data_ms = now_ms
        self._online = True  # a numerics message is proof of life, whatever a stale status said
        changes = self._step("no_data", _Eval.ABSENT, now_ms)

        ecg_off, ecg_noisy = _signal_bad(reading.ecg_status, _finite(reading.sqi_ecg))
        spo2_off, spo2_noisy = _signal_bad(reading.spo2_status, _finite(reading.sqi_spo2))
        # Signal-quality gating: a value from an off or noisy sensor is missing, never 0 and never an alarm.
        values: dict[str, float | None] = {p: _finite(getattr(reading, p)) for p in PARAMETERS}
        if ecg_off or ecg_noisy:
            values["hr"] = None
        if ecg_off:
            values["rr"] = None  # impedance respiration is measured through the ECG leads
        if spo2_off or spo2_noisy:
            values["spo2"] = None
        for param in NIBP_PARAMETERS:
            if values[param] is not None:
                self._nibp[param] = values[param]  # type: ignore[assignment]
            values[param] = self._nibp.get(param)

        changes += self._technical(reading, now_ms, ecg_off, ecg_noisy, spo2_off, spo2_noisy)
        changes += self._physiological(values, limits, now_ms, ecg_ok=reading.ecg_status == "ok")
        changes += self._finish_latched(now_ms)
        return changes

    def observe_news2(self, total: int | None, now_ms: int) -> list[Change]:
        """Evaluate a NEWS2 total (``None`` = incomplete score, which can neither raise nor keep an alarm)."""
        self._touch(now_ms)
        changes: list[Change] = []
        for condition, threshold in (("news2_high", NEWS2_HIGH), ("news2_medium", NEWS2_MEDIUM)):
            if total is None:
                changes += self._step(condition, _Eval.UNKNOWN, now_ms)
            elif total >= threshold:
                changes += self._step(condition, _Eval.PRESENT, now_ms, total, f"NEWS2 {total} ≥ {threshold}")
            else:
                changes += self._step(condition, _Eval.ABSENT, now_ms)
        return changes

    def observe_status(self, online: bool, battery: int | None, now_ms: int) -> list[Change]:
        """Evaluate a device status message (``battery`` ``None`` = not reported, the last value stands)."""
        self._touch(now_ms)
        self._online = online
        changes: list[Change] = []
        if not online:
            changes += self._step("no_data", _Eval.PRESENT, now_ms, None, "Device offline")
        level = _finite(battery)
        if level is not None:
            self._battery = int(level)
            if level < BATTERY_LOW_PCT:
                message = f"Battery {_num(level)} % < {BATTERY_LOW_PCT} %"
                changes += self._step("battery_low", _Eval.PRESENT, now_ms, level, message)
            else:
                ev = _Eval.ABSENT if level >= BATTERY_CLEAR_PCT else _Eval.BAND
                changes += self._step("battery_low", ev, now_ms)
        return changes

    def tick(self, now_ms: int) -> list[Change]:
        """Time passes: no-data detection, delays of sporadic inputs, latched endings, escalation."""
        self._touch(now_ms)
        changes: list[Change] = []
        reference = self._last_data_ms if self._last_data_ms is not None else self._watch_since_ms
        silent_ms = now_ms - reference if reference is not None else 0
        if not self._online or silent_ms > NO_DATA_INTERVALS * self.expected_interval_ms:
            message = f"No data for {silent_ms // 1000} s" if self._online else "Device offline"
            changes += self._step("no_data", _Eval.PRESENT, now_ms, float(silent_ms // 1000), message)
            # Without data nothing derived from numerics can be judged; the held cuff reading is stale too.
            self._nibp.clear()
            for condition in READING_CONDITIONS:
                if condition in self._alarms or condition in self._tracks:
                    changes += self._step(condition, _Eval.UNKNOWN, now_ms)
        else:
            changes += self._step("no_data", _Eval.ABSENT, now_ms)
        for condition in EVENT_CONDITIONS:
            track = self._tracks.get(condition)
            if track is not None and track.last is not None:
                changes += self._step(condition, track.last, now_ms, track.value, track.message)
        changes += self._finish_latched(now_ms)
        for alarm in self._sorted():
            # Escalation: an unacknowledged high-priority alarm that has lasted escalate_after_ms, reported once.
            if (
                alarm.priority == HIGH
                and alarm.acked_ms is None
                and alarm.escalated_ms is None
                and now_ms - alarm.started_ms >= self.escalate_after_ms
            ):
                alarm.escalated_ms = now_ms
                changes.append(Change("escalated", replace(alarm)))
        return changes

    # ---------------------------------------------------------------- people

    def acknowledge(self, condition: str, who: str | int, where: str | None, now_ms: int) -> Change | None:
        """Acknowledge the active alarm of ``condition``: it stops sounding and escalating. ``None`` when there is
        no such alarm or it is already acknowledged. A latched alarm whose condition has already cleared is ended by
        the next ``tick``/``observe``."""
        alarm = self._alarms.get(condition)
        if alarm is None or alarm.acked_ms is not None:
            return None
        alarm.acked_by, alarm.acked_where, alarm.acked_ms = who, where, now_ms
        return Change("acknowledged", replace(alarm))

    def pause(self, until_ms: int) -> None:
        """Pause the bed's audio until ``until_ms`` (default length: ``pause_ms``; a past time resumes it). This is
        IEC 60601-1-8 AUDIO PAUSED: visual signals, new alarms and escalation carry on; only ``audible`` changes."""
        self.paused_until_ms = until_ms

    def pause_remaining_ms(self, now_ms: int) -> int:
        """Milliseconds left of the audio pause (the UI's countdown); 0 when not paused."""
        return max(0, self.paused_until_ms - now_ms) if self.paused_until_ms is not None else 0

    def assign_id(self, condition: str, alarm_id: int) -> bool:
        """Remember the caller's id (``alarm_event.id``) of the active alarm of ``condition``."""
        alarm = self._alarms.get(condition)
        if alarm is None:
            return False
        alarm.id = alarm_id
        return True

    # ---------------------------------------------------------------- outputs

    def active(self) -> list[Alarm]:
        """Copies of the active alarms, high → low priority, then oldest first."""
        return [replace(alarm) for alarm in self._sorted()]

    def audible(self, now_ms: int) -> bool:
        """Whether the bed should sound: an unacknowledged high or medium alarm and no audio pause running."""
        if self.pause_remaining_ms(now_ms) > 0:
            return False
        return any(a.priority in (HIGH, MEDIUM) and a.acked_ms is None for a in self._alarms.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the whole state, pending delays included."""
        return {
            "v": 1,
            "monitored": self.monitored,
            "expected_interval_ms": self.expected_interval_ms,
            "escalate_after_ms": self.escalate_after_ms,
            "pause_ms": self.pause_ms,
            "paused_until_ms": self.paused_until_ms,
            "online": self._online,
            "battery": self._battery,
            "last_data_ms": self._last_data_ms,
            "watch_since_ms": self._watch_since_ms,
            "nibp": dict(self._nibp),
            "tracks": {
                c: {
                    "pending_since": t.pending_since,
                    "clear_since": t.clear_since,
                    "cleared": t.cleared,
                    "last": None if t.last is None else t.last.value,
                    "value": t.value,
                    "message": t.message,
                }
                for c, t in self._tracks.items()
            },
            "alarms": [a.to_dict() for a in self._alarms.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BedAlarms:
        """Restore a :meth:`to_dict` snapshot (e.g. after a consumer restart)."""
        if data.get("v") != 1:
            raise ValueError(f"unknown alarm state version {data.get('v')!r}")
        bed = cls(
            monitored=bool(data["monitored"]),
            expected_interval_ms=int(data["expected_interval_ms"]),
            escalate_after_ms=int(data["escalate_after_ms"]),
            pause_ms=int(data["pause_ms"]),
        )
        bed.paused_until_ms = data.get("paused_until_ms")
        bed._online = bool(data.get("online", True))
        bed._battery = data.get("battery")
        bed._last_data_ms = data.get("last_data_ms")
        bed._watch_since_ms = data.get("watch_since_ms")
        bed._nibp = {k: float(v) for k, v in data.get("nibp", {}).items() if k in NIBP_PARAMETERS}
        for condition, t in data.get("tracks", {}).items():
            if condition in CONDITIONS:
                bed._tracks[condition] = _Track(
                    pending_since=t.get("pending_since"),
                    clear_since=t.get("clear_since"),
                    cleared=bool(t.get("cleared", False)),
                    last=None if t.get("last") is None else _Eval(t["last"]),
                    value=t.get("value"),
                    message=t.get("message", ""),
                )
        for raw in data.get("alarms", []):
            alarm = Alarm.from_dict(raw)
            if alarm.condition in CONDITIONS:
                bed._alarms[alarm.condition] = alarm
        return bed

    # ---------------------------------------------------------------- engine

    def _touch(self, now_ms: int) -> None:
        if self._watch_since_ms is None:
            self._watch_since_ms = now_ms

    def _sorted(self) -> list[Alarm]:
        return sorted(self._alarms.values(), key=lambda a: (PRIORITY_RANK[a.priority], a.started_ms, a.condition))

    def _technical(
        self, reading: Reading, now_ms: int, ecg_off: bool, ecg_noisy: bool, spo2_off: bool, spo2_noisy: bool
    ) -> list[Change]:
        changes: list[Change] = []
        for condition, off, label in (
            ("ecg_leads_off", ecg_off, "ECG leads off"),
            ("spo2_probe_off", spo2_off, "SpO2 probe off"),
        ):
            ev = _Eval.PRESENT if off else _Eval.ABSENT
            changes += self._step(condition, ev, now_ms, None, label if off else "")
        for condition, off, noisy, sqi, label in (
            ("ecg_noisy", ecg_off, ecg_noisy, _finite(reading.sqi_ecg), "ECG"),
            ("spo2_noisy", spo2_off, spo2_noisy, _finite(reading.sqi_spo2), "SpO2"),
        ):
            if noisy:
                message = f"{label} noisy" + (f" (SQI {sqi:.2f})" if sqi is not None and sqi < SQI_MIN else "")
                changes += self._step(condition, _Eval.PRESENT, now_ms, sqi, message)
            elif off or sqi is None or sqi >= SQI_CLEAR:
                changes += self._step(condition, _Eval.ABSENT, now_ms)
            else:
                changes += self._step(condition, _Eval.BAND, now_ms)
        skew = reading.received_ms - reading.ts_ms
        if abs(skew) > CLOCK_SKEW_MS:
            ev, message = _Eval.PRESENT, f"Clock skew {_num(skew / 1000)} s"
        else:
            ev, message = (_Eval.ABSENT if abs(skew) <= CLOCK_SKEW_CLEAR_MS else _Eval.BAND), ""
        changes += self._step("clock_skew", ev, now_ms, skew / 1000, message)
        return changes

    def _physiological(
        self, values: Mapping[str, float | None], limits: Limits, now_ms: int, *, ecg_ok: bool
    ) -> list[Change]:
        changes: list[Change] = []
        for condition, spec in CONDITIONS.items():
            if spec.kind != "physiological" or spec.parameter is None:
                continue
            param = spec.parameter
            value = values[param]
            margin = CLEAR_MARGIN[param]
            if condition == "hr_extreme_low":
                # Only from a verified ECG (status explicitly ok, good SQI): leads-off is never asystole.
                ev = _limit_eval(value if ecg_ok else None, limits.hr_extreme_low, "low", margin)
                limit: float | None = limits.hr_extreme_low
                symbol = "<"
            elif condition == "spo2_extreme_low":
                ev = _limit_eval(value, SPO2_EXTREME_LOW, "low", margin)
                limit, symbol = SPO2_EXTREME_LOW, "<"
            else:
                side = "low" if condition.endswith("_low") else "high"
                low, high = limits[param]
                limit = low if side == "low" else high
                ev = _limit_eval(value, limit, side, margin)
                symbol = "<" if side == "low" else ">"
            message = ""
            if ev is _Eval.PRESENT and value is not None and limit is not None:
                message = f"{LABELS[param]} {_num(value)} {symbol} {_num(limit)}"
            changes += self._step(condition, ev, now_ms, value, message)
        return changes

    def _priority(self, condition: str) -> Priority:
        spec = CONDITIONS[condition]
        if not self.monitored and spec.priority_unmonitored is not None:
            return spec.priority_unmonitored
        return spec.priority

    def _step(
        self, condition: str, ev: _Eval, now_ms: int, value: float | None = None, message: str = ""
    ) -> list[Change]:
        """Advance one condition's state machine by one evaluation."""
        spec = CONDITIONS[condition]
        track = self._tracks.setdefault(condition, _Track())
        track.last = ev
        if ev is _Eval.PRESENT:
            track.value, track.message = value, message
        boss = SUPERSEDED_BY.get(condition)
        superseded = boss is not None and boss in self._alarms
        alarm = self._alarms.get(condition)
        if alarm is None:
            if ev is not _Eval.PRESENT:
                track.pending_since = None
                return []
            if track.pending_since is None:
                track.pending_since = now_ms
            if superseded or now_ms - track.pending_since < spec.onset_delay_ms:
                return []
            alarm = Alarm(
                condition=condition,
                kind=spec.kind,
                priority=self._priority(condition),
                started_ms=now_ms,
                value=value,
                message=message,
                latched=spec.latching,
                onset_ms=track.pending_since,
            )
            self._alarms[condition] = alarm
            track.reset()
            return [Change("started", replace(alarm))]
        if ev is _Eval.PRESENT:
            track.clear_since, track.cleared = None, False
        elif ev is _Eval.BAND:
            track.clear_since = None
        else:
            if track.clear_since is None:
                track.clear_since = now_ms
            if now_ms - track.clear_since >= spec.clear_delay_ms:
                track.cleared = True
        if (superseded and not alarm.latched) or (track.cleared and (not alarm.latched or alarm.acked_ms is not None)):
            return [self._end(condition, now_ms)]
        return []

    def _end(self, condition: str, now_ms: int) -> Change:
        alarm = self._alarms.pop(condition)
        # Never before it started: a sample older than the tick that raised "no data" (one held back by an
        # outage) ends that episode where it began.
        alarm.ended_ms = max(now_ms, alarm.started_ms)
        self._tracks[condition].reset()
        return Change("ended", replace(alarm))

    def _finish_latched(self, now_ms: int) -> list[Change]:
        """A latched alarm ends once it is acknowledged and its condition has cleared (IEC 60601-1-8 latching)."""
        done = [
            c
            for c, a in self._alarms.items()
            if a.latched and a.acked_ms is not None and self._tracks.get(c, _Track()).cleared
        ]
        return [self._end(c, now_ms) for c in sorted(done)]
