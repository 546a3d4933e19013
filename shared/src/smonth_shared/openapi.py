"""The OpenAPI documents say what the services really answer: every refusal a problem document.

Routes name the refusals of their own (`responses=problem_responses(404, 409)`); `document`
rewrites the generated schema once so that every operation also documents 422 (instead of
FastAPI's HTTPValidationError; every operation refuses a query parameter it does not take, see
`problems.refuse_unknown_query_parameters`), 400 when it reads a body, and 401 and 403 when it needs a token,
all as
`application/problem+json` — and so that a code of the campaign's registry is an enum of the
codes the service takes, not any string.
"""

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from smonth_shared.campaign import Campaign
from smonth_shared.problems import PROBLEM_JSON, FieldError

PROBLEM_REF = "#/components/schemas/ProblemDocument"
REGISTRY_KEY = "x-registry"  # a schema's marker: "units" or "indicators" of the campaign
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


class ProblemDocument(BaseModel):
    """RFC 9457 problem document (Problem.body()); some refusals add members of their own."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Always about:blank: the status and title say what happened.")
    title: str = Field(description="The kind of refusal, in English.")
    status: int = Field(description="The HTTP status, repeated.")
    detail: str = Field(description="What went wrong and what to do, in English.")
    detail_zh: str = Field(description="The same in Chinese, for the clerk.")
    instance: str = Field(description="The path of the request refused.")
    errors: list[FieldError] | None = Field(
        default=None, description="Validation: each field refused (its `loc`) and why."
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: these statuses answer a problem document."""
    return {status: _problem_response(status) for status in statuses}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def document(app: FastAPI, campaign: Campaign) -> None:
    """Serve `app`'s OpenAPI document rewritten as the module docstring says."""
    generate = app.openapi
    done: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if id(schema) not in done:  # FastAPI regenerates when routes change: rewrite that too
            _rewrite(schema, campaign)
            done[:] = [id(schema)]
        return schema

    app.openapi = openapi


def _rewrite(schema: dict[str, Any], campaign: Campaign) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    problem = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["ProblemDocument"] = problem
    for operation in _operations(schema):
        responses = operation.setdefault("responses", {})
        needs_token = bool(operation.get("security"))
        unreadable = "requestBody" in operation  # a body that is not even JSON (or a form): 400
        statuses = (400,) * unreadable + (422,) + (401, 403) * needs_token
        for (
            status
        ) in statuses:  # a route's own answer stands (OAuth's errors), but not FastAPI's 422
            if status == 422 or str(status) not in responses:
                responses[str(status)] = _problem_response(status)
        for status, response in responses.items():
            content = response.get("content", {})
            if PROBLEM_JSON in content:
                response["content"] = {PROBLEM_JSON: content[PROBLEM_JSON]}
            elif status.startswith("4") and not content:
                responses[status] = {**response, **_problem_response(int(status))}
    _fill_registry(schema, campaign)


def _operations(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield operation


def _fill_registry(node: Any, campaign: Campaign) -> None:
    """Each marked schema takes the codes of the campaign's registry, with real examples."""
    if isinstance(node, list):
        for item in node:
            _fill_registry(item, campaign)
        return
    if not isinstance(node, dict):
        return
    marker = node.pop(REGISTRY_KEY, None)
    if marker == "units":
        codes = [unit.code for unit in campaign.units]
        node["enum"] = codes
        node["examples"] = [codes[0], *(u.code for u in campaign.units if u.kind != "province")][:3]
    elif marker == "indicators":
        node["enum"] = list(campaign.indicator_codes)
        node["examples"] = list(campaign.indicator_codes[:2])
    for value in node.values():
        _fill_registry(value, campaign)
