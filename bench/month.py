"""The whole system under the real month (B6), which B7 and B8 read too, and B9 at other volumes:
the four services as processes on a database of their own, 114,000 tips and every unit's June
submissions over HTTP.
"""

import asyncio
import io
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from PIL import Image

from bench.context import Context
from bench.data import Tips, campaign
from bench.load import ConnectionPool
from bench.stack import System, fresh_database
from safety_month.demo.scenario import build_scenario
from smonth_shared.auth import issue_token

JUNE_KINDS = ("liaison", "progress", "summary", "case", "material")


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (220, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _multipart(fields: dict[str, str], file: bytes | None) -> tuple[bytes, str]:
    boundary = f"bench{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\ncontent-disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]  # fmt: skip
    if file is not None:
        parts.append(f'--{boundary}\r\ncontent-disposition: form-data; name="file"; '
                     'filename="photo.png"\r\ncontent-type: image/png\r\n\r\n'.encode()
                     + file + b"\r\n")  # fmt: skip
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def june_calls(secret: str) -> list[Call]:
    """Every unit's June submissions of the demo's scenario (liaison, progress snapshots,
    summary report, materials, the June cases), all over HTTP, each with its unit's token."""
    scenario = build_scenario(campaign(), tips=0, scale=1.0)
    tokens: dict[str, str] = {}
    picture = _png()
    calls = []
    for action in scenario.actions:
        if action.kind not in JUNE_KINDS or action.at.date() >= date(2021, 7, 10):
            continue
        if action.kind == "case" and not action.body["published_on"].startswith("2021-06"):
            continue
        unit = action.actor
        token = tokens.setdefault(unit, issue_token(secret, role="unit", unit=unit))
        headers = {"authorization": f"Bearer {token}"}
        body = orjson.dumps(action.body)
        match action.kind:
            case "liaison":
                calls.append(Call("liaison", "PUT", f"/v1/liaisons/{unit}", body, headers))
            case "progress":
                calls.append(Call("progress", "POST", "/v1/progress", body, headers))
            case "summary":
                calls.append(Call("summary", "POST", "/v1/summary-reports", body, headers))
            case "case":
                calls.append(Call("case", "POST", "/v1/cases", body, headers))
            case "material":
                fields = {**action.body, "kind": "practice" if action.body["kind"] == "practice"
                          else "picture"}  # fmt: skip
                form, media = _multipart(fields, None if fields["kind"] == "practice" else picture)
                calls.append(Call("material", "POST", "/v1/materials", form,
                                  {**headers, "content-type": media}))  # fmt: skip
    return calls


def month_calls(tips: int, secret: str) -> list[Call]:
    made = Tips(seed=2021)
    calls = [Call("tip", "POST", "/v1/tips", made.encoded(), {}) for _ in range(tips)]
    june = june_calls(secret)
    # The units' submissions spread among the public's tips, as over a real month.
    rng = random.Random(616)
    for call in june:
        calls.insert(rng.randrange(len(calls) + 1), call)
    return calls


@dataclass
class Sent:
    seconds: float = 0.0
    accepted: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    first_refusals: list[str] = field(default_factory=list)
    tip_ids: list[str] = field(default_factory=list)


async def send_all(port: int, calls: list[Call], concurrency: int, *, keep_ids: bool) -> Sent:
    """Every call, `concurrency` at a time (as fast as the server answers)."""
    pool = ConnectionPool(port, limit=concurrency)
    sent = Sent()
    queue = iter(calls)
    started = time.monotonic()

    async def client() -> None:
        for call in queue:
            try:
                status, content = await pool.request(call.method, call.path, call.body,
                                                     call.headers)  # fmt: skip
            except (OSError, asyncio.IncompleteReadError) as error:
                status, content = 599, repr(error).encode()
            if status >= 300:
                sent.refused[call.kind] = sent.refused.get(call.kind, 0) + 1
                if len(sent.first_refusals) < 5:
                    sent.first_refusals.append(f"{call.kind} {status}: {content[:300]!r}")
                continue
            sent.accepted[call.kind] = sent.accepted.get(call.kind, 0) + 1
            if keep_ids and call.kind == "tip":
                sent.tip_ids.append(orjson.loads(content)["tip_id"])

    await asyncio.gather(*(client() for _ in range(concurrency)))
    sent.seconds = time.monotonic() - started
    pool.close()
    return sent


@dataclass
class MonthResult:
    started: float
    sent: Sent
    visible_after: float | None  # seconds from the first call to the summary showing it all
    finished: float
    expected: dict[str, int]
    shown: dict[str, int]
    lost: int
    counted_twice: int
    intake_tips: int


class MonthSystem:
    """The system B2, B6, B7 and B8 share, started once; the month is played once."""

    def __init__(self, ctx: Context, name: str = "month") -> None:
        self.ctx = ctx
        self.name = name
        self.system: System | None = None
        self._database: Any = None
        self.month: MonthResult | None = None

    async def start(self) -> System:
        if self.system is None:
            self._database = fresh_database(self.ctx.server_url, "month")
            database_url = await self._database.__aenter__()
            system = System(self.ctx.endpoints, database_url, self.ctx.folder / self.name,
                            self.ctx.log)  # fmt: skip
            try:
                await asyncio.to_thread(system.start)
            except BaseException:
                await asyncio.to_thread(system.stop)
                await self.stop()
                raise
            self.system = system
            await settled(system, self.ctx.quick)
        return self.system

    async def stop(self) -> None:
        if self.system is not None:
            await asyncio.to_thread(self.system.stop)
            self.system = None
        if self._database is not None:
            await self._database.__aexit__(None, None, None)
            self._database = None

    async def summary(self, pool: ConnectionPool) -> dict[str, Any]:
        assert self.system is not None
        return await national_summary(self.system, pool)

    async def play_month(self) -> MonthResult:
        """Once: every call of the month, then the summary polled until it shows them all."""
        if self.month is None:
            self.month = await self.play(self.ctx.volumes.b6_tips)
        return self.month

    async def play(self, tips: int) -> MonthResult:
        """A month of `tips` (each time it is called: B9 plays several on one system), counted
        from what the summary showed before it."""
        system = await self.start()
        volumes = self.ctx.volumes
        calls = await asyncio.to_thread(month_calls, tips, _secret())
        reports = ConnectionPool(system.ports["reports"], limit=1)
        before = shown(await self.summary(reports))
        self.ctx.log(f"B6: {len(calls):,} calls to intake, {volumes.b6_concurrency} at a time")
        started = time.monotonic()
        sent = await send_all(system.ports["intake"], calls, volumes.b6_concurrency,
                              keep_ids=True)  # fmt: skip
        self.ctx.log(f"B6: sent in {sent.seconds:.1f} s: {sent.accepted} (refused {sent.refused})")
        expected = {
            "tips": before["tips"] + sent.accepted.get("tip", 0),
            "cases": before["cases"] + sent.accepted.get("case", 0),
            "reported": len({c.headers["authorization"] for c in calls if c.kind == "progress"}),
            "liaisons": len({c.path for c in calls if c.kind == "liaison"}),
            "summaries": len({c.headers["authorization"] for c in calls if c.kind == "summary"}),
        }
        visible_after: float | None = None
        deadline = time.monotonic() + (60 if self.ctx.quick else 900)
        now = before
        while time.monotonic() < deadline:
            now = shown(await self.summary(reports))
            if all(now[key] >= value for key, value in expected.items()):
                visible_after = time.monotonic() - started
                break
            await asyncio.sleep(0.2)
        finished = time.monotonic()
        reports.close()
        lost, intake_tips = await self._lost(sent.tip_ids)
        month = MonthResult(
            started=started, sent=sent, visible_after=visible_after, finished=finished,
            expected=expected, shown=now, lost=lost,
            counted_twice=max(0, now["tips"] - expected["tips"]), intake_tips=intake_tips,
        )  # fmt: skip
        self.ctx.log(f"B6: visible after {visible_after} s; lost {lost}")
        return month

    async def _lost(self, tip_ids: list[str]) -> tuple[int, int]:
        """Accepted tips missing from reports' read model; intake's own count of tips."""
        import asyncpg

        assert self.system is not None
        conn = await asyncpg.connect(self.system.database_url)
        try:
            present = await conn.fetchval(
                "SELECT count(*) FROM reports.tips WHERE tip_id = ANY($1::uuid[])", tip_ids
            )
            intake_tips = await conn.fetchval("SELECT count(*) FROM intake.tips")
        finally:
            await conn.close()
        return len(tip_ids) - present, intake_tips


async def national_summary(system: System, pool: ConnectionPool) -> dict[str, Any]:
    status, content = await pool.request(
        "GET", "/v1/national-summary?campaign=2021", headers=system.auth("staff")
    )
    if status != 200:
        raise RuntimeError(f"national summary answered {status}: {content[:500]!r}")
    return orjson.loads(content)


async def settled(system: System, quick: bool) -> None:
    """Until reports has taken in what the topics already held (a shared broker's history):
    the summary's tip count unchanged for two seconds."""
    pool = ConnectionPool(system.ports["reports"], limit=1)
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + (60 if quick else 300)
    try:
        while time.monotonic() < deadline:
            count = shown(await national_summary(system, pool))["tips"]
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since > 2:
                break
            await asyncio.sleep(0.25)
    finally:
        pool.close()


def shown(summary: dict[str, Any]) -> dict[str, int]:
    units = summary["units"]
    return {
        "tips": summary["tips"]["received"],
        "cases": summary["exposure"]["cases_reported"],
        "reported": units["reported"],
        "liaisons": units["liaisons"],
        "summaries": units["summary_on_time"] + units["summary_late"],
    }


def _secret() -> str:
    from bench.stack import JWT_SECRET

    return JWT_SECRET
