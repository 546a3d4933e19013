"""Tips: receipt codes that cannot be guessed, outcomes that make sense, a fair rate limit."""

import math
from datetime import UTC, datetime

import pytest

from smonth_intake import domain
from smonth_intake.models import TipOutcome
from smonth_shared.problems import Problem


def test_a_receipt_code_carries_at_least_128_bits_of_entropy() -> None:
    code = domain.new_receipt_code()

    symbols = code.replace("-", "")
    assert len(symbols) * math.log2(32) >= 128
    assert len({domain.new_receipt_code() for _ in range(1000)}) == 1000


def test_a_receipt_code_read_out_without_dashes_or_in_lower_case_still_matches() -> None:
    code = domain.new_receipt_code()

    assert domain.receipt_hash(code.replace("-", " ").lower()) == domain.receipt_hash(code)


def test_only_the_hash_of_a_receipt_code_is_kept() -> None:
    code = domain.new_receipt_code()

    assert code.encode() not in domain.receipt_hash(code)
    assert len(domain.receipt_hash(code)) == 32


def outcome(**changes: object) -> TipOutcome:
    fields = {
        "status": "verified",
        "rectified": True,
        "reward_paid": True,
        "reply": "经核查属实，已责令整改。",
    }
    return TipOutcome.model_validate({**fields, **changes})


def test_a_verified_tip_may_be_rectified_and_rewarded() -> None:
    domain.check_outcome(outcome())


@pytest.mark.parametrize("field", ["rectified", "reward_paid"])
def test_an_unfounded_tip_can_be_neither_rectified_nor_rewarded(field: str) -> None:
    flags = {"rectified": False, "reward_paid": False, field: True}

    with pytest.raises(Problem) as refused:
        domain.check_outcome(outcome(status="unfounded", **flags))

    assert refused.value.errors[0].loc == [field]


def test_an_unfounded_tip_with_a_reply_passes() -> None:
    domain.check_outcome(outcome(status="unfounded", rectified=False, reward_paid=False))


def test_the_rate_window_says_how_long_until_the_next_one() -> None:
    start, retry_after = domain.rate_window(datetime(2021, 6, 16, 9, 30, 15, tzinfo=UTC), 60)

    assert start == datetime(2021, 6, 16, 9, 30, tzinfo=UTC)
    assert retry_after == 45


def test_too_many_requests_answer_429_with_retry_after() -> None:
    problem = domain.too_many(30, 12, "tips", "提交举报")

    assert problem.status == 429 and problem.headers == {"Retry-After": "12"}
    assert "30" in problem.detail_zh
