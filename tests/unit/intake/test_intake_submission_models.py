"""The shapes of submissions: phone numbers, e-mail addresses, text that can be stored; errors
that name the field in English and Chinese and never repeat what was typed."""

from typing import Any

import pytest
from pydantic import ValidationError

from smonth_intake.models import LiaisonDesignation, TipOutcome, TipSubmission
from smonth_shared import problems

LIAISON = {
    "name": "李辉", "position": "宣教处副处长", "office_phone": "010-64463407",
    "mobile": "13800138000", "email": "anquanyue@qq.com",
}  # fmt: skip


def liaison(**changes: Any) -> LiaisonDesignation:
    return LiaisonDesignation.model_validate({**LIAISON, **changes})


def refused(model: type, data: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as error:
        model.model_validate(data)
    return problems.field_errors(error.value.errors(include_input=False))


@pytest.mark.parametrize("mobile", ["13800138000", "+8613800138000", "86-19912345678"])
def test_a_mainland_mobile_number_passes(mobile: str) -> None:
    assert liaison(mobile=mobile).mobile == mobile


@pytest.mark.parametrize("mobile", ["12800138000", "1390013900", "010-64463407", "139001390001"])
def test_anything_else_as_a_mobile_is_refused_in_both_languages(mobile: str) -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "mobile": mobile})

    assert error.loc == ["mobile"]
    assert "13800138000" in error.msg and "手机号码" in error.msg_zh
    assert mobile not in error.msg + error.msg_zh


@pytest.mark.parametrize(
    "phone", ["010-64463407", "(010)64463407", "0755-12345678-123", "01064463407"]
)
def test_an_office_number_with_its_area_code_passes(phone: str) -> None:
    assert liaison(office_phone=phone).office_phone == phone


@pytest.mark.parametrize("phone", ["64463407", "13800138000", "010-644", "call me"])
def test_an_office_number_without_an_area_code_is_refused(phone: str) -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "office_phone": phone})

    assert error.loc == ["office_phone"] and "区号" in error.msg_zh


@pytest.mark.parametrize("email", ["liaison", "a@", "@qq.com", "a b@qq.com"])
def test_a_malformed_email_is_refused_without_quoting_it(email: str) -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "email": email})

    assert error.loc == ["email"] and error.msg_zh == "电子邮箱格式不正确"
    assert email not in error.msg


def test_a_tipsters_malformed_contact_is_refused_without_repeating_it() -> None:
    tip = {
        "province": "44", "industry": "mining", "category": "violation",
        "description": "矿井通风设施长期损坏未修复", "contact": {"phone": "13800-secret", "email": "x@@y"},
    }  # fmt: skip

    found = refused(TipSubmission, tip)

    assert {tuple(e.loc) for e in found} == {("contact", "phone"), ("contact", "email")}
    assert not [e for e in found if "secret" in e.msg + e.msg_zh or "x@@y" in e.msg]


def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database() -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "name": "李\x00辉"})

    assert error.loc == ["name"]


def test_blank_text_is_refused_as_missing_content() -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "position": "   "})

    assert error.loc == ["position"] and error.msg_zh == "内容过短或为空"


def test_a_closed_choice_names_the_allowed_values_in_chinese_too() -> None:
    outcome = {"status": "maybe", "rectified": False, "reward_paid": False, "reply": "已核查"}

    (error,) = refused(TipOutcome, outcome)

    assert "verified" in error.msg_zh and "unfounded" in error.msg_zh


def test_an_unexpected_field_is_refused() -> None:
    (error,) = refused(LiaisonDesignation, {**LIAISON, "fax": "010-64463509"})

    assert error.loc == ["fax"] and error.msg_zh == "不允许的字段"
