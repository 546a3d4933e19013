"""docker-compose.yml and deploy/Dockerfile agree with the services' settings classes.

Nothing here needs a Docker engine: the files are read, and the environment compose would give a
container is interpolated the way compose does and fed to the service's own settings class.
"""

import base64
import fnmatch
import importlib
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import opentelemetry.environment_variables
import opentelemetry.sdk.environment_variables
import pytest
import yaml
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError

from smonth_shared.settings import ServiceSettings
from smonth_shared.telemetry import otlp_exporter_from_env

ROOT = Path(__file__).parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy/Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COLLECTOR_CONFIG = ROOT / "deploy/otel-collector.yaml"
SERVICES = ("intake", "exposure", "notify", "reports")

# What a deployer sets before `docker compose up` (the variables compose refuses to run without).
DEPLOYER_ENV = {
    "SAFETY_MONTH_JWT_SECRET": "compose-test-0123456789abcdef0123456789",
    "TIP_CONTACT_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode(),
}

# The variables the OpenTelemetry SDK reads itself, beside the services' settings.
OTEL_VARIABLES = {
    value
    for module in (opentelemetry.environment_variables, opentelemetry.sdk.environment_variables)
    for name, value in vars(module).items()
    if name.startswith("OTEL_") and isinstance(value, str)
}

# The settings that have no usable default, besides those every service shares.
SECRETS = {"intake": ("TIP_CONTACT_KEY",)}

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, $NAME, $$
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


class MissingVariable(Exception):
    """Compose would refuse to start: a ${NAME:?error} variable is not set."""


def interpolate(text: str, host_env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"] or match["bare"], match["op"] or "", match["arg"] or ""
        value = host_env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if unset else str(value)
        if op.endswith("?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        if op.endswith("+"):
            return "" if unset else arg
        return value or ""

    return INTERPOLATION.sub(replace, text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def declared_env(service: dict[str, Any]) -> dict[str, str | None]:
    """The service's environment as written (None: passed on from where compose runs)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {key: value if sep else None for key, sep, value in pairs}
    return {key: None if value is None else str(value) for key, value in environment.items()}


def container_env(service: dict[str, Any], host_env: dict[str, str]) -> dict[str, str]:
    """The environment compose gives the container when it runs where `host_env` is set."""
    resolved = {}
    for key, value in declared_env(service).items():
        if value is None:
            if key in host_env:
                resolved[key] = host_env[key]
        else:
            resolved[key] = interpolate(value, host_env)
    return resolved


def published_ports(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port."""
    ports = {}
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports[int(entry["target"])] = int(entry["published"])
        else:
            *_, host, container = ["", *interpolate(str(entry), {}).split(":")]
            ports[int(container)] = int(host) if host else 0  # 0: a port of Docker's choosing
    return ports


def settings_class(service: str) -> type[ServiceSettings]:
    module_name = f"smonth_{service}.config"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        pytest.fail(f"{module_name} does not exist yet: compose cannot be checked against it")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module_name
    ]
    assert len(classes) == 1, f"{module_name} should define one settings class, not {classes}"
    return classes[0]


def env_names(settings: type[ServiceSettings]) -> dict[str, str]:
    """Environment variable -> field (pydantic-settings: the field's name, upper-cased)."""
    prefix = settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper(): name for name in settings.model_fields}


def load_settings(
    settings: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """The settings the service would read from exactly `env` (and no .env file)."""
    for name in env_names(settings):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings(_env_file=None)  # type: ignore[call-arg]


def test_compose_runs_kafka_postgres_and_the_four_services(compose: dict[str, Any]) -> None:
    assert {"kafka", "postgres", *SERVICES} <= set(compose["services"])


def test_kafka_is_the_official_image_as_one_kraft_node(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = declared_env(kafka)
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "1@kafka:" in str(env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    assert "kafka-broker-api-versions.sh" in str(kafka["healthcheck"]["test"])
    assert any(str(volume).endswith(":/var/lib/kafka/data") for volume in kafka["volumes"])
    advertised = str(env["KAFKA_ADVERTISED_LISTENERS"])
    for service in SERVICES:
        bootstrap = declared_env(compose["services"][service])["KAFKA_BOOTSTRAP_SERVERS"]
        assert f"://{bootstrap}" in advertised, f"{service}: {bootstrap} is not advertised"


def test_postgres_is_the_official_image_holding_the_services_database(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    database = declared_env(postgres)["POSTGRES_DB"]
    assert postgres["image"] == "postgres:18"
    assert database == "safety_month"
    assert "pg_isready" in str(postgres["healthcheck"]["test"])
    # From 18 on, the image keeps its data below /var/lib/postgresql/<major>/.
    assert any(str(volume).endswith(":/var/lib/postgresql") for volume in postgres["volumes"])
    for service in SERVICES:
        url = container_env(compose["services"][service], DEPLOYER_ENV)["DATABASE_URL"]
        assert re.fullmatch(rf"postgresql://[^@]+@postgres:5432/{database}", url), url


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_listens_on_the_default_port_of_its_settings_and_publishes_it(
    service: str, compose: dict[str, Any]
) -> None:
    default_port = settings_class(service).model_fields["http_port"].default
    container = compose["services"][service]
    assert declared_env(container)["HTTP_PORT"] == str(default_port)
    assert published_ports(container) == {default_port: default_port}


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_a_service_gets_is_one_of_its_settings_or_the_opentelemetry_sdks(
    service: str, compose: dict[str, Any]
) -> None:
    known = set(env_names(settings_class(service))) | OTEL_VARIABLES
    unknown = set(declared_env(compose["services"][service])) - known
    assert not unknown, f"{service} has no settings named {sorted(unknown)}"


@pytest.fixture(scope="module")
def collector() -> dict[str, Any]:
    return yaml.safe_load(COLLECTOR_CONFIG.read_text(encoding="utf-8"))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_exports_every_trace_to_the_collector_under_its_own_name(
    service: str, compose: dict[str, Any], collector: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    env = container_env(compose["services"][service], DEPLOYER_ENV)
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    exporter = otlp_exporter_from_env()
    sampler = TracerProvider().sampler.get_description()

    assert exporter is not None
    exporter.shutdown()
    assert env["OTEL_SERVICE_NAME"] == service
    assert sampler.startswith("ParentBased{root:TraceIdRatioBased{1.0}")
    http_receiver = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        f"http://otel-collector:{http_receiver.rpartition(':')[2]}"
    )


def test_the_collector_forwards_the_traces_it_receives_to_jaeger(
    compose: dict[str, Any], collector: dict[str, Any]
) -> None:
    container = compose["services"]["otel-collector"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in container["volumes"]}
    (config_path,) = [arg.partition("=")[2] for arg in container["command"]
                      if arg.startswith("--config=")]  # fmt: skip
    assert (ROOT / mounted[config_path]).resolve() == COLLECTOR_CONFIG
    pipeline = collector["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(collector[kind]), kind
    assert set(collector["service"]["extensions"]) <= set(collector["extensions"])
    assert pipeline["receivers"] == ["otlp"]
    (exporter,) = pipeline["exporters"]
    host, _, port = collector["exporters"][exporter]["endpoint"].rpartition(":")
    assert host == "jaeger" and "jaeger" in compose["services"]
    jaeger_grpc = [arg for arg in compose["services"]["jaeger"]["command"]
                   if arg.startswith("--set=receivers.otlp.protocols.grpc.endpoint=")]  # fmt: skip
    assert [arg.rpartition(":")[2] for arg in jaeger_grpc] == [port]


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_a_service_cannot_start_without_is_given(
    service: str, compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_class(service)
    try:
        load_settings(settings, {}, monkeypatch)
        required: set[str] = set()
    except ValidationError as error:
        required = {str(detail["loc"][:1][0]).upper() for detail in error.errors()}
    given = {key for key, value in declared_env(compose["services"][service]).items() if value}
    assert required <= given, f"{service} needs {sorted(required - given)} but is not given it"


@pytest.mark.parametrize("service", SERVICES)
def test_the_environment_compose_gives_a_service_makes_valid_settings(
    service: str, compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_type = settings_class(service)
    env = container_env(compose["services"][service], DEPLOYER_ENV)
    settings = load_settings(settings_type, env, monkeypatch)
    assert settings.service_name == service
    assert settings.http_host == "0.0.0.0"  # noqa: S104 - inside its container
    assert settings.http_port == settings_type.model_fields["http_port"].default
    assert settings.kafka_bootstrap_servers == "kafka:9092"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_refuses_to_start_a_service_without_its_secrets(
    service: str, compose: dict[str, Any]
) -> None:
    for secret in ("SAFETY_MONTH_JWT_SECRET", *SECRETS.get(service, ())):
        without = {key: value for key, value in DEPLOYER_ENV.items() if key != secret}
        with pytest.raises(MissingVariable, match=secret):
            container_env(compose["services"][service], without)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_built_from_the_one_dockerfile_for_its_name(
    service: str, compose: dict[str, Any]
) -> None:
    build = compose["services"][service]["build"]
    assert (ROOT / build.get("context", ".")).resolve() == ROOT
    assert build["dockerfile"] == "deploy/Dockerfile"
    assert build["args"] == {"SERVICE": service}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_waits_for_healthy_kafka_and_postgres_and_reports_readiness(
    service: str, compose: dict[str, Any]
) -> None:
    container = compose["services"][service]
    for dependency in ("kafka", "postgres"):
        assert container["depends_on"][dependency] == {"condition": "service_healthy"}
    assert "/readyz" in str(container["healthcheck"]["test"])


def test_intake_keeps_uploaded_files_in_a_volume(compose: dict[str, Any]) -> None:
    intake = compose["services"]["intake"]
    blob_dir = declared_env(intake)["BLOB_DIR"]
    volumes = [str(volume).split(":") for volume in intake["volumes"]]
    assert any(target == blob_dir and name in compose["volumes"] for name, target in volumes)


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions as (keyword, arguments), one list per stage."""
    stages: list[list[tuple[str, str]]] = [[]]
    pending, heredoc = "", None
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if heredoc is not None:
            heredoc = None if line.strip() == heredoc else heredoc
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), " ".join(arguments.split())))
        if opened := re.search(r"<<-?['\"]?(\w+)['\"]?", arguments):
            heredoc = opened[1]
    return stages


def arguments_of(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in stage if name == keyword]


def test_the_image_is_one_for_all_services_chosen_by_the_service_argument() -> None:
    *builders, runtime = dockerfile_stages()[1:]
    assert "SERVICE" in arguments_of(runtime, "ARG")
    assert any(re.search(r"\bSERVICE=\$\{?SERVICE\b", env) for env in arguments_of(runtime, "ENV"))
    runs = " ".join(run for stage in builders for run in arguments_of(stage, "RUN"))
    assert re.search(r"uv sync --frozen --no-dev .*--package \"?smonth-\$\{SERVICE\}", runs)


def test_the_container_migrates_then_serves_its_service_as_a_user_without_privileges() -> None:
    runtime = dockerfile_stages()[-1]
    (command,) = arguments_of(runtime, "CMD") + arguments_of(runtime, "ENTRYPOINT")
    words = " ".join(json.loads(command)) if command.startswith("[") else command
    assert re.search(r"python -m \"?smonth_\$\{?SERVICE\}?\"? serve --migrate-first", words)
    (user,) = arguments_of(runtime, "USER")
    assert user.split(":")[0] not in ("root", "0")
    (healthcheck,) = arguments_of(runtime, "HEALTHCHECK")
    assert "/healthz" in healthcheck


def test_the_image_copies_every_workspace_member_uv_needs_to_resolve_the_lock() -> None:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    copied = {
        source
        for stage in dockerfile_stages()
        for arguments in arguments_of(stage, "COPY")
        if not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    }
    needed = {"pyproject.toml", "uv.lock"}
    needed |= {
        f"{member}/pyproject.toml" for member in workspace["tool"]["uv"]["workspace"]["members"]
    }
    assert needed <= copied


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (the last match decides)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    verdict = False
    for pattern in patterns:
        exclude = not pattern.startswith("!")
        glob = pattern.lstrip("!").rstrip("/")
        globs = {glob, glob.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(candidate, g) for candidate in candidates for g in globs):
            verdict = exclude
    return verdict


def test_the_build_context_holds_the_workspace_and_no_local_state() -> None:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    tracked = subprocess.run(
        ["git", "ls-files", "pyproject.toml", "uv.lock", "shared", "services"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert tracked
    assert not [path for path in tracked if ignored(path, patterns)]
    for local in (".venv/bin/python", ".env", ".run/blobs/x", ".git/HEAD", "tests/conftest.py",
                  "shared/src/smonth_shared/__pycache__/settings.cpython-311.pyc"):  # fmt: skip
        assert ignored(local, patterns), local
