"""What the fault bench counts: the samples the monitors published (a witness subscriber on their vitals
topics), the rows the database holds for them, and the alarm episodes the clinical step stored."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import create_engine, func, select

from data.models import AlarmEvent, Bed, VitalSample, Ward
from data.mqtt_client import BrokerAddress, make_client
from data.mqtt_topics import ANY, vitals_topic
from domain.clock import now_ms


class Witness:
    """Subscribes to every monitor's vitals topic (QoS 1) and notes when it first saw each ``seq`` of each device:
    the samples published are each device's range from the lowest to the highest (the simulator numbers a
    device's samples 0, 1, 2, …; a reboot would restart it, and the bench runs none)."""

    def __init__(self, mqtt_url: str, site: str) -> None:
        self.seen: dict[str, dict[int, int]] = {}  # device → seq → epoch ms first seen
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._topic = vitals_topic(site, ANY)
        self._address = BrokerAddress.from_url(mqtt_url)
        self._client = make_client(
            self._address,
            f"pantau-fault-witness-{uuid.uuid4().hex[:8]}",
            persistent=False,
            on_connect=lambda client, *_: client.subscribe(self._topic, qos=1),
            on_message=self._on_message,
        )
        self._client.on_subscribe = lambda *_: self._subscribed.set()

    def start(self, timeout: float = 20) -> None:
        self._client.connect_async(self._address.host, self._address.port)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"the witness did not subscribe to {self._topic} within {timeout:.0f} s")

    def _on_message(self, client: object, userdata: object, message: object) -> None:
        try:
            body = orjson.loads(message.payload)
            device, seq = str(body["device_id"]), int(body["seq"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return
        with self._lock:
            self.seen.setdefault(device, {}).setdefault(seq, now_ms())

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Device → (first, last) seq seen so far."""
        with self._lock:
            return {d: (min(seqs), max(seqs)) for d, seqs in self.seen.items()}

    def quiet_for(self) -> float:
        """Seconds since the witness last saw a sample it had not seen before (all devices)."""
        with self._lock:
            last = max((max(seqs.values()) for seqs in self.seen.values()), default=0)
        return time.time() - last / 1000

    def when(self, device: str, seq: int) -> int:
        """About when ``seq`` was published (epoch ms): when the witness saw it or the nearest earlier one."""
        with self._lock:
            seqs = self.seen.get(device, {})
            earlier = [s for s in seqs if s <= seq]
            return seqs[max(earlier)] if earlier else min(seqs.values(), default=0)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclass(frozen=True)
class StoredAlarm:
    """One ``alarm_event`` row, by bed code."""

    bed: str
    condition: str
    priority: str
    started_at: datetime
    ended_at: datetime | None
    message: str


@dataclass(frozen=True)
class SampleCount:
    """Samples published in the witnessed ranges, those of them not stored (device → seqs), extra rows per seq."""

    published: int
    missing: dict[str, list[int]]
    duplicated: int

    @property
    def lost(self) -> int:
        return sum(len(seqs) for seqs in self.missing.values())


class Ledger:
    """Read-only queries on the bench's database."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url, pool_pre_ping=True)

    def samples(self, ranges: dict[str, tuple[int, int]]) -> SampleCount:
        """Seqs of each device's range that are not stored, and rows beyond one per (device, seq)."""
        published = duplicated = 0
        missing: dict[str, list[int]] = {}
        with self.engine.connect() as conn:
            for device, (first, last) in sorted(ranges.items()):
                in_range = (VitalSample.device_id == device, VitalSample.seq.between(first, last))
                published += last - first + 1
                stored = set(conn.scalars(select(VitalSample.seq).where(*in_range).distinct()))
                if gaps := [seq for seq in range(first, last + 1) if seq not in stored]:
                    missing[device] = gaps
                rows, distinct = conn.execute(
                    select(func.count(), func.count(func.distinct(VitalSample.seq))).where(
                        VitalSample.device_id == device
                    )
                ).one()
                duplicated += rows - distinct
        return SampleCount(published, missing, duplicated)

    def alarms_since(self, since: datetime, ward: str) -> list[StoredAlarm]:
        """Alarm episodes of ``ward``'s beds (code) that started at or after ``since``, oldest first."""
        query = (
            select(
                Bed.code,
                AlarmEvent.condition,
                AlarmEvent.priority,
                AlarmEvent.started_at,
                AlarmEvent.ended_at,
                AlarmEvent.message,
            )
            .join(Bed, Bed.id == AlarmEvent.bed_id)
            .join(Ward, Ward.id == Bed.ward_id)
            .where(AlarmEvent.started_at >= since, Ward.code == ward)
            .order_by(AlarmEvent.started_at)
        )
        with self.engine.connect() as conn:
            return [StoredAlarm(*row) for row in conn.execute(query)]

    def duplicated_alarms(self, since: datetime) -> int:
        """``alarm_event`` rows beyond one per (bed, condition, start): an episode stored twice (a retried write)."""
        key = (AlarmEvent.bed_id, AlarmEvent.condition, AlarmEvent.started_at)
        per_key = select(func.count().label("n")).where(AlarmEvent.started_at >= since).group_by(*key).subquery()
        with self.engine.connect() as conn:
            return conn.scalar(select(func.coalesce(func.sum(per_key.c.n - 1), 0))) or 0

    def close(self) -> None:
        self.engine.dispose()
