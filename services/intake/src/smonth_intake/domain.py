"""intake's rules: what the campaign accepts, beyond the shape of a submission. No I/O here.

Every refusal names the field, the rule and what would be accepted, in English and Chinese.
"""

import base64
import csv
import hashlib
import io
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import ValidationError

from smonth_intake.models import CaseSubmission, ProgressReport, TipOutcome, TipSubmission
from smonth_shared.campaign import PROVINCE_CODES, REGISTRY_COLUMNS, Campaign, Unit
from smonth_shared.problems import FieldError, Problem, field_errors, invalid

RECEIPT_BYTES = 20  # 160 bits: a receipt code cannot be guessed


@dataclass(frozen=True)
class RegisteredUnit:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Snapshot:
    """The current revision of a unit's progress figures as of one date."""

    as_of: date
    indicators: Mapping[str, int]


@dataclass(frozen=True)
class SummaryReceipt:
    on_time: bool
    first_received_at: datetime
    on_time_received_at: datetime | None


def office_today(campaign: Campaign, now: datetime) -> date:
    return now.astimezone(campaign.tz).date()


def new_receipt_code() -> str:
    """Shown once to the tipster; grouped in fours so it can be read out over the phone."""
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def receipt_hash(code: str) -> bytes:
    normalised = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).digest()


def check_registered(unit: RegisteredUnit | None, code: str, field: str = "unit") -> None:
    if unit is None:
        raise Problem.invalid(
            [field], f"'{code}' is not in the registry of addressed units; ask the office to add it",
            f"单位代码“{code}”不在本次活动的报送单位名录中，请联系组委会办公室",
        )  # fmt: skip


def check_province(unit: RegisteredUnit | None, code: str, field: str = "province") -> None:
    if unit is None or unit.kind != "province":
        raise Problem.invalid(
            [field], f"'{code}' is not a provincial unit of the registry "
            "(GB/T 2260 codes, 66 for the XPCC)",
            f"省份代码“{code}”不在省级单位名录之列（按 GB/T 2260，兵团为 66）",
        )  # fmt: skip


def check_not_after(field: str, day: date | None, today: date) -> None:
    if day is not None and day > today:
        raise Problem.invalid(
            [field],
            f"{day.isoformat()} is in the future (today is {today.isoformat()})",
            f"日期 {day.isoformat()} 晚于今天（{today.isoformat()}）",
        )


def check_tip(tip: TipSubmission, today: date) -> None:
    check_not_after("occurred_on", tip.occurred_on, today)


def check_case(campaign: Campaign, case: CaseSubmission, today: date) -> None:
    if not campaign.is_in_exposure_window(case.published_on):
        start, end = campaign.exposure.start.isoformat(), campaign.exposure.end.isoformat()
        raise Problem.invalid(
            ["published_on"],
            f"{case.published_on.isoformat()} is outside the exposure window {start}..{end}",
            f"曝光日期 {case.published_on.isoformat()} 不在“安全生产万里行”期间（{start} 至 {end}）",
        )
    check_not_after("published_on", case.published_on, today)


def check_progress(
    campaign: Campaign, report: ProgressReport, today: date,
    *, before: Snapshot | None, after: Snapshot | None,
) -> None:  # fmt: skip
    """The window, the catalogue, the consistency rules, and cumulative figures never falling."""
    if not campaign.is_in_progress_window(report.as_of):
        first, last = campaign.progress.earliest_as_of, campaign.progress.latest_as_of
        raise Problem.invalid(
            ["as_of"], f"{report.as_of} is outside the statistics window {first}..{last}",
            f"统计截止日期 {report.as_of} 不在本次活动统计期内（{first} 至 {last}）",
        )  # fmt: skip
    check_not_after("as_of", report.as_of, today)
    values = report.indicators
    known = set(campaign.indicator_codes)
    errors = [_unknown_indicator(campaign, code) for code in values if code not in known]
    if not errors:
        errors = _inconsistencies(campaign, values) + _falls(campaign, values, before, after)
    if errors:
        raise invalid(errors)


def _label(campaign: Campaign, code: str) -> str:
    return campaign.indicator(code).label


def _unknown_indicator(campaign: Campaign, code: str) -> FieldError:
    allowed = ", ".join(campaign.indicator_codes)
    return FieldError(
        loc=["indicators", code],
        msg=f"'{code}' is not an indicator of campaign {campaign.id}; allowed: {allowed}",
        msg_zh=f"“{code}”不是本次活动统计表中的指标；可填指标：{allowed}",
    )


def _inconsistencies(campaign: Campaign, values: Mapping[str, int]) -> list[FieldError]:
    return [
        FieldError(
            loc=["indicators", r.larger],
            msg=f"{r.larger} ({values[r.larger]}) cannot be lower than {r.smaller} "
            f"({values[r.smaller]})",
            msg_zh=f"{_label(campaign, r.larger)}（{values[r.larger]}）不能少于"
            f"{_label(campaign, r.smaller)}（{values[r.smaller]}）",
        )
        for r in campaign.violated_rules(values)
    ]


def _falls(
    campaign: Campaign, values: Mapping[str, int], before: Snapshot | None, after: Snapshot | None
) -> list[FieldError]:
    """Figures are cumulative: never below the snapshot before, never above the one after."""
    errors = []
    for code, earlier in (before.indicators if before else {}).items():
        assert before is not None
        label = _label(campaign, code) if code in campaign.indicator_codes else code
        if code not in values:
            errors.append(FieldError(
                loc=["indicators", code],
                msg=f"missing: the snapshot as of {before.as_of} reported {earlier}, and "
                "cumulative figures carry on; send it again (at least that much)",
                msg_zh=f"缺少此项：{before.as_of} 报送的数为 {earlier}，累计数须每次填报（不少于该数）",
            ))  # fmt: skip
        elif values[code] < earlier:
            errors.append(FieldError(
                loc=["indicators", code],
                msg=f"{values[code]} is lower than {earlier} in the snapshot as of "
                f"{before.as_of}; figures are cumulative since the campaign started",
                msg_zh=f"{label}本次为 {values[code]}，低于 {before.as_of} 报送的 {earlier}；"
                "统计数为活动开始以来的累计数，不能减少",
            ))  # fmt: skip
    for code, later in (after.indicators if after else {}).items():
        assert after is not None
        if code in values and values[code] > later:
            label = _label(campaign, code) if code in campaign.indicator_codes else code
            errors.append(FieldError(
                loc=["indicators", code],
                msg=f"{values[code]} is higher than {later} in the later snapshot as of "
                f"{after.as_of}; figures are cumulative, so an earlier date cannot count more",
                msg_zh=f"{label}本次为 {values[code]}，高于其后 {after.as_of} 报送的 {later}；"
                "较早日期的累计数不能更多",
            ))  # fmt: skip
    return errors


def summary_receipt(
    campaign: Campaign, received_at: datetime, earlier: SummaryReceipt | None
) -> SummaryReceipt:
    """On time by the campaign's deadline (office time); an on-time receipt, once earned, stays."""
    on_time = campaign.summary_is_on_time(received_at)
    if earlier is None:
        return SummaryReceipt(on_time, received_at, received_at if on_time else None)
    if earlier.on_time:
        return earlier
    return SummaryReceipt(on_time, earlier.first_received_at, received_at if on_time else None)


def check_outcome(outcome: TipOutcome) -> None:
    if outcome.status == "unfounded" and (outcome.rectified or outcome.reward_paid):
        field = "rectified" if outcome.rectified else "reward_paid"
        raise Problem.invalid(
            [field], f"an unfounded tip has nothing to rectify and earns no reward; {field} "
            "must be false", "举报不属实时，“已整改”和“已奖励”均应为否",
        )  # fmt: skip


def rate_window(now: datetime, seconds: int) -> tuple[datetime, int]:
    """The fixed window `now` falls in, and the whole seconds until the next one opens."""
    epoch = datetime(1970, 1, 1, tzinfo=now.tzinfo)
    elapsed = (now - epoch).total_seconds()
    start = epoch + timedelta(seconds=elapsed // seconds * seconds)
    retry_after = math.ceil((start + timedelta(seconds=seconds) - now).total_seconds())
    return start, max(1, retry_after)


def too_many(limit: int, retry_after: int, what: str, what_zh: str) -> Problem:
    return Problem(
        429, "Too many requests",
        f"At most {limit} {what} a minute from one address; try again in {retry_after} s.",
        f"同一网络地址每分钟最多{what_zh} {limit} 次，请 {retry_after} 秒后再试。",
        headers={"Retry-After": str(retry_after)},
    )  # fmt: skip


def parse_registry(text: str) -> list[Unit]:
    """A units CSV (code,name,kind,province) as the office edits it; every bad line is named."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        return _registry_units(reader)
    except csv.Error as error:
        raise Problem.invalid(
            ["line", reader.line_num],
            f"not a well-formed CSV line ({error})",
            "此行不是规范的 CSV 格式",
        ) from None


def _registry_units(reader: "csv.DictReader[str]") -> list[Unit]:
    if reader.fieldnames != REGISTRY_COLUMNS:
        raise Problem.invalid(
            ["line", 1], f"the columns must be {','.join(REGISTRY_COLUMNS)}",
            f"表头应为 {','.join(REGISTRY_COLUMNS)}",
        )  # fmt: skip
    units: list[Unit] = []
    errors: list[FieldError] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        fields = {key: (value or "").strip() for key, value in row.items() if key is not None}
        try:
            unit = Unit.model_validate(fields)
        except ValidationError as error:
            errors += field_errors(error.errors(include_input=False), ["line", line])
            continue
        if unit.kind == "province" and unit.code not in PROVINCE_CODES:
            errors.append(FieldError(loc=["line", line, "code"],
                                     msg=f"'{unit.code}' is not a GB/T 2260 province code",
                                     msg_zh=f"“{unit.code}”不是省级行政区划代码"))  # fmt: skip
        if unit.code in seen:
            errors.append(FieldError(loc=["line", line, "code"],
                                     msg=f"'{unit.code}' is listed twice",
                                     msg_zh=f"单位代码“{unit.code}”重复"))  # fmt: skip
        seen.add(unit.code)
        units.append(unit)
    if errors:
        raise invalid(errors)
    if not units:
        raise Problem.invalid(["line", 2], "the file lists no unit", "文件中没有任何单位")
    return units
