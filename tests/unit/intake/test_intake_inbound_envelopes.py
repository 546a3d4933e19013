"""Envelopes from ministry systems: refused as poison (dead-lettered with the reason) when they
cannot be right, handed to the same handler as HTTP when they can."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from cryptography.fernet import Fernet, MultiFernet

from smonth_intake import subscribers
from smonth_intake.handlers import Deps
from smonth_intake.models import ProgressReport, TipSubmission
from smonth_shared.auth import Principal
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import SimulatedClock
from smonth_shared.consumer import PoisonEvent
from smonth_shared.events import InboundEnvelope
from smonth_shared.outbox import Outbox
from smonth_shared.problems import Problem

PROGRESS = {"unit": "M16", "as_of": "2021-06-15", "indicators": {"drills": 3}}


class FakeHandler:
    def __init__(self, refusal: Problem | None = None) -> None:
        self.calls: list[tuple[Any, Principal]] = []
        self.refusal = refusal

    async def __call__(self, conn: object, deps: Deps, body: Any, who: Principal) -> None:
        if self.refusal:
            raise self.refusal
        self.calls.append((body, who))


def deps() -> Deps:
    return Deps(
        campaign=load_campaign("2021"), clock=SimulatedClock(datetime(2021, 6, 20, tzinfo=UTC), speed=1),
        outbox=Outbox("intake"), cipher=MultiFernet([Fernet(Fernet.generate_key())]),
    )  # fmt: skip


def envelope(data: dict[str, Any], subject: str = "M16", campaign: str = "2021") -> InboundEnvelope:
    return InboundEnvelope(
        id=uuid4(), type="progress.reported", source="mot-stats", time=datetime.now(UTC),
        campaign=campaign, subject=subject, data=data,
    )  # fmt: skip


async def test_a_valid_envelope_reaches_the_handler_acting_for_its_subject() -> None:
    handler = FakeHandler()
    effect = subscribers.effect_of(deps, ProgressReport, "unit", handler)

    await effect(None, envelope(PROGRESS))  # type: ignore[arg-type]

    ((body, who),) = handler.calls
    assert body == ProgressReport.model_validate(PROGRESS)
    assert (who.sub, who.unit) == ("system:mot-stats", "M16")


async def test_an_envelope_of_another_campaign_is_poison() -> None:
    effect = subscribers.effect_of(deps, ProgressReport, "unit", FakeHandler())

    with pytest.raises(PoisonEvent, match="campaign: 2020"):
        await effect(None, envelope(PROGRESS, campaign="2020"))  # type: ignore[arg-type]


async def test_invalid_data_is_poison_naming_the_field_under_data() -> None:
    effect = subscribers.effect_of(deps, ProgressReport, "unit", FakeHandler())

    with pytest.raises(PoisonEvent, match=r"data\.indicators\.drills"):
        await effect(None, envelope({**PROGRESS, "indicators": {"drills": -3}}))  # type: ignore[arg-type]


async def test_a_subject_other_than_the_unit_of_the_data_is_poison() -> None:
    effect = subscribers.effect_of(deps, ProgressReport, "unit", FakeHandler())

    with pytest.raises(PoisonEvent, match="subject: M15 is not the unit"):
        await effect(None, envelope(PROGRESS, subject="M15"))  # type: ignore[arg-type]


async def test_a_rule_the_handler_refuses_is_poison_with_its_reason() -> None:
    refusal = Problem.invalid(["as_of"], "2021-05-01 is outside the window", "不在统计期内")
    effect = subscribers.effect_of(deps, ProgressReport, "unit", FakeHandler(refusal))

    with pytest.raises(PoisonEvent, match="as_of: 2021-05-01 is outside the window"):
        await effect(None, envelope(PROGRESS))  # type: ignore[arg-type]


async def test_the_reason_of_a_refused_tip_never_repeats_the_tipsters_contact() -> None:
    effect = subscribers.effect_of(deps, TipSubmission, "province", FakeHandler())
    tip = {"province": "44", "industry": "mining", "category": "violation",
           "description": "矿井通风设施长期损坏", "contact": {"phone": "1380013-secret"}}  # fmt: skip

    with pytest.raises(PoisonEvent) as refused:
        await effect(None, envelope(tip, subject="44"))  # type: ignore[arg-type]

    assert "data.contact.phone" in str(refused.value)
    assert "secret" not in str(refused.value)


def test_every_inbound_type_has_an_effect() -> None:
    assert set(subscribers.effects(deps)) == {
        "progress.reported", "summary.submitted", "liaison.designated", "case.reported",
        "tip.received", "tip.resolved",
    }  # fmt: skip
