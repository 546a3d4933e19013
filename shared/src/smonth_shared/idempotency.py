"""Idempotency-Key on POST: the same key and body give the same answer; another body gives 409.

The stored answer is written in the same transaction as the effect, so a retried request after a
crash either finds the committed answer or repeats an effect that never happened.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from smonth_shared.db import Connection
from smonth_shared.problems import Problem


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def request_hash(path: str, body: bytes | dict[str, Any]) -> str:
    raw = (
        body if isinstance(body, bytes) else json.dumps(body, sort_keys=True, default=str).encode()
    )
    return hashlib.sha256(path.encode() + b"\n" + raw).hexdigest()


async def replay(conn: Connection, caller: str, key: str, fingerprint: str) -> Replay | None:
    """The earlier answer to this key, or None when the key is new. Locks the key until commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"idem:{caller}:{key}")
    row = await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotency WHERE caller = $1 AND key = $2",
        caller, key,
    )  # fmt: skip
    if row is None:
        return None
    if row["request_hash"] != fingerprint:
        raise Problem(
            409, "Idempotency-Key reused",
            "This Idempotency-Key was used for a different request; use a new key.",
            "该幂等键（Idempotency-Key）已用于另一份不同的提交，请换用新的键。",
        )  # fmt: skip
    return Replay(row["status"], json.loads(row["response"]))


async def remember(
    conn: Connection, caller: str, key: str, fingerprint: str, answer: Replay
) -> None:
    await conn.execute(
        "INSERT INTO idempotency (caller, key, request_hash, status, response)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        caller, key, fingerprint, answer.status, json.dumps(answer.body, default=str),
    )  # fmt: skip
