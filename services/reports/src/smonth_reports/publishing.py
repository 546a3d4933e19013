"""Building the summary from the read model, and publishing it: the artifacts are stored (so a link
keeps giving the bytes its checksum names) and `national-summary.published` goes out through the
outbox in the same transaction, on demand and at each moment the campaign file names, once."""

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from smonth_reports import repository
from smonth_reports.domain import ReadModel, publication_triggers
from smonth_reports.formats import MEDIA_TYPES, Format, render
from smonth_reports.report import Report, build_report
from smonth_reports.tables import TABLE_NAMES
from smonth_shared.campaign import Campaign
from smonth_shared.clock import Clock
from smonth_shared.events import Artifact, NationalSummaryPublished, new_event
from smonth_shared.outbox import Outbox

log = logging.getLogger(__name__)

# (artifact name, format, CSV table): every table has its own CSV file.
ARTIFACTS: tuple[tuple[str, Format, str], ...] = (
    ("national-summary.json", "json", ""),
    ("national-summary.xlsx", "xlsx", ""),
    ("national-summary.pdf", "pdf", ""),
    ("national-summary.html", "html", ""),
    *((f"{table}.csv", "csv", table) for table in TABLE_NAMES),
)  # fmt: skip


@dataclass
class Kept:
    """A campaign's read model as last read, and the report last built from it."""

    model: ReadModel
    report: Report | None = None


@dataclass(frozen=True)
class Publisher:
    started_pool: Callable[[], asyncpg.Pool]  # the service's pool, which exists once it started
    outbox: Outbox
    clock: Clock
    base_url: str
    _kept: dict[str, Kept] = field(default_factory=dict, init=False, compare=False)
    # Set while every moment due by the clock is published (the schedule waits for the next).
    caught_up: asyncio.Event = field(default_factory=asyncio.Event, init=False, compare=False)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.started_pool()

    async def report(self, campaign: Campaign) -> Report:
        """The summary now, to the second, read in one snapshot so that its parts agree with each
        other. One statement reads the read model's version and, of its parts, only those written
        since they were last read (any replica's write counts); the report is built again only
        when the version moved or in a new second: polled back to back, the summary costs one
        small query, and a batch of tips the two tallies of the tips, not nine tables."""
        now = self.clock.now().replace(microsecond=0)
        kept = self._kept.get(campaign.id)
        async with self.pool.acquire() as conn:
            model = await repository.read_model(
                conn, campaign.id, campaign.time_zone, since=kept.model if kept else None
            )
        if kept is None or model is not kept.model:
            kept = self._kept[campaign.id] = Kept(model)
        if kept.report is None or kept.report.now != now:
            kept.report = build_report(campaign, kept.model, now)
        return kept.report

    async def publish(
        self, campaign: Campaign, *, trigger: str, moment: datetime | None = None
    ) -> dict[str, Any] | None:
        """Store the artifacts and announce them; None if `moment` was published already."""
        report = await self.report(campaign)
        rendered = await asyncio.to_thread(_render_all, report)
        publication_id = uuid4()
        artifacts = [
            Artifact(format=fmt, url=self.url(publication_id, name), size=len(content),
                     sha256=hashlib.sha256(content).hexdigest())
            for (name, fmt, _), content in zip(ARTIFACTS, rendered, strict=True)
        ]  # fmt: skip
        event = new_event(
            NationalSummaryPublished(
                campaign=campaign.id, as_of=report.as_of, trigger=trigger, artifacts=artifacts
            ),
            source="reports", time=self.clock.now(), campaign=campaign.id, subject=campaign.id,
        )  # fmt: skip
        async with self.pool.acquire() as conn, conn.transaction():
            claimed = await repository.claim_publication(
                conn, publication_id, campaign.id, trigger, moment, report.as_of
            )
            if not claimed:
                return None
            for (name, fmt, _), artifact, content in zip(ARTIFACTS, artifacts, rendered,
                                                         strict=True):  # fmt: skip
                await repository.add_artifact(
                    conn, publication_id, name, fmt, MEDIA_TYPES[fmt], artifact.sha256, content
                )
            await self.outbox.add(conn, event)
        log.info("published the %s summary of %s (%s)", trigger, campaign.id, publication_id)
        return {"id": str(publication_id), **event.data}

    def url(self, publication_id: UUID, name: str) -> str:
        return f"{self.base_url}/v1/publications/{publication_id}/{name}"

    async def publish_on_schedule(self, campaign: Campaign) -> None:
        """Runs until the campaign's last publication moment has passed.

        A moment is owed from the first start of the schedule on (a deployment owes nothing from
        before it existed); a moment missed while the service was down is published on restart,
        and none twice, by this replica or another (the unique key of `publications`).
        """
        async with self.pool.acquire() as conn:
            since = await repository.start_schedule(conn, campaign.id, self.clock.now())
        triggers = publication_triggers(campaign)
        while True:
            async with self.pool.acquire() as conn:
                done = await repository.published_moments(conn, campaign.id)
            owed = [moment for moment in triggers if moment >= since and moment not in done]
            now = self.clock.now()
            due = [moment for moment in owed if moment <= now]
            if not due:
                self.caught_up.set()
            if not owed:
                return
            for moment in due:
                await self.publish(campaign, trigger=triggers[moment], moment=moment)
            if not due:
                await self.clock.sleep_until(owed[0])
                self.caught_up.clear()


def _render_all(report: Report) -> list[bytes]:
    return [
        render(report, fmt, table=table or "statistics", detail=True).content
        for _, fmt, table in ARTIFACTS
    ]
