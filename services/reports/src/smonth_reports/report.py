"""One national summary at one instant: the figures, the communique and the tables, from which
every format is rendered; no I/O here."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from smonth_reports import domain
from smonth_reports.communique import Role, paragraphs
from smonth_reports.tables import Table, tables
from smonth_shared.campaign import Campaign


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    summary: dict[str, Any]  # the JSON of CONTRACT.md, communique included
    communique: tuple[tuple[Role, str], ...]  # the summary's "communique", paragraph by paragraph
    model: domain.ReadModel
    now: datetime

    @cached_property
    def tables(self) -> tuple[Table, ...]:
        """Made when a format shows them: the JSON summary, most asked for, does not."""
        return tuple(tables(self.campaign, self.model, self.now))

    @property
    def as_of(self) -> datetime:
        return datetime.fromisoformat(self.summary["as_of"])

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        """The summary; with `detail`, every table too (what the workbook and the CSV files show)."""
        if not detail:
            return self.summary
        return {**self.summary, "tables": {table.name: table.to_json() for table in self.tables}}


def build_report(campaign: Campaign, model: domain.ReadModel, now: datetime) -> Report:
    figures = domain.national_summary(campaign, model, now)
    parts = tuple(paragraphs(campaign, figures))
    # The communique right after the sections of CONTRACT.md, before what only pages need.
    items = list(figures.items())
    after_tips = [key for key, _ in items].index("tips") + 1
    summary = dict([*items[:after_tips], ("communique", "\n".join(t for _, t in parts)),
                    *items[after_tips:]])  # fmt: skip
    return Report(campaign, summary, parts, model, now)
