"""What the fault bench counts: the samples the monitors published (a witness subscriber on their vitals
topics), the rows the database holds for them, and the alarm episodes the clinical step stored."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import create_engine, func, select

from bridge.mqtt import BrokerAddress, make_client
from data.models import AlarmEvent, Bed, VitalSample


class Witness:
    """Subscribes to every monitor's vitals topic (QoS 1) and keeps, per device, the lowest and highest ``seq``
    it saw: the samples published are that range (the simulator numbers each device's samples 0, 1, 2, …; a
    reboot would restart it, and the bench runs none)."""

    def __init__(self, mqtt_url: str, site: str) -> None:
        self.lowest: dict[str, int] = {}
        self.highest: dict[str, int] = {}
        self.messages = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._topic = f"pantau/v1/{site}/vitals/+"
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
            self.messages += 1
            self.lowest[device] = min(seq, self.lowest.get(device, seq))
            self.highest[device] = max(seq, self.highest.get(device, seq))

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Device → (first, last) seq seen so far."""
        with self._lock:
            return {d: (self.lowest[d], self.highest[d]) for d in self.lowest}

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
    """Samples published in the witnessed ranges, how many of them are stored, and extra rows per seq."""

    published: int
    stored: int
    duplicated: int

    @property
    def lost(self) -> int:
        return self.published - self.stored


class Ledger:
    """Read-only queries on the bench's database."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url, pool_pre_ping=True)

    def samples(self, ranges: dict[str, tuple[int, int]]) -> SampleCount:
        """Distinct stored seqs inside each device's range, and rows beyond one per (device, seq)."""
        published = stored = duplicated = 0
        with self.engine.connect() as conn:
            for device, (first, last) in sorted(ranges.items()):
                in_range = (VitalSample.device_id == device, VitalSample.seq.between(first, last))
                published += last - first + 1
                stored += conn.scalar(select(func.count(func.distinct(VitalSample.seq))).where(*in_range)) or 0
                rows, distinct = conn.execute(
                    select(func.count(), func.count(func.distinct(VitalSample.seq))).where(
                        VitalSample.device_id == device
                    )
                ).one()
                duplicated += rows - distinct
        return SampleCount(published, stored, duplicated)

    def alarms_since(self, since: datetime) -> list[StoredAlarm]:
        """Alarm episodes that started at or after ``since``, oldest first."""
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
            .where(AlarmEvent.started_at >= since)
            .order_by(AlarmEvent.started_at)
        )
        with self.engine.connect() as conn:
            return [StoredAlarm(*row) for row in conn.execute(query)]

    def close(self) -> None:
        self.engine.dispose()
