"""What the figures send: tips as the public posts them, and events as the services announce them.
Seeded and cheap to make (no Faker per tip), so that making a million costs seconds."""

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import orjson

from smonth_shared.campaign import Campaign, load_campaign

INDUSTRIES = ("hazardous_chemicals", "mining", "industry_trade", "road_traffic", "construction",
              "fishing_vessels", "other")  # fmt: skip
PROBLEMS = (
    "车间消防通道被货物堵塞，灭火器过期未更换。",
    "未经审批擅自动火作业，现场无监护人员。",
    "危险化学品仓库超量储存，通风设施损坏。",
    "井下作业人员未佩戴自救器，安全培训流于形式。",
    "施工现场高处作业未系安全带，脚手架搭设不规范。",
    "粉尘涉爆车间除尘系统长期停用。",
)
CITIES = ("广州", "深圳", "佛山", "东莞", "济南", "青岛", "成都", "武汉", "杭州", "宁波", "郑州")
COMPANIES = ("华安", "恒通", "金盛", "新兴", "宏达", "永安", "中联", "长城", "东方", "利民")


def campaign() -> Campaign:
    return load_campaign("2021")


def provinces() -> list[str]:
    return [unit.code for unit in campaign().provinces]


class Tips:
    """Bodies of POST /v1/tips; three in ten leave contact details (encrypted by intake)."""

    def __init__(self, seed: int = 616) -> None:
        self.rng = random.Random(seed)
        self.provinces = provinces()

    def body(self) -> dict[str, Any]:
        rng = self.rng
        company = f"{rng.choice(CITIES)}{rng.choice(COMPANIES)}{rng.randint(1, 999)}号公司"
        body: dict[str, Any] = {
            "province": rng.choice(self.provinces),
            "industry": rng.choice(INDUSTRIES),
            "category": rng.choice(("major_hazard", "violation")),
            "description": company + rng.choice(PROBLEMS),
            "city": rng.choice(CITIES),
            "enterprise": company,
            "occurred_on": (date(2021, 6, 1) + timedelta(days=rng.randint(0, 25))).isoformat(),
        }
        if rng.random() < 0.3:
            body["contact"] = {"name": "张三", "phone": f"138{rng.randint(10000000, 99999999)}"}
        return body

    def encoded(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False).encode()


NOW = datetime(2021, 6, 16, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """An envelope of CONTRACT.md, made without pydantic (a million of them must cost seconds);
    its value is what Envelope.from_bytes reads."""

    id: UUID
    type: str
    subject: str
    value: bytes


def _event(kind: str, subject: str, data: dict[str, Any], at: datetime) -> Event:
    event_id = uuid4()
    envelope = {"id": event_id, "type": kind, "version": 1, "source": "intake", "time": at,
                "campaign": "2021", "subject": subject, "data": data}  # fmt: skip
    return Event(event_id, kind, subject, orjson.dumps(envelope))


class Events:
    """Events as intake announces them: mostly tips, as in the real month."""

    def __init__(self, seed: int = 2021) -> None:
        self.rng = random.Random(seed)
        self.provinces = provinces()
        self.tips: list[tuple[UUID, str, str]] = []

    def tip_received(self) -> Event:
        rng = self.rng
        province, industry = rng.choice(self.provinces), rng.choice(INDUSTRIES)
        tip_id = uuid4()
        self.tips.append((tip_id, province, industry))
        at = NOW + timedelta(seconds=rng.randint(0, 86400 * 14))
        return _event("tip.received", province, {
            "tip_id": tip_id, "province": province, "industry": industry,
            "category": rng.choice(("major_hazard", "violation")),
            "description": f"{rng.choice(COMPANIES)}公司{rng.choice(PROBLEMS)}",
            "city": rng.choice(CITIES), "location": None, "enterprise": f"{rng.choice(COMPANIES)}公司",
            "occurred_on": at.date(), "received_at": at, "named": rng.random() < 0.3,
        }, at)  # fmt: skip

    def tip_resolved(self) -> Event:
        tip_id, province, industry = self.rng.choice(self.tips)
        verified = self.rng.random() < 0.6
        at = NOW + timedelta(days=20)
        return _event("tip.resolved", province, {
            "tip_id": tip_id, "province": province, "industry": industry,
            "status": "verified" if verified else "unfounded", "rectified": verified,
            "reward_paid": False, "resolved_at": at,
        }, at)  # fmt: skip

    def case_reported(self) -> Event:
        province = self.rng.choice(self.provinces)
        return _event("case.reported", province, {
            "case_id": uuid4(), "province": province, "title": "某公司违法违规问题曝光",
            "industry": self.rng.choice(INDUSTRIES[:5]), "enterprise": "某公司",
            "summary": "记者暗访发现企业存在重大事故隐患。", "media_outlet": "日报",
            "published_on": date(2021, 6, 10), "url": f"https://news.example.cn/{uuid4().hex}.html",
        }, NOW)  # fmt: skip

    def progress_reported(self) -> Event:
        unit = self.rng.choice(self.provinces)
        return _event("progress.reported", unit, {
            "submission_id": uuid4(), "unit": unit,
            "as_of": date(2021, 6, self.rng.randint(1, 30)), "revision": self.rng.randint(1, 3),
            "indicators": {"study_sessions": self.rng.randint(0, 5000),
                           "tips_received": self.rng.randint(0, 5000)},
        }, NOW)  # fmt: skip

    def mix(self) -> Event:
        """Seven tips received, two resolved, one case or progress snapshot in every ten."""
        draw = self.rng.random()
        if draw < 0.7 or not self.tips:
            return self.tip_received()
        if draw < 0.9:
            return self.tip_resolved()
        return self.case_reported() if draw < 0.95 else self.progress_reported()
