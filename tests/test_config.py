"""Settings: defaults for the embedded demo, refusal of demo secrets in production."""

from __future__ import annotations

import base64
import os

import pytest

from config import DEMO_SECRET_KEY, ConfigError, load_settings

PRODUCTION_OK = dict(
    env="production",
    secret_key="x" * 40,
    data_keys="k1:" + base64.b64encode(os.urandom(32)).decode(),
    blind_index_key="y" * 40,
    demo=False,
)


def test_embedded_defaults():
    settings = load_settings()
    assert settings.host == "127.0.0.1" and settings.port == 8050
    assert settings.database_url.startswith("sqlite:///") and settings.redis_url == "memory://"
    assert settings.embedded_broker


def test_default_database_lives_in_the_var_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("PANTAU_DATABASE_URL", raising=False)
    monkeypatch.setenv("PANTAU_VAR_DIR", str(tmp_path / "demo-b"))
    assert load_settings().database_url == f"sqlite:///{tmp_path / 'demo-b' / 'pantau.db'}"
    # Derived, not given: the benches start their own PostgreSQL unless a database URL was really set.
    assert "database_url" not in load_settings().model_fields_set
    assert load_settings(var_dir=tmp_path / "a").database_url == f"sqlite:///{tmp_path / 'a' / 'pantau.db'}"
    monkeypatch.setenv("PANTAU_DATABASE_URL", "postgresql://db/pantau")
    assert load_settings().database_url == "postgresql://db/pantau"
    assert "database_url" in load_settings().model_fields_set


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PANTAU_PORT", "9000")
    monkeypatch.setenv("PANTAU_SESSION_TIMEOUT_MINUTES", "10")
    settings = load_settings()
    assert settings.port == 9000 and settings.session_timeout_minutes == 10


@pytest.mark.parametrize(
    "field,value",
    [
        ("secret_key", DEMO_SECRET_KEY),
        ("secret_key", "short"),
        ("data_keys", None),
        ("blind_index_key", None),
        ("demo", True),
    ],
)
def test_production_refuses_demo_or_weak_secrets(field, value):
    values = dict(PRODUCTION_OK)
    if value is None:
        values.pop(field)
    else:
        values[field] = value
    with pytest.raises(ConfigError, match="Refusing to start in production"):
        load_settings(**values)


def test_production_starts_with_real_secrets():
    assert load_settings(**PRODUCTION_OK).production
