"""Static checks of the production deployment files and of the vendored front-end assets.

docker-compose.yml, the Mosquitto configuration, the Dockerfile and assets/vendor are checked as files (no
Docker daemon needed). When the ``docker`` CLI with the compose plugin is installed, ``docker compose config``
also validates the compose file the way Docker itself reads it.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"
DEPLOY_README = ROOT / "deploy" / "README.md"
VENDOR = ROOT / "assets" / "vendor"

SERVICES = {
    "postgres",
    "redis",
    "mosquitto-init",
    "mosquitto",
    "migrate",
    "mqtt-setup",
    "web",
    "streams",
    "consumer",
    "consumer-2",
    "bpjs-worker",
    "sim-provision",
    "simulator",
    "proxy",
}
PANTAU_SERVICES = (
    "migrate",
    "mqtt-setup",
    "web",
    "streams",
    "consumer",
    "consumer-2",
    "bpjs-worker",
    "sim-provision",
    "simulator",
)  # run the Pantau image with the shared environment
OWN_DATABASE_URL = {"PANTAU_DATABASE_URL"}
ONE_SHOT = {"migrate", "mosquitto-init", "mqtt-setup", "sim-provision"}
# Who talks to the broker as whom (data/broker_admin.PROCESS_USERS); who may administer it.
SYNC_USER = "pantau-sync-${PANTAU_SITE_CODE}"  # a site's own user (sync-site-credential), not a process user
BROKER_USERS = {
    "web": "pantau-web",
    "consumer": "pantau-consumer",
    "consumer-2": "pantau-consumer",  # one user, one client id each (the shared subscription's members)
    "simulator": "pantau-simulator",
    "facility-sync": SYNC_USER,
}
BROKER_ADMINS = {"mqtt-setup", "web", "sim-provision"}
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY")
REQUIRED_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$")
# ${NAME}, ${NAME:-default}, ${NAME:?message} ... but not the escaped $${NAME}.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}")
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)")


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _services() -> dict:
    return _compose()["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _compose_text_without_comments() -> str:
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def _required_variables() -> set[str]:
    text = _compose_text_without_comments()
    return {m.group(1) for m in INTERPOLATION.finditer(text) if m.group(2) == ":?"}


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_has_the_production_services():
    assert set(_services()) >= SERVICES


def test_every_long_running_service_has_a_healthcheck():
    for name, service in _services().items():
        if name in ONE_SHOT:
            continue
        check = service.get("healthcheck")
        assert check, f"service {name} has no healthcheck"
        assert not check.get("disable"), f"service {name} disables its healthcheck"
        assert check.get("test"), f"service {name} has a healthcheck without a test"


def test_one_shot_migration_runs_before_web():
    services = _services()
    migrate = services["migrate"]
    assert _command(migrate) == "python -m data.migrate"
    assert str(migrate.get("restart", "no")) == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["image"] == services["web"]["image"], "migrate must run the image web builds"

    depends = services["web"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["mqtt-setup"]["condition"] == "service_completed_successfully"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_web_runs_gunicorn_in_production_mode():
    web = _services()["web"]
    assert _command(web) == "gunicorn --config gunicorn.conf.py app:server"
    assert web.get("build") in (".", {"context": "."})
    assert not web.get("ports"), "web is reached through the proxy only"
    assert [str(p) for p in web["expose"]] == ["8050"]

    env = _environment(web)
    assert env["PANTAU_ENV"] == "production"
    assert env["PANTAU_DEMO"] == "false"
    assert env["PANTAU_MQTT_URL"] == "mqtts://mosquitto:8883"
    assert env["PANTAU_TRUSTED_PROXIES"] == "1", "exactly one proxy (Caddy) stands in front"
    assert env["PANTAU_PUBLIC_URL"].startswith("https://${PANTAU_PUBLIC_HOST:?"), "QR codes: the proxy's host name"
    for name in (
        "PANTAU_DATABASE_URL",
        "PANTAU_REDIS_URL",
        "PANTAU_MQTT_CA_FILE",
        "PANTAU_MQTT_USERNAME",
        "PANTAU_MQTT_PASSWORD",
        "PANTAU_SECRET_KEY",
        "PANTAU_DATA_KEYS",
        "PANTAU_BLIND_INDEX_KEY",
    ):
        assert env.get(name), f"web lacks {name}"


def test_pantau_services_share_one_environment():
    services = _services()
    shared = {str(k): str(v) for k, v in _compose()["x-pantau-env"].items()}
    for name in PANTAU_SERVICES:
        env = _environment(services[name])
        own = OWN_DATABASE_URL if name == "migrate" else set()  # the migration alone connects as the owner
        assert {k: env.get(k) for k in shared if k not in own} == {k: v for k, v in shared.items() if k not in own}
        assert services[name]["image"] == services["web"]["image"], f"{name} must run the image web builds"
    assert "x-pantau-env" in _compose()
    assert [name for name in PANTAU_SERVICES if "build" in services[name]] == ["web"]


def _database_user(url: str) -> str:
    """The user part of a ``postgresql://user:password@host/db`` URL whose parts may be ${...} references."""
    match = re.match(r"^postgresql://(\$\{[^}]*\}|[^:]+):", url)
    assert match, url
    return match.group(1)


def test_only_the_migration_connects_as_the_database_owner():
    """Every other process is the login role the migration creates, which may not change audit_log."""
    services = _services()
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    migrate = _environment(services["migrate"])
    assert _database_user(migrate["PANTAU_DATABASE_URL"]) == owner
    assert migrate["PANTAU_DB_APP_ROLE"] == "pantau_app"
    assert REQUIRED_REF.match(migrate["PANTAU_DB_APP_PASSWORD"])
    for name in PANTAU_SERVICES:
        if name != "migrate":
            env = _environment(services[name])
            assert _database_user(env["PANTAU_DATABASE_URL"]) == "pantau_app", name
            assert "PANTAU_DB_APP_PASSWORD" not in env, name
            depends = services[name].get("depends_on", {})
            assert "migrate" in depends or "sim-provision" in depends, f"{name} may start before its role exists"
    assert migrate["PANTAU_DB_APP_PASSWORD"] in _environment(services["web"])["PANTAU_DATABASE_URL"]


def _published_ports(service: dict) -> set[str]:
    """The host ports a service publishes (``"443:443/udp"`` -> ``"443/udp"``)."""
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add(f"{entry['published']}/{entry.get('protocol', 'tcp')}")
        else:
            host, _, container = str(entry).rpartition(":")
            protocol = container.partition("/")[2] or "tcp"
            ports.add(f"{host.rpartition(':')[2]}/{protocol}")
    return ports


def test_the_tls_proxy_is_the_only_way_in():
    services = _services()
    proxy = services["proxy"]
    assert proxy["image"] == "caddy:2"
    assert _published_ports(proxy) == {"80/tcp", "443/tcp", "443/udp"}
    published = {name: _published_ports(service) for name, service in services.items() if service.get("ports")}
    assert published == {"proxy": {"80/tcp", "443/tcp", "443/udp"}, "mosquitto": {"8883/tcp"}}
    mounts = {v["target"]: v for v in proxy["volumes"] if isinstance(v, dict)}
    assert mounts["/etc/caddy/Caddyfile"]["source"] == "./deploy/caddy/Caddyfile"
    assert mounts["/etc/caddy/Caddyfile"]["read_only"] is True
    assert {"caddydata:/data", "caddyconfig:/config"} <= {v for v in proxy["volumes"] if isinstance(v, str)}
    assert REQUIRED_REF.match(_environment(proxy)["PANTAU_PUBLIC_HOST"])
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"


def _caddyfile_lines() -> list[str]:
    lines = CADDYFILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_caddyfile_replaces_the_client_address_and_streams_at_once():
    lines = _caddyfile_lines()
    assert "{$PANTAU_PUBLIC_HOST} {" in lines, "the site is the public host name, nothing else"
    assert lines.count("reverse_proxy web:8050 {") == 1 and lines.count("reverse_proxy streams:8060 {") == 1
    assert lines.count("import to_pantau") == 2
    snippet = lines[lines.index("(to_pantau) {") + 1 : lines.index("(to_pantau) {") + 3]
    assert snippet == ["header_up X-Forwarded-For {remote_host}", "}"]
    stream = lines.index("handle /stream/* {")
    assert lines[stream + 1 : stream + 4] == ["reverse_proxy streams:8060 {", "import to_pantau", "flush_interval -1"]
    assert not any(line.startswith("trusted_proxies") for line in lines), "Caddy must not believe client headers"


def test_caddy_accepts_the_caddyfile():
    """Adapted by Caddy itself when its binary is installed: one site, the client's own address passed on, and
    the live streams flushed at once."""
    caddy = shutil.which("caddy")
    if caddy is None:  # without Caddy the checks above are the test
        assert CADDYFILE.is_file()
        return
    env = dict(os.environ, PANTAU_PUBLIC_HOST="pantau.rs.example")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(CADDYFILE)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert '"host":["pantau.rs.example"]' in text
    assert text.count('"X-Forwarded-For":["{http.request.remote.host}"]') == 2
    assert '"path":["/stream/*"]' in text and text.count('"flush_interval":-1') == 1


def test_consumer_runs_the_bridge_with_a_metrics_healthcheck():
    consumer = _services()["consumer"]
    command = _command(consumer)
    assert command.startswith("python -m bridge.consumer")
    port = re.search(r"--metrics-port (\d+)", command)
    assert port, "the consumer must serve /healthz for its healthcheck"
    assert "--metrics-host 0.0.0.0" in command
    check = " ".join(consumer["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port.group(1)}/healthz" in check
    assert not consumer.get("ports"), "metrics stay inside the compose network"
    assert not consumer.get("profiles"), "the consumer runs by default"
    assert str(consumer["restart"]) == "unless-stopped"
    # SIGTERM makes it commit, acknowledge and disconnect: it needs more than Docker's default 10 s.
    grace = str(consumer.get("stop_grace_period", "10s"))
    assert grace.endswith("s") and int(grace[:-1]) >= 20
    depends = consumer["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["mqtt-setup"]["condition"] == "service_completed_successfully"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    env = _environment(consumer)
    assert env["PANTAU_MQTT_URL"] == "mqtts://mosquitto:8883"


def _consumers() -> dict[str, dict]:
    return {name: s for name, s in _services().items() if _command(s).startswith("python -m bridge.consumer")}


def test_two_consumers_share_the_subscription_each_with_its_own_client_id():
    """docs/live-data.md, "Ingest scale-out": the same command with ``--shared`` and a fixed client id of its own
    (the broker keeps a persistent session per id); each runs a clinical evaluator for the partitions it leases."""
    consumers = _consumers()
    assert set(consumers) == {"consumer", "consumer-2"}
    client_ids = []
    for name, consumer in consumers.items():
        command = consumer["command"]
        assert "--shared" in command, f"{name} must join the shared subscription"
        assert "--no-clinical" not in command and "--no-evaluator" not in command, "no bed would be evaluated"
        client_ids.append(command[command.index("--client-id") + 1])
    assert sorted(client_ids) == ["pantau-consumer-1", "pantau-consumer-2"]
    first, second = consumers["consumer"], consumers["consumer-2"]
    assert {k: v for k, v in first.items() if k != "command"} == {k: v for k, v in second.items() if k != "command"}
    assert [w for w in first["command"] if w not in client_ids] == [w for w in second["command"] if w not in client_ids]


def test_two_web_containers_behind_the_proxy():
    services = _services()
    web = services["web"]
    assert web["deploy"]["replicas"] >= 2
    assert not web.get("container_name"), "a fixed container name allows one replica only"
    assert _environment(web)["PANTAU_WEB_WORKERS"] == "1", "one gunicorn worker a container: a core each"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"


def test_the_stream_server_serves_the_live_screens():
    services = _services()
    streams = services["streams"]
    assert streams["command"] == ["python", "-m", "streams"]
    assert (ROOT / "streams" / "__main__.py").is_file()
    assert _environment(streams)["PANTAU_STREAMS_BIND"] == "0.0.0.0:8060"
    assert [str(p) for p in streams["expose"]] == ["8060"]
    assert not streams.get("ports"), "reached through the proxy only"
    assert "http://127.0.0.1:8060/stream/healthz" in " ".join(streams["healthcheck"]["test"])
    assert streams["depends_on"]["redis"]["condition"] == "service_healthy"
    assert streams["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["streams"]["condition"] == "service_healthy"


def test_bpjs_worker_runs_with_a_heartbeat_healthcheck():
    worker = _services()["bpjs-worker"]
    command = _command(worker)
    assert command.startswith("python -m bridge.bpjs_worker --heartbeat-file ")
    heartbeat = command.split("--heartbeat-file ")[1].split()[0]
    assert heartbeat in " ".join(worker["healthcheck"]["test"])
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_simulator_is_behind_the_sim_profile():
    services = _services()
    simulator, provision = services["simulator"], services["sim-provision"]
    assert simulator["profiles"] == provision["profiles"] == ["sim"]
    assert "probe_broker" in " ".join(simulator["healthcheck"]["test"])
    assert not simulator.get("ports")
    # sim-provision writes each simulated monitor's password where only the simulator reads it.
    credentials = re.search(r"--file (\S+)", _command(provision)).group(1)
    assert _command(provision).startswith("flask --app app provision-sim-devices ")
    assert _command(simulator) == f"python -m iot_sim --credentials {credentials}"
    assert simulator["depends_on"]["sim-provision"]["condition"] == "service_completed_successfully"
    assert provision["depends_on"]["mqtt-setup"]["condition"] == "service_completed_successfully"
    mounts = {name: [str(v) for v in services[name]["volumes"] if isinstance(v, str)] for name in services}
    shared = [v for v in mounts["simulator"] if credentials.startswith(v.split(":")[1])]
    assert shared and shared == [v for v in mounts["sim-provision"] if v in shared]
    assert [name for name, volumes in mounts.items() if set(volumes) & set(shared)] == ["sim-provision", "simulator"]


def test_each_pantau_process_has_its_own_broker_user():
    from data.broker_admin import PROCESS_USERS

    services = _services()
    known = {user.username for user in PROCESS_USERS}
    for name, service in services.items():
        env = _environment(service)
        user = env.get("PANTAU_MQTT_USERNAME")
        assert user == BROKER_USERS.get(name), f"{name} logs in to the broker as {user!r}"
        if user:
            assert user in known or user == SYNC_USER
            assert REQUIRED_REF.match(env["PANTAU_MQTT_PASSWORD"])
        has_admin = "PANTAU_MQTT_ADMIN_PASSWORD" in env
        assert has_admin == (name in BROKER_ADMINS), f"{name}: the broker admin password only where needed"
    passwords: dict[str, str] = {}
    for name, user in BROKER_USERS.items():
        password = _environment(services[name])["PANTAU_MQTT_PASSWORD"]
        assert passwords.setdefault(user, password) == password, f"{name} logs in as {user} with another password"
    assert len(set(passwords.values())) == len(passwords), "every broker user has its own password"
    setup = services["mqtt-setup"]
    assert _command(setup) == "flask --app app mqtt-setup"
    assert setup["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    for option in ("MQTT_CONSUMER_PASSWORD", "MQTT_WEB_PASSWORD", "MQTT_SIMULATOR_PASSWORD"):
        assert REQUIRED_REF.match(_environment(setup)[option]), option


def test_the_broker_starts_with_its_dynamic_security_state():
    services = _services()
    init = services["mosquitto-init"]
    assert init["image"] == services["mosquitto"]["image"]
    admin = _environment(services["web"])["PANTAU_MQTT_ADMIN_USERNAME"]
    command = _command(init)
    assert "f=/mosquitto/data/dynamic-security.json;" in command
    assert f'[ -f "$$f" ] || mosquitto_ctrl dynsec init "$$f" {admin} ' in command, "an existing state is kept"
    assert "mosquittodata:/mosquitto/data" in init["volumes"]
    assert services["mosquitto"]["depends_on"]["mosquitto-init"]["condition"] == "service_completed_successfully"


def test_no_literal_secrets():
    for name, service in _services().items():
        for key, value in _environment(service).items():
            if any(word in key.upper() for word in SECRET_WORDS):
                assert REQUIRED_REF.match(value), f"{name}: {key} must be a required ${{VAR:?...}} reference"
    # Wherever a secret is interpolated (inside URLs, commands), it is required, never defaulted.
    for match in INTERPOLATION.finditer(_compose_text_without_comments()):
        variable, operator = match.group(1), match.group(2)
        if any(word in variable.upper() for word in SECRET_WORDS):
            assert operator == ":?", f"{match.group(0)} must use the required ${{VAR:?message}} form"


def test_required_variables_are_documented():
    required = _required_variables()
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "PANTAU_SECRET_KEY", "PANTAU_DATA_KEYS"} <= required
    readme = DEPLOY_README.read_text(encoding="utf-8")
    missing = sorted(v for v in required if v not in readme)
    assert not missing, f"not described in deploy/README.md: {missing}"


def test_volumes_are_named():
    compose = _compose()
    declared = set(compose.get("volumes") or {})
    assert {"pgdata", "redisdata", "mosquittodata", "caddydata"} <= declared
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                if volume.get("type", "volume") != "volume":
                    continue
                source = volume.get("source", "")
            else:
                source = str(volume).split(":", 1)[0]
                if source.startswith((".", "/", "~")):
                    continue
            assert source in declared, f"{name}: volume {source!r} is not a declared named volume"
            used.add(source)
    assert {"pgdata", "redisdata", "mosquittodata"} <= used


def test_mosquitto_mounts_its_config_from_deploy():
    mosquitto = _services()["mosquitto"]
    mounts = {}
    for volume in mosquitto["volumes"]:
        if isinstance(volume, dict):
            mounts[volume["target"]] = (volume.get("source", ""), bool(volume.get("read_only")))
        else:
            parts = str(volume).split(":")
            mounts[parts[1]] = (parts[0], parts[-1] == "ro")
    assert mounts["/mosquitto/config/mosquitto.conf"] == ("./deploy/mosquitto/mosquitto.conf", True)
    assert "/mosquitto/config/passwd" not in mounts, "users live in the dynamic-security state, not a file"
    assert mounts["/mosquitto/certs"] == ("./deploy/mosquitto/certs", True)
    assert mounts["/mosquitto/data"][0] == "mosquittodata"


def test_mosquitto_conf_keeps_messages_and_requires_auth():
    conf = MOSQUITTO_CONF.read_text(encoding="utf-8")
    lines = {line.strip() for line in conf.splitlines() if line.strip() and not line.lstrip().startswith("#")}
    for expected in (
        "max_queued_messages 0",
        "persistence true",
        "allow_anonymous false",
        "plugin /usr/lib/mosquitto_dynamic_security.so",
        "plugin_opt_config_file /mosquitto/data/dynamic-security.json",
        "listener 8883",
        "require_certificate false",
        "listener 1883 127.0.0.1",
    ):
        assert expected in lines, f"mosquitto.conf lacks {expected!r}"
    for option in ("cafile", "certfile", "keyfile"):
        assert any(line.startswith(f"{option} /mosquitto/certs/") for line in lines), option
    assert not any(line.startswith(("allow_anonymous true", "password_file", "acl_file")) for line in lines)
    # A vitals payload may be 64 KiB (DESIGN.md §3) plus topic and headers; far more is refused at the door.
    size = int(next(line.split()[1] for line in lines if line.startswith("max_packet_size ")))
    assert 64 * 1024 + 1024 <= size <= 1024 * 1024


def test_docker_compose_config_accepts_the_file():
    """Validated by Docker's own parser when the compose plugin is installed (it needs no daemon)."""
    docker = shutil.which("docker")
    has_compose = (
        docker is not None
        and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0
    )
    if has_compose:
        env = dict(os.environ)
        env.update({name: f"dummy-{name.lower().replace('_', '-')}-0123456789" for name in _required_variables()})
        env["PANTAU_SITE_CODE"] = "TEST"
        result = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr

        env.pop("POSTGRES_PASSWORD")
        result = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert "POSTGRES_PASSWORD" in result.stderr
    # Without the plugin the YAML checks above are the test.
    assert COMPOSE_FILE.is_file()


# ---------------------------------------------------------------- Dockerfile


def test_dockerfile_runs_as_non_root_gunicorn():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^USER pantau$", text, re.M)
    assert re.search(r"^RUN pip install \.", text, re.M)
    assert re.search(r"^EXPOSE 8050$", text, re.M)
    assert "/healthz" in text and "urllib.request" in text
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd and yaml.safe_load(cmd.group(1)) == ["gunicorn", "--config", "gunicorn.conf.py", "app:server"]


def _gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("PANTAU_WEB_BIND", "PANTAU_WEB_WORKERS", "PANTAU_WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_threads_answer_requests_while_the_stream_server_holds_the_screens(monkeypatch):
    """In production the proxy sends the live screens (/stream/*) to the stream server, so the web's threads only
    answer requests (gunicorn.conf.py's thread budget)."""
    conf = _gunicorn_settings(monkeypatch)
    assert (conf["bind"], conf["workers"], conf["worker_class"]) == ("0.0.0.0:8050", 2, "gthread")
    assert conf["threads"] == 4
    lines = _caddyfile_lines()
    assert lines[lines.index("handle /stream/* {") + 1] == "reverse_proxy streams:8060 {"
    assert _gunicorn_settings(monkeypatch, PANTAU_WEB_THREADS="96", PANTAU_WEB_WORKERS="4")["threads"] == 96
    assert _gunicorn_settings(monkeypatch, PANTAU_WEB_WORKERS="4")["workers"] == 4


def test_the_web_app_keeps_an_idle_connection_longer_than_the_proxies_do(monkeypatch):
    """gunicorn must not close an idle connection that Caddy (or ingress-nginx, 60 s by default) may still send a
    request on: the desk would get an error instead of its ticket."""
    keepalive = _gunicorn_settings(monkeypatch)["keepalive"]
    lines = _caddyfile_lines()
    web = lines.index("reverse_proxy web:8050 {")
    block = lines[web : web + lines[web:].index("}") + 1]
    assert "transport http {" in block, "Caddy's upstream idle timeout is stated, not left to its default (2 min)"
    caddy = next(line for line in lines[web:] if line.startswith("keepalive "))
    assert caddy.endswith("s") and keepalive > int(caddy.split()[1].removesuffix("s"))


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    entries = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for expected in (".venv", "var", ".git", ".env", "deploy/mosquitto/passwd", "deploy/mosquitto/certs"):
        assert expected in entries, f".dockerignore lacks {expected}"


# ---------------------------------------------------------------- vendored assets


def test_vendored_files_exist():
    for relative in (
        "bootstrap.min.css",
        "bootstrap-icons/bootstrap-icons.min.css",
        "date-fns/locale-id.min.js",
        "plotly-basic.min.js",
        "LICENSE-bootstrap.txt",
        "LICENSE-bootstrap-icons.txt",
        "LICENSE-date-fns.txt",
        "LICENSE-plotly.js.txt",
        "README.md",
    ):
        path = VENDOR / relative
        assert path.is_file(), relative
        assert path.stat().st_size > 0, relative
    bootstrap = (VENDOR / "bootstrap.min.css").read_text(encoding="utf-8")
    assert re.search(r"Bootstrap\s+v5\.3\.\d+", bootstrap[:400]), "licence header of Bootstrap 5.3 missing"
    assert "[data-bs-theme=dark]" in bootstrap
    icons = (VENDOR / "bootstrap-icons" / "bootstrap-icons.min.css").read_text(encoding="utf-8")
    assert re.search(r"Bootstrap Icons v1\.\d+", icons[:400]), "licence header of Bootstrap Icons 1.x missing"
    licences = ("LICENSE-bootstrap.txt", "LICENSE-bootstrap-icons.txt", "LICENSE-date-fns.txt", "LICENSE-plotly.js.txt")
    for licence in licences:
        assert "MIT License" in (VENDOR / licence).read_text(encoding="utf-8")
    # Bootstrap's JS is not vendored (dash-bootstrap-components renders the components in React). The scripts are
    # date-fns's Indonesian locale for Dash's date pickers, which loads nothing from the network, and the graphs'
    # plotly.js (api/plotly_bundle.py; tests/test_plotly_bundle.py checks it).
    scripts = sorted(p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*.js"))
    assert scripts == ["date-fns/locale-id.min.js", "plotly-basic.min.js"]
    assert "sourceMappingURL" not in (VENDOR / "plotly-basic.min.js").read_text(encoding="utf-8")
    locale = (VENDOR / "date-fns" / "locale-id.min.js").read_text(encoding="utf-8")
    assert "Desember" in locale and "locale" in locale and "sourceMappingURL" not in locale
    assert "://" not in locale


def test_every_url_in_vendored_css_resolves():
    for css in sorted(VENDOR.rglob("*.css")):
        text = css.read_text(encoding="utf-8")
        assert "sourceMappingURL" not in text or (css.parent / f"{css.name}.map").is_file(), css.name
        for match in CSS_URL.finditer(text):
            url = match.group(2)
            if url.startswith("data:"):
                continue
            assert "://" not in url and not url.startswith("//"), f"{css.name} loads {url} from the network"
            target = (css.parent / re.split(r"[?#]", url, maxsplit=1)[0]).resolve()
            assert target.is_file(), f"{css.name}: url({url}) does not resolve"
            assert VENDOR.resolve() in target.parents


def test_icon_fonts_are_referenced():
    icons = (VENDOR / "bootstrap-icons" / "bootstrap-icons.min.css").read_text(encoding="utf-8")
    urls = [m.group(2) for m in CSS_URL.finditer(icons)]
    assert any(".woff2" in u for u in urls)
    assert any(".woff" in u and ".woff2" not in u for u in urls)
