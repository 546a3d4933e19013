"""exposure with the real broker and database: cases counted or not, rejected, and announced."""

from datetime import date
from uuid import uuid4

import pytest

pytestmark = pytest.mark.integration


async def test_a_counted_case_makes_its_month_met_and_announces_it(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.send(case)

    assessed = await service.eventually(lambda: service.events("exposure.month-assessed"))
    assert [event.data for event in assessed] == [{
        "province": "44", "month": "2021-06", "cases_counted": 1, "quota": 1, "status": "met",
        "closed": False,
    }]  # fmt: skip
    assert (assessed[0].subject, assessed[0].topic.name) == ("44", "smonth.compliance.v1")
    assert await service.cell("44", "2021-06") == {
        "cases_counted": 1, "quota": 1, "status": "met", "closed": False,
    }  # fmt: skip
    assert (await service.cell("11", "2021-06"))["status"] == "unmet"


async def test_the_relay_publishes_the_assessment_to_the_broker(service) -> None:
    await service.send(service.case("44", date(2021, 6, 10)))

    async def published() -> bool:
        return bool(await service.pool.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'exposure.month-assessed'"
            " AND seq NOT IN (SELECT seq FROM outbox_pending)"
        ))  # fmt: skip

    assert await service.eventually(published)


async def test_a_duplicate_case_reported_event_has_one_effect(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    again_under_another_id = case.model_copy(update={"id": uuid4()})
    marker = service.case("44", date(2021, 7, 2))
    # One key, one partition: once the marker is processed, so are the repeats before it.
    await service.send(case, case, again_under_another_id, marker)
    await service.eventually(lambda: service.processed(marker.id))

    months = [event.data["month"] for event in await service.events("exposure.month-assessed")]
    assert months == ["2021-06", "2021-07"]
    assert (await service.cell("44", "2021-06"))["cases_counted"] == 1
    listed = (await service.get("/v1/cases", province="44")).json()["cases"]
    assert [c["id"] for c in listed] == [str(case.data["case_id"]), str(marker.data["case_id"])]


async def test_rejecting_a_counted_case_flips_its_met_month_back_to_unmet(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)
    assert (await service.cell("44", "2021-06"))["status"] == "met"

    answer = await service.reject(case.data["case_id"], "未在省级主流媒体发布")

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["counted"], body["rejected"]) == (False, True)
    assert body["rejection"]["reason"] == "未在省级主流媒体发布"
    assert body["not_counted_reason"].startswith("rejected by staff on 2021-06-15")
    assert await service.cell("44", "2021-06") == {
        "cases_counted": 0, "quota": 1, "status": "unmet", "closed": False,
    }  # fmt: skip
    latest = (await service.events("exposure.month-assessed"))[-1]
    assert (latest.data["status"], latest.data["cases_counted"]) == ("unmet", 0)


async def test_a_rejection_is_announced_as_case_rejected_on_the_case_topic(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)

    await service.reject(case.data["case_id"], "重复报送")

    [rejected] = await service.events("case.rejected")
    assert (rejected.topic.name, rejected.subject, rejected.source) == (
        "smonth.case.v1", "44", "exposure",
    )  # fmt: skip
    assert rejected.data == {"case_id": str(case.data["case_id"]), "province": "44",
                             "reason": "重复报送", "rejected_by": "staff"}  # fmt: skip


async def test_exposure_takes_its_own_rejection_from_the_topic_without_a_second_effect(
    service,
) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.send(case)
    await service.eventually(lambda: service.processed(case.id))
    await service.reject(case.data["case_id"], "重复报送")
    [rejected] = await service.events("case.rejected")
    assessments = await service.events("exposure.month-assessed")

    await service.send(rejected)
    await service.eventually(lambda: service.processed(rejected.id))

    assert await service.events("exposure.month-assessed") == assessments
    assert await service.events("case.rejected") == [rejected]
    assert (await service.cell("44", "2021-06"))["cases_counted"] == 0


async def test_a_rejection_from_the_topic_not_yet_applied_is_applied(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)
    # Rejected elsewhere (another deployment, or a replay after the database was rebuilt).
    rejected = case.model_copy(update={
        "id": uuid4(), "type": "case.rejected", "source": "exposure",
        "data": {"case_id": str(case.data["case_id"]), "province": "44", "reason": "不实",
                 "rejected_by": "staff"},
    })  # fmt: skip

    await service.record(rejected)

    assert (await service.cell("44", "2021-06"))["status"] == "unmet"
    assert await service.events("case.rejected") == []


async def test_rejecting_a_case_twice_is_refused(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)
    await service.reject(case.data["case_id"], "重复报送")

    again = await service.reject(case.data["case_id"], "另一个理由")

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "重复报送" in again.json()["detail_zh"] and "不能重复退回" in again.json()["detail_zh"]
    assert len(await service.events("case.rejected")) == 1


async def test_rejecting_an_unknown_case_answers_404(service) -> None:
    answer = await service.reject(uuid4())

    assert answer.status_code == 404
    assert answer.json()["detail_zh"].startswith("未找到编号为")


async def test_only_the_office_may_reject_a_case(service) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)

    answer = await service.reject(case.data["case_id"], role="unit", unit="44")

    assert answer.status_code == 403
    assert (await service.cell("44", "2021-06"))["status"] == "met"


async def test_a_retried_rejection_with_the_same_idempotency_key_gets_the_same_answer(
    service,
) -> None:
    case = service.case("44", date(2021, 6, 10))
    await service.record(case)

    first = await service.reject(case.data["case_id"], "重复报送", key="k-1")
    retried = await service.reject(case.data["case_id"], "重复报送", key="k-1")
    other_body = await service.reject(case.data["case_id"], "别的理由", key="k-1")

    assert (first.status_code, retried.status_code) == (202, 202)
    assert retried.json() == first.json()
    assert other_body.status_code == 409
    assert len(await service.events("case.rejected")) == 1


async def test_a_case_outside_the_window_is_not_counted_and_the_reason_is_visible(
    service,
) -> None:
    await service.record(service.case("44", date(2022, 1, 3)))

    [listed] = (await service.get("/v1/cases", province="44")).json()["cases"]

    assert (listed["counted"], listed["month"]) == (False, "2022-01")
    assert listed["not_counted_reason"] == (
        "published_on 2022-01-03 is outside the exposure window 2021-06-01..2021-12-31"
    )
    assert "曝光期" in listed["not_counted_reason_zh"]
    assert await service.events("exposure.month-assessed") == []


async def test_a_case_from_a_code_that_is_no_provincial_unit_is_kept_but_not_counted(
    service,
) -> None:
    await service.record(service.case("81", date(2021, 6, 10)))

    [listed] = (await service.get("/v1/cases", province="81")).json()["cases"]

    assert listed["counted"] is False
    assert (
        listed["not_counted_reason"] == "81 is not one of the 32 provincial units of campaign 2021"
    )
    assert await service.events("exposure.month-assessed") == []


async def test_cases_can_be_listed_by_month(service) -> None:
    await service.record(
        service.case("44", date(2021, 6, 10)), service.case("44", date(2021, 7, 1))
    )

    listed = (await service.get("/v1/cases", month="2021-07")).json()["cases"]

    assert [c["published_on"] for c in listed] == ["2021-07-01"]


async def test_a_unit_sees_the_cases_and_compliance_of_its_own_province_only(service) -> None:
    await service.record(
        service.case("44", date(2021, 6, 10)), service.case("11", date(2021, 6, 9))
    )

    own = await service.get("/v1/cases", role="unit", unit="44")
    other = await service.get("/v1/cases", role="unit", unit="44", province="11")
    matrix = await service.get("/v1/compliance", role="unit", unit="44")

    assert [c["province"] for c in own.json()["cases"]] == ["44"]
    assert other.status_code == 403
    assert [row["province"] for row in matrix.json()["provinces"]] == ["44"]


async def test_staff_see_every_province_and_month_of_the_window(service) -> None:
    matrix = (await service.get("/v1/compliance", campaign="2021")).json()

    assert len(matrix["provinces"]) == 32
    assert matrix["months"] == [f"2021-{m:02d}" for m in range(6, 13)]
    assert all(list(row["months"]) == matrix["months"] for row in matrix["provinces"])
    assert (
        next(r for r in matrix["provinces"] if r["province"] == "66")["name"] == "新疆生产建设兵团"
    )


async def test_a_campaign_this_service_does_not_track_answers_404(service) -> None:
    answer = await service.get("/v1/compliance", campaign="2022")

    assert answer.status_code == 404
    assert answer.json()["detail_zh"] == "本系统统计的是2021年活动，没有2022年活动的数据。"
