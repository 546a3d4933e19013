"""The inbound topic: ministry systems submit what units submit over HTTP, through the same models
and handlers. An envelope that breaks a rule is dead-lettered with the reason; the inbox makes a
repeated envelope id have one effect.

Each record carries its system's access token in the `authorization` header (`Bearer <jwt>`,
from the client-credentials grant of /v1/oauth/token): checked as of the time the broker
appended the record (the topic's LogAppendTime), so that a backlog read after an outage is not
refused for tokens that were valid when it was written. The token's system must be the
envelope's `source` and be registered for its `subject`. A system then acts for the subject
exactly as that unit's own token would, so the subject must be the unit (or province) the data
is about.

The dead letter of an envelope refused once its system was authenticated (not registered for
the subject, or refused by a rule) says which system that was and when its token was checked,
never the token: the operator can re-drive it onto the internal `smonth.inbound.redriven.v1`,
which only the operator's principal may write, and intake applies it there as that system's
as long as the registry still has the system active and registered for the subject then.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from smonth_intake import accounts, handlers
from smonth_intake.handlers import Deps
from smonth_intake.models import (
    CaseSubmission,
    InboundLiaison,
    InboundTipOutcome,
    LiaisonDesignation,
    ProgressReport,
    SummaryReport,
    TipSubmission,
)
from smonth_shared import problems
from smonth_shared.auth import Principal, TokenVerifier
from smonth_shared.consumer import Admit, Effect, PoisonEvent, Record, Vouched
from smonth_shared.db import Connection
from smonth_shared.events import (
    AUTHENTICATED_AT,
    AUTHENTICATED_PREFIX,
    AUTHENTICATED_SYSTEM,
    InboundEnvelope,
)
from smonth_shared.problems import Problem

Handle = Callable[[Connection, Deps, Any, Principal], Awaitable[Any]]


def authenticated(verifier: TokenVerifier) -> Admit:
    """Refuses (to the dead letters, with the reason) a record no registered system vouches for."""

    def admit(record: Record, envelope: Any) -> Vouched:
        header = (record.header("authorization") or b"").decode("utf-8", "replace")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise PoisonEvent("authorization: no bearer token in the record's headers")
        appended = (
            datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp else None
        )
        try:
            principal = verifier.verify(token.strip(), at=appended)
        except Problem as problem:
            raise PoisonEvent(f"authorization: {problem.detail}") from None
        if principal.role != "system":
            raise PoisonEvent(f"authorization: a {principal.role} token, not a system's")
        if principal.sub != f"client:{envelope.source}":
            raise PoisonEvent(f"source: {envelope.source} is not the token's system "
                              f"({principal.sub.removeprefix('client:')})")  # fmt: skip
        checked = appended or datetime.now(UTC)
        vouched = ((AUTHENTICATED_SYSTEM, envelope.source.encode()),
                   (AUTHENTICATED_AT, checked.isoformat().encode()))  # fmt: skip
        if not principal.may_act_for(envelope.subject):
            raise PoisonEvent(f"subject: the system {envelope.source} is not registered for "
                              f"{envelope.subject}", vouched=vouched)  # fmt: skip
        return vouched

    return admit


def redriven() -> Admit:
    """The sender of a re-driven envelope is the system named in its AUTHENTICATED_SYSTEM
    header: only the operator may write the topic, copying the header from the dead letter
    intake made."""

    def admit(record: Record, envelope: Any) -> Vouched:
        system = (record.header(AUTHENTICATED_SYSTEM) or b"").decode("utf-8", "replace")
        if not system:
            raise PoisonEvent(f"redrive: no {AUTHENTICATED_SYSTEM} header, so no sender")
        if system != envelope.source:
            raise PoisonEvent(f"source: {envelope.source} is not the system authenticated "
                              f"({system})")  # fmt: skip
        return tuple((name, value) for name, value in record.headers
                     if name.startswith(AUTHENTICATED_PREFIX))  # fmt: skip

    return admit


def registered_now(effects: dict[str, Effect]) -> dict[str, Effect]:
    """The same effects, for envelopes re-driven without their token: each only while the
    registry has the system active and registered for the subject as it is applied (the token
    was checked against the registration of its day)."""

    def checked(effect: Effect) -> Effect:
        async def apply(conn: Connection, envelope: InboundEnvelope) -> None:
            client = await accounts.registered_client(conn, envelope.source)
            if client is None:
                raise PoisonEvent(f"source: the system {envelope.source} is not registered")
            if client["status"] != "active":
                raise PoisonEvent(f"source: the system {envelope.source} is {client['status']}")
            if envelope.subject not in client["units"]:
                raise PoisonEvent(f"subject: the system {envelope.source} is not registered "
                                  f"for {envelope.subject}")  # fmt: skip
            await effect(conn, envelope)

        return apply

    return {kind: checked(effect) for kind, effect in effects.items()}


def effects(deps: Callable[[], Deps]) -> dict[str, Effect]:
    return {
        "progress.reported": effect_of(deps, ProgressReport, "unit", lambda conn, d, body, who:
                                     handlers.submit_progress(conn, d, body, principal=who)),
        "summary.submitted": effect_of(deps, SummaryReport, "unit", lambda conn, d, body, who:
                                     handlers.submit_summary(conn, d, body, file=None,
                                                             principal=who)),
        "liaison.designated": effect_of(deps, InboundLiaison, "unit", _designate),
        "case.reported": effect_of(deps, CaseSubmission, "province", lambda conn, d, body, who:
                                 handlers.report_case(conn, d, body, principal=who)),
        "tip.received": effect_of(deps, TipSubmission, "province", lambda conn, d, body, _who:
                                handlers.submit_tip(conn, d, body)),
        "tip.resolved": effect_of(deps, InboundTipOutcome, None, lambda conn, d, body, who:
                                handlers.resolve_tip(conn, d, body.tip_id, body, principal=who)),
    }  # fmt: skip


def effect_of(
    deps: Callable[[], Deps], model: type[BaseModel], subject_field: str | None, handle: Handle
) -> Effect:
    async def effect(conn: Connection, envelope: InboundEnvelope) -> None:
        resolved = deps()
        if envelope.campaign != resolved.campaign.id:
            raise PoisonEvent(
                f"campaign: {envelope.campaign} is not served here (this is {resolved.campaign.id})"
            )
        try:
            body = model.model_validate(envelope.data)
        except ValidationError as error:
            raise PoisonEvent(problems.reason(problems.problem_of(error, ["data"]))) from None
        named = getattr(body, subject_field, None) if subject_field else None
        if named is not None and named != envelope.subject:
            raise PoisonEvent(
                f"subject: {envelope.subject} is not the {subject_field} of the data ({named})"
            )
        acting = Principal(sub=f"system:{envelope.source}", role="unit", unit=envelope.subject)
        try:
            await handle(conn, resolved, body, acting)
        except Problem as problem:
            raise PoisonEvent(problems.reason(problem)) from None

    return effect


async def _designate(conn: Connection, deps: Deps, body: InboundLiaison, who: Principal) -> None:
    liaison = LiaisonDesignation.model_validate(body.model_dump(exclude={"unit"}))
    await handlers.designate_liaison(conn, deps, who.unit or "", liaison, principal=who)
