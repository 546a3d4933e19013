"""`python -m smonth_<service> [migrate|serve|await-migrations]`: the same steps for every service.

`await-migrations` is for a cluster, where one Job migrates and every replica's init container
waits until the schema is at the version its image expects (deploy/k8s)."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from importlib.resources.abc import Traversable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from smonth_shared.db import MigrationsPending, await_migrations, migrate
from smonth_shared.settings import ServiceSettings
from smonth_shared.telemetry import setup_tracing
from smonth_shared.topics import ensure_topics

S = TypeVar("S", bound=ServiceSettings)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def run_service(
    settings_class: type[S], build: Callable[[S], FastAPI], migrations: Traversable
) -> None:
    parser = argparse.ArgumentParser(prog="python -m smonth_<service>")
    parser.add_argument("command", choices=["migrate", "serve", "await-migrations"], nargs="?",
                        default="serve")  # fmt: skip
    parser.add_argument("--migrate-first", action="store_true",
                        help="apply missing migrations before serving")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="await-migrations: seconds before giving up")  # fmt: skip
    args = parser.parse_args()
    try:
        settings = settings_class()  # type: ignore[call-arg]
    except ValidationError as error:
        sys.exit(f"settings refused: {error}")
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT, stream=sys.stderr)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    if args.command == "await-migrations":
        try:
            asyncio.run(await_migrations(settings.database_url, settings.db_schema, migrations,
                                         within=args.timeout))  # fmt: skip
        except MigrationsPending as error:
            sys.exit(f"migrations pending: {error}")
        return
    if args.command == "migrate" or args.migrate_first:
        applied = asyncio.run(migrate(settings.database_url, settings.db_schema, migrations))
        created = asyncio.run(ensure_topics(settings.kafka))
        logger = logging.getLogger(settings.service_name)
        logger.info("migrations: %s", ", ".join(applied) or "up to date")
        logger.info("topics created: %s", ", ".join(created) or "none missing")
        if args.command == "migrate":
            return
    tracing = setup_tracing(settings.service_name)
    try:
        uvicorn.run(
            build(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        if tracing is not None:
            tracing.shutdown()  # the spans still batched are sent before the process ends
