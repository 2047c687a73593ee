"""The process's shared services (settings, database, live store, field cipher, broker address), built once
per app and reached from request code through ``current_runtime()``."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from data.db import Database
from data.field_crypto import FieldCipher
from data.live_store import LiveStore, open_live_store
from data.mqtt_client import BrokerAddress, broker_address


@dataclass
class Runtime:
    settings: Settings
    db: Database
    live: LiveStore
    cipher: FieldCipher
    broker: BrokerAddress

    def close(self) -> None:
        self.live.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, embedded_mqtt_port: int | None = None) -> Runtime:
    """Create the service objects; none of them connects until first used."""
    return Runtime(
        settings=settings,
        db=Database(
            settings.database_url,
            connect_timeout_seconds=settings.db_connect_timeout_seconds,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        ),
        live=open_live_store(settings.redis_url),
        cipher=FieldCipher(settings.data_keys, settings.blind_index_key),
        broker=broker_address(settings, embedded_port=embedded_mqtt_port or settings.embedded_mqtt_port),
    )


def current_runtime() -> Runtime:
    """The runtime of the Flask app handling the current request."""
    from flask import current_app

    return current_app.extensions["pantau"]
