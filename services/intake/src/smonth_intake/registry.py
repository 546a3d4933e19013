"""`python -m smonth_intake import-units FILE`: the office's CSV of addressed units, imported.

The same rules as `POST /v1/units/import`; the database is migrated and seeded from the campaign
file first, so the command works on a fresh deployment too.
"""

import argparse
import asyncio
from pathlib import Path

from pydantic import ValidationError

from smonth_intake import domain, handlers
from smonth_intake.app import MIGRATIONS
from smonth_intake.config import IntakeSettings
from smonth_shared.campaign import Unit, load_campaign
from smonth_shared.db import connect, migrate
from smonth_shared.problems import Problem


def import_units_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smonth_intake import-units",
        description="Import addressed units from a UTF-8 CSV with the columns code,name,kind,province.",
    )
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        settings = IntakeSettings()  # type: ignore[call-arg]
        units = domain.parse_registry(args.file.read_text(encoding="utf-8-sig"))
    except ValidationError as error:
        print(f"settings refused: {error}")
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"{args.file}: cannot be read as UTF-8 text ({error})")
        return 2
    except Problem as problem:
        for item in problem.errors or ():
            print(f"{args.file}: {'.'.join(map(str, item.loc))}: {item.msg}（{item.msg_zh}）")
        if not problem.errors:
            print(f"{args.file}: {problem.detail}")
        return 1
    answer = asyncio.run(_import(settings, units))
    print(f"{args.file}: {answer['units']} units read, {answer['changed']} added or changed")
    return 0


async def _import(settings: IntakeSettings, units: list[Unit]) -> dict[str, object]:
    await migrate(settings.database_url, settings.db_schema, MIGRATIONS)
    campaign = load_campaign(settings.campaign, settings.campaign_file)
    conn = await connect(settings.database_url, settings.db_schema)
    try:
        async with conn.transaction():
            await handlers.seed_units(conn, campaign)
            return await handlers.import_units(conn, campaign, units, source="command line")
    finally:
        await conn.close()
