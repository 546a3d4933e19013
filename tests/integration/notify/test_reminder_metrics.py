"""notify's /metrics counts its reminders by status, as the database has them at the scrape."""

import pytest
from prometheus_client import REGISTRY

from smonth_notify.metrics import observe_reminders
from tests.integration.notify.notify_support import Notify, SmsGateway, at, liaison

pytestmark = pytest.mark.integration

GUANGDONG = "44"


def reminders_in(status: str) -> float | None:
    return REGISTRY.get_sample_value("smonth_reminders", {"status": status})


async def test_the_reminders_gauge_counts_each_status_at_the_scrape(
    notify: Notify, sms_gateway: SmsGateway
) -> None:
    await notify.receive(liaison(GUANGDONG))
    await notify.plan_at(at("2021-07-05"))
    sms_gateway.status = 400  # refused for good: the SMS fails, the e-mail goes
    await notify.send(GUANGDONG)
    in_database: dict[str, int] = {}
    for (_, status), count in (await notify.statuses()).items():
        in_database[status] = in_database.get(status, 0) + count

    await observe_reminders(notify.pool)

    assert in_database["sent"] >= 1 and in_database["failed"] >= 1 and in_database["planned"] > 1
    for status in ("planned", "sending", "sent", "failed", "cancelled"):
        assert reminders_in(status) == in_database.get(status, 0), status

    await notify.pool.execute("UPDATE reminders SET status = 'cancelled' WHERE status = 'planned'")
    await observe_reminders(notify.pool)  # the next scrape reads the database anew

    assert reminders_in("planned") == 0
    assert reminders_in("cancelled") == in_database.get("cancelled", 0) + in_database["planned"]
