"""Errors as problem documents that name the field, in English and in Chinese."""

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from smonth_shared.events import ProvinceCode
from smonth_shared.problems import (
    PROBLEM_JSON,
    Problem,
    install_problem_handlers,
    refuse_unknown_query_parameters,
)


class CaseBody(BaseModel):
    province: ProvinceCode
    title: Annotated[str, Field(min_length=1)]
    count: Annotated[int, Field(ge=0)]


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/cases", status_code=202)
    async def report(body: CaseBody) -> dict[str, str]:
        if body.province == "99":
            raise Problem.invalid(["province"], "99 is not a province", "99 不是省级单位代码")
        if body.title == "conflict":
            raise Problem(409, "Conflict", "Already reported.", "已报送。", extra={"id": "x"})
        return {"province": body.province}

    return app


async def _post(path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url="http://test"
    ) as client:
        return await client.post(path, **kwargs)  # type: ignore[arg-type]


async def test_an_invalid_body_is_a_problem_naming_each_field() -> None:
    response = await _post("/v1/cases", json={"province": "4", "title": "", "count": -1})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/v1/cases"
    assert [error["loc"] for error in problem["errors"]] == [["province"], ["title"], ["count"]]
    assert [error["msg_zh"] for error in problem["errors"]] == [
        "格式不正确", "内容过短或为空", "不能小于 0",
    ]  # fmt: skip
    assert all(error["msg"] for error in problem["errors"])
    assert problem["detail"].startswith("province: ")
    assert problem["detail_zh"] == "province：格式不正确"


async def test_a_missing_field_and_a_body_that_is_not_json_are_problems_too() -> None:
    missing = await _post("/v1/cases", json={"province": "44", "title": "t"})
    not_json = await _post(
        "/v1/cases", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"loc": ["count"], "msg": "Field required", "msg_zh": "必填项未填写"}
    ]
    assert not_json.status_code == 422
    assert not_json.headers["content-type"] == PROBLEM_JSON
    assert not_json.json()["errors"][0]["msg_zh"] == "请求内容不是有效的 JSON"


async def test_a_rule_of_the_campaign_is_a_problem_shaped_like_a_schema_error() -> None:
    response = await _post("/v1/cases", json={"province": "99", "title": "t", "count": 1})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["province"], "msg": "99 is not a province", "msg_zh": "99 不是省级单位代码"}
    ]


async def test_a_raised_problem_keeps_its_status_and_extra_members() -> None:
    response = await _post("/v1/cases", json={"province": "44", "title": "conflict", "count": 1})

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank", "title": "Conflict", "status": 409, "detail": "Already reported.",
        "detail_zh": "已报送。", "instance": "/v1/cases", "id": "x",
    }  # fmt: skip


async def test_an_unknown_path_is_a_problem_too() -> None:
    response = await _post("/v1/nowhere", json={})

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail_zh"] == "未找到"


async def test_an_accepted_body_is_answered_normally() -> None:
    response = await _post("/v1/cases", json={"province": "44", "title": "t", "count": 0})

    assert (response.status_code, response.json()) == (202, {"province": "44"})


def _strict_app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(refuse_unknown_query_parameters)])
    install_problem_handlers(app)

    @app.get("/v1/reminders")
    async def reminders(status: str | None = None) -> dict[str, str | None]:
        return {"status": status}

    @app.get("/v1/summary")
    async def summary() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/portal/page", include_in_schema=False)
    async def page() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def _get(path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_strict_app()), base_url="http://test"
    ) as client:
        return await client.get(path)


async def test_a_misspelt_query_parameter_is_refused_by_name_not_ignored() -> None:
    response = await _get("/v1/reminders?stauts=failed")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    [error] = response.json()["errors"]
    assert error["loc"] == ["query", "stauts"]
    assert "status" in error["msg"]
    assert error["msg_zh"].startswith("不支持的查询参数")


async def test_declared_query_parameters_and_pages_are_untouched() -> None:
    assert (await _get("/v1/reminders?status=failed")).json() == {"status": "failed"}
    assert (await _get("/v1/summary")).status_code == 200
    assert (await _get("/portal/page?from=mail")).status_code == 200  # not in the contract


async def test_an_operation_without_query_parameters_refuses_every_one() -> None:
    response = await _get("/v1/summary?a=1&b=2")
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["query", "a"], ["query", "b"]]
