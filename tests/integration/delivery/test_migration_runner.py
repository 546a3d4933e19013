"""The migration runner: plain SQL files, applied once each, in one transaction, never racing."""

import asyncio
from pathlib import Path

import asyncpg
import pytest

from smonth_shared.db import (
    SHARED_MIGRATIONS,
    MigrationsPending,
    await_migrations,
    create_pool,
    migrate,
    pending_migrations,
)
from tests.integration.delivery.delivery_kit import SCHEMA

pytestmark = pytest.mark.integration

SHARED = sorted(f"shared/{f.name}" for f in SHARED_MIGRATIONS.iterdir() if f.name.endswith(".sql"))
ALL = [*SHARED, "001_things.sql"]
SEED = "INSERT INTO things (name) VALUES ('seeded once');\n"


async def _fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def _recorded(database_url: str) -> list[str]:
    rows = await _fetch(database_url, "SELECT name FROM schema_migrations ORDER BY applied_at")
    return [row["name"] for row in rows]


async def test_it_applies_the_shared_tables_then_the_services_and_records_their_names(
    database_url: str, migrations: Path
) -> None:
    applied = await migrate(database_url, SCHEMA, migrations)

    assert applied == ALL
    assert SHARED[:2] == ["shared/001_delivery.sql", "shared/002_idempotency.sql"]
    assert sorted(await _recorded(database_url)) == sorted(ALL)
    tables = await _fetch(
        database_url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        SCHEMA,
    )
    assert {row["table_name"] for row in tables} == {
        "schema_migrations", "outbox", "outbox_pending", "inbox", "idempotency", "things",
    }  # fmt: skip


async def test_a_second_run_applies_nothing(database_url: str, migrations: Path) -> None:
    await migrate(database_url, SCHEMA, migrations)

    assert await migrate(database_url, SCHEMA, migrations) == []
    assert sorted(await _recorded(database_url)) == sorted(ALL)


async def test_a_new_file_is_applied_on_the_next_run(database_url: str, migrations: Path) -> None:
    await migrate(database_url, SCHEMA, migrations)
    (migrations / "002_seed.sql").write_text(SEED, encoding="utf-8")

    assert await migrate(database_url, SCHEMA, migrations) == ["002_seed.sql"]
    assert len(await _fetch(database_url, "SELECT * FROM things")) == 1


async def test_two_replicas_starting_together_do_not_race(
    database_url: str, migrations: Path
) -> None:
    (migrations / "002_seed.sql").write_text(SEED, encoding="utf-8")

    first, second = await asyncio.gather(
        migrate(database_url, SCHEMA, migrations), migrate(database_url, SCHEMA, migrations)
    )

    assert sorted([first, second]) == [[], [*ALL, "002_seed.sql"]]
    assert sorted(await _recorded(database_url)) == sorted([*ALL, "002_seed.sql"])
    assert len(await _fetch(database_url, "SELECT * FROM things")) == 1


async def test_a_failing_file_leaves_nothing_behind(database_url: str, migrations: Path) -> None:
    (migrations / "002_broken.sql").write_text("CREATE TABLE broken (;\n", encoding="utf-8")

    with pytest.raises(asyncpg.PostgresSyntaxError):
        await migrate(database_url, SCHEMA, migrations)

    schemas = await _fetch(
        database_url, "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", SCHEMA
    )
    assert schemas == []
    (migrations / "002_broken.sql").unlink()
    assert await migrate(database_url, SCHEMA, migrations) == ALL


async def test_pending_migrations_lists_what_is_missing(
    database_url: str, migrations: Path
) -> None:
    pool = await create_pool(database_url, SCHEMA, max_size=1)
    try:
        assert await pending_migrations(pool, migrations) == ALL
        await migrate(database_url, SCHEMA, migrations)
        (migrations / "002_seed.sql").write_text(SEED, encoding="utf-8")

        assert await pending_migrations(pool, migrations) == ["002_seed.sql"]
    finally:
        await pool.close()


@pytest.mark.parametrize("schema", ["", "1things", "things;drop", "thïngs", 'th"ings'])
async def test_an_unsafe_schema_name_is_refused(
    database_url: str, migrations: Path, schema: str
) -> None:
    with pytest.raises(ValueError, match="not a safe schema name"):
        await migrate(database_url, schema, migrations)


async def test_the_runner_and_the_pool_mean_the_same_schema(
    database_url: str, migrations: Path
) -> None:
    """PostgreSQL folds the pool's unquoted search_path to lower case, so the runner refuses
    capitals rather than migrate a schema the pool would never find."""
    with pytest.raises(ValueError, match="schema name"):
        await migrate(database_url, "Things", migrations)
    await migrate(database_url, "things", migrations)
    pool = await create_pool(database_url, "things", max_size=1)
    try:
        assert await pending_migrations(pool, migrations) == []
    finally:
        await pool.close()


async def test_a_replica_waiting_for_migrations_returns_once_another_process_applied_them(
    database_url: str, migrations: Path
) -> None:
    waiting = asyncio.create_task(
        await_migrations(database_url, SCHEMA, migrations, within=60, interval=0.05)
    )
    await asyncio.sleep(0)
    assert not waiting.done()

    await migrate(database_url, SCHEMA, migrations)

    await asyncio.wait_for(waiting, timeout=30)


async def test_a_replica_of_a_newer_version_names_the_migrations_it_still_waits_for(
    database_url: str, migrations: Path
) -> None:
    await migrate(database_url, SCHEMA, migrations)
    (migrations / "002_seed.sql").write_text(SEED, encoding="utf-8")

    with pytest.raises(MigrationsPending, match=r"002_seed\.sql"):
        await await_migrations(database_url, SCHEMA, migrations, within=0.2, interval=0.05)


async def test_a_replica_waits_through_a_database_that_is_not_up_yet(migrations: Path) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/safety_month"

    with pytest.raises(MigrationsPending, match="not reached"):
        await await_migrations(unreachable, SCHEMA, migrations, within=0.2, interval=0.05)
