"""The read model of every event, as the national summary shows it over HTTP."""

import io
import re
from dataclasses import fields
from datetime import date, datetime
from typing import Any

import orjson
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from smonth_reports.domain import ReadModel
from smonth_reports.formats import render
from smonth_reports.report import build_report
from smonth_reports.repository import read_model
from smonth_shared.campaign import load_campaign

pytestmark = pytest.mark.integration

KINDS = ("province", "ministry", "central_enterprise")


async def test_a_superseded_snapshot_never_counts_whatever_order_it_arrives_in(
    reports: Any,
) -> None:
    await reports.record(
        reports.progress("44", date(2021, 6, 30), drills=10),
        reports.progress("44", date(2021, 6, 20), drills=500),  # older, arrives later
        reports.progress("11", date(2021, 6, 25), 1, drills=1),
        reports.progress("11", date(2021, 6, 25), 2, drills=20),  # a correction of that day
        reports.progress("11", date(2021, 6, 25), 1, drills=300),  # the original, repeated late
        reports.progress("M01", date(2021, 6, 10), drills=3),
        reports.progress("M01", date(2021, 6, 12), drills=4),
    )
    async with reports.running():
        summary = await reports.summary()
        statistics = (await reports.summary(detail="true"))["tables"]["statistics"]
    assert summary["totals"]["drills"] == 10 + 20 + 4
    assert summary["totals_by_kind"]["province"]["drills"] == 30
    assert summary["totals_by_kind"]["ministry"]["drills"] == 4
    rows = {row[0]: row for row in statistics["rows"]}
    drills = [c["key"] for c in statistics["columns"]].index("drills")
    assert rows["44"][3] == "2021-06-30" and rows["44"][drills] == 10
    assert rows["11"][drills] == 20


async def test_every_kind_of_event_reaches_the_summary(reports: Any) -> None:
    await reports.record(*reports.a_campaign_in_brief())
    async with reports.running():
        summary = await reports.summary()
    assert summary["totals"]["study_participants"] == 19_340_000
    assert "学习活动参与人次1934万人次" in summary["communique"]
    units = summary["units"]
    assert (units["reported"], units["liaisons"]) == (3, 2)
    assert (units["summary_on_time"], units["summary_late"]) == (1, 1)
    assert units["summary_missing"] == units["expected"] - 2
    for key in ("expected", "reported", "liaisons", "summary_on_time", "summary_missing"):
        assert sum(units["by_kind"][kind][key] for kind in KINDS) == units[key]
    for code, total in summary["totals"].items():
        assert sum(summary["totals_by_kind"][kind][code] for kind in KINDS) == total
    exposure = summary["exposure"]
    assert exposure["cases_total"] == 1 and exposure["provinces_met"]["2021-06"] == 1
    assert exposure["matrix"]["11"]["2021-06"]["status"] == "missed"
    assert (exposure["cases_reported"], exposure["cases_rejected"]) == (2, 1)
    tips = summary["tips"]
    assert (tips["received"], tips["verified"], tips["unfounded"]) == (3, 1, 1)
    assert tips["by_province"]["44"] == 2 and tips["by_industry"]["mining"] == 2
    assert tips["by_day"] == {"2021-06-16": 3}
    assert summary["materials"]["by_kind"] == {"practice": 1, "video": 1, "picture": 0}
    assert summary["reminders"] == {"sent": 1, "failed": 1}


async def test_only_the_office_reads_the_national_summary(reports: Any) -> None:
    async with reports.running() as client:
        assert (await client.get("/v1/national-summary")).status_code == 401
        forbidden = await reports.get("/v1/national-summary", role="unit", unit="44")
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"] == "application/problem+json"
        assert (await reports.get("/v1/national-summary", role="admin")).status_code == 200
        unknown = await reports.get("/v1/national-summary", campaign="1999")
        assert unknown.status_code == 404


async def test_every_format_comes_out_of_the_service_with_the_figures_of_its_json(
    reports: Any,
) -> None:
    await reports.record(*reports.a_campaign_in_brief())
    async with reports.running():
        detail = await reports.summary(detail="true")
        xlsx = await reports.get("/v1/national-summary", format="xlsx")
        pdf = await reports.get("/v1/national-summary", format="pdf")
        html = await reports.get("/v1/national-summary", format="html")
        csvs = {name: await reports.get("/v1/national-summary", format="csv", table=name)
                for name in detail["tables"]}  # fmt: skip
        wrong_table = await reports.get("/v1/national-summary", format="csv", table="nope")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["进展统计表"]
    statistics = detail["tables"]["statistics"]
    last = [c.value for c in list(sheet.iter_rows())[-1]]
    assert last[1] == "全国合计"
    assert last[4:] == [detail["totals"][c["key"]] for c in statistics["columns"][4:]]
    text = re.sub(
        r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    )
    for paragraph in detail["communique"].split("\n"):
        assert re.sub(r"\s+", "", paragraph) in text
    assert html.headers["content-type"].startswith("text/html")
    assert detail["communique"].split("\n")[0] in html.text
    for name, answer in csvs.items():
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        lines = answer.content.decode("utf-8-sig").splitlines()
        assert len(lines) == len(detail["tables"][name]["rows"]) + 1
    assert wrong_table.status_code == 422


async def test_a_summary_asked_again_in_the_same_second_shows_every_write_made_meanwhile(
    reports: Any,
) -> None:
    """The service keeps the summary while the read model's version stands; a write from
    anywhere (here: straight into the tables, as another replica's consumer writes) moves it.
    The clock stands still, so only the version can tell the kept summary from a new one."""
    campaign = load_campaign("2021")
    async with reports.running():
        shown = [await reports.summary()]
        for event in reports.a_campaign_in_brief():
            await reports.record(event)
            shown.append(await reports.summary())
            async with reports.pool.acquire() as conn:
                model = await read_model(conn, campaign.id, campaign.time_zone)
            as_of = datetime.fromisoformat(shown[-1]["as_of"])
            fresh = orjson.loads(render(build_report(campaign, model, as_of), "json").content)
            assert shown[-1] == fresh, f"after {event.type}"
    assert len({item["as_of"] for item in shown}) == 1
    assert shown[-1]["tips"]["received"] == 3 and shown[-1]["reminders"]["failed"] == 1


async def test_the_summary_reads_again_only_the_parts_of_the_read_model_a_write_changed(
    reports: Any,
) -> None:
    """Polled back to back while tips come in (B2), the summary reads the tallies of the tips
    again, not every table; with nothing written, it keeps what it has."""
    campaign = load_campaign("2021")
    await reports.record(*reports.a_campaign_in_brief())
    async with reports.pool.acquire() as conn:
        before = await read_model(conn, campaign.id, campaign.time_zone)
        unchanged = await read_model(conn, campaign.id, campaign.time_zone, since=before)
        await reports.record(reports.tip("44"))
        after = await read_model(conn, campaign.id, campaign.time_zone, since=before)
        whole = await read_model(conn, campaign.id, campaign.time_zone)
    assert unchanged is before
    assert after == whole and after.version > before.version
    read_again = {field.name for field in fields(ReadModel) if field.name != "version"
                  and getattr(after, field.name) is not getattr(before, field.name)}  # fmt: skip
    assert read_again == {"tips", "tips_by_day"}
