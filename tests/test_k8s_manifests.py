"""Offline checks of the Kubernetes manifests in deploy/k8s (no cluster needed).

Every document is validated against the API schemas of :data:`KUBERNETES_VERSION` by ``kubernetes-validate`` in
strict mode (an unknown or misspelt field fails), and the references between the documents are checked the way a
cluster would only show them once running: Services select pods that exist and name their ports, every Secret,
ConfigMap and key a pod reads is defined (the Secrets in secrets.example.yaml), probes ask ports the container
has, ``$(VAR)`` references name a variable set before them, and each Pantau container runs a module of this
repository.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from config import ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
COMPOSE_FILE = ROOT / "docker-compose.yml"
MOSQUITTO_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
# The oldest minor version still supported by the managed Kubernetes offerings in late 2026; the manifests use
# nothing newer.
KUBERNETES_VERSION = "1.33.0"
EXAMPLE_SECRETS = "secrets.example.yaml"
OPTIONAL = {"facility-sync.yaml"}  # valid and checked, applied only once facility sync is set up
WORKLOADS = {"Deployment", "StatefulSet", "Job"}
PANTAU_IMAGE = "pantau"
VAR_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _objects(*, with_examples: bool = True) -> list[dict]:
    files = [p for p in _manifest_files() if with_examples or p.name != EXAMPLE_SECRETS]
    return [doc for path in files for doc in _documents(path)]


def _by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in _objects() if doc["kind"] == kind}


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def _workloads() -> Iterator[dict]:
    return (doc for doc in _objects() if doc["kind"] in WORKLOADS)


def _containers(workload: dict) -> list[dict]:
    spec = _pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def _container(name: str) -> dict:
    (workload,) = (w for w in _workloads() if w["metadata"]["name"] == name)
    return _pod_spec(workload)["containers"][0]


def _env(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def _secret_keys() -> dict[str, set[str]]:
    return {name: set(doc.get("stringData", {})) | set(doc.get("data", {})) for name, doc in _by_kind("Secret").items()}


# ---------------------------------------------------------------- schemas


def test_there_are_manifests_to_check():
    kinds = {doc["kind"] for doc in _objects()}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "StatefulSet", "Job", "Service", "Ingress"} <= kinds


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: p.name)
def test_every_document_is_valid_for_the_stated_kubernetes_version(path):
    for doc in _documents(path):
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            pytest.fail(f"{path.name}: {doc['kind']}/{doc['metadata']['name']} at {where}: {error.message}")


def test_the_kustomization_applies_every_manifest_but_the_examples_and_the_optional_ones():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["namespace"] == "pantau"
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    assert all((K8S / name).is_file() for name in resources)
    expected = {p.name for p in _manifest_files()} - {EXAMPLE_SECRETS} - OPTIONAL
    assert set(resources) == expected, "a manifest is neither applied nor listed as optional"
    assert {image["name"] for image in kustomization["images"]} == {PANTAU_IMAGE}


def test_nothing_names_another_namespace():
    for doc in _objects():
        assert doc["metadata"].get("namespace", "pantau") == "pantau", doc["metadata"]["name"]


# ---------------------------------------------------------------- references between the documents


def test_every_service_selects_the_pods_of_a_workload_and_their_ports():
    workloads = [w for w in _workloads() if w["kind"] != "Job"]
    for name, service in _by_kind("Service").items():
        selector = service["spec"]["selector"]
        selected = [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert selected, f"Service {name} selects no pods"
        for workload in selected:
            ports = [p for c in _pod_spec(workload)["containers"] for p in c.get("ports", [])]
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                assert any(target in (p.get("name"), p["containerPort"]) for p in ports), (
                    f"Service {name}: port {target} is not a port of {workload['metadata']['name']}"
                )
    for workload in workloads:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), workload["metadata"]["name"]
        if workload["kind"] == "StatefulSet":
            assert workload["spec"]["serviceName"] in _by_kind("Service")


def _references(workload: dict) -> Iterator[tuple[str, str, str | None]]:
    """(kind, name, key or None) of every ConfigMap and Secret the workload's pods read."""
    spec = _pod_spec(workload)
    for container in _containers(workload):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"], None
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"], None
        for item in container.get("env", []):
            ref = item.get("valueFrom", {})
            if "configMapKeyRef" in ref:
                yield "ConfigMap", ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
            if "secretKeyRef" in ref:
                yield "Secret", ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            for item in volume["secret"].get("items") or [{"key": None}]:
                yield "Secret", volume["secret"]["secretName"], item["key"]
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"], None


def test_every_configmap_and_secret_a_pod_reads_is_defined_with_its_keys():
    config_keys = {name: set(doc["data"]) for name, doc in _by_kind("ConfigMap").items()}
    secret_keys = _secret_keys()
    defined = {"ConfigMap": config_keys, "Secret": secret_keys}
    for workload in _workloads():
        for kind, name, key in _references(workload):
            where = f"{workload['metadata']['name']}: {kind} {name}"
            assert name in defined[kind], f"{where} is not defined"
            assert key is None or key in defined[kind][name], f"{where} has no key {key}"
    for name, ingress in _by_kind("Ingress").items():
        for tls in ingress["spec"].get("tls", []):
            assert tls["secretName"] in secret_keys, f"Ingress {name}: Secret {tls['secretName']}"


def test_the_ingress_sends_streams_to_the_stream_server_and_the_rest_to_web():
    services = _by_kind("Service")
    routes = {}
    for ingress in _by_kind("Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                port_names = {p.get("name") for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in port_names, f"{backend['name']} has no port {backend['port']}"
                routes[(rule["host"], path["path"], path["pathType"])] = backend["name"]
    public_host = _by_kind("ConfigMap")["pantau-config"]["data"]["PANTAU_PUBLIC_URL"].removeprefix("https://")
    assert routes == {(public_host, "/", "Prefix"): "web", (public_host, "/stream", "Prefix"): "streams"}


# ---------------------------------------------------------------- containers


def _port_names_and_numbers(container: dict) -> set[object]:
    return {value for p in container.get("ports", []) for value in (p.get("name"), p["containerPort"]) if value}


def test_probes_ask_ports_the_container_has():
    for workload in _workloads():
        for container in _containers(workload):
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = container.get(kind)
                if probe is None:
                    continue
                action = probe.get("httpGet") or probe.get("tcpSocket")
                if action is not None:
                    assert action["port"] in _port_names_and_numbers(container), f"{container['name']} {kind}"
                else:
                    assert probe["exec"]["command"], f"{container['name']} {kind}"


def test_every_long_running_container_has_probes_and_every_container_resources():
    for workload in _workloads():
        for container in _containers(workload):
            resources = container.get("resources", {})
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{container['name']}: {part}"
        if workload["kind"] != "Job":
            for container in _pod_spec(workload)["containers"]:
                assert "livenessProbe" in container, container["name"]


def test_variable_references_name_a_variable_set_before_them():
    """Kubernetes leaves an unknown ``$(NAME)`` as it is, silently: a client id would read ``$(POD_NAME)``."""
    for workload in _workloads():
        for container in _containers(workload):
            seen: set[str] = set()
            for item in container.get("env", []):
                for name in VAR_REFERENCE.findall(item.get("value", "")):
                    assert name in seen, f"{container['name']}: {item['name']} uses $({name}) before it is set"
                seen.add(item["name"])
            for word in [*container.get("command", []), *container.get("args", [])]:
                for name in VAR_REFERENCE.findall(word):
                    assert name in seen, f"{container['name']}: the command uses $({name}), which is not set"


def _module_file(command: list[str]) -> Path:
    """The file of this repository that a Pantau container's command runs."""
    if command[:2] == ["python", "-m"]:
        module = ROOT / command[2].replace(".", "/")
        return module / "__main__.py" if module.is_dir() else module.with_suffix(".py")
    if command[0] == "flask":
        return ROOT / f"{command[command.index('--app') + 1]}.py"
    if command[0] == "gunicorn":
        return ROOT / f"{command[-1].split(':')[0]}.py"
    raise AssertionError(f"unknown way to start a Pantau process: {command}")


def test_each_pantau_container_runs_a_module_of_this_repository():
    commands = []
    for workload in _workloads():
        for container in _containers(workload):
            if container["image"].split(":")[0] == PANTAU_IMAGE:
                commands.append(container["command"])
                assert _module_file(container["command"]).is_file(), container["command"]
    assert ["python", "-m", "streams"] in commands


def test_pantau_pods_run_unprivileged():
    for workload in _workloads():
        pod = _pod_spec(workload)["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["seccompProfile"]["type"] == "RuntimeDefault"
        for container in _containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


# ---------------------------------------------------------------- the components


def test_web_and_streams_run_two_or_more_and_probe_their_health_routes():
    deployments = _by_kind("Deployment")
    assert deployments["web"]["spec"]["replicas"] >= 2
    assert deployments["streams"]["spec"]["replicas"] >= 2
    web = _container("web")
    assert web["command"] == ["gunicorn", "--config", "gunicorn.conf.py", "app:server"]
    assert web["readinessProbe"]["httpGet"]["path"] == web["startupProbe"]["httpGet"]["path"] == "/healthz"
    streams = _container("streams")
    assert streams["command"] == ["python", "-m", "streams"]
    assert _env(streams)["PANTAU_STREAMS_BIND"]["value"] == "0.0.0.0:8060"
    assert [p["containerPort"] for p in streams["ports"]] == [8060]
    for kind in ("readinessProbe", "livenessProbe"):
        assert streams[kind]["httpGet"]["path"] == "/stream/healthz"


def test_consumers_share_the_subscription_each_with_its_own_client_id():
    consumer = _by_kind("StatefulSet")["pantau-consumer"]
    assert consumer["spec"]["replicas"] >= 2
    container = _container("pantau-consumer")
    assert container["command"][:3] == ["python", "-m", "bridge.consumer"]
    assert "--shared" in container["command"]
    env = _env(container)
    client_id = container["command"][container["command"].index("--client-id") + 1]
    assert client_id == "$(POD_NAME)"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # Readiness is the consumer's /healthz; liveness must not restart it while PostgreSQL is away.
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] != "/healthz"


def _compose_healthcheck(service: str) -> list[str]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    test = compose["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return test[1:]


@pytest.mark.parametrize("name", ["bpjs-worker", "facility-sync"])
def test_workers_are_probed_on_their_heartbeat_as_compose_does(name):
    container = _container(name)
    probe = container["livenessProbe"]["exec"]["command"]
    assert probe == _compose_healthcheck(name)
    heartbeat = container["command"][container["command"].index("--heartbeat-file") + 1]
    assert heartbeat in probe[-1]


def test_facility_sync_stays_single():
    sync = _by_kind("Deployment")["facility-sync"]
    assert sync["spec"]["replicas"] == 1
    assert sync["spec"]["strategy"]["type"] == "Recreate", "two at once would take each other's MQTT session"


def test_only_the_migration_connects_as_the_database_owner():
    for workload in _workloads():
        for container in _containers(workload):
            owner = [
                item["name"]
                for item in container.get("env", [])
                if item.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "pantau-db-owner"
            ]
            expected = ["PANTAU_DATABASE_URL", "PANTAU_DB_APP_PASSWORD"] if container["name"] == "migrate" else []
            assert owner == expected, container["name"]


def test_the_broker_config_is_the_one_compose_mounts():
    config = _by_kind("ConfigMap")["mosquitto-config"]["data"]["mosquitto.conf"]
    assert config == MOSQUITTO_CONF.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the example Secret


def _production_settings(secret_values: dict[str, str]) -> Settings:
    values = {**_by_kind("ConfigMap")["pantau-config"]["data"], **secret_values}
    return Settings(_env_file=None, **{name.removeprefix("PANTAU_").lower(): value for name, value in values.items()})


def test_the_example_secret_is_marked_and_production_refuses_its_values():
    text = (K8S / EXAMPLE_SECRETS).read_text(encoding="utf-8")
    assert text.startswith("# EXAMPLE ONLY")
    example = _by_kind("Secret")["pantau-secrets"]["stringData"]
    with pytest.raises(ConfigError) as refused:
        _production_settings(example)
    for name in ("PANTAU_SECRET_KEY", "PANTAU_DATA_KEYS", "PANTAU_BLIND_INDEX_KEY", "PANTAU_JKN_PASSWORD"):
        assert name in str(refused.value)
    # The same settings with the hospital's own values start: the refusal is the example's values, nothing else.
    own = {
        "PANTAU_SECRET_KEY": secrets.token_urlsafe(48),
        "PANTAU_DATA_KEYS": "k1:" + "A" * 43 + "=",
        "PANTAU_BLIND_INDEX_KEY": secrets.token_urlsafe(48),
        "PANTAU_JKN_USERNAME": "ws-rs",
        "PANTAU_JKN_PASSWORD": secrets.token_urlsafe(24),
        "PANTAU_JKN_TOKEN_SECRET": secrets.token_urlsafe(48),
    }
    assert _production_settings({**example, **own}).production
    sync = _by_kind("Secret")["pantau-sync"]["stringData"]
    with pytest.raises(ConfigError, match="PANTAU_SYNC_KEYS"):
        _production_settings({**example, **own, **sync})
