"""Every request body refuses text PostgreSQL cannot store as that field's error (the fuzzer
once got a 500 from a ministry system's name holding a NUL)."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from smonth_exposure.api import RejectionRequest
from smonth_intake.accounts_api import NewAccount, NewClient
from smonth_intake.models import TipSubmission
from smonth_shared.problems import field_errors

TIP = {"province": "44", "industry": "mining", "category": "major_hazard",
       "description": "井下通风设施长期停用，存在重大隐患"}  # fmt: skip
CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (
        NewClient,
        {"client_id": "mem-hazard-db", "name": "应急管理部\x00系统", "units": ["44"]},
        "name",
    ),
    (NewAccount, {"email": "li@example.cn", "name": "李\x00辉", "unit": "44"}, "name"),
    (TipSubmission, {**TIP, "description": "井下通风设施长期停用\x00存在重大隐患"}, "description"),
    (RejectionRequest, {"reason": "不是\x00典型案例"}, "reason"),
]


@pytest.mark.parametrize(("model", "body", "field"), CASES)
def test_unstorable_text_is_the_fields_error_in_both_languages(
    model: type[BaseModel], body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    (error,) = field_errors(refused.value.errors())
    assert error.loc[0] == field
    assert "character" in error.msg
    assert error.msg_zh == "含有无法保存的字符"


def test_storable_text_is_taken_trimmed() -> None:
    assert RejectionRequest.model_validate({"reason": " 不是典型案例 "}).reason == "不是典型案例"
