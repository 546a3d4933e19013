"""deploy/prometheus: the alert rules are well formed Prometheus rules, Prometheus scrapes what
they name, and the README's runbook says what to do for each (promtool is not at hand: the
structure is checked here, and the journey checks every metric named is exported)."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.promql import balanced

ROOT = Path(__file__).parents[2]
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
PROMETHEUS = ROOT / "deploy/prometheus/prometheus.yml"

RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
DURATION = re.compile(r"(\d+(ms|s|m|h|d|w|y))+")
TEMPLATE = re.compile(r"\{\{(.*?)\}\}")


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(document) == {"groups"}
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_group_has_a_unique_name_and_rules() -> None:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    names = [group["name"] for group in groups]
    assert len(names) == len(set(names))
    assert all(group["rules"] for group in groups)


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_an_alert_rule_is_well_formed(rule: dict[str, Any]) -> None:
    assert set(rule) <= RULE_KEYS, set(rule) - RULE_KEYS
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"])
    assert isinstance(rule["expr"], str) and rule["expr"].strip()
    assert balanced(rule["expr"]), rule["expr"]
    for key in ("for", "keep_firing_for"):
        assert key not in rule or DURATION.fullmatch(rule[key]), rule[key]
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert {"summary", "description"} <= set(rule["annotations"])
    for text in rule["annotations"].values():
        for template in TEMPLATE.findall(text):
            assert re.match(r"\s*\$(labels\.\w+|value)\b", template), template


def test_alert_names_are_unique() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names))


def test_the_alerts_cover_lag_the_outbox_dead_letters_and_readiness() -> None:
    exprs = " ".join(rule["expr"] for rule in rules())
    for metric in ("smonth_consumer_lag", "smonth_outbox_oldest_age_seconds",
                   "smonth_dead_letters_total", "smonth_ready"):  # fmt: skip
        assert metric in exprs, metric


def test_prometheus_scrapes_the_job_the_alerts_name_and_loads_the_rules() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    named = {job for rule in rules() for job in re.findall(r'job="([^"]+)"', rule["expr"])}
    assert named <= jobs
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    mounts = dict(volume.split(":")[1::-1] for volume in
                  compose["services"]["prometheus"]["volumes"])  # fmt: skip
    assert [(ROOT / mounts[path]).resolve() for path in config["rule_files"]] == [ALERTS]


def test_the_readmes_runbook_names_every_alert() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [rule["alert"] for rule in rules() if f"`{rule['alert']}`" not in readme]
    assert not missing, f"the README's operations section does not name {missing}"
