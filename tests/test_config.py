"""Settings: defaults for the embedded demo, refusal of demo secrets in production and in every process that is not
the embedded demo."""

from __future__ import annotations

import base64
import os

import pytest

from config import DEMO_SECRET_KEY, DEMO_SYNC_KEY, ConfigError, load_settings

PRODUCTION_OK = dict(
    env="production",
    secret_key="x" * 40,
    data_keys="k1:" + base64.b64encode(os.urandom(32)).decode(),
    blind_index_key="y" * 40,
    demo=False,
    public_url="https://pantau.rs.example",
)
OWN_SECRETS = {key: value for key, value in PRODUCTION_OK.items() if key not in ("env", "demo", "public_url")}


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
        ("public_url", ""),
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


def test_public_url_is_a_bare_address():
    assert load_settings(public_url="https://pantau.rs.example/").public_url == "https://pantau.rs.example"
    assert load_settings(public_url=" http://10.0.0.5:8050 ").public_url == "http://10.0.0.5:8050"
    assert load_settings().public_url == ""
    for wrong in ("pantau.rs.example", "javascript:alert(1)", "https://", "https://rs.example/?next=x"):
        with pytest.raises(ValueError, match="PANTAU_PUBLIC_URL"):
            load_settings(public_url=wrong)


def test_only_the_embedded_demo_and_the_tests_may_use_demo_secrets(tmp_path):
    """``require_own_secrets`` (called by gunicorn's app, the workers and ``flask --app app``) refuses every published
    demo value outside the tests, whatever PANTAU_ENV says, and says which variable to set."""
    development = load_settings(var_dir=tmp_path)
    with pytest.raises(ConfigError) as refused:
        development.require_own_secrets()
    message = str(refused.value)
    assert message.startswith("Refusing to start with the published demo secrets")
    for variable in ("PANTAU_SECRET_KEY", "PANTAU_DATA_KEYS", "PANTAU_BLIND_INDEX_KEY", "PANTAU_JKN_USERNAME"):
        assert variable in message
    load_settings(env="test", var_dir=tmp_path).require_own_secrets()
    load_settings(var_dir=tmp_path, demo=False, **OWN_SECRETS).require_own_secrets()
    # PANTAU_DEMO fills in the demo's Mobile JKN login: with the hospital's own keys that alone is refused.
    with pytest.raises(ConfigError, match="PANTAU_JKN_USERNAME must not be the demo username") as jkn:
        load_settings(var_dir=tmp_path, **OWN_SECRETS).require_own_secrets()
    assert "PANTAU_SECRET_KEY" not in str(jkn.value)
    own_jkn = dict(jkn_username="rs-jkn", jkn_password="p" * 20, jkn_token_secret="t" * 40)
    load_settings(var_dir=tmp_path, **OWN_SECRETS, **own_jkn).require_own_secrets()
    with pytest.raises(ConfigError, match="PANTAU_SECRET_KEY"):
        load_settings(var_dir=tmp_path, demo=False, **(OWN_SECRETS | {"secret_key": "short"})).require_own_secrets()
    demo_link = dict(sync_peers="PKM-01", sync_keys=f"PKM-01:demo:{DEMO_SYNC_KEY}")  # the demo Puskesmas's key
    with pytest.raises(ConfigError, match="PANTAU_SYNC_KEYS must hold each link's own keys"):
        load_settings(var_dir=tmp_path, demo=False, **OWN_SECRETS, **demo_link).require_own_secrets()


def test_operator_commands_may_use_demo_secrets_on_the_demo_database_only(tmp_path):
    demo = load_settings(var_dir=tmp_path)
    assert demo.uses_demo_database
    demo.require_own_secrets(allow_demo_database=True)
    assert load_settings(var_dir=tmp_path, demo=False).uses_demo_database  # a demo started with PANTAU_DEMO=false
    elsewhere = load_settings(var_dir=tmp_path, database_url="postgresql://db/pantau")
    assert not elsewhere.uses_demo_database
    with pytest.raises(ConfigError, match="PANTAU_SECRET_KEY"):
        elsewhere.require_own_secrets(allow_demo_database=True)
    other_file = load_settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'hospital.db'}")
    with pytest.raises(ConfigError):
        other_file.require_own_secrets(allow_demo_database=True)
