"""Progress statistics through the real app: snapshots, revisions with history, the rules."""

from typing import Any

import pytest

pytestmark = pytest.mark.integration


def snapshot(as_of: str = "2021-06-10", unit: str = "44", **indicators: int) -> dict[str, Any]:
    figures = indicators or {"study_sessions": 3, "study_participants": 90, "media_reports": 9}
    return {"unit": unit, "as_of": as_of, "indicators": figures}


async def post(intake: Any, body: dict[str, Any], unit: str = "44") -> Any:
    return await intake.client.post("/v1/progress", json=body, headers=intake.auth("unit", unit))


async def test_a_snapshot_is_accepted_stored_and_announced(intake: Any) -> None:
    answer = await post(intake, snapshot())

    assert answer.status_code == 202
    assert answer.json()["revision"] == 1
    (event,) = await intake.events("progress.reported")
    assert event["subject"] == "44" and event["source"] == "intake"
    assert event["data"]["submission_id"] == answer.json()["id"]
    assert event["data"]["indicators"] == snapshot()["indicators"]


async def test_a_resubmission_for_the_same_date_is_a_revision_and_history_is_kept(
    intake: Any,
) -> None:
    await post(intake, snapshot())

    answer = await post(intake, snapshot(study_sessions=4, study_participants=95, media_reports=9))

    assert answer.json()["revision"] == 2
    rows = await intake.rows("SELECT revision FROM progress_snapshots ORDER BY revision")
    assert [r["revision"] for r in rows] == [1, 2]
    assert [e["data"]["revision"] for e in await intake.events("progress.reported")] == [1, 2]


async def test_an_unknown_indicator_is_refused_naming_it(intake: Any) -> None:
    answer = await post(intake, snapshot(study_sessions=1, selfies=2))

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == ["indicators", "selfies"]
    assert answer.json()["detail_zh"]


async def test_a_negative_figure_is_refused_naming_it(intake: Any) -> None:
    answer = await post(intake, snapshot(drills=-1))

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["indicators", "drills"]


async def test_a_consistency_rule_of_the_campaign_is_enforced_quoting_both_values(
    intake: Any,
) -> None:
    answer = await post(intake, snapshot(consult_events=40, consult_participants=12))

    assert answer.status_code == 422
    error = answer.json()["errors"][0]
    assert error["loc"] == ["indicators", "consult_participants"]
    assert "(12)" in error["msg"] and "(40)" in error["msg"]


async def test_a_figure_below_the_previous_snapshot_is_refused_quoting_both(intake: Any) -> None:
    await post(intake, snapshot("2021-06-10", media_reports=9))

    answer = await post(intake, snapshot("2021-06-15", media_reports=7))

    assert answer.status_code == 422
    assert "7" in answer.json()["errors"][0]["msg"] and "9" in answer.json()["errors"][0]["msg"]
    assert len(await intake.events("progress.reported")) == 1


async def test_a_later_snapshot_with_higher_figures_passes(intake: Any) -> None:
    await post(intake, snapshot("2021-06-10", media_reports=9))

    answer = await post(intake, snapshot("2021-06-15", media_reports=12))

    assert answer.status_code == 202


async def test_a_revision_is_compared_with_the_dates_around_it_not_with_itself(
    intake: Any,
) -> None:
    await post(intake, snapshot("2021-06-10", media_reports=9))
    await post(intake, snapshot("2021-06-15", media_reports=20))

    lowered = await post(intake, snapshot("2021-06-15", media_reports=10))
    too_low = await post(intake, snapshot("2021-06-15", media_reports=8))

    assert lowered.status_code == 202 and lowered.json()["revision"] == 2
    assert too_low.status_code == 422


@pytest.mark.parametrize("as_of", ["2021-05-31", "2021-07-06"])
async def test_as_of_outside_the_campaign_window_is_refused(intake: Any, as_of: str) -> None:
    answer = await post(intake, snapshot(as_of))

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["as_of"]


async def test_as_of_after_today_by_the_clock_is_refused(intake: Any) -> None:
    answer = await post(intake, snapshot("2021-06-21"))  # the clock shows 2021-06-20

    assert answer.status_code == 422


async def test_a_ministry_reports_for_itself(intake: Any) -> None:
    answer = await post(intake, snapshot(unit="M16", drills=2), unit="M16")

    assert answer.status_code == 202


async def test_a_unit_not_in_the_registry_is_refused_naming_it(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/progress", json=snapshot(unit="M99"), headers=intake.auth("system")
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["unit"]
    assert "M99" in answer.json()["detail"] and "M99" in answer.json()["detail_zh"]


async def test_a_unit_cannot_report_for_another_unit(intake: Any) -> None:
    answer = await post(intake, snapshot(unit="45"), unit="44")

    assert answer.status_code == 403
    assert "own unit" in answer.json()["detail"] and "45" in answer.json()["detail_zh"]
