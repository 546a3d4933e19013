"""The registry of addressed units: seeded from the campaign file, extended by an admin's CSV."""

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from smonth_shared.campaign import load_campaign

pytestmark = pytest.mark.integration

CSV = "code,name,kind,province\nM40,国家消防救援局,ministry,\nM16,交通运输部（安委会成员）,ministry,\n"


async def import_csv(intake: Any, text: str, role: Any = "admin") -> Any:
    return await intake.client.post(
        "/v1/units/import", content=text.encode(),
        headers={**intake.auth(role), "content-type": "text/csv"},
    )  # fmt: skip


async def test_the_campaigns_units_are_in_the_registry_once_intake_has_started(
    intake: Any,
) -> None:
    rows = await intake.rows("SELECT code, kind FROM units WHERE campaign = '2021'")

    expected = {(u.code, u.kind) for u in load_campaign("2021").units}
    assert {(r["code"], r["kind"]) for r in rows} == expected
    assert sum(1 for r in rows if r["kind"] == "province") == 32


async def test_an_admin_imports_units_and_a_new_unit_can_then_report(intake: Any) -> None:
    progress = {"unit": "M40", "as_of": "2021-06-15", "indicators": {"drills": 5}}
    before = await intake.client.post("/v1/progress", json=progress, headers=intake.auth("system"))

    answer = await import_csv(intake, CSV)
    after = await intake.client.post("/v1/progress", json=progress, headers=intake.auth("system"))

    assert before.status_code == 422 and "M40" in before.json()["detail"]
    assert answer.status_code == 202 and answer.json() == {"units": 2, "changed": 2,
                                                           "status": "imported"}  # fmt: skip
    assert after.status_code == 202


async def test_a_csv_with_a_bad_line_is_refused_whole_naming_the_line(intake: Any) -> None:
    answer = await import_csv(intake, CSV + "X9,某协会,association,\n")

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"][:2] == ["line", 4]
    assert not await intake.rows("SELECT 1 FROM units WHERE code = 'M40'")


async def test_a_restart_does_not_undo_an_import(start_intake: Any) -> None:
    async with start_intake() as intake:
        await import_csv(intake, CSV)
    async with start_intake() as intake:
        (row,) = await intake.rows("SELECT name FROM units WHERE code = 'M16'")

    assert row["name"] == "交通运输部（安委会成员）"


async def test_the_import_command_reads_a_csv_file(intake: Any, tmp_path: Path) -> None:
    registry = tmp_path / "units.csv"
    registry.write_text("\ufeff" + CSV, encoding="utf-8")
    settings = intake.settings
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "SAFETY_MONTH_JWT_SECRET": settings.safety_month_jwt_secret,
           "TIP_CONTACT_KEY": settings.tip_contact_key}  # fmt: skip

    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smonth_intake", "import-units", str(registry), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await command.communicate()

    assert command.returncode == 0, output.decode()
    assert "2 units read" in output.decode()
    assert await intake.rows("SELECT 1 FROM units WHERE code = 'M40'")


async def test_the_import_command_names_a_bad_line_and_fails(intake: Any, tmp_path: Path) -> None:
    registry = tmp_path / "units.csv"
    registry.write_text(CSV + "M41,,ministry,\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": intake.settings.database_url,
           "SAFETY_MONTH_JWT_SECRET": intake.settings.safety_month_jwt_secret,
           "TIP_CONTACT_KEY": intake.settings.tip_contact_key}  # fmt: skip

    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smonth_intake", "import-units", str(registry), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await command.communicate()

    assert command.returncode == 1 and "line.4.name" in output.decode()
