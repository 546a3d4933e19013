"""The 2021 campaign as it might have been played: every submission, with the instant it is made.

Pure and seeded: the same seed and scale give the same campaign. The national figures land in
the order of the real 2021 ones (FACTS.md); the public's tips are a fraction of the real month.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from faker import Faker

from smonth_shared.campaign import Campaign, Unit

Kind = Literal["liaison", "progress", "summary", "case", "tip", "outcome", "material"]

# National totals at the end of the month, of the order of the real 2021 figures (FACTS.md and
# the office's press release); the rest are plausible for the same scale.
NATIONAL_TARGETS: dict[str, int] = {
    "study_sessions": 410_000,
    "study_participants": 19_340_000,
    "media_reports": 160_000,
    "employee_participants": 11_427_000,
    "hazards_self_fixed": 1_250_000,
    "hazards_exposed": 77_000,
    "cases_exposed": 9_800,
    "tips_received": 114_000,
    "warning_sessions": 620_000,
    "consult_events": 64_000,
    "consult_participants": 125_000_000,
    "materials_distributed": 230_000_000,
    "drills": 520_000,
    "drill_participants": 41_000_000,
    "culture_participants": 2_045_000,
}
SHARE_BY_KIND = {"province": 0.86, "ministry": 0.04, "central_enterprise": 0.10}
# The cumulative share of a unit's final figures at each snapshot date of June.
SNAPSHOTS = ((date(2021, 6, 8), 0.22), (date(2021, 6, 17), 0.58), (date(2021, 6, 25), 0.84),
             (date(2021, 6, 30), 1.0))  # fmt: skip
MEDIA = ("日报", "电视台", "广播电视台", "新闻网", "法治报", "应急管理报道")
REAL_TIPS_IN_THE_MONTH = 114_000


@dataclass(frozen=True, order=True)
class Action:
    at: datetime
    seq: int
    kind: Kind = field(compare=False)
    actor: str = field(compare=False)  # the unit acting, or "public"
    body: dict[str, Any] = field(compare=False)
    via_inbound: bool = field(default=False, compare=False)
    ref: int | None = field(default=None, compare=False)  # the tip (seq) an outcome closes


@dataclass(frozen=True)
class Contact:
    """The person the office issues a unit's account to: its liaison."""

    name: str
    email: str


@dataclass
class Scenario:
    actions: list[Action]
    expected: dict[str, Any]
    contacts: dict[str, Contact] = field(default_factory=dict)  # by unit


def build_scenario(
    campaign: Campaign, *, tips: int, scale: float = 1.0, seed: int = 2021
) -> Scenario:
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    plan = _Planner(campaign, rng, fake)
    units = list(campaign.units)
    plan.liaisons(units)
    plan.progress(units)
    plan.summaries(units)
    plan.cases()
    plan.tips(tips)
    plan.materials(units, per_unit=max(1, round(2 * scale)))
    plan.actions.sort()
    return Scenario(plan.actions, plan.expected, plan.contacts)


class _Planner:
    def __init__(self, campaign: Campaign, rng: random.Random, fake: Faker) -> None:
        self.campaign = campaign
        self.rng = rng
        self.fake = fake
        self.tz = campaign.tz
        self.actions: list[Action] = []
        self.expected: dict[str, Any] = defaultdict(int)
        self.contacts: dict[str, Contact] = {}

    def add(self, day: date, kind: Kind, actor: str, body: dict[str, Any], *,
            via_inbound: bool = False, hour: float | None = None, ref: int | None = None) -> int:  # fmt: skip
        hours = hour if hour is not None else self.rng.uniform(8.5, 18.0)
        at = datetime.combine(day, time(0), self.tz) + timedelta(hours=hours)
        seq = len(self.actions)
        self.actions.append(Action(at, seq, kind, actor, body, via_inbound, ref))
        return seq

    def liaisons(self, units: list[Unit]) -> None:
        never = self.rng.choice([u for u in units if u.kind == "ministry"])
        late = set(self.rng.sample([u.code for u in units if u != never], 8))
        self.expected["liaison_never"] = never.code
        self.expected["liaison_late"] = sorted(late)
        for unit in units:
            email = f"liaison.{unit.code.lower()}@example.gov.cn"
            if unit == never:
                # Issued an account all the same: the unit submits, it only names no liaison.
                self.contacts[unit.code] = Contact(f"{unit.name[:45]}联络人", email)
                continue
            day = date(
                2021, 6, self.rng.randint(8, 15) if unit.code in late else self.rng.randint(1, 3)
            )
            name = self.fake.name()
            self.contacts[unit.code] = Contact(name, email)
            self.add(day, "liaison", unit.code, {
                "name": name,
                "position": self.rng.choice(["科长", "副处长", "处长", "主任科员", "安全总监"]),
                "office_phone": f"0{self.rng.randint(10, 999)}-{self.rng.randint(6000000, 89999999)}",
                "mobile": f"1{self.rng.choice('3578')}{self.rng.randint(100000000, 999999999)}",
                "email": email,
            }, via_inbound=unit.kind == "ministry" and self.rng.random() < 0.5)  # fmt: skip
            self.expected["liaisons"] += 1

    def progress(self, units: list[Unit]) -> None:
        weights = {u.code: self.rng.uniform(0.4, 1.6) for u in units}
        by_kind: dict[str, float] = defaultdict(float)
        for unit in units:
            by_kind[unit.kind] += weights[unit.code]
        totals: dict[str, int] = defaultdict(int)
        for unit in units:
            share = SHARE_BY_KIND[unit.kind] * weights[unit.code] / by_kind[unit.kind]
            final = {
                code: max(1, round(target * share)) for code, target in NATIONAL_TARGETS.items()
            }
            for as_of, fraction in SNAPSHOTS:
                figures = {code: round(value * fraction) for code, value in final.items()}
                submitted = as_of + timedelta(days=self.rng.choice((0, 0, 1)))
                self.add(submitted, "progress", unit.code,
                         {"unit": unit.code, "as_of": as_of.isoformat(), "indicators": figures},
                         via_inbound=unit.kind == "ministry")  # fmt: skip
            for code, value in final.items():
                totals[code] += value
        self.expected["totals"] = dict(totals)
        self.expected["units_reported"] = len(units)

    def summaries(self, units: list[Unit]) -> None:
        missing = self.rng.sample([u for u in units if u.kind != "province"], 2)
        late = self.rng.sample([u for u in units if u not in missing], 4)
        self.expected["summary_missing"] = sorted(u.code for u in missing)
        self.expected["summary_late"] = sorted(u.code for u in late)
        for unit in units:
            if unit in missing:
                continue
            # Two days' margin either side of the deadline: a submission reaches intake a little
            # after its planned instant when the machine is busy, and must not change side.
            day = date(2021, 7, self.rng.randint(7, 10)) if unit in late else \
                date(2021, 6, 24) + timedelta(days=self.rng.randint(0, 9))  # fmt: skip
            hour = self.rng.uniform(9, 17)
            self.add(day, "summary", unit.code, {
                "unit": unit.code,
                "title": f"{unit.name}2021年“安全生产月”活动总结",
                "body": "\n".join(self.fake.paragraphs(3)),
            }, hour=hour)  # fmt: skip

    def cases(self) -> None:
        industries = [i.code for i in self.campaign.key_industries]
        missed: list[tuple[str, str]] = []
        counted = 0
        for province in self.campaign.provinces:
            for month in self.campaign.exposure_months:
                year, number = map(int, month.split("-"))
                if self.rng.random() < 0.07:
                    missed.append((province.code, month))
                    continue
                for index in range(self.rng.choice((1, 1, 1, 2))):
                    published = date(year, number, self.rng.randint(3, 24))
                    enterprise = self.fake.company()
                    industry = self.rng.choice(industries)
                    self.add(published + timedelta(days=1), "case", province.code, {
                        "province": province.code,
                        "title": f"{enterprise}{self.campaign.industry_label(industry)}领域违法违规问题曝光",
                        "industry": industry,
                        "enterprise": enterprise,
                        "summary": self.fake.paragraph(nb_sentences=4),
                        "media_outlet": f"{province.name.rstrip('省市')}{self.rng.choice(MEDIA)}",
                        "published_on": published.isoformat(),
                        "url": f"https://news.example.cn/{province.code}/{month}/{index}-{self.rng.getrandbits(40):x}.html",
                    })  # fmt: skip
                    counted += 1
        self.expected["cases"] = counted
        self.expected["province_months_missed"] = sorted(missed)

    def tips(self, count: int) -> None:
        provinces = list(self.campaign.provinces)
        weights = [self.rng.uniform(0.3, 2.0) for _ in provinces]
        industries = [i.code for i in self.campaign.industries]
        for _ in range(count):
            day = self._tip_day()
            province = self.rng.choices(provinces, weights)[0]
            named = self.rng.random() < 0.3
            body: dict[str, Any] = {
                "province": province.code,
                "industry": self.rng.choice(industries),
                "category": self.rng.choice(("major_hazard", "violation")),
                "description": f"{self.fake.company()}{self.rng.choice(DESCRIPTIONS)}",
                "city": self.fake.city_name(),
                "enterprise": self.fake.company(),
                "occurred_on": (day - timedelta(days=self.rng.randint(0, 5))).isoformat(),
            }
            if named:
                body["contact"] = {"name": self.fake.name(), "phone": self.fake.phone_number()}
            seq = self.add(day, "tip", "public", body, hour=self.rng.uniform(7, 23))
            resolved = day + timedelta(days=self.rng.randint(3, 25))
            if self.rng.random() < 0.7 and resolved <= self.campaign.exposure.end:
                verified = self.rng.random() < 0.6
                self.add(resolved, "outcome", province.code, {
                    "status": "verified" if verified else "unfounded",
                    "rectified": verified and self.rng.random() < 0.8,
                    "reward_paid": verified and named and self.rng.random() < 0.5,
                    "reply": "经核查，举报情况属实，已责令企业限期整改。" if verified
                    else "经核查，未发现举报所述问题。感谢您对安全生产工作的支持。",
                }, ref=seq)  # fmt: skip
                self.expected["tips_verified"] += int(verified)
        self.expected["tips"] = count

    def _tip_day(self) -> date:
        """Most tips in June, peaking on and around 6·16; a long tail to December."""
        if self.rng.random() < 0.8:
            offset = round(self.rng.triangular(0, 29, 15))
            return date(2021, 6, 1) + timedelta(days=offset)
        return date(2021, 7, 1) + timedelta(days=self.rng.randint(0, 182))

    def materials(self, units: list[Unit], *, per_unit: int) -> None:
        for unit in units:
            for _ in range(per_unit):
                kind = self.rng.choice(("practice", "picture", "picture", "video"))
                day = date(2021, 6, self.rng.randint(2, 30))
                self.add(day, "material", unit.code, {
                    "unit": unit.code,
                    "kind": kind,
                    "title": f"{unit.name}{self.rng.choice(MATERIAL_TITLES)}",
                    "description": self.fake.sentence(nb_words=12),
                })  # fmt: skip
                self.expected["materials"] += 1


DESCRIPTIONS = (
    "车间消防通道被货物堵塞，灭火器过期未更换。",
    "未经审批擅自动火作业，现场无监护人员。",
    "危险化学品仓库超量储存，通风设施损坏。",
    "井下作业人员未佩戴自救器，安全培训流于形式。",
    "施工现场高处作业未系安全带，脚手架搭设不规范。",
    "渔船未按规定配备救生设备，超员出海。",
    "货车超载运输危险货物，驾驶员疲劳驾驶。",
    "粉尘涉爆车间除尘系统长期停用。",
)
MATERIAL_TITLES = ("“安全生产月”宣传咨询日活动掠影", "安全宣传“五进”典型做法", "应急演练现场",
                   "“安全红袖章”行动经验材料", "警示教育专题片展映")  # fmt: skip
