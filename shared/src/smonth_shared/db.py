"""PostgreSQL: one pool per service, pinned to the service's own schema, and the migration runner.

Migrations are plain SQL files named `NNN_what.sql`: first the delivery tables every service
shares (this package's `migrations/`), then the service's own. They run in one transaction under
an advisory lock, so two replicas starting together never race; each file is applied once.
"""

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# The database is away (restarting, unreachable): wait and retry, never a reason to drop an event.
DATABASE_OUTAGES = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)

# What `pool.acquire()` and `asyncpg.connect()` give: SQL helpers accept either.
Connection = asyncpg.Connection | PoolConnectionProxy

SHARED_MIGRATIONS = files("smonth_shared") / "migrations"


async def _keep_session(_: asyncpg.Connection) -> None:
    """Returning a connection to the pool costs no round trip: the pool's connections never carry
    session state (locks are transaction-level, LISTEN and session locks use connections of their
    own), and asyncpg still rolls back a transaction left open before calling this."""


async def create_pool(
    dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """Every connection's search_path is the service's schema: SQL never names a schema."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": f"smonth-{schema}"},
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, schema: str) -> asyncpg.Connection:
    """A connection outside the pool (a command's, the relay's lock), on the service's schema
    like the pool's."""
    return await asyncpg.connect(dsn, server_settings={"search_path": schema})


def migration_files(
    service_migrations: Traversable, *, delivery_tables: bool = True
) -> list[tuple[str, str]]:
    """(name, sql) in the order to apply: the shared delivery tables first (unless a schema that
    neither consumes nor publishes, as the operator's own, goes without), then the service's."""
    found: list[tuple[str, str]] = []
    folders = [("shared/", SHARED_MIGRATIONS)] if delivery_tables else []
    for prefix, folder in (*folders, ("", service_migrations)):
        sql_files = sorted(
            (item for item in folder.iterdir() if item.name.endswith(".sql")), key=lambda f: f.name
        )
        found.extend((prefix + item.name, item.read_text(encoding="utf-8")) for item in sql_files)
    return found


async def migrate(
    dsn: str, schema: str, service_migrations: Traversable, *, delivery_tables: bool = True
) -> list[str]:
    """Apply what is missing; returns the names applied this time (empty when up to date)."""
    _check_identifier(schema)
    migrations = migration_files(service_migrations, delivery_tables=delivery_tables)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
            # The schema name is checked above against a strict pattern; identifiers cannot be
            # passed as parameters.
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET LOCAL search_path TO "{schema}"')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
            applied = await _apply_missing(conn, migrations, done)
    finally:
        await conn.close()
    for name in applied:
        log.info("migration applied: %s.%s", schema, name)
    return applied


async def pending_migrations(
    pool: asyncpg.Pool | Connection, service_migrations: Traversable
) -> list[str]:
    """What /readyz reports as missing."""
    names = [name for name, _ in migration_files(service_migrations)]
    exists = await pool.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return names
    done = {row["name"] for row in await pool.fetch("SELECT name FROM schema_migrations")}
    return [name for name in names if name not in done]


class MigrationsPending(RuntimeError):
    """The migrations were not applied in the time given (the migrations Job has not run)."""


async def await_migrations(
    dsn: str, schema: str, service_migrations: Traversable, *, within: float, interval: float = 2.0
) -> None:
    """Returns once another process (a cluster's migrations Job) has applied every migration of
    this version, waiting through a database that is not up yet; after `within` seconds raises
    MigrationsPending naming what is missing."""
    _check_identifier(schema)
    deadline = time.monotonic() + within
    missing = ["(the database was not reached)"]
    while True:
        try:
            conn = await connect(dsn, schema)
            try:
                missing = await pending_migrations(conn, service_migrations)
            finally:
                await conn.close()
        except (*DATABASE_OUTAGES, OSError) as error:
            log.info("waiting for the database: %s", error)
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise MigrationsPending(
                f"{schema}: not applied after {within:.0f} s: {', '.join(missing)}"
            )
        await asyncio.sleep(interval)


async def _apply_missing(
    conn: Connection, migrations: Iterable[tuple[str, str]], done: set[str]
) -> list[str]:
    applied = []
    for name, sql in migrations:
        if name in done:
            continue
        await conn.execute(sql)
        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
        applied.append(name)
    return applied


def _check_identifier(name: str) -> None:
    """Lower case only: the pool's search_path is unquoted, so PostgreSQL folds it to lower case."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a safe schema name (a-z, 0-9, _): {name!r}")
