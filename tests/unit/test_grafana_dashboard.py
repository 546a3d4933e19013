"""deploy/grafana: the dashboard is well formed, reads only series the services export, shows
what an operator watches, and docker-compose provisions it against the compose Prometheus."""

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

from tests.promql import PROMETHEUS_OWN, balanced, exported, named_series

ROOT = Path(__file__).parents[2]
GRAFANA = ROOT / "deploy/grafana"
DASHBOARD = GRAFANA / "dashboards/safety-month.json"
DATASOURCES = GRAFANA / "provisioning/datasources/prometheus.yml"
PROVIDERS = GRAFANA / "provisioning/dashboards/safety-month.yml"
SERVICES = ("intake", "exposure", "notify", "reports")
PANEL_TYPES = {"timeseries", "stat", "gauge", "table", "bargauge"}
GRID_COLUMNS = 24


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def panels() -> list[dict[str, Any]]:
    return dashboard()["panels"]


def compose_grafana() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return compose["services"]["grafana"]


def mounts() -> dict[str, Path]:
    """Where in the container each host path of the compose file is mounted."""
    return {volume.split(":")[1]: (ROOT / volume.split(":")[0]).resolve()
            for volume in compose_grafana()["volumes"]}  # fmt: skip


def services_exported() -> set[str]:
    """Every series the four services' processes offer on /metrics: their modules register the
    families when imported, as a running service's do."""
    for service in SERVICES:
        importlib.import_module(f"smonth_{service}.app")
    return exported(generate_latest(REGISTRY).decode())


def test_the_dashboard_has_its_uid_title_and_panels_with_unique_ids() -> None:
    board = dashboard()
    assert (board["uid"], board["title"]) == ("safety-month", "safety-month operations")
    ids = [panel["id"] for panel in panels()]
    assert ids and len(ids) == len(set(ids))


@pytest.mark.parametrize("panel", panels(), ids=lambda panel: panel["title"])
def test_a_panel_is_well_formed_and_reads_the_provisioned_prometheus(panel: dict[str, Any]) -> None:
    datasource = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"][0]
    assert panel["type"] in PANEL_TYPES
    grid = panel["gridPos"]
    assert (
        grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_COLUMNS
    )
    assert panel["targets"] and panel["description"]
    for target in [panel, *panel["targets"]]:
        assert target["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
    ref_ids = [target["refId"] for target in panel["targets"]]
    assert len(ref_ids) == len(set(ref_ids))
    for target in panel["targets"]:
        assert balanced(target["expr"]) and named_series(target["expr"]), target["expr"]


def test_no_two_panels_overlap() -> None:
    cells = [(x, y) for panel in panels() for g in [panel["gridPos"]]
             for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])]  # fmt: skip
    assert len(cells) == len(set(cells))


def test_every_series_the_dashboard_reads_is_one_the_services_export() -> None:
    offered = services_exported() | PROMETHEUS_OWN
    read = {panel["title"]: named_series(target["expr"])
            for panel in panels() for target in panel["targets"]}  # fmt: skip
    missing = {title: names - offered for title, names in read.items() if names - offered}
    assert not missing, f"the services do not export {missing}"


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    exprs = " ".join(target["expr"] for panel in panels() for target in panel["targets"])
    for series in ("smonth_consumer_lag", "smonth_outbox_backlog_rows",
                   "smonth_outbox_oldest_age_seconds", "smonth_dead_letters_total",
                   "smonth_inbox_duplicates_total", "smonth_reminders",
                   "smonth_http_request_seconds_bucket", "smonth_ready"):  # fmt: skip
        assert series in exprs, series
    assert {"histogram_quantile(0.5,", "histogram_quantile(0.99,"} <= set(exprs.split())


def test_compose_provisions_the_dashboard_and_prometheus_as_its_data_source() -> None:
    datasource = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"][0]
    [provider] = yaml.safe_load(PROVIDERS.read_text(encoding="utf-8"))["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    prometheus_port = compose["services"]["prometheus"]["ports"][0].rpartition(":")[2]
    assert datasource["url"] == f"http://prometheus:{prometheus_port}"
    assert mounts()["/etc/grafana/provisioning"] == (GRAFANA / "provisioning").resolve()
    assert mounts()[provider["options"]["path"]] == DASHBOARD.parent.resolve()
    assert "prometheus" in compose_grafana()["depends_on"]
