"""Typical cases exposed by provincial units in provincial mainstream media."""

from typing import Any

import pytest

pytestmark = pytest.mark.integration

CASE = {
    "province": "44", "title": "某化工企业违规动火作业被查处", "industry": "hazardous_chemicals",
    "enterprise": "某化工有限公司", "summary": "未办理动火作业许可即进行焊接作业……",
    "media_outlet": "南方日报", "published_on": "2021-06-18",
    "url": "https://news.southcn.com/case/2021/0618.html",
}  # fmt: skip


async def report(intake: Any, unit: str = "44", **changes: Any) -> Any:
    return await intake.client.post(
        "/v1/cases", json={**CASE, **changes}, headers=intake.auth("unit", unit)
    )


async def test_a_province_reports_its_case_and_it_is_announced_keyed_by_province(
    intake: Any,
) -> None:
    answer = await report(intake)

    assert answer.status_code == 202
    (event,) = await intake.events("case.reported")
    assert event["subject"] == "44" and event["data"]["case_id"] == answer.json()["id"]


async def test_a_province_cannot_report_for_another_province(intake: Any) -> None:
    answer = await report(intake, unit="45")

    assert answer.status_code == 403 and "44" in answer.json()["detail"]


async def test_an_industry_off_the_list_is_refused_naming_the_allowed_ones(intake: Any) -> None:
    answer = await report(intake, industry="tourism")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["industry"]
    assert "fishing_vessels" in answer.json()["errors"][0]["msg"]


@pytest.mark.parametrize("day", ["2021-05-31", "2022-01-01"])
async def test_a_case_published_outside_the_exposure_window_is_refused(
    start_intake: Any, day: str
) -> None:
    async with start_intake(clock_start="2022-01-10T10:00:00+08:00") as intake:
        answer = await report(intake, published_on=day)

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["published_on"]


async def test_a_case_published_on_the_first_day_of_the_window_passes(intake: Any) -> None:
    assert (await report(intake, published_on="2021-06-01")).status_code == 202


async def test_a_case_published_in_the_future_is_refused(intake: Any) -> None:
    answer = await report(intake, published_on="2021-06-25")  # the clock shows 2021-06-20

    assert answer.status_code == 422


@pytest.mark.parametrize("url", [None, "", "ftp://example.cn/case", "南方日报"])
async def test_the_url_is_required_and_must_be_a_web_address(intake: Any, url: Any) -> None:
    body = {k: v for k, v in CASE.items() if k != "url"} | ({"url": url} if url is not None else {})

    answer = await intake.client.post("/v1/cases", json=body, headers=intake.auth("unit", "44"))

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["url"]


async def test_the_same_province_and_url_again_is_a_conflict_naming_the_existing_case(
    intake: Any,
) -> None:
    first = await report(intake)

    again = await report(intake, title="同一案例换了标题")

    assert again.status_code == 409
    assert again.json()["existing_id"] == first.json()["id"]
    assert len(await intake.events("case.reported")) == 1


async def test_another_province_may_report_the_same_url(intake: Any) -> None:
    await report(intake)

    answer = await report(intake, unit="45", province="45")

    assert answer.status_code == 202


async def test_a_province_code_not_in_the_registry_is_refused(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/cases", json={**CASE, "province": "99"}, headers=intake.auth("system")
    )

    assert answer.status_code == 422 and "99" in answer.json()["detail"]
