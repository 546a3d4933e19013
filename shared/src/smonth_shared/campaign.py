"""One year's "安全生产月" as validated data, and the questions services ask about it.

Every per-campaign fact (dates, deadline, quota, indicators, industries, addressed units, reminder
policies, publication moments) lives in `campaigns/<id>.toml` and the unit registry CSV it names.
`load_campaign` reads and checks both; a bad file fails with one `CampaignFileError` naming the
file, the field and the rule. Adding a campaign is a new file. The working days that reminders
count are China's, from `working_days`, not campaign data.
"""

import csv
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from smonth_shared import working_days

UnitKind = Literal["province", "ministry", "central_enterprise"]
IndustryCode = Literal[
    "hazardous_chemicals", "mining", "industry_trade", "road_traffic", "construction",
    "fishing_vessels", "other",
]  # fmt: skip
MeasureUnit = Literal["场", "人次", "篇", "条", "个", "条次", "份"]
Channel = Literal["email", "sms"]
ReminderKind = Literal["liaison_missing", "summary_due", "exposure_quota"]
ReminderAnchor = Literal["campaign_start", "summary_deadline", "each_exposure_month"]
PublicationAnchor = Literal["exposure_month_end", "summary_deadline"]

# Fixed by GB/T 2260 (66: the usual code of 新疆生产建设兵团), not by a campaign: they are the keys
# of the case and tip topics, so a registry that misses one would silently drop a province.
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "66",
})  # fmt: skip
REGISTRY_COLUMNS = ["code", "name", "kind", "province"]

Problem = tuple[tuple[str | int, ...], str]  # (field path, what is wrong)


class CampaignFileError(ValueError):
    """A campaign file or its unit registry cannot be used; the message says where and why."""


class _Problems(ValueError):
    """Cross-field problems, each with its own field path, raised from inside validation."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in problems))
        self.problems = problems


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Office(_Data):
    name: str = Field(description="全国“安全生产月”活动组委会办公室: receives every report.")
    phone: str
    fax: str
    email: str
    address: str
    postcode: str
    websites: tuple[str, ...]


class Month(_Data):
    start: date = Field(description="First day of the month, office time.")
    end: date = Field(description="Last day of the month, office time.")
    consultation_day: date = Field(description="“6·16安全宣传咨询日”.")

    @model_validator(mode="after")
    def _ordered(self) -> "Month":
        if not self.start <= self.consultation_day <= self.end:
            raise ValueError("start ≤ consultation_day ≤ end must hold")
        return self


class Progress(_Data):
    earliest_as_of: date = Field(description="The earliest `as_of` a progress snapshot may carry.")
    latest_as_of: date = Field(description="The latest `as_of` a progress snapshot may carry.")

    @model_validator(mode="after")
    def _ordered(self) -> "Progress":
        if self.earliest_as_of > self.latest_as_of:
            raise ValueError("earliest_as_of must not be after latest_as_of")
        return self


class Exposure(_Data):
    start: date = Field(description="“安全生产万里行” starts on this day.")
    end: date = Field(description="… and ends on this day.")
    min_cases_per_province_per_month: int = Field(
        ge=1, description="Typical cases each provincial unit exposes every calendar month."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Exposure":
        if self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class Forms(_Data):
    progress: str = Field(description="Title of attachment 1, the progress statistics table.")
    liaison: str = Field(description="Title of attachment 2, the liaison feedback form.")


class UnitKindLabels(_Data):
    province: str
    ministry: str
    central_enterprise: str


class Industry(_Data):
    code: IndustryCode = Field(description="Industry code of the public contract.")
    label: str = Field(description="Chinese name, as the office writes it.")
    key: bool = Field(description="One of the notice's key industries for exposure.")


class ActivityLine(_Data):
    number: int = Field(ge=1, description="Position of the line in the notice.")
    title: str


class Indicator(_Data):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Code in progress reports.")
    label: str = Field(description="Chinese column heading of the statistics table.")
    unit: MeasureUnit = Field(description="What one counted item is.")
    line: int = Field(description="The activity line (`activity_lines[].number`) it measures.")


class ConsistencyRule(_Data):
    """In any one snapshot, `larger` ≥ `smaller` (e.g. participants ≥ sessions)."""

    larger: str
    smaller: str

    @model_validator(mode="after")
    def _distinct(self) -> "ConsistencyRule":
        if self.larger == self.smaller:
            raise ValueError("larger and smaller must name two different indicators")
        return self


class ReminderPolicy(_Data):
    kind: ReminderKind = Field(description="What the unit is reminded of; notify owns the wording.")
    channels: tuple[Channel, ...] = Field(min_length=1, description="Channels, in order tried.")
    anchor: ReminderAnchor = Field(description="The day (or each month) the offsets count from.")
    working_days: tuple[int, ...] = Field(
        min_length=1,
        description="Offsets in working days: ±n from a date anchor (0: that day); for "
        "each_exposure_month, n-th working day of the month, -n n-th from its end.",
    )
    send_at: time = Field(description="Local time of day the reminder goes out.")

    @model_validator(mode="after")
    def _sane(self) -> "ReminderPolicy":
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels must not repeat")
        if len(set(self.working_days)) != len(self.working_days):
            raise ValueError("working_days must not repeat")
        if any(abs(n) > 23 for n in self.working_days):
            raise ValueError("working_days must lie within -23..23: no month has more")
        if self.anchor == "each_exposure_month" and 0 in self.working_days:
            raise ValueError("for each_exposure_month, 1 is the first working day; 0 means nothing")
        return self


class Reminders(_Data):
    daily_cap_per_unit: int = Field(ge=1, description="Most reminders one unit gets in a day.")
    policies: tuple[ReminderPolicy, ...]

    @field_validator("policies")
    @classmethod
    def _one_per_kind(cls, policies: tuple[ReminderPolicy, ...]) -> tuple[ReminderPolicy, ...]:
        kinds = [p.kind for p in policies]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each kind of reminder may have only one policy")
        return policies


class Publication(_Data):
    anchor: PublicationAnchor = Field(description="Last day of each exposure month, or deadline.")
    days_after: int = Field(ge=0, le=31, description="Calendar days after the anchor day.")
    at: time = Field(description="Local time of day of publication.")


class Unit(_Data):
    code: str = Field(
        pattern=r"^[0-9A-Z]{2,8}$", description="Unit code; a province's is GB/T 2260."
    )
    name: str = Field(min_length=1)
    kind: UnitKind
    province: str | None = Field(description="A provincial unit's province code (its own code).")

    @field_validator("province", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _province_matches_kind(self) -> "Unit":
        # A two-digit code is a province key on the topics; no other unit may look like one.
        if (self.kind == "province") != bool(re.fullmatch(r"\d\d", self.code)):
            raise ValueError("provincial units, and only they, have a two-digit code")
        if self.province != (self.code if self.kind == "province" else None):
            raise ValueError("province is the unit's own code for provincial units, else empty")
        return self


class Campaign(_Data):
    """One campaign: its facts, catalogue, units and schedules; pure questions about them."""

    id: str = Field(pattern=r"^[0-9A-Za-z_-]+$", description="Campaign id, e.g. “2021”.")
    edition: int = Field(ge=1, description="第N个全国“安全生产月”.")
    title: str
    theme: str
    document: str = Field(description="The notice's document number.")
    issuers: tuple[str, ...] = Field(min_length=1)
    time_zone: str = Field(description="The office's time zone; every deadline is read in it.")
    tip_line: str = Field(description="The public tip line.")
    units_file: str = Field(description="The unit registry CSV, relative to the campaign file.")
    summary_deadline: AwareDatetime = Field(description="Last instant a summary is on time.")
    office: Office
    month: Month
    progress: Progress
    exposure: Exposure
    forms: Forms
    unit_kinds: UnitKindLabels
    industries: tuple[Industry, ...]
    activity_lines: tuple[ActivityLine, ...]
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    consistency: tuple[ConsistencyRule, ...] = ()
    reminders: Reminders
    publications: tuple[Publication, ...] = Field(min_length=1)
    units: tuple[Unit, ...] = Field(description="The addressed units, from the registry CSV.")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _coherent(self) -> "Campaign":
        problems = _cross_field_problems(self)
        if problems:
            raise _Problems(problems)
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def indicator_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    def indicator(self, code: str) -> Indicator:
        return self._indicators[code]

    def unit(self, code: str) -> Unit:
        return self._units[code]

    @cached_property
    def provinces(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.kind == "province")

    def unit_kind_label(self, kind: UnitKind) -> str:
        return getattr(self.unit_kinds, kind)

    def industry_label(self, code: str) -> str:
        return {i.code: i.label for i in self.industries}[code]  # KeyError if unknown

    @property
    def key_industries(self) -> tuple[Industry, ...]:
        return tuple(i for i in self.industries if i.key)

    @cached_property
    def exposure_months(self) -> tuple[str, ...]:
        """Every calendar month (YYYY-MM) the exposure window touches: the quota is per month."""
        return tuple(f"{d:%Y-%m}" for d in _month_starts(self.exposure.start, self.exposure.end))

    def is_in_exposure_window(self, day: date) -> bool:
        return self.exposure.start <= day <= self.exposure.end

    def is_in_progress_window(self, as_of: date) -> bool:
        return self.progress.earliest_as_of <= as_of <= self.progress.latest_as_of

    def summary_is_on_time(self, received_at: datetime) -> bool:
        if received_at.tzinfo is None:
            raise ValueError("received_at must carry its offset")
        # The deadline is its last whole second, so anything stamped within 23:59:59 counts.
        return received_at.astimezone(self.tz).replace(microsecond=0) <= self.summary_deadline

    def violated_rules(self, values: Mapping[str, int]) -> tuple[ConsistencyRule, ...]:
        """The consistency rules a snapshot breaks; a rule whose indicators are absent holds."""
        return tuple(
            rule
            for rule in self.consistency
            if rule.larger in values
            and rule.smaller in values
            and values[rule.larger] < values[rule.smaller]
        )

    def reminder_policy(self, kind: ReminderKind) -> ReminderPolicy | None:
        return next((p for p in self.reminders.policies if p.kind == kind), None)

    def reminder_days(self, policy: ReminderPolicy) -> tuple[date, ...]:
        """The days a policy's reminders go out (at `policy.send_at`, office time)."""
        if policy.anchor == "each_exposure_month":
            days: set[date] = set()
            for first in _month_starts(self.exposure.start, self.exposure.end):
                working = working_days.in_month(first.year, first.month)
                for n in policy.working_days:
                    if abs(n) > len(working):
                        raise ValueError(f"{first:%Y-%m} has only {len(working)} working days")
                    days.add(working[n - 1 if n > 0 else n])
            return tuple(sorted(days))
        anchor = self.month.start if policy.anchor == "campaign_start" else self._deadline_day
        return tuple(sorted({working_days.shift(anchor, n) for n in policy.working_days}))

    @cached_property
    def publication_times(self) -> tuple[datetime, ...]:
        """When reports publishes the national summary, as aware datetimes in office time."""
        times: set[datetime] = set()
        for pub in self.publications:
            anchors = (
                [_month_end(d) for d in _month_starts(self.exposure.start, self.exposure.end)]
                if pub.anchor == "exposure_month_end"
                else [self._deadline_day]
            )
            for day in anchors:
                moment = day + timedelta(days=pub.days_after)
                times.add(datetime.combine(moment, pub.at, tzinfo=self.tz))
        return tuple(sorted(times))

    @cached_property
    def _indicators(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    @cached_property
    def _units(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @property
    def _deadline_day(self) -> date:
        return self.summary_deadline.astimezone(self.tz).date()


def _month_starts(start: date, end: date) -> list[date]:
    first = start.replace(day=1)
    months: list[date] = []
    while first <= end:
        months.append(first)
        first = _month_end(first) + timedelta(days=1)
    return months


def _month_end(day: date) -> date:
    next_month = day.replace(day=28) + timedelta(days=4)
    return next_month - timedelta(days=next_month.day)


def _cross_field_problems(c: Campaign) -> list[Problem]:
    """Rules between fields; each problem carries the path of the field an operator should fix."""
    problems: list[Problem] = []
    deadline = c.summary_deadline
    if deadline.utcoffset() != deadline.astimezone(c.tz).utcoffset():
        problems.append((("summary_deadline",), f"write it in office time ({c.time_zone})"))
    if c._deadline_day <= c.month.end:
        problems.append((("summary_deadline",), f"must fall after the month ends ({c.month.end})"))
    if c.progress.latest_as_of > c._deadline_day:
        problems.append((("progress", "latest_as_of"), "must not be after the summary deadline"))

    codes = [i.code for i in c.industries]
    if missing := set(get_args(IndustryCode)) - set(codes):
        problems.append((("industries",), f"missing industries: {', '.join(sorted(missing))}"))
    if len(set(codes)) != len(codes):
        problems.append((("industries",), "an industry code is listed twice"))
    lines = {line.number for line in c.activity_lines}
    seen: set[str] = set()
    for n, ind in enumerate(c.indicators):
        if ind.code in seen:
            problems.append((("indicators", n, "code"), f"{ind.code!r} is listed twice"))
        seen.add(ind.code)
        if ind.line not in lines:
            problems.append((("indicators", n, "line"), f"no activity line {ind.line}"))
    for n, rule in enumerate(c.consistency):
        for field in ("larger", "smaller"):
            if getattr(rule, field) not in seen:
                code = getattr(rule, field)
                where = ("consistency", n, field)
                problems.append((where, f"{code!r} is not an indicator code of this campaign"))

    unit_codes: set[str] = set()
    for n, unit in enumerate(c.units):
        if unit.code in unit_codes:
            problems.append((("units", n, "code"), f"{unit.code!r} is listed twice"))
        unit_codes.add(unit.code)
    provinces = {u.code for u in c.units if u.kind == "province"}
    if missing := PROVINCE_CODES - provinces:
        problems.append((("units",), f"missing provincial units: {', '.join(sorted(missing))}"))
    if unknown := provinces - PROVINCE_CODES:
        problems.append((("units",), f"not GB/T 2260 province codes: {', '.join(sorted(unknown))}"))

    if not problems:  # the schedules are only computable once the dates above hold
        for n, policy in enumerate(c.reminders.policies):
            try:
                c.reminder_days(policy)
            except ValueError as exc:
                problems.append((("reminders", "policies", n, "working_days"), str(exc)))
    return problems


@cache
def load_campaign(campaign_id: str, path: Path | None = None) -> Campaign:
    """The campaign shipped as `campaigns/<id>.toml`, or the one at `path`, with its registry."""
    if path is None:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", campaign_id):
            raise CampaignFileError(f"{campaign_id!r} is not a campaign id")
        # The package is installed as a directory (never a zip), so its files are real paths.
        path = Path(str(resources.files("smonth_shared"))) / "campaigns" / f"{campaign_id}.toml"
    campaign = _read(path)
    if campaign.id != campaign_id:
        raise CampaignFileError(f"{path}: id: holds campaign {campaign.id!r}, not {campaign_id!r}")
    return campaign


def _read(path: Path) -> Campaign:
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignFileError(f"{path}: no such campaign file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CampaignFileError(f"{path}: not valid TOML: {exc}") from None
    if "units" in raw:
        raise CampaignFileError(f"{path}: units: list the units in the CSV named by units_file")
    units_file = raw.get("units_file")
    if not isinstance(units_file, str):
        raise CampaignFileError(f"{path}: units_file: name the unit registry CSV")
    registry = path.parent / units_file
    raw["units"] = _read_registry(registry)
    try:
        return Campaign.model_validate(raw)
    except ValidationError as exc:
        raise CampaignFileError(_describe(exc, raw, path, registry)) from None


def _read_registry(registry: Path) -> list[dict[str, str]]:
    try:
        # utf-8-sig: the registry is often edited in a spreadsheet that saves a byte-order mark.
        with registry.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != REGISTRY_COLUMNS:
                raise CampaignFileError(
                    f"{registry}: line 1: the columns must be {','.join(REGISTRY_COLUMNS)}"
                )
            return [{k: (v or "").strip() for k, v in row.items()} for row in reader]
    except FileNotFoundError:
        raise CampaignFileError(f"{registry}: no such unit registry (units_file)") from None
    except UnicodeDecodeError:
        raise CampaignFileError(f"{registry}: not UTF-8 text") from None


def _describe(exc: ValidationError, raw: dict[str, Any], path: Path, registry: Path) -> str:
    lines = []
    for error in exc.errors():
        found = error.get("ctx", {}).get("error")
        if isinstance(found, _Problems):
            located = [(error["loc"] + loc, msg) for loc, msg in found.problems]
        else:
            value = error.get("input")
            shown = f" (found {value!r})" if isinstance(value, str | int | float) else ""
            located = [(error["loc"], error["msg"].removeprefix("Value error, ") + shown)]
        for loc, msg in located:
            if loc[:1] == ("units",):
                lines.append(f"{registry}: {_registry_place(loc)}: {msg}")
            else:
                lines.append(f"{path}: {_field_path(loc, raw)}: {msg}")
    return "\n".join(lines)


def _registry_place(loc: tuple[str | int, ...]) -> str:
    """`line 5, kind`: the registry is edited as a spreadsheet, whose header is line 1."""
    match loc:
        case ("units", int(row), *fields):
            return ", ".join([f"line {row + 2}", *map(str, fields)])
        case _:
            return "units"


def _field_path(loc: tuple[str | int, ...], raw: Any) -> str:
    """`indicators[3].unit`, plus the entry's code: an operator searches the file for it."""
    text, node, entry = "", raw, ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("code"), str):
                entry = f" (the entry with code {node['code']!r})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return (text or "(the whole file)") + entry
