"""Scale-out and failover, as an operator meets them: two instances of every service on one broker
and one database (the same consumer groups, so each topic's partitions split between them), tips
and typical cases posted through both intakes; one instance of each service killed with SIGKILL
mid-load and started again; then the broker, and then the database, frozen for 10 s under load.

At the end every write intake accepted (202) is counted once by reports (the same from both
instances), every reminder is mailed once, and June's exposure month is closed once per province.

The simulated clock runs from 28 June to just past the close of June while the load flows, so the
reminders of 29 and 30 June are sent, and June closes, with the services failing over meanwhile;
then it all but stops on 1 July, the day the typical cases are published on."""

import asyncio
import contextlib
import itertools
import json
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.fernet import Fernet

from safety_month.demo.sinks import MailSink, SmsSink, free_port
from safety_month.infra.stack import Endpoints
from safety_month.supervisor import SERVICES, Supervisor
from smonth_shared.auth import issue_token
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import SimulatedClock
from smonth_shared.events import CASE, COMPLIANCE, TIP
from smonth_shared.kafka import KafkaAccess
from tests.journey.journey_kit import caught_up
from tests.polling import eventually_blocking

# Generous: eight processes, a broker and a database on a busy two-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.journey, pytest.mark.slow,
              pytest.mark.timeout(900)]  # fmt: skip

SECRET = "failover-secret-0123456789abcdef0123456789"
PROVINCES = [unit.code for unit in load_campaign("2021").units if unit.kind == "province"]
# 28 June to 1 July 00:00 (the close of June) in some 24 s of wall time, then all but stopped:
# the occasions of 29 and 30 June fall while the load flows, none after.
CLOCK_START = datetime.fromisoformat("2021-06-28T00:00:00+08:00")
CLOCK_SPEED = 10_800.0
CLOCK_HALTS = datetime.fromisoformat("2021-07-01T00:05:00+08:00")
JUNE_CLOSED = datetime.fromisoformat("2021-07-01T00:00:00+08:00")
CASES_PUBLISHED_ON = "2021-07-01"  # a month that stays open: no case changes June's closing
STARTUP_ALLOWANCE = timedelta(seconds=75)  # eight processes' start on a busy two-core machine
OUTAGE_SECONDS = 10.0  # how long the broker, then the database, stays frozen: the scenario's own
CLIENTS = 6
REMINDER_MAIL_DOMAIN = "notify.safety-month"  # a reminder mail's Message-ID is its id @ this


@dataclass
class Load:
    """Posts tips (and, once the clock shows 1 July, typical cases) through both intakes in turn,
    each write under its own Idempotency-Key, retried with the same key on the other intake
    after a dropped connection or a 5xx, until stopped. Counts what was accepted."""

    intakes: list[str]
    clock: SimulatedClock
    accepted: Counter[str] = field(default_factory=Counter)  # "tip" / "case"
    tips_by_province: Counter[str] = field(default_factory=Counter)
    accepted_by_intake: Counter[str] = field(default_factory=Counter)
    accepted_at: list[float] = field(default_factory=list)  # monotonic instants of the 202s
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _turn: Iterator[int] = field(default_factory=itertools.count)

    def run(self) -> None:
        asyncio.run(self._clients())

    def stop(self) -> None:
        self._stop.set()

    def accepted_between(self, start: float, end: float) -> int:
        return sum(1 for instant in list(self.accepted_at) if start <= instant <= end)

    @property
    def total(self) -> int:
        return sum(self.accepted.values())

    async def _clients(self) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(self._client(http) for _ in range(CLIENTS)))

    async def _client(self, http: httpx.AsyncClient) -> None:
        while not self._stop.is_set():
            turn = next(self._turn)
            province = PROVINCES[turn % len(PROVINCES)]
            as_case = turn % 5 == 0 and self.clock.now() >= JUNE_CLOSED
            path, body, headers = _case(province) if as_case else _tip(province)
            headers["Idempotency-Key"] = f"failover-{uuid.uuid4()}"
            await self._write(http, turn, path, body, headers, "case" if as_case else "tip")

    async def _write(self, http: httpx.AsyncClient, turn: int, path: str, body: dict[str, Any],
                     headers: dict[str, str], kind: str) -> None:  # fmt: skip
        for attempt in itertools.count():
            intake = self.intakes[(turn + attempt) % len(self.intakes)]
            try:
                answer = await http.post(f"{intake}{path}", json=body, headers=headers)
            except httpx.TransportError:
                continue  # the instance is down (killed) or timed out: the other one takes it
            if answer.status_code >= 500:
                self.server_errors.append(f"{answer.status_code} {intake}{path}: {answer.text}")
                continue
            if answer.status_code != 202:
                self.refused.append(f"{answer.status_code} {path}: {answer.text[:300]}")
                return
            self.accepted[kind] += 1
            self.accepted_by_intake[intake] += 1
            self.accepted_at.append(time.monotonic())
            if kind == "tip":
                self.tips_by_province[body["province"]] += 1
            return


def _tip(province: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    return "/v1/tips", {"province": province, "industry": "mining", "category": "major_hazard",
                        "description": "井下通风设施长期停用，存在重大隐患"}, {}  # fmt: skip


def _case(province: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    body = {
        "province": province, "title": "某化工企业违规储存危险化学品被曝光",
        "industry": "hazardous_chemicals", "enterprise": "某化工有限公司",
        "summary": "企业超量储存危险化学品，安全距离不足。", "media_outlet": "省级日报",
        "published_on": CASES_PUBLISHED_ON,
        "url": f"https://news.example.cn/{uuid.uuid4().hex}.html",
    }  # fmt: skip
    token = issue_token(SECRET, role="unit", unit=province)
    return "/v1/cases", body, {"Authorization": f"Bearer {token}"}


@dataclass
class Deployment:
    """Two supervisors, each running one instance of every service, on the same env."""

    instances: tuple[Supervisor, Supervisor]
    kafka: KafkaAccess
    group_prefix: str
    clock: SimulatedClock
    mail: MailSink
    sms: SmsSink
    logs: list[str]
    compliance_from: dict[TopicPartition, int]  # the compliance topic's end before the start

    def urls(self, service: str) -> list[str]:
        return [instance.url(service) for instance in self.instances]

    def caught_up(self, consumer: str, *topics: str) -> None:
        asyncio.run(caught_up(self.kafka, f"{self.group_prefix}.{consumer}", topics, 120))


@pytest.fixture
def deployment(
    infra: Endpoints, kafka: KafkaAccess, database_url: str, tmp_path: Path
) -> Iterator[Deployment]:  # fmt: skip
    compliance_from = asyncio.run(_end_offsets(kafka, COMPLIANCE.name))
    group_prefix = f"failover-{uuid.uuid4().hex[:8]}"
    logs: list[str] = []
    with MailSink(tmp_path / "mail") as mail, SmsSink(tmp_path / "sms.jsonl") as sms:
        env = {
            **infra.as_env(), "DATABASE_URL": database_url, "SAFETY_MONTH_JWT_SECRET": SECRET,
            "TIP_CONTACT_KEY": Fernet.generate_key().decode(),
            "BLOB_DIR": str(tmp_path / "blobs"), "TIP_RATE_PER_MINUTE": "1000000",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMS_GATEWAY_URL": sms.url,
            "CONSUMER_GROUP_PREFIX": group_prefix, "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        Supervisor(env, own_env=infra.own_env(), echo=logs.append).migrate()
        # The clock starts once the eight processes may be assumed up (the migrations, which
        # take as long again, are done): all of them, restarted ones too, show the same time.
        origin = datetime.now(UTC) + STARTUP_ALLOWANCE
        clock = SimulatedClock(CLOCK_START, speed=CLOCK_SPEED, origin=origin,
                               changes=[(CLOCK_HALTS, 1.0)])  # fmt: skip
        env |= {"CLOCK_START": CLOCK_START.isoformat(), "CLOCK_SPEED": str(CLOCK_SPEED),
                "CLOCK_SPEED_CHANGES": f"{CLOCK_HALTS.isoformat()}=1",
                "CLOCK_ORIGIN": origin.isoformat()}  # fmt: skip
        instances = tuple(
            Supervisor(
                env,
                ports={name: free_port() for name in SERVICES},
                own_env=infra.own_env(),
                echo=logs.append,
            )
            for _ in range(2)
        )
        try:
            for instance in instances:
                instance.start()
            for instance in instances:
                instance.wait_ready(timeout=120)
            assert datetime.now(UTC) < origin, "the clock ran before the services were up"
            yield Deployment((instances[0], instances[1]), infra.kafka, group_prefix, clock,
                             mail, sms, logs, compliance_from)  # fmt: skip
        finally:
            for instance in instances:
                instance.stop()
            (tmp_path / "services.log").write_text("\n".join(logs), encoding="utf-8")
            print(f"\nthe services' logs: {tmp_path / 'services.log'}")


def test_every_write_is_counted_once_through_kills_and_outages(
    deployment: Deployment, infra: Endpoints
) -> None:
    began = time.monotonic()
    staff = {"Authorization": f"Bearer {issue_token(SECRET, role='staff')}"}
    # The broker holds earlier runs' tips and cases: the counts start from what reports shows
    # once it has worked through them.
    deployment.caught_up("reports", TIP.name, CASE.name)
    before = _summary(deployment.urls("reports")[0], staff)
    _designate_liaisons(deployment.urls("intake"))
    load = Load(deployment.urls("intake"), deployment.clock)
    sender = threading.Thread(target=load.run, daemon=True)
    sender.start()
    try:
        # Mid-load, while the reminders of 29 June are going out: one instance of each killed.
        eventually_blocking(lambda: load.total >= 150 and _reminder_mails(deployment),
                            timeout=120, what="150 writes accepted and a reminder mailed")  # fmt: skip
        killed_after = load.total
        print(f"killing at {deployment.clock.now()}, {killed_after} accepted")
        for service in SERVICES:
            deployment.instances[0].stop_one(service, kill=True)
        for service in SERVICES:
            deployment.instances[0].start_one(service)
        deployment.instances[0].wait_ready(timeout=120)
        eventually_blocking(lambda: load.total >= killed_after + 150, timeout=120,
                            what="150 more writes accepted after the restart")  # fmt: skip
        eventually_blocking(lambda: load.accepted["case"] >= 20, timeout=120,
                            what="20 cases accepted once June has closed")  # fmt: skip

        broker = _process_tree(_port(f"//{infra.kafka_bootstrap_servers.split(',')[0]}"))
        broker_answered = _frozen_for(OUTAGE_SECONDS, broker, load)
        database = _process_tree(_port(infra.database_url))
        database_answered = _frozen_for(OUTAGE_SECONDS, database, load)
        after_outages = load.total
        eventually_blocking(lambda: load.total >= after_outages + 100, timeout=120,
                            what="100 writes accepted after both outages")  # fmt: skip
    finally:
        load.stop()
        sender.join(timeout=60)
    assert not sender.is_alive()
    loaded = time.monotonic() - began
    print(f"load stopped after {loaded:.1f} s with {load.total} accepted")

    counted = _settled_summaries(deployment, load, before, staff)
    closings = _settled_june_closings(deployment)
    reminders, mails, texts = _settled_reminders(deployment, staff)
    took = time.monotonic() - began

    print(
        f"\nfailover journey: accepted {load.total} ({dict(load.accepted)}; by intake "
        f"{sorted(load.accepted_by_intake.values())}), counted {counted['tips']} tips + "
        f"{counted['cases']} cases in both reports; reminders {len(reminders)} sent "
        f"(e-mails {len(mails)}, SMS {texts}); June closed {sum(closings.values())} times for "
        f"{len(closings)} provinces; intake answered {broker_answered} × 202 with the broker "
        f"frozen, {database_answered} with the database frozen; load {loaded:.1f} s, "
        f"total {took:.1f} s"
    )  # fmt: skip
    assert load.server_errors == [], load.server_errors[:5]
    assert load.refused == [], load.refused[:5]
    assert all(count > 0 for count in load.accepted_by_intake.values())
    assert len(load.accepted_by_intake) == 2
    assert broker_answered > 0, "intake stopped answering while the broker was away"
    assert counted == {"tips": load.accepted["tip"], "cases": load.accepted["case"]}
    assert closings == dict.fromkeys(PROVINCES, 1)
    # A sender killed between the server's answer and its own record leaves the reminder
    # 'sending'; the other instance sends it again (at least once: never lost to a crash), with
    # the same Message-ID, so the mail server can drop the repeat. Only those may come twice.
    by_mail = {row["id"]: row for row in reminders if row["channel"] == "email"}
    assert set(mails) == set(by_mail), "a reminder not mailed, or mailed without a record"
    repeated = {rid: count for rid, count in mails.items() if count > 1}
    assert all(by_mail[rid]["attempts"] >= count for rid, count in repeated.items()), repeated
    by_text = [row for row in reminders if row["channel"] == "sms"]
    assert len(by_text) <= texts <= sum(row["attempts"] for row in by_text)
    print(
        f"re-sent after the kill: {sum(repeated.values()) - len(repeated)} e-mails "
        f"(same Message-ID), {texts - len(by_text)} SMS"
    )


def _summary(reports: str, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.get(f"{reports}/v1/national-summary", params={"campaign": "2021"},
                       headers=headers, timeout=30)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def _settled_summaries(
    deployment: Deployment, load: Load, before: dict[str, Any], staff: dict[str, str]
) -> dict[str, int]:
    """Once both reports show every accepted write and reports has read all there is: what it
    counted since the start (a doubled write would show here), the same from either instance."""
    expected_tips = before["tips"]["received"] + load.accepted["tip"]
    expected_cases = before["exposure"]["cases_reported"] + load.accepted["case"]

    shown: list[tuple[int, int]] = []

    def shows_everything() -> bool:
        shown[:] = [(s["tips"]["received"], s["exposure"]["cases_reported"])
                    for s in (_summary(url, staff) for url in deployment.urls("reports"))]  # fmt: skip
        return all(tips >= expected_tips and cases >= expected_cases for tips, cases in shown)

    try:
        eventually_blocking(shows_everything, timeout=180, what="both reports show every write")
    except AssertionError as late:
        raise AssertionError(
            f"{late}: {expected_tips} tips and {expected_cases} cases accepted, the two reports "
            f"show {shown}; intake's outboxes: {_outbox_rows(deployment)}"
        ) from None
    deployment.caught_up("reports", TIP.name, CASE.name)
    first, second = (_summary(url, staff) for url in deployment.urls("reports"))
    for part in ("tips", "exposure", "units", "totals"):
        assert first[part] == second[part], f"the two reports disagree on {part}"
    by_province = {p: first["tips"]["by_province"].get(p, 0)
                   - before["tips"]["by_province"].get(p, 0) for p in PROVINCES}  # fmt: skip
    assert {p: n for p, n in by_province.items() if n} == dict(load.tips_by_province)
    return {"tips": first["tips"]["received"] - before["tips"]["received"],
            "cases": first["exposure"]["cases_reported"] - before["exposure"]["cases_reported"]}  # fmt: skip


def _outbox_rows(deployment: Deployment) -> list[str]:
    """What intake's relays have still to publish, as their /metrics say."""
    return [line for url in deployment.urls("intake")
            for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines()
            if line.startswith("smonth_outbox_backlog_rows")]  # fmt: skip


def _settled_june_closings(deployment: Deployment) -> Counter[str]:
    """The closing assessments of June exposure announced since the start, by province: once
    every province's is out and exposure has read every case."""
    eventually_blocking(
        lambda: len(_june_closings(deployment)) == len(PROVINCES), timeout=120,
        what="June closed for every province",
    )  # fmt: skip
    deployment.caught_up("exposure", CASE.name)
    return _june_closings(deployment)


def _june_closings(deployment: Deployment) -> Counter[str]:
    events = asyncio.run(_read_since(deployment.kafka, deployment.compliance_from))
    return Counter(
        event["data"]["province"] for event in events
        if event["data"].get("month") == "2021-06" and event["data"].get("closed")
    )  # fmt: skip


def _settled_reminders(
    deployment: Deployment, staff: dict[str, str]
) -> tuple[list[dict[str, Any]], Counter[str], int]:
    """Once no reminder is left to send: the ones sent, the mails received by Message-ID (the
    reminder's id), and the text messages received."""
    notify = deployment.urls("notify")[0]

    def settled() -> list[dict[str, Any]] | None:
        answer = httpx.get(f"{notify}/v1/reminders", headers=staff, timeout=30)
        assert answer.status_code == 200, answer.text
        rows = answer.json()
        if any(row["status"] in ("planned", "sending") for row in rows):
            return None
        sent = [row for row in rows if row["status"] == "sent"]
        delivered = deployment.mail.received + deployment.sms.received
        return sent if sent and delivered >= len(sent) else None

    sent = eventually_blocking(settled, timeout=120, what="every reminder sent")
    return sent, _reminder_mails(deployment), deployment.sms.received


def _reminder_mails(deployment: Deployment) -> Counter[str]:
    """The reminders' ids in the mails received (each mail's Message-ID), beside which the
    sink holds the liaisons' account activations."""
    ids: Counter[str] = Counter()
    for path in sorted(deployment.mail.handler.folder.glob("*.eml")):
        with path.open("rb") as handle:
            message_id = str(BytesParser(policy=policy.default).parse(handle)["Message-ID"])
        local, _, domain = message_id.strip("<>").partition("@")
        if domain == REMINDER_MAIL_DOMAIN:
            ids[local] += 1
    return ids


def _designate_liaisons(intakes: list[str]) -> None:
    """Each province names its liaison, through either intake: the reminders need someone to
    reach (the broker's compacted liaison topic may name them from earlier runs already)."""
    with httpx.Client(timeout=30) as http:
        for turn, province in enumerate(PROVINCES):
            token = issue_token(SECRET, role="unit", unit=province)
            answer = http.put(
                f"{intakes[turn % 2]}/v1/liaisons/{province}", headers={
                    "Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
                json={"name": "张伟", "position": "科长", "office_phone": "010-64463407",
                      "mobile": f"138{int(province):08d}",
                      "email": f"liaison.{province}@example.gov.cn"},
            )  # fmt: skip
            assert answer.status_code == 202, answer.text


def _port(address: str) -> int:
    port = urlsplit(address).port
    assert port is not None, address
    return port


def _process_tree(port: int) -> list[psutil.Process]:
    """The server listening on `port` on this machine, with its children: PostgreSQL serves each
    connection from a child of its postmaster, which must stop too for the server to be away."""
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            assert conn.pid is not None, f"the server on port {port} is not ours to freeze"
            server = psutil.Process(conn.pid)
            return [server, *server.children(recursive=True)]
    raise AssertionError(f"no local server listens on port {port}")


def _frozen_for(seconds: float, processes: list[psutil.Process], load: Load) -> int:
    """Freezes the processes for `seconds` (the outage the scenario is about, not a wait for
    something) under load; how many writes intake accepted meanwhile."""
    frozen_at = time.monotonic()
    for process in processes:
        process.send_signal(signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        for process in reversed(processes):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)
    return load.accepted_between(frozen_at, time.monotonic())


async def _end_offsets(kafka: KafkaAccess, topic: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    reader = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        (described,) = await admin.describe_topics([topic])
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        assert partitions, f"{topic} has no partitions"
        return await reader.end_offsets(partitions)
    finally:
        await reader.stop()
        await admin.close()


async def _read_since(kafka: KafkaAccess, since: dict[TopicPartition, int]) -> list[dict[str, Any]]:
    """Every record from `since` up to the partitions' present ends."""
    reader = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await reader.start()
    try:
        reader.assign(list(since))
        ends = await reader.end_offsets(list(since))
        for partition, offset in since.items():
            reader.seek(partition, offset)
        events: list[dict[str, Any]] = []
        while [p for p in since if await reader.position(p) < ends[p]]:
            batches = await reader.getmany(timeout_ms=1000)
            events += [json.loads(record.value) for records in batches.values()
                       for record in records if record.value]  # fmt: skip
        return events
    finally:
        await reader.stop()
