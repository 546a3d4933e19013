"""Plays a scenario against the running system through its public interfaces only: HTTP as units
and the public use it, and `smonth.inbound.v1` as a ministry system would."""

import asyncio
import io
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from PIL import Image, ImageDraw

from safety_month.demo.liaisons import Liaisons, SignUpError
from safety_month.demo.scenario import Action, Scenario
from smonth_shared.auth import issue_token
from smonth_shared.backoff import Backoff
from smonth_shared.clock import Clock
from smonth_shared.events import INBOUND
from smonth_shared.kafka import KafkaAccess

INBOUND_TYPES = {"progress": "progress.reported", "liaison": "liaison.designated"}
CONCURRENCY = 24
PAGE_VISITOR = "44"  # 广东省: the province whose liaison's pages the demo photographs


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    first_errors: dict[str, str] = field(default_factory=dict)
    tip_ids: dict[int, str] = field(default_factory=dict)
    units_reported: set[str] = field(default_factory=set)
    summary_on_time: dict[str, bool] = field(default_factory=dict)  # as intake answered
    outcomes_verified: int = 0
    signed_in: int = 0  # liaisons who took up their invitation and signed in
    # The e-mail and password of one province's liaison, for the screenshots of its pages.
    page_visitor: tuple[str, str] | None = None
    # How far behind its planned instant each submission was answered, in simulated hours.
    lag_hours: dict[str, float] = field(default_factory=dict)
    slowest_ms: dict[str, float] = field(default_factory=dict)
    lags: list[tuple[str, str, float]] = field(default_factory=list)

    def refuse(self, kind: str, reason: str) -> None:
        self.refused[kind] += 1
        self.first_errors.setdefault(kind, reason[:500])


class Driver:
    def __init__(
        self, *, intake_url: str, jwt_secret: str, kafka: KafkaAccess, clock: Clock,
        campaign: str, mails_to: Callable[[str], list[Path]],
    ) -> None:  # fmt: skip
        self.intake_url = intake_url
        self.jwt_secret = jwt_secret
        self.kafka = kafka
        self.clock = clock
        self.campaign = campaign
        self.mails_to = mails_to
        self.tally = Tally()
        self._system_tokens: dict[str, tuple[str, float]] = {}
        self._registering = asyncio.Lock()
        self._client_secrets: dict[str, str] = {}
        self._slots = asyncio.Semaphore(CONCURRENCY)

    async def play(self, scenario: Scenario, on_step: Callable[[Action], None]) -> Tally:
        producer = AIOKafkaProducer(**self.kafka.client_options(), acks="all",
                                    enable_idempotence=True)  # fmt: skip
        await producer.start()
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        try:
            async with httpx.AsyncClient(
                base_url=self.intake_url, timeout=30, limits=limits
            ) as http:
                # The liaisons sign up while the clock still holds before the month begins.
                liaisons = Liaisons(
                    http, scenario.contacts, mails_to=self.mails_to, send=_with_retries,
                    office_token=issue_token(self.jwt_secret, role="staff", sub="demo-office"),
                )  # fmt: skip
                liaisons.issue_all(_by_first_need(scenario))
                try:
                    await self._each_action(scenario, lambda action: self._run(
                        http, producer, liaisons, action, on_step))  # fmt: skip
                finally:
                    self.tally.signed_in = liaisons.signed_in
                    self.tally.page_visitor = next(filter(None, map(
                        liaisons.sign_in_of, (PAGE_VISITOR, *scenario.contacts))), None)  # fmt: skip
                    await liaisons.close()
        finally:
            await producer.stop()
        return self.tally

    async def _each_action(self, scenario: Scenario,
                           run: Callable[[Action], Coroutine[Any, Any, None]]) -> None:  # fmt: skip
        """Each action at its instant on the clock, up to CONCURRENCY of them at once."""
        pending: set[asyncio.Task[None]] = set()
        for action in scenario.actions:
            if action.at > self.clock.now():
                await self.clock.sleep_until(action.at)
            if action.kind == "outcome":
                # An outcome needs its tip's id: let the tips before it finish first.
                await asyncio.gather(*pending)
            task = asyncio.create_task(run(action))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)

    async def _run(self, http: httpx.AsyncClient, producer: AIOKafkaProducer, liaisons: Liaisons,
                   action: Action, on_step: Callable[[Action], None]) -> None:  # fmt: skip
        try:
            # Waiting for a liaison's sign-in takes no slot: the public's tips go on meanwhile.
            signed_in = action.actor != "public" and not action.via_inbound
            token = await liaisons.token(action.actor) if signed_in else None
            async with self._slots:
                if action.via_inbound:
                    await self._publish_inbound(producer, action)
                else:
                    await self._post(http, token, action)
        except (httpx.HTTPError, OSError, SignUpError) as error:
            self.tally.refuse(action.kind, f"{type(error).__name__}: {error}")
        finally:
            lag = (self.clock.now() - action.at).total_seconds() / 3600
            self.tally.lag_hours[action.kind] = max(lag, self.tally.lag_hours.get(action.kind, 0.0))
            self.tally.lags.append((action.at.isoformat()[:13], action.kind, round(lag, 1)))
            on_step(action)

    async def _post(self, http: httpx.AsyncClient, token: str | None, action: Action) -> None:
        headers = {"Idempotency-Key": f"demo-{action.seq}"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = self._request(action)
        if request is None:
            return
        method, path, kwargs = request
        started = time.perf_counter()
        response = await _with_retries(
            lambda: http.request(method, path, headers=headers, **kwargs)
        )
        took = (time.perf_counter() - started) * 1000
        self.tally.slowest_ms[action.kind] = max(took, self.tally.slowest_ms.get(action.kind, 0.0))
        if response.status_code >= 300:
            self.tally.refuse(action.kind, f"{response.status_code} {path}: {response.text}")
            return
        self.tally.sent[action.kind] += 1
        if action.kind == "progress":
            self.tally.units_reported.add(action.actor)
        if action.kind == "tip":
            self.tally.tip_ids[action.seq] = response.json()["tip_id"]
        if action.kind == "summary":
            self.tally.summary_on_time[action.actor] = bool(response.json()["on_time"])
        if action.kind == "outcome" and action.body["status"] == "verified":
            self.tally.outcomes_verified += 1

    def _request(self, action: Action) -> tuple[str, str, dict[str, Any]] | None:
        body = action.body
        match action.kind:
            case "liaison":
                return "PUT", f"/v1/liaisons/{action.actor}", {"json": body}
            case "progress":
                return "POST", "/v1/progress", {"json": body}
            case "summary":
                return "POST", "/v1/summary-reports", {"json": body}
            case "case":
                return "POST", "/v1/cases", {"json": body}
            case "tip":
                return "POST", "/v1/tips", {"json": body}
            case "outcome":
                tip_id = self.tally.tip_ids.get(action.ref or -1)
                if tip_id is None:
                    self.tally.refuse("outcome", "its tip was not accepted")
                    return None
                return "POST", f"/v1/tips/{tip_id}/outcome", {"json": body}
            case "material":
                files = {"file": ("photo.png", _picture(body["title"]), "image/png")} \
                    if body["kind"] == "picture" else None  # fmt: skip
                return "POST", "/v1/materials", {"data": body, "files": files}

    async def _publish_inbound(self, producer: AIOKafkaProducer, action: Action) -> None:
        """A ministry system's envelope: the same body the HTTP endpoint takes."""
        data = dict(action.body)
        if action.kind == "liaison":
            data["unit"] = action.actor
        envelope = {
            "id": str(uuid.uuid4()), "type": INBOUND_TYPES[action.kind], "version": 1,
            "source": f"system-{action.actor.lower()}", "time": self.clock.now().isoformat(),
            "campaign": self.campaign, "subject": action.actor, "data": data,
        }  # fmt: skip
        token = await self._system_token(envelope["source"], action.actor)
        await producer.send_and_wait(
            INBOUND.name, json.dumps(envelope, ensure_ascii=False).encode(),
            key=action.actor.encode(),
            headers=[("content-type", b"application/json"),
                     ("authorization", f"Bearer {token}".encode())],
        )  # fmt: skip
        self.tally.sent[action.kind] += 1
        if action.kind == "progress":
            self.tally.units_reported.add(action.actor)

    async def _system_token(self, client_id: str, unit: str) -> str:
        """The system's access token by the client-credentials grant, as a ministry's system
        gets it: registered by the office once (for its one unit), renewed before it expires."""
        async with self._registering:
            token, renew_at = self._system_tokens.get(client_id, ("", 0.0))
            if token and time.monotonic() < renew_at:
                return token
            async with httpx.AsyncClient(base_url=self.intake_url, timeout=30) as http:
                secret = self._client_secrets.get(client_id)
                if secret is None:
                    office = issue_token(self.jwt_secret, role="admin", sub="demo-office")
                    registered = await _with_retries(lambda: http.post(
                        "/v1/clients", headers={"Authorization": f"Bearer {office}"},
                        json={"client_id": client_id, "name": f"{unit} 统计报送系统",
                              "units": [unit]}))  # fmt: skip
                    registered.raise_for_status()
                    secret = self._client_secrets[client_id] = registered.json()["client_secret"]
                granted = await _with_retries(lambda: http.post(
                    "/v1/oauth/token", auth=(client_id, secret),
                    data={"grant_type": "client_credentials"}))  # fmt: skip
                granted.raise_for_status()
            answer = granted.json()
            renew_at = time.monotonic() + max(answer["expires_in"] - 60, 1)
            self._system_tokens[client_id] = (answer["access_token"], renew_at)
            return answer["access_token"]


def _by_first_need(scenario: Scenario) -> list[str]:
    """The units with an account, the one whose first HTTP submission comes soonest first."""
    first: dict[str, int] = {}
    for index, action in enumerate(scenario.actions):
        if action.actor != "public" and not action.via_inbound:
            first.setdefault(action.actor, index)
    return sorted(scenario.contacts, key=lambda unit: first.get(unit, len(scenario.actions)))


async def _with_retries(send: Callable[[], Any], attempts: int = 4) -> httpx.Response:
    """The same request (same Idempotency-Key) again after a dropped connection or a 5xx."""
    backoff = Backoff(initial=0.5)
    for attempt in range(1, attempts + 1):
        try:
            response: httpx.Response = await send()
            if response.status_code < 500 or attempt == attempts:
                return response
        except httpx.TransportError:
            if attempt == attempts:
                raise
        await asyncio.sleep(backoff.next())
    raise AssertionError("unreachable")


def _picture(title: str) -> bytes:
    """A small picture of the activity: a coloured card with a pattern, 320×200 PNG."""
    seed = sum(title.encode())
    image = Image.new("RGB", (320, 200), (200 + seed % 55, 60 + seed % 90, 40))
    draw = ImageDraw.Draw(image)
    for step in range(0, 320, 20):
        draw.line([(step, 0), (320 - step, 200)], fill=(255, 230, 120), width=2)
    draw.rectangle([20, 150, 300, 185], fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
