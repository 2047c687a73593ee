"""Pantau configuration: one ``Settings`` object read from ``PANTAU_*`` environment variables (and ``.env``).

Nothing else in the code base reads ``os.environ``. Demo values are marked ``DEMO``: production refuses them, and so
does every process that is not the embedded demo (``Settings.require_own_secrets``).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent

# Clearly marked, published demo values: only the embedded demo and the tests may run with them.
DEMO_SECRET_KEY = "DEMO-ONLY-secret-key-not-for-production"
DEMO_DATA_KEY = "demo:REVNTy1PTkxZLWRhdGEta2V5LTMyLWJ5dGVzLSEhISE="  # base64 of a 32-byte demo key
DEMO_BLIND_INDEX_KEY = "DEMO-ONLY-blind-index-key"
DEMO_JKN_USERNAME = "mobilejkn-demo"
DEMO_JKN_PASSWORD = "DEMO-ONLY-jkn-password"
DEMO_JKN_TOKEN_SECRET = "DEMO-ONLY-jkn-token-secret-not-for-production"
DEMO_SYNC_KEY = "REVNTy1PTkxZLWZhY2lsaXR5LXN5bmMta2V5LTMyYiE="  # base64 of "DEMO-ONLY-facility-sync-key-32b!"


class ConfigError(RuntimeError):
    """The configuration cannot be used (for example a demo secret in production)."""


class Settings(BaseSettings):
    """Every ``PANTAU_*`` setting, with safe embedded-demo defaults."""

    model_config = SettingsConfigDict(env_prefix="PANTAU_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    secret_key: str = DEMO_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    log_level: str = "INFO"
    # The production web server (gunicorn.conf.py: the thread budget, now that live screens are not on it).
    web_bind: str = "0.0.0.0:8050"
    web_workers: int = Field(2, ge=1)
    web_threads: int = Field(4, ge=1)
    streams_bind: str = "0.0.0.0:8060"  # the stream server (python -m streams): the live screens' /stream/*

    database_url: str = ""  # empty: the demo's SQLite file in var_dir (see _default_database)
    redis_url: str = "memory://"
    mqtt_url: str = ""
    mqtt_username: str = ""
    mqtt_password: str = ""
    mqtt_ca_file: str = ""
    embedded_mqtt_port: int = Field(1883, ge=0, le=65535)
    mqtt_shared_subscription: bool = False
    # The clinical step fed from Redis streams partitioned by bed (docs/live-data.md, "Ingest scale-out"). The
    # partition count must be the same in every consumer and evaluator process.
    clinical_partitions: int = Field(16, ge=1, le=1024)
    clinical_lease_seconds: float = Field(10.0, gt=0)  # a dead evaluator's partitions are taken over after this
    clinical_hold_ms: int = Field(2000, ge=0)  # how long a second of a bed's samples waits for stragglers
    clinical_step_ms: int = Field(1000, ge=1)  # one evaluation per bed per this much sample time
    clinical_stream_maxlen: int = Field(200_000, ge=1000)  # entries kept per partition for a stopped evaluator
    # The broker's dynamic-security admin user (deploy/README.md §2): device credentials are provisioned with it.
    # Empty = no provisioning (the embedded demo's loopback broker, or a broker managed by hand). Never logged.
    mqtt_admin_username: str = ""
    mqtt_admin_password: str = ""
    dead_letter_retention_days: int = Field(14, ge=1)
    vitals_retention_days: int = Field(30, ge=1)

    site_code: str = Field("DEMO", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    site_name: str = "RSUD Pantau (demo)"
    timezone: str = "Asia/Jakarta"
    default_language: Literal["id", "en"] = "id"

    queue_calls_before_skip: int = Field(2, ge=1)

    session_timeout_minutes: int = Field(30, ge=1)
    session_absolute_hours: int = Field(12, ge=1)  # a session ends this long after sign-in, active or not
    live_stream_seconds: int = Field(300, ge=1)  # a live screen's stream ends and reconnects after this
    login_rate_limit: str = "10 per minute"  # per client address (after PANTAU_TRUSTED_PROXIES)
    lockout_attempts: int = Field(5, ge=1)  # failures free of delay, per account and per address
    lockout_minutes: int = Field(15, ge=1)  # the longest delay the growing sign-in throttle imposes

    # Security (docs/security.md). Roles that must use TOTP; the others may; display tokens never.
    mfa_required_roles: str = "admin,manager,finance"
    mfa_issuer: str = "Pantau"
    reauth_minutes: int = Field(5, ge=1)  # sensitive actions ask for the password or code again after this
    # Reverse proxies in front of the web app whose X-Forwarded-For/-Proto/-Host are trusted (0 = none: the
    # socket's address is the client's). Compose runs one (Caddy): 1.
    trusted_proxies: int = Field(0, ge=0, le=5)
    # The address patients and staff reach (QR codes on tickets, TV addresses), never the Host header; required in
    # production. Empty: this request's own address (the embedded demo).
    public_url: str = ""
    streams_per_user: int = Field(8, ge=1)  # open live streams one signed-in user may hold at once
    streams_per_address: int = Field(40, ge=1)  # ... and one client address (a ward's PCs behind one NAT)
    healthz_cache_seconds: float = Field(5.0, ge=0)
    db_connect_timeout_seconds: int = Field(5, ge=1)
    db_statement_timeout_ms: int = Field(30_000, ge=100)

    # BPJS Antrean RS (WS BPJS); empty means not configured. Never logged.
    bpjs_base_url: str = ""
    bpjs_cons_id: str = ""
    bpjs_secret: str = ""
    bpjs_user_key: str = ""
    bpjs_timeout_seconds: float = Field(10.0, gt=0)

    # Mobile JKN web service (WS RS, /api/jkn/*): BPJS's gateway gets a token with these. Empty username = off;
    # the demo fills in marked demo values. Never logged.
    jkn_username: str = ""
    jkn_password: str = ""
    jkn_token_secret: str = ""
    jkn_token_minutes: int = Field(60, ge=1, le=24 * 60)

    data_keys: str = DEMO_DATA_KEY
    blind_index_key: str = DEMO_BLIND_INDEX_KEY

    demo: bool = True
    demo_password: str = ""
    demo_puskesmas: bool = True  # the embedded demo also runs a Puskesmas site that syncs records with it
    simulate: bool = True
    simulator_speed: float = Field(30.0, gt=0)
    var_dir: Path = ROOT / "var"

    # Facility sync (docs/facility_sync.md, "The worker"): this site is ``site_code``; its peers' site codes, comma
    # separated; the link keys as ``PEER:keyid:base64,...`` (32-byte keys, newest first per peer; never logged);
    # how long a change sent and not acknowledged waits before it is sent again.
    sync_peers: str = ""
    sync_keys: str = ""
    sync_resend_seconds: int = Field(30, ge=1)

    # ---- security: audit viewer (helper 6)
    # The login role every Pantau process but the migrate step uses (compose: pantau_app). The migrate step runs
    # as the database owner, creates this role with this password and grants it all it needs except changing
    # audit_log (data/migrate.py). Empty: no separate role (the embedded demo, the tests). Never logged.
    db_app_role: str = Field("", pattern=r"^([a-z_][a-z0-9_]{0,62})?$")
    db_app_password: str = ""
    # ---- end of security: audit viewer

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        # Derived, not a fixed default: two demos with different PANTAU_VAR_DIRs must not share one database.
        # Written past pydantic's __setattr__ so the field does not count as given (model_fields_set): the benches
        # start their own PostgreSQL unless PANTAU_DATABASE_URL was really set.
        if not self.database_url:
            self.__dict__["database_url"] = self._demo_database_url()
        return self

    def _demo_database_url(self) -> str:
        return f"sqlite:///{self.var_dir / 'pantau.db'}"

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_address(cls, value: str) -> str:
        """``https://host[:port][/path]`` without a trailing slash (links append their own path), or empty."""
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment):
            raise ValueError("PANTAU_PUBLIC_URL must look like https://pantau.rs.example (scheme and host)")
        return value

    @model_validator(mode="after")
    def _demo_jkn_credentials(self) -> Settings:
        if self.demo and self.env != "production":  # production refuses demo mode below
            self.jkn_username = self.jkn_username or DEMO_JKN_USERNAME
            self.jkn_password = self.jkn_password or DEMO_JKN_PASSWORD
            self.jkn_token_secret = self.jkn_token_secret or DEMO_JKN_TOKEN_SECRET
        return self

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = self._secret_problems()
        if self.demo:
            problems.append("PANTAU_DEMO must be false in production")
        if not self.public_url:
            problems.append(
                "PANTAU_PUBLIC_URL must be set to the address patients and staff open (https://host): the QR codes "
                "on printed tickets carry it, never the request's Host header"
            )
        if problems:
            raise ConfigError("Refusing to start in production: " + "; ".join(problems))
        return self

    def _secret_problems(self) -> list[str]:
        """What is wrong with the secrets: each a published demo value, a short key or a missing one."""
        problems = []
        if not self.secret_key or self.secret_key == DEMO_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("PANTAU_SECRET_KEY must be set to a random value of at least 32 characters")
        if self.data_keys == DEMO_DATA_KEY or "demo:" in self.data_keys:
            problems.append("PANTAU_DATA_KEYS must be set to the hospital's own keys")
        if self.blind_index_key == DEMO_BLIND_INDEX_KEY or len(self.blind_index_key) < 32:
            problems.append("PANTAU_BLIND_INDEX_KEY must be set to a random value of at least 32 characters")
        if DEMO_SYNC_KEY in self.sync_keys:
            problems.append("PANTAU_SYNC_KEYS must hold each link's own keys, not the demo key")
        if self.jkn_username:
            off = " (or leave PANTAU_JKN_USERNAME empty and PANTAU_DEMO=false: the Mobile JKN service is then off)"
            if self.jkn_username == DEMO_JKN_USERNAME:
                problems.append("PANTAU_JKN_USERNAME must not be the demo username" + off)
            if not self.jkn_password or self.jkn_password == DEMO_JKN_PASSWORD:
                problems.append("PANTAU_JKN_PASSWORD must be set to the hospital's own value" + off)
            secret = self.jkn_token_secret
            if not secret or secret == DEMO_JKN_TOKEN_SECRET or len(secret) < 32:
                problems.append("PANTAU_JKN_TOKEN_SECRET must be set to a random value of at least 32 characters")
        return problems

    def require_own_secrets(self, *, allow_demo_database: bool = False) -> None:
        """Refuse the published demo secrets: every entrypoint that is not the embedded demo (``python app.py``)
        calls this first, so a forgotten ``PANTAU_ENV=production`` never signs sessions with a published key.

        The tests (``PANTAU_ENV=test``) are exempt. ``allow_demo_database`` lets an operator command (``flask --app app
        create-user …``, as the docs show) run on the embedded demo's own SQLite file, which ``python app.py`` uses
        with the same demo secrets anyway; nowhere else."""
        if self.env == "test" or (allow_demo_database and self.uses_demo_database):
            return
        problems = self._secret_problems()
        if problems:
            raise ConfigError(
                "Refusing to start with the published demo secrets (only the embedded demo, `python app.py`, may "
                "use them): " + "; ".join(problems)
            )

    @property
    def uses_demo_database(self) -> bool:
        """True when the database is the embedded demo's own SQLite file in ``var_dir``."""
        return self.database_url == self._demo_database_url()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded_broker(self) -> bool:
        """True when no external broker is configured and Pantau runs its own (amqtt)."""
        return not self.mqtt_url


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, with explicit overrides (tests use these)."""
    return Settings(**overrides)


class _JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus any ``extra=`` fields."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Structured log lines to stderr for every Pantau process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("werkzeug").setLevel("WARNING")
