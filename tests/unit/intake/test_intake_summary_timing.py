"""Summary reports: on time by the campaign's deadline in office time; an on-time receipt stays."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smonth_intake import domain
from smonth_shared.campaign import Campaign, load_campaign

SHANGHAI = timezone(timedelta(hours=8))
ON_TIME = datetime(2021, 7, 5, 23, 59, 59, tzinfo=SHANGHAI)
LATE = datetime(2021, 7, 6, 0, 0, 0, tzinfo=SHANGHAI)


@pytest.fixture
def campaign() -> Campaign:
    return load_campaign("2021")


def test_a_report_received_by_the_end_of_5_july_office_time_is_on_time(campaign: Campaign) -> None:
    receipt = domain.summary_receipt(campaign, ON_TIME, None)

    assert receipt.on_time and receipt.first_received_at == ON_TIME
    assert receipt.on_time_received_at == ON_TIME


def test_a_report_received_on_6_july_office_time_is_late(campaign: Campaign) -> None:
    assert not domain.summary_receipt(campaign, LATE, None).on_time


def test_the_deadline_is_read_in_office_time_whatever_offset_the_sender_used(
    campaign: Campaign,
) -> None:
    # 16:30 UTC on 5 July is already 00:30 on 6 July in Beijing.
    assert not domain.summary_receipt(
        campaign, datetime(2021, 7, 5, 16, 30, tzinfo=UTC), None
    ).on_time
    assert domain.summary_receipt(campaign, datetime(2021, 7, 5, 15, 30, tzinfo=UTC), None).on_time


def test_a_late_resubmission_keeps_the_first_on_time_receipt(campaign: Campaign) -> None:
    first = domain.summary_receipt(campaign, ON_TIME - timedelta(days=3), None)

    again = domain.summary_receipt(campaign, LATE + timedelta(days=2), first)

    assert again == first


def test_a_late_report_resubmitted_late_stays_late_with_its_first_receipt(
    campaign: Campaign,
) -> None:
    first = domain.summary_receipt(campaign, LATE, None)

    again = domain.summary_receipt(campaign, LATE + timedelta(days=1), first)

    assert not again.on_time and again.first_received_at == LATE
