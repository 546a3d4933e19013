"""`safety-month demo`: the 2021 campaign, from the eve of 1 June to the end of December, played
through the real running system on a fast simulated clock, ending with every output written."""

import asyncio
import json
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from safety_month.demo.driver import Driver, Tally
from safety_month.demo.outputs import collect_outputs
from safety_month.demo.scenario import Action, Scenario, build_scenario
from safety_month.demo.screenshots import browser_missing, take_screenshots
from safety_month.demo.sinks import MailSink, SmsSink
from safety_month.infra import profile_dir
from safety_month.infra.stack import LocalStack
from safety_month.local_secrets import local_secrets
from safety_month.supervisor import Supervisor
from smonth_shared.auth import issue_token
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import SimulatedClock
from smonth_shared.kafka import KafkaAccess

CAMPAIGN = "2021"
# The clock holds at the eve of the month until every service is ready, then runs; the demo
# ends once the last month has closed and the final summary has been published.
CLOCK_START = "2021-05-31T00:00:00+08:00"
CLOCK_END = "2022-01-01T01:00:00+08:00"
# June and the summary reports are the busy weeks; from then on the clock runs this much faster.
QUIET_FROM = "2021-07-08T00:00:00+08:00"
QUIET_FACTOR = 6
# The services' start, then the liaisons' sign-ups (two argon2 hashes each: some 20 s of both
# cores for the 101 units) before the first of them submits.
STARTUP_ALLOWANCE = timedelta(seconds=50)


@dataclass(frozen=True)
class DemoOptions:
    out: Path
    scale: float = 1.0
    speed: float = 40_000.0
    tips: int | None = None
    keep_running: bool = False
    seed: int = 2021
    # Kafka's and PostgreSQL's ports; the demo profile's own unless given (a test picks free
    # ones, so that it never meets a `make demo` running on the same machine).
    ports: tuple[int, int] | None = None

    @property
    def tip_count(self) -> int:
        return self.tips if self.tips is not None else round(2000 * self.scale)


def run_demo(options: DemoOptions, console: Console) -> dict[str, Any]:
    began = time.monotonic()
    campaign = load_campaign(CAMPAIGN)
    scenario = build_scenario(
        campaign, tips=options.tip_count, scale=options.scale, seed=options.seed
    )
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]safety-month demo[/]: {len(scenario.actions):,} submissions, "
                  f"clock ×{options.speed:,.0f}, outputs in {out}")  # fmt: skip

    kafka_port, postgres_port = options.ports or (None, None)
    stack = LocalStack("demo", kafka_port=kafka_port, postgres_port=postgres_port,
                       log=lambda line: console.print(f"[dim]infra   | {line}[/]"))  # fmt: skip
    _fresh_profile(stack)
    endpoints = stack.start()
    secrets = local_secrets(profile_dir("demo"))
    origin = datetime.now().astimezone() + STARTUP_ALLOWANCE
    with MailSink(out / "emails") as mail, SmsSink(out / "sms.jsonl") as sms:
        env = {
            **endpoints.as_env(), **secrets,
            "CLOCK_START": CLOCK_START, "CLOCK_SPEED": str(options.speed),
            "CLOCK_SPEED_CHANGES": f"{QUIET_FROM}={options.speed * QUIET_FACTOR}",
            "CLOCK_ORIGIN": origin.isoformat(), "CAMPAIGN": CAMPAIGN,
            "BLOB_DIR": str(profile_dir("demo") / "blobs"),
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMS_GATEWAY_URL": sms.url,
            "TIP_RATE_PER_MINUTE": "1000000", "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        log_file = (out / "services.log").open("w", encoding="utf-8")
        supervisor = Supervisor(env, own_env=endpoints.own_env(),
                                echo=lambda line: print(line, file=log_file, flush=True))  # fmt: skip
        try:
            supervisor.migrate()
            supervisor.start()
            ready = supervisor.wait_ready(timeout=120)
            console.print(f"four services ready in {ready:.1f} s (logs: {out / 'services.log'})")
            clock = SimulatedClock(
                datetime.fromisoformat(CLOCK_START), speed=options.speed, origin=origin,
                changes=[(datetime.fromisoformat(QUIET_FROM), options.speed * QUIET_FACTOR)],
            )  # fmt: skip
            ministries = stack.register_system("demo-ministries")
            tally = asyncio.run(_play(scenario, clock, supervisor, secrets, ministries, mail,
                                      console))  # fmt: skip
            summary = asyncio.run(_settle(supervisor, secrets, clock, tally, console))
            staff = issue_token(secrets["SAFETY_MONTH_JWT_SECRET"], role="staff")
            files = collect_outputs(supervisor.url("reports"), supervisor.url("notify"), staff, out)
            files += _screenshots(supervisor.url("intake"), tally, out / "screenshots", console)
            result = _report(summary, tally, scenario, mail.received, sms.received, files,
                             time.monotonic() - began, out)  # fmt: skip
            _closing_table(result, console)
            if options.keep_running:
                console.print("the system keeps running (Ctrl-C stops it): "
                              + ", ".join(f"{s} {supervisor.url(s)}" for s in supervisor.ports))  # fmt: skip
                _wait_for_interrupt()
            return result
        finally:
            supervisor.stop()
            log_file.close()
            stack.stop()


def _screenshots(intake_url: str, tally: Tally, out: Path, console: Console) -> list[Path]:
    """The liaison's task page and the tip page; without them the demo still ends with every
    other output, saying what was missing."""
    if reason := browser_missing():
        console.print(f"[red]no screenshots[/]: {reason}")
        return []
    if tally.page_visitor is None:
        console.print("[red]no screenshots[/]: no liaison had signed in")
        return []
    out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(take_screenshots(intake_url, tally.page_visitor, out))


def _fresh_profile(stack: LocalStack) -> None:
    """Each demo plays the campaign from nothing: the demo profile's data is wiped first."""
    stack.stop()
    folder = profile_dir("demo")
    for name in ("kafka-data", "pgdata", "blobs"):
        shutil.rmtree(folder / name, ignore_errors=True)


async def _play(scenario: Scenario, clock: SimulatedClock, supervisor: Supervisor,
                secrets: dict[str, str], ministries: KafkaAccess, mail: MailSink,
                console: Console) -> Tally:  # fmt: skip
    driver = Driver(
        intake_url=supervisor.url("intake"), jwt_secret=secrets["SAFETY_MONTH_JWT_SECRET"],
        kafka=ministries, clock=clock, campaign=CAMPAIGN, mails_to=mail.mails_to,
    )  # fmt: skip
    kinds = Counter(action.kind for action in scenario.actions)
    with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:  # fmt: skip
        bars = {kind: progress.add_task(kind, total=count) for kind, count in kinds.items()}
        days = progress.add_task(
            "simulated day", total=(scenario.actions[-1].at - clock.start).days
        )
        last_day = [clock.start.date()]

        def on_step(action: Action) -> None:
            progress.advance(bars[action.kind])
            if action.at.date() != last_day[0]:
                last_day[0] = action.at.date()
                progress.update(days, completed=(action.at - clock.start).days,
                                description=action.at.strftime("%Y-%m-%d"))  # fmt: skip

        tally = await driver.play(scenario, on_step)
    return tally


async def _settle(supervisor: Supervisor, secrets: dict[str, str], clock: SimulatedClock,
                  tally: Tally, console: Console) -> dict[str, Any]:  # fmt: skip
    """Waits for the end of the year on the clock, then for the summary to show everything."""
    end = datetime.fromisoformat(CLOCK_END)
    console.print(
        f"waiting for the clock to reach {end:%Y-%m-%d %H:%M} (months close, summary published)"
    )
    await clock.sleep_until(end)
    staff = issue_token(secrets["SAFETY_MONTH_JWT_SECRET"], role="staff")
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=supervisor.url("reports"), timeout=30,
                                 headers={"Authorization": f"Bearer {staff}"}) as http:  # fmt: skip
        while True:
            response = await http.get("/v1/national-summary", params={"campaign": CAMPAIGN})
            summary = response.json() if response.status_code == 200 else {}
            if summary and _shows_everything(summary, tally):
                return summary
            if time.monotonic() > deadline:
                console.print("[red]the summary did not catch up within 90 s[/]")
                return summary
            await asyncio.sleep(0.5)


def _shows_everything(summary: dict[str, Any], tally: Tally) -> bool:
    """Whether every service has worked through what the driver sent."""
    return (
        summary["tips"]["received"] >= tally.sent["tip"]
        and summary["tips"]["verified"] >= tally.outcomes_verified
        and summary["units"]["reported"] >= len(tally.units_reported)
        and summary["units"]["summary_on_time"] + summary["units"]["summary_late"]
        >= len(tally.summary_on_time)
        and summary["exposure"]["cases_total"] >= tally.sent["case"]
    )


def _report(summary: dict[str, Any], tally: Tally, scenario: Scenario, emails: int, sms: int,
            files: list[Path], seconds: float, out: Path) -> dict[str, Any]:  # fmt: skip
    result = {
        "seconds": round(seconds, 1),
        "sent": dict(tally.sent), "refused": dict(tally.refused), "errors": tally.first_errors,
        "lag_hours": tally.lag_hours, "slowest_ms": tally.slowest_ms, "lags": tally.lags,
        "units_reported": sorted(tally.units_reported), "summary_on_time": tally.summary_on_time,
        "outcomes_verified": tally.outcomes_verified, "liaisons_signed_in": tally.signed_in,
        "expected": scenario.expected, "emails": emails, "sms": sms,
        "outputs": [str(path.relative_to(out)) for path in files], "summary": summary,
    }  # fmt: skip
    (out / "demo-result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=str)
    )
    return result


def _closing_table(result: dict[str, Any], console: Console) -> None:
    summary = result["summary"]
    table = Table(title="2021年全国“安全生产月” — 全国汇总（演示）")
    table.add_column("指标")
    table.add_column("数值", justify="right")
    totals = summary.get("totals", {})
    for code, label in (("study_participants", "学习活动参与（人次）"),
                        ("employee_participants", "“安全红袖章”等行动参与（人次）"),
                        ("hazards_exposed", "曝光问题隐患（条）"),
                        ("tips_received", "受理举报（条次，各单位统计）"),
                        ("culture_participants", "安全文化活动参与（人次）")):  # fmt: skip
        table.add_row(label, f"{totals.get(code, 0):,}")
    units = summary.get("units", {})
    table.add_row("报送单位 / 应报", f"{units.get('reported', 0)} / {units.get('expected', 0)}")
    table.add_row("总结报告 按时 / 逾期 / 未报",
                  f"{units.get('summary_on_time', 0)} / {units.get('summary_late', 0)} / "
                  f"{units.get('summary_missing', 0)}")  # fmt: skip
    exposure = summary.get("exposure", {})
    table.add_row("典型案例（个）", f"{exposure.get('cases_total', 0):,}")
    tips = summary.get("tips", {})
    table.add_row(
        "平台受理举报 / 属实", f"{tips.get('received', 0):,} / {tips.get('verified', 0):,}"
    )
    table.add_row("联络员账号登录", str(result["liaisons_signed_in"]))
    table.add_row("邮件（提醒与账号激活） / 短信", f"{result['emails']} / {result['sms']}")
    table.add_row("拒收的提交", str(sum(result["refused"].values())))
    table.add_row("用时", f"{result['seconds']} s")
    console.print(table)
    for kind, error in result["errors"].items():
        console.print(f"[red]refused {kind}[/]: {error}")


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
