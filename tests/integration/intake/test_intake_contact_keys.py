"""The key of tipsters' contacts is rotated without a contact becoming unreadable: a new key put
first encrypts, the old one still decrypts, and the rotation command moves every stored contact
under the new key, so the old one can be dropped."""

import asyncio
import os
import sys
from typing import Any

import asyncpg
import pytest
from cryptography.fernet import Fernet, MultiFernet

from smonth_intake.contact_keys import UnreadableContact, rotate_contacts

pytestmark = pytest.mark.integration

TIP = {
    "province": "44", "industry": "mining", "category": "major_hazard",
    "description": "某矿井下通风设施损坏多日未修复，仍在组织生产",
}  # fmt: skip


def contact(n: int) -> dict[str, str]:
    return {"name": f"举报人{n}", "phone": f"1391234{n:04d}", "email": f"t{n}@example.cn"}


async def named_tip(intake: Any, n: int) -> str:
    answer = await intake.client.post("/v1/tips", json={**TIP, "contact": contact(n)})
    assert answer.status_code == 202, answer.text
    return answer.json()["tip_id"]


async def read_contact(intake: Any, tip_id: str) -> dict[str, Any]:
    answer = await intake.client.get(
        f"/v1/tips/{tip_id}/contact", headers=intake.auth("unit", "44")
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def rotate_command(intake: Any, keys: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": intake.settings.database_url,
           "SAFETY_MONTH_JWT_SECRET": intake.settings.safety_month_jwt_secret,
           "TIP_CONTACT_KEY": keys}  # fmt: skip
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smonth_intake", "rotate-contact-key", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await command.communicate()
    assert command.returncode is not None
    return command.returncode, output.decode()


async def test_old_contacts_stay_readable_through_a_rotation_and_the_old_key_can_go(
    start_intake: Any,
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with start_intake(tip_contact_key=old) as intake:
        before = [await named_tip(intake, n) for n in range(3)]
        await intake.client.post("/v1/tips", json=TIP)  # anonymous: nothing to rotate
    async with start_intake(tip_contact_key=f"{new}, {old}") as intake:
        assert (await read_contact(intake, before[0]))["name"] == "举报人0"
        after = await named_tip(intake, 3)
        code, output = await rotate_command(intake, f"{new},{old}")
        assert code == 0, output
        assert "4 contacts now under the first key" in output
    async with start_intake(tip_contact_key=new) as intake:
        for n, tip_id in enumerate([*before, after]):
            assert await read_contact(intake, tip_id) == {"tip_id": tip_id, "named": True,
                                                          **contact(n)}  # fmt: skip


async def test_a_contact_under_no_listed_key_stops_the_rotation_and_names_its_tip(
    start_intake: Any,
) -> None:
    lost, kept = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with start_intake(tip_contact_key=lost) as intake:
        tip_id = await named_tip(intake, 1)
    conn = await asyncpg.connect(
        intake.settings.database_url, server_settings={"search_path": "intake"}
    )
    try:
        stored = await conn.fetchval("SELECT contact_encrypted FROM tips")
        with pytest.raises(UnreadableContact, match=tip_id):
            await rotate_contacts(conn, MultiFernet([Fernet(kept)]))
        assert await conn.fetchval("SELECT contact_encrypted FROM tips") == stored
    finally:
        await conn.close()
    code, output = await rotate_command(intake, kept)
    assert code == 1 and tip_id in output
