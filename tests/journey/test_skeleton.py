"""The walking skeleton: one real path through every service, as separate processes."""

import csv
import io
import time
from typing import Any

import httpx
import pytest

from tests.polling import eventually_blocking

RunningSystem = Any  # the `running_system` fixture of conftest.py

pytestmark = [pytest.mark.integration, pytest.mark.journey]


def summary(system: RunningSystem) -> dict[str, Any]:
    response = httpx.get(f"{system.url('reports')}/v1/national-summary",
                         params={"campaign": "2021"}, headers=system.auth("staff"))  # fmt: skip
    assert response.status_code == 200, system.recent_logs("reports")
    return response.json()


def test_a_tip_posted_over_http_appears_in_the_national_summary(
    running_system: RunningSystem,
) -> None:
    running_system.wait_until_caught_up("reports", "smonth.tip.v1")
    before = summary(running_system)["tips"]
    response = httpx.post(f"{running_system.url('intake')}/v1/tips", json={
        "province": "53", "industry": "mining", "category": "major_hazard",
        "description": "某煤矿井下通风设施长期停用，瓦斯浓度超限仍组织生产。",
    })  # fmt: skip
    assert response.status_code == 202, response.text
    assert response.json()["receipt_code"]

    after = eventually_blocking(lambda: (s := summary(running_system)["tips"])["received"]
                       > before["received"] and s)  # fmt: skip
    assert after["received"] == before["received"] + 1
    assert after["by_province"]["53"] == before["by_province"].get("53", 0) + 1


def test_a_case_makes_its_province_month_met_in_exposure_notify_and_reports(
    running_system: RunningSystem,
) -> None:
    running_system.wait_until_caught_up("exposure", "smonth.case.v1")
    # Earlier tests shared the broker: take a province-month they left short of its quota.
    province, month = _a_province_month_not_met(running_system)
    response = httpx.post(f"{running_system.url('intake')}/v1/cases", json={
        "province": province, "title": "某化工企业违规储存危险化学品被曝光",
        "industry": "hazardous_chemicals", "enterprise": "某化工有限公司",
        "summary": "企业超量储存危险化学品，安全距离不足。", "media_outlet": "省级日报",
        "published_on": f"{month}-10", "url": f"https://news.example.cn/{time.time_ns()}.html",
    }, headers=running_system.auth("unit", province))  # fmt: skip
    assert response.status_code == 202, response.text

    eventually_blocking(lambda: _compliance(running_system, province, month) == "met")
    eventually_blocking(lambda: _reports_shows_met(running_system, province, month))
    eventually_blocking(lambda: _notify_knows_met(running_system, province, month))


EXPOSURE_MONTHS = ("2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12")


def _a_province_month_not_met(system: RunningSystem) -> tuple[str, str]:
    answer = httpx.get(f"{system.url('exposure')}/v1/compliance", params={"campaign": "2021"},
                       headers=system.auth("staff"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    for row in answer.json()["provinces"]:
        for month, cell in row["months"].items():
            if cell["status"] != "met":
                return row["province"], month
    raise AssertionError("every province-month is already met")


def _compliance(system: RunningSystem, province: str, month: str) -> str | None:
    answer = httpx.get(f"{system.url('exposure')}/v1/compliance", params={"campaign": "2021"},
                       headers=system.auth("staff"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    return _status_of(answer.json(), province, month)


def _reports_shows_met(system: RunningSystem, province: str, month: str) -> bool:
    """The exposure table of the summary (CSV): the province's row marks the month 达标."""
    answer = httpx.get(f"{system.url('reports')}/v1/national-summary",
                       params={"campaign": "2021", "format": "csv", "table": "exposure"},
                       headers=system.auth("staff"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    rows = csv.reader(io.StringIO(answer.content.decode("utf-8-sig")))
    row = next(r for r in rows if r and r[0] == province)
    return row[2 + EXPOSURE_MONTHS.index(month)].startswith("达标")


def _status_of(matrix: Any, province: str, month: str) -> str | None:
    rows = matrix["provinces"] if isinstance(matrix, dict) and "provinces" in matrix else matrix
    for row in rows:
        if row.get("province") == province:
            months = row.get("months", {})
            cell = months.get(month) if isinstance(months, dict) else None
            if cell is not None:
                return cell.get("status")
    return None


def _notify_knows_met(system: RunningSystem, province: str, month: str) -> bool:
    answer = httpx.get(f"{system.url('notify')}/v1/standings/{province}",
                       headers=system.auth("staff"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    return month in answer.json()["months_met"]
