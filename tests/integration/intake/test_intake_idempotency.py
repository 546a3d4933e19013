"""Idempotency-Key on every POST: the same key and body give the same answer and one effect;
the same key with another body gives 409."""

from typing import Any

import pytest

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def requests(tip_id: str) -> dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(method, path, request keywords, a variant's keywords) of every write."""
    return {
        "progress": ("POST", "/v1/progress",
                     {"json": {"unit": "44", "as_of": "2021-06-10", "indicators": {"drills": 1}}},
                     {"json": {"unit": "44", "as_of": "2021-06-10", "indicators": {"drills": 2}}}),
        "summary": ("POST", "/v1/summary-reports", {"json": {"unit": "44", "title": "总结", "body": "正文"}},
                    {"json": {"unit": "44", "title": "总结", "body": "另一正文"}}),
        "liaison": ("PUT", "/v1/liaisons/44",
                    {"json": {"name": "李辉", "position": "处长", "office_phone": "020-12345678",
                              "mobile": "13800138000", "email": "a@b.cn"}},
                    {"json": {"name": "田静", "position": "处长", "office_phone": "020-12345678",
                              "mobile": "13800138000", "email": "a@b.cn"}}),
        "material": ("POST", "/v1/materials",
                     {"data": {"unit": "44", "kind": "picture", "title": "现场"},
                      "files": {"file": ("a.png", PNG, "image/png")}},
                     {"data": {"unit": "44", "kind": "picture", "title": "现场"},
                      "files": {"file": ("a.png", PNG + b"2", "image/png")}}),
        "case": ("POST", "/v1/cases",
                 {"json": {"province": "44", "title": "案例", "industry": "mining", "enterprise": "某矿",
                           "summary": "经过", "media_outlet": "南方日报", "published_on": "2021-06-18",
                           "url": "https://example.cn/1"}},
                 {"json": {"province": "44", "title": "案例", "industry": "mining", "enterprise": "某矿",
                           "summary": "经过", "media_outlet": "南方日报", "published_on": "2021-06-18",
                           "url": "https://example.cn/2"}}),
        "tip": ("POST", "/v1/tips",
                {"json": {"province": "44", "industry": "mining", "category": "violation",
                          "description": "夜间违规组织井下作业"}},
                {"json": {"province": "44", "industry": "mining", "category": "violation",
                          "description": "夜间违规组织井下作业（补充）"}}),
        "outcome": ("POST", f"/v1/tips/{tip_id}/outcome",
                    {"json": {"status": "verified", "rectified": True, "reward_paid": False,
                              "reply": "已核查"}},
                    {"json": {"status": "verified", "rectified": False, "reward_paid": False,
                              "reply": "已核查"}}),
        "units": ("POST", "/v1/units/import",
                  {"content": "code,name,kind,province\nM40,国家消防救援局,ministry,\n".encode(),
                   "headers": {"content-type": "text/csv"}},
                  {"content": "code,name,kind,province\nM41,国家疾控局,ministry,\n".encode(),
                   "headers": {"content-type": "text/csv"}}),
    }  # fmt: skip


WRITES = ["progress", "summary", "liaison", "material", "case", "tip", "outcome", "units"]


def auth_for(intake: Any, name: str) -> dict[str, str]:
    return intake.auth("admin") if name == "units" else intake.auth("unit", "44")


@pytest.mark.parametrize("name", WRITES)
async def test_a_retried_request_with_its_key_gets_the_same_answer_and_one_effect(
    intake: Any, name: str
) -> None:
    tip_id = (await intake.client.post("/v1/tips", json={
        "province": "44", "industry": "mining", "category": "violation",
        "description": "井下违规作业，安全设施缺失"})).json()["tip_id"]  # fmt: skip
    method, path, keywords, _ = requests(tip_id)[name]
    headers = {**auth_for(intake, name), **keywords.pop("headers", {}), "Idempotency-Key": "k-1"}
    outbox_before = len(await intake.events())

    first = await intake.client.request(method, path, headers=headers, **keywords)
    again = await intake.client.request(method, path, headers=headers, **keywords)

    assert first.status_code == again.status_code == 202, first.text
    shown = {k: v for k, v in first.json().items() if k != "receipt_code"}
    assert again.json() == shown
    assert len(await intake.events()) - outbox_before == (0 if name == "units" else 1)


@pytest.mark.parametrize("name", WRITES)
async def test_the_same_key_with_another_body_is_a_conflict(intake: Any, name: str) -> None:
    tip_id = (await intake.client.post("/v1/tips", json={
        "province": "44", "industry": "mining", "category": "violation",
        "description": "井下违规作业，安全设施缺失"})).json()["tip_id"]  # fmt: skip
    method, path, keywords, variant = requests(tip_id)[name]
    base = {**auth_for(intake, name), "Idempotency-Key": "k-2"}

    first = await intake.client.request(
        method, path, headers={**base, **keywords.pop("headers", {})}, **keywords
    )
    other = await intake.client.request(
        method, path, headers={**base, **variant.pop("headers", {})}, **variant
    )

    assert first.status_code == 202, first.text
    assert other.status_code == 409 and other.json()["detail_zh"]
