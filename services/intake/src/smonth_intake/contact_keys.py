"""`python -m smonth_intake rotate-contact-key`: every stored contact encrypted again under the
first key of TIP_CONTACT_KEY, so that the keys after it can be dropped.

Batches of rows, each in a transaction of its own: a run stopped half-way leaves every contact
readable (each is under one of the keys still listed) and a second run finishes the work. A
contact none of the keys decrypts stops the run before anything of its batch is written, naming
the tip: dropping a key then would make it unreadable for good.
"""

import argparse
import asyncio
from collections.abc import Callable
from uuid import UUID

import asyncpg
from cryptography.fernet import InvalidToken, MultiFernet
from pydantic import ValidationError

from smonth_intake import repository
from smonth_intake.config import IntakeSettings
from smonth_shared.db import connect

BATCH = 500


class UnreadableContact(RuntimeError):
    """A stored contact that no listed key decrypts."""


async def rotate_contacts(
    conn: asyncpg.Connection, cipher: MultiFernet, *, batch: int = BATCH,
    progress: Callable[[int], None] = lambda _done: None,
) -> int:  # fmt: skip
    """The number of contacts encrypted again under the first key (every stored one)."""
    done = 0
    after: UUID | None = None
    while rows := await repository.contacts_after(conn, after, batch):
        rotated = []
        for row in rows:
            try:
                rotated.append((row["tip_id"], cipher.rotate(row["contact_encrypted"])))
            except InvalidToken:
                raise UnreadableContact(
                    f"the contact of tip {row['tip_id']} is under none of TIP_CONTACT_KEY's keys"
                ) from None
        async with conn.transaction():
            await repository.replace_contacts(conn, rotated)
        done += len(rotated)
        after = rows[-1]["tip_id"]
        progress(done)
    return done


def rotate_contact_key_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smonth_intake rotate-contact-key",
        description="Encrypt every stored tip contact again under the first key of "
        "TIP_CONTACT_KEY (comma-separated keys, newest first); afterwards the other keys can go.",
    )
    parser.parse_args(argv)
    try:
        settings = IntakeSettings()  # type: ignore[call-arg]
    except ValidationError as error:
        print(f"settings refused: {error}")
        return 2
    try:
        done = asyncio.run(_rotate(settings))
    except UnreadableContact as error:
        print(f"stopped: {error}; the contacts before it are rotated, nothing after it changed")
        return 1
    print(f"{done} contacts now under the first key of TIP_CONTACT_KEY")
    return 0


async def _rotate(settings: IntakeSettings) -> int:
    conn = await connect(settings.database_url, settings.db_schema)
    try:
        return await rotate_contacts(
            conn, settings.contact_cipher(), progress=lambda done: print(f"{done} rotated…")
        )
    finally:
        await conn.close()
