"""`safety-month`: the operator's one entry point (CONTRACT.md, "Command line")."""

import asyncio
import json
import os
import re
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from safety_month import deadletters
from safety_month.infra import run_dir
from safety_month.infra.stack import Endpoints, LocalStack
from safety_month.local_secrets import local_secrets
from safety_month.supervisor import ServiceFailed, Supervisor
from smonth_shared.auth import ROLES, issue_token
from smonth_shared.events import SERVICES

app = typer.Typer(
    help="safety-month: the national Safety Production Month platform.", no_args_is_help=True
)
infra_app = typer.Typer(help="The local Kafka broker and PostgreSQL server (no Docker needed).")
app.add_typer(infra_app, name="infra")
systems_app = typer.Typer(help="Ministry systems' client credentials (OAuth2 client credentials).")
app.add_typer(systems_app, name="systems")
deadletters_app = typer.Typer(
    help="Messages a service could not process (smonth.deadletter.v1): list them, re-drive them."
)
app.add_typer(deadletters_app, name="deadletters")


def service_env(
    endpoints_env: dict[str, str], *, clock_start: datetime | None, speed: float
) -> dict[str, str]:
    env = {
        **endpoints_env,
        **local_secrets(run_dir() / "dev"),
        "BLOB_DIR": str(run_dir() / "dev" / "blobs"),
    }
    if clock_start is not None:
        env |= {"CLOCK_START": clock_start.isoformat(), "CLOCK_SPEED": str(speed),
                "CLOCK_ORIGIN": datetime.now(UTC).isoformat()}  # fmt: skip
    return env


@app.command()
def up(
    clock_start: Annotated[
        datetime | None, typer.Option(help="Run a simulated clock from this instant (with offset).")
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per second (with --clock-start).")
    ] = 1.0,
    keep_infra: Annotated[
        bool, typer.Option(help="Leave Kafka and PostgreSQL running on exit.")
    ] = False,
) -> None:
    """The whole system on this machine, in the foreground, until Ctrl-C or SIGTERM."""
    if clock_start is not None and clock_start.tzinfo is None:
        raise typer.BadParameter(
            "give the offset, e.g. 2021-05-31T08:00:00+08:00", param_hint="--clock-start"
        )
    started = time.monotonic()
    stack = LocalStack("dev", log=lambda line: typer.echo(f"infra   | {line}"))
    endpoints = stack.start()
    supervisor = Supervisor(service_env(endpoints.as_env(), clock_start=clock_start, speed=speed),
                            own_env=endpoints.own_env(), echo=typer.echo, colour=True)  # fmt: skip
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        supervisor.migrate()
        supervisor.start()
        supervisor.wait_ready()
        typer.echo(f"safety-month is up in {time.monotonic() - started:.1f} s: "
                   + ", ".join(f"{name} {supervisor.url(name)}" for name in supervisor.ports)
                   + " — Ctrl-C stops everything")  # fmt: skip
        while not stopping.wait(0.5):
            pass
    except ServiceFailed as failure:
        typer.echo(f"error: {failure}", err=True)
        raise typer.Exit(1) from None
    finally:
        typer.echo("stopping the services...")
        supervisor.stop()
        if not keep_infra:
            stack.stop()
        typer.echo("stopped")


@app.command()
def token(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    unit: Annotated[
        str | None, typer.Option(help="The unit code (required for --role unit).")
    ] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 12.0,
) -> None:
    """Print a bearer token signed with SAFETY_MONTH_JWT_SECRET (or the local deployment's)."""
    if role not in ROLES:
        raise typer.BadParameter(
            f"'{role}' is not a role; choose one of {', '.join(ROLES)}", param_hint="--role"
        )
    if role == "unit" and not unit:
        raise typer.BadParameter(
            "a unit token needs the unit's code, e.g. --unit 44", param_hint="--unit"
        )
    secret = local_secrets(run_dir() / "dev")["SAFETY_MONTH_JWT_SECRET"]
    typer.echo(issue_token(secret, role=role, unit=unit, ttl=timedelta(hours=hours)))  # type: ignore[arg-type]


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option(help="Volume of submissions (tips, materials) relative to the default.")
    ] = 1.0,
    speed: Annotated[
        float,
        typer.Option(
            help="Simulated seconds per second through June and the summary reports, six times "
            "that afterwards; 40000 plays the campaign in about 2.5 minutes."
        ),
    ] = 40_000.0,
    tips: Annotated[
        int | None,
        typer.Option(
            help="Tips from the public (default 2000 × scale; the real month had 114,000)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default out/demo-<time>).")
    ] = None,
    keep_running: Annotated[
        bool, typer.Option(help="Leave the system running afterwards to explore it.")
    ] = False,
) -> None:
    """The 2021 campaign end to end through the real system; the national summary in every format."""
    from rich.console import Console

    from safety_month.demo.run import DemoOptions, run_demo

    folder = out or Path("out") / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    result = run_demo(DemoOptions(out=folder.resolve(), scale=scale, speed=speed, tips=tips,
                                  keep_running=keep_running), Console())  # fmt: skip
    typer.echo(f"outputs: {folder.resolve()}")
    if result["refused"]:
        raise typer.Exit(1)


@app.command()
def replay(
    service: Annotated[
        str, typer.Option(help="The service whose read model to rebuild.")
    ] = "reports",
) -> None:
    """Rebuild a service's read model from the beginning of the topics (stop the service first)."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from smonth_reports.config import ReportsSettings
    from smonth_reports.replay import ReplayRefused
    from smonth_reports.replay import replay as rebuild

    if service != "reports":
        raise typer.BadParameter("only reports keeps a read model rebuilt from the topics",
                                 param_hint="--service")  # fmt: skip
    endpoints = LocalStack("dev", log=typer.echo).start()
    for name, value in {**endpoints.as_env(), **local_secrets(run_dir() / "dev")}.items():
        os.environ.setdefault(name, value)
    with Progress(*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn()) as bar:  # fmt: skip
        task = bar.add_task("replaying events", total=None)
        try:
            result = asyncio.run(rebuild(
                ReportsSettings(), progress=lambda done, total: bar.update(task, completed=done, total=total)
            ))  # fmt: skip
        except ReplayRefused as refusal:
            typer.echo(f"error: {refusal}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"reports rebuilt: {result.applied:,} events applied, {result.skipped:,} skipped, "
               f"in {result.seconds:.1f} s")  # fmt: skip


IntakeUrl = Annotated[str, typer.Option(help="Where intake answers.")]


@systems_app.command("register")
def systems_register(
    client_id: Annotated[
        str, typer.Option(help="The system's id, e.g. mem-hazard-db: its envelopes' `source`.")
    ],
    name: Annotated[str, typer.Option(help="What the system is, e.g. 危险化学品登记系统.")],
    unit: Annotated[list[str], typer.Option(help="A unit it may act for (repeat the option).")],
    intake_url: IntakeUrl = "http://127.0.0.1:8001",
) -> None:
    """Register a ministry system with the units it may act for; prints its client id and
    secret, once (intake keeps only a digest of it)."""
    client = _as_admin(intake_url, "POST", "/v1/clients", 201, "not registered",
                       {"client_id": client_id, "name": name, "units": unit})  # fmt: skip
    typer.echo(f"client_id={client['client_id']}")
    typer.echo(f"client_secret={client['client_secret']}")
    typer.echo(f"units={','.join(client['units'])}")
    typer.echo("The secret is shown this once: give it to the system's operator now. It gets "
               "tokens by POST /v1/oauth/token (HTTP Basic, grant_type=client_credentials).",
               err=True)  # fmt: skip


@systems_app.command("units")
def systems_units(
    client_id: Annotated[str, typer.Option(help="The system's id, as registered.")],
    unit: Annotated[list[str], typer.Option(
        help="A unit it may act for from now on (repeat the option; the list replaces the old)."
    )],
    intake_url: IntakeUrl = "http://127.0.0.1:8001",
) -> None:  # fmt: skip
    """Change the units a registered system may act for. Its tokens stop working at once; its
    next one (client credentials again) names the new units. A letter dead-lettered because the
    system was not registered for its unit can then be re-driven."""
    client = _as_admin(intake_url, "PUT", f"/v1/clients/{client_id}/units", 200,
                       "units not changed", {"units": unit})  # fmt: skip
    typer.echo(f"client_id={client['client_id']}")
    typer.echo(f"units={','.join(client['units'])}")


def _as_admin(
    intake_url: str, method: str, path: str, expected: int, refused: str, body: dict[str, Any]
) -> dict[str, Any]:  # fmt: skip
    """intake's answer to the request made with a short-lived admin token of the local
    profile's secret; exits 1 saying why when it is not `expected`."""
    import httpx

    secret = local_secrets(run_dir() / "dev")["SAFETY_MONTH_JWT_SECRET"]
    admin = issue_token(secret, role="admin", sub="cli", ttl=timedelta(minutes=5))
    try:
        answer = httpx.request(method, f"{intake_url.rstrip('/')}{path}", timeout=30,
                               headers={"Authorization": f"Bearer {admin}"}, json=body)  # fmt: skip
    except httpx.HTTPError as error:
        typer.echo(f"error: intake at {intake_url} did not answer ({error})", err=True)
        raise typer.Exit(1) from None
    if answer.status_code != expected:
        problem = answer.json() if "json" in answer.headers.get("content-type", "") else {}
        reasons = [e.get("msg", "") for e in problem.get("errors", [])] or [
            problem.get("detail", answer.text)
        ]
        typer.echo(f"error: {refused} ({answer.status_code}): {'; '.join(reasons)}", err=True)
        raise typer.Exit(1)
    return answer.json()


Since = Annotated[str | None, typer.Option(
    help="Only letters dead-lettered at or after this ISO 8601 date or time, e.g. 2021-06-16 or "
    "2021-06-16T09:30:00+08:00 (without an offset: Beijing time)."
)]  # fmt: skip
EventType = Annotated[str | None, typer.Option(
    "--type", help="Only letters of this event type, e.g. progress.reported."
)]  # fmt: skip
Source = Annotated[str | None, typer.Option(
    help=f"Only letters this service refused: {', '.join(SERVICES)}."
)]  # fmt: skip
LETTER_ID = re.compile(r"\d+/\d+")


def letter_filters(
    since: str | None, event_type: str | None, source: str | None
) -> deadletters.Filters:
    if source is not None and source not in SERVICES:
        raise typer.BadParameter(f"'{source}' is not a service; choose one of {', '.join(SERVICES)}",
                                 param_hint="--source")  # fmt: skip
    try:
        instant = None if since is None else datetime.fromisoformat(since)
    except ValueError:
        raise typer.BadParameter(f"'{since}' is not an ISO 8601 date or time, e.g. 2021-06-16 or "
                                 "2021-06-16T09:30:00+08:00", param_hint="--since") from None  # fmt: skip
    if instant is not None and instant.tzinfo is None:
        instant = instant.replace(tzinfo=deadletters.OFFICE_TZ)
    return deadletters.Filters(since=instant, event_type=event_type, source=source)


def operator_endpoints() -> Endpoints:
    """The broker as the operator's principal (a super user: it reads the dead letters and
    writes every topic), the database as the environment or the local stack gives them."""
    return LocalStack("dev", log=lambda line: typer.echo(line, err=True)).start()


@deadletters_app.command("list")
def deadletters_list(
    since: Since = None, event_type: EventType = None, source: Source = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:  # fmt: skip
    """Each dead letter: its id, when, its topic and type, who refused it and why, whether it
    was re-driven."""
    from rich.console import Console
    from rich.table import Table

    filters = letter_filters(since, event_type, source)
    endpoints = operator_endpoints()
    letters = asyncio.run(
        deadletters.list_letters(endpoints.kafka, endpoints.database_url, filters)
    )
    if as_json:
        typer.echo(
            json.dumps([letter.as_json() for letter in letters], ensure_ascii=False, indent=2)
        )
        return
    if not letters:
        typer.echo("no dead letters" + (" match" if filters != deadletters.Filters() else ""))
        return
    table = Table()
    for column in ("id", "time (Beijing)", "topic", "type", "source", "error", "re-driven"):
        # The error takes the room a terminal has; a topic's or a type's name folds, never cut.
        table.add_column(column, overflow="fold", min_width=30 if column == "error" else None)
    for letter in letters:
        table.add_row(letter.id, f"{letter.time.astimezone(deadletters.OFFICE_TZ):%Y-%m-%d %H:%M:%S}",
                      letter.original_topic, letter.event_type, letter.source, letter.error,
                      f"{letter.redriven_at.astimezone(deadletters.OFFICE_TZ):%Y-%m-%d %H:%M}"
                      if letter.redriven_at else "" if letter.redrivable
                      else "no: token refused")  # fmt: skip
    console = Console()
    if not console.is_terminal:  # a file or a pipe: one line per letter, however long
        console.width = 240
    console.print(table)
    typer.echo(f"{len(letters)} dead letter(s)")


@deadletters_app.command("redrive")
def deadletters_redrive(
    ids: Annotated[list[str] | None, typer.Argument(
        metavar="ID...", help="The letters' ids, as `deadletters list` shows them (partition/offset)."
    )] = None,
    all_matching: Annotated[bool, typer.Option(
        help="Every letter that --since, --type and --source match, but those re-driven "
        "before and ministry systems' refused for their token (the token is not kept)."
    )] = False,
    since: Since = None, event_type: EventType = None, source: Source = None,
) -> None:  # fmt: skip
    """Send each letter's original message back to its topic, once (fix the cause first).

    A ministry system's letter (smonth.inbound.v1) goes without its token, to the internal
    smonth.inbound.redriven.v1 that only the operator may write: intake applies it as the system
    it had authenticated (the letter's authenticated_system) if the registry still has that
    system active and registered for the unit; otherwise it is dead-lettered again. A system's
    letter refused for its token (none, invalid, expired, another system's) is not re-driven:
    the system sends it again."""
    if bool(ids) == all_matching:
        raise typer.BadParameter("give the letters' ids, or --all-matching, and not both",
                                 param_hint="ID...")  # fmt: skip
    if malformed := [letter_id for letter_id in ids or () if not LETTER_ID.fullmatch(letter_id)]:
        raise typer.BadParameter(f"{', '.join(malformed)}: a letter's id is partition/offset, "
                                 "e.g. 0/42", param_hint="ID...")  # fmt: skip
    if ids and (since or event_type or source):
        raise typer.BadParameter("--since, --type and --source choose letters only with "
                                 "--all-matching", param_hint="ID...")  # fmt: skip
    filters = letter_filters(since, event_type, source)
    endpoints = operator_endpoints()
    letters = asyncio.run(
        deadletters.list_letters(endpoints.kafka, endpoints.database_url, filters)
    )
    try:
        chosen = (deadletters.chosen(letters, ids) if ids
                  else [letter for letter in letters if letter.redrivable])  # fmt: skip
    except deadletters.UnknownLetters as unknown:
        raise typer.BadParameter(str(unknown), param_hint="ID...") from None
    try:
        sent = asyncio.run(deadletters.redrive(endpoints.kafka, endpoints.database_url, chosen))
    except deadletters.RedriveRefused as refusal:
        typer.echo(f"error: nothing re-driven: {refusal}", err=True)
        raise typer.Exit(1) from None
    for letter in sent:
        typer.echo(f"re-driven {letter.id}: {letter.event_type} back to {letter.redrive_topic}")
    typer.echo(f"{len(sent)} letter(s) re-driven")


@infra_app.command("start")
def infra_start() -> None:
    """Start (or reuse) the local Kafka and PostgreSQL and print their addresses."""
    endpoints = LocalStack("dev", log=typer.echo).start()
    for name, value in endpoints.as_env().items():
        typer.echo(f"{name}={value}")


@infra_app.command("stop")
def infra_stop() -> None:
    LocalStack("dev", log=typer.echo).stop()


@infra_app.command("status")
def infra_status() -> None:
    for server in LocalStack("dev", log=typer.echo).status():
        state = "running" if server.running else "stopped"
        typer.echo(
            f"{server.name:<9}{state:<9}{server.address} ({server.source}, pid {server.pid})"
        )


def main() -> None:
    app()
