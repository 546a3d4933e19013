"""B10: B7 (the summary's JSON, the workbook, the PDF) at 1× and at 10× the units and the tips:
reports alone, on a database of its own, serving a campaign whose registry holds the units (1×: the
171 units the 2021 notice addressed; 10×: 1,710, the 32 provinces and copies of the ministries and
central enterprises), its read model written directly with COPY (at 10×, 1,140,000 tips through
HTTP would take half an hour) — at both volumes alike, so that only the volume differs."""

import asyncio
import csv
import json
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg

from bench.b7_summary import SummaryRows, measure
from bench.context import Context
from bench.data import CITIES, COMPANIES
from bench.load import ConnectionPool
from bench.month import MonthSystem, national_summary, settled, shown
from bench.report import Figure
from bench.scaling import Curve, growth_exponent, plot, shape
from bench.stack import System, fresh_database
from smonth_shared.campaign import REGISTRY_COLUMNS, Campaign, load_campaign

# What reports' consumers write and the summary reads; emptied of the broker's history first.
READ_MODEL = ("tips", "progress", "liaisons", "summary_reports", "materials", "cases",
              "compliance", "reminders")  # fmt: skip
JUNE = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)
# The units the 2021 notice addressed (../shared/reference/FACTS.md): the 32 provincial-level
# units, the member units of the State Council Work Safety Committee (the registry's 39) and about
# 100 central enterprises (the registry names 30 of them) — 171, where the registry holds 101.
ADDRESSED_2021 = {"province": 32, "ministry": 39, "central_enterprise": 100}


def scaled_campaign(folder: Path, factor: int) -> Path:
    """The 2021 campaign file with a registry of `factor` times the units the notice addressed:
    the provinces are fixed (GB/T 2260), so the ministries and the central enterprises are copied
    under codes of their own (E01 → E0101...), as many of each as the 2021 make-up gives them."""
    shipped = Path(str(resources.files("smonth_shared"))) / "campaigns"
    with (shipped / "units-2021.csv").open(encoding="utf-8-sig", newline="") as source:
        units = list(csv.DictReader(source))
    provinces = sum(unit["kind"] == "province" for unit in units)
    others = {kind: count for kind, count in ADDRESSED_2021.items() if kind != "province"}
    # What the provinces cannot grow by goes to the others, in the make-up's proportion.
    room = sum(ADDRESSED_2021.values()) * factor - provinces
    wanted = {kind: round(room * count / sum(others.values())) for kind, count in others.items()}
    wanted[next(iter(wanted))] += room - sum(wanted.values())  # rounding's remainder
    for kind, count in wanted.items():
        registered = [unit for unit in units if unit["kind"] == kind]
        for index in range(count - len(registered)):
            unit, copy = registered[index % len(registered)], index // len(registered) + 1
            code = f"{unit['code'][0]}{copy:02d}{unit['code'][1:]}"
            units.append({**unit, "code": code, "name": f"{unit['name']}（{copy + 1}）"})
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "units.csv").open("w", encoding="utf-8", newline="") as registry:
        writer = csv.DictWriter(registry, fieldnames=REGISTRY_COLUMNS)
        writer.writeheader()
        writer.writerows(units)
    text = (shipped / "2021.toml").read_text(encoding="utf-8")
    path = folder / "2021.toml"
    path.write_text(text.replace('units_file = "units-2021.csv"', 'units_file = "units.csv"'),
                    encoding="utf-8")  # fmt: skip
    return path


def read_model_rows(campaign: Campaign, tips: int, factor: int) -> dict[str, list[tuple[Any, ...]]]:
    """A month's read model: every unit's liaison, newest snapshot, summary report and two
    materials; three cases a province per factor; the tips, half of them resolved."""
    rng = random.Random(2021 + factor)
    c = campaign.id
    provinces = [unit.code for unit in campaign.provinces]
    industries = [industry.code for industry in campaign.industries]
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in READ_MODEL}
    deadline = campaign.summary_deadline
    for unit in campaign.units:
        code = unit.code
        rows["liaisons"].append((c, code, "张三", "科长", "010-64463407", "13800000000",
                                 f"{code.lower()}@example.cn", JUNE))  # fmt: skip
        indicators = {indicator.code: rng.randint(10, 5000) for indicator in campaign.indicators}
        for rule in campaign.consistency:
            indicators[rule.larger] = indicators[rule.smaller] * rng.randint(1, 20)
        rows["progress"].append((c, code, date(2021, 7, 5), 1, uuid.uuid4(),
                                 json.dumps(indicators), deadline))  # fmt: skip
        on_time = rng.random() < 0.95
        received = deadline + timedelta(days=-1 if on_time else 1)
        rows["summary_reports"].append((c, code, uuid.uuid4(), f"{unit.name}安全生产月活动总结",
                                        received, received, on_time, 1))  # fmt: skip
        for kind in ("practice", "picture"):
            rows["materials"].append((uuid.uuid4(), c, code, kind, f"{unit.name}{kind}",
                                      kind == "picture", JUNE))  # fmt: skip
    for province in provinces * 3 * factor:
        company = f"{rng.choice(CITIES)}{rng.choice(COMPANIES)}公司"
        rows["cases"].append((uuid.uuid4(), c, province, f"{company}违法违规问题曝光",
                              rng.choice(industries[:5]), company, "日报", date(2021, 6, 10),
                              f"https://news.example.cn/{uuid.uuid4().hex}.html", JUNE, False,
                              None))  # fmt: skip
    for _ in range(tips):
        received = JUNE + timedelta(seconds=rng.randrange(86400 * 29))
        status = rng.choices(("received", "verified", "unfounded"), (5, 3, 2))[0]
        rows["tips"].append((uuid.uuid4(), c, rng.choice(provinces), rng.choice(industries),
                             rng.choice(("major_hazard", "violation")), received, status,
                             status == "verified", False, rng.random() < 0.3,
                             None if status == "received" else received + timedelta(days=3)))  # fmt: skip
    return rows


COLUMNS = {
    "tips": ("tip_id", "campaign", "province", "industry", "category", "received_at", "status",
             "rectified", "reward_paid", "named", "resolved_at"),
    "progress": ("campaign", "unit", "as_of", "revision", "submission_id", "indicators",
                 "reported_at"),
    "liaisons": ("campaign", "unit", "name", "position", "office_phone", "mobile", "email",
                 "designated_at"),
    "summary_reports": ("campaign", "unit", "report_id", "title", "first_received_at",
                        "last_received_at", "on_time", "submissions"),
    "materials": ("material_id", "campaign", "unit", "kind", "title", "has_file", "submitted_at"),
    "cases": ("case_id", "campaign", "province", "title", "industry", "enterprise",
              "media_outlet", "published_on", "url", "reported_at", "rejected", "reason"),
}  # fmt: skip


async def seed(database_url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """The read model emptied, then written with COPY in one transaction (the tips' triggers keep
    their tallies and the read model's version, as for the consumers' writes)."""
    # The triggers name reports' tables without their schema, as the service's own connections do.
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "reports"})
    try:
        async with conn.transaction():
            await conn.execute("TRUNCATE " + ", ".join(f"reports.{name}" for name in READ_MODEL))
            for table, columns in COLUMNS.items():
                await conn.copy_records_to_table(table, schema_name="reports",
                                                 records=rows[table], columns=list(columns))  # fmt: skip
    finally:
        await conn.close()


async def _shows(ctx: Context, system: System, tips: int, units: int) -> None:
    """Until the summary shows the seeded tips and every unit's snapshot."""
    pool = ConnectionPool(system.ports["reports"], limit=1)
    deadline = time.monotonic() + (60 if ctx.quick else 300)
    now: dict[str, int] = {}
    try:
        while time.monotonic() < deadline:
            now = shown(await national_summary(system, pool))
            if now["tips"] == tips and now["reported"] == units:
                return
            await asyncio.sleep(0.2)
    finally:
        pool.close()
    raise RuntimeError(f"B10: the summary shows {now}, not {tips} tips and {units} units")


async def _one_volume(ctx: Context, factor: int, rows: SummaryRows) -> dict[str, Any]:
    campaign_file = scaled_campaign(ctx.folder / f"b10-{factor}", factor)
    campaign = load_campaign("2021", campaign_file)
    tips = ctx.volumes.b10_tips * factor
    async with fresh_database(ctx.server_url, f"b10_{factor}") as database_url:
        system = System(ctx.endpoints, database_url, ctx.folder / f"b10-{factor}", ctx.log,
                        services=("reports",),
                        extra_env={"CAMPAIGN_FILE": str(campaign_file)})  # fmt: skip
        try:
            await asyncio.to_thread(system.start)
            await settled(system, ctx.quick)  # the broker's history taken in, then emptied
            made = await asyncio.to_thread(read_model_rows, campaign, tips, factor)
            started = time.monotonic()
            await seed(database_url, made)
            seeding = time.monotonic() - started
            await _shows(ctx, system, tips, len(campaign.units))
            await measure(ctx, system, rows)
        finally:
            await asyncio.to_thread(system.stop)
    ctx.log(f"B10 at {factor}×: {len(campaign.units):,} units, {tips:,} tips (COPY "
            f"{seeding:.1f} s); JSON p99 {rows.json_p99.median:.1f} ms, workbook + PDF "
            f"{rows.both.median:.2f} s")  # fmt: skip
    return {"units": len(campaign.units), "tips": tips, "cases": len(made["cases"]),
            "copy_seconds": round(seeding, 1)}  # fmt: skip


async def run(ctx: Context, figure: Figure, _month: MonthSystem) -> None:
    how = ("sequential GETs; reports alone on a fresh database, its read model written "
           "directly with COPY (not over HTTP) at every volume")  # fmt: skip
    factors = (1, ctx.volumes.b10_factor)
    measured = [SummaryRows.of(figure, f" at {factor}×", how) for factor in factors]
    for factor, rows in zip(factors, measured, strict=True):
        figure.notes[f"{factor}x"] = await _one_volume(ctx, factor, rows)
    # The larger volume's rows against the 1× ones: the ratio is the cost's growth.
    for smaller, larger in zip(measured[0].rows(), measured[1].rows(), strict=True):
        larger.baseline = list(smaller.samples)
    volumes = [float(factor) for factor in factors]
    curves = [Curve("summary JSON p99", "ms", [rows.json_p99.median for rows in measured]),
              Curve("workbook + PDF", "s", [rows.both.median for rows in measured])]  # fmt: skip
    for curve in curves:
        exponent = growth_exponent(volumes, curve.costs)
        figure.row(f"{curve.label} ∝ volume^k: k ({shape(exponent)})", "k",
                   how="slope of log(cost) on log(units and tips factor)",
                   ).samples.append(exponent)  # fmt: skip
        figure.notes[f"{curve.label} shape"] = {"exponent": exponent, "shape": shape(exponent)}
    png = plot(ctx.results / "b10_scale.png",
               f"B10: the national summary at 1× and {factors[1]}× the units and the tips",
               f"units and tips, × the 2021 month ({sum(ADDRESSED_2021.values())} units, "
               f"{ctx.volumes.b10_tips:,} tips at 1×)", volumes, curves)  # fmt: skip
    figure.notes["plot"] = str(png)
