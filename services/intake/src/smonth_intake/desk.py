"""A unit's own desk: what it still owes, what it has sent, its last figures and its liaison; and
attachment 1 as a workbook, submitted through the same `submit_progress` as the JSON body.

Like handlers.py, each runs in the caller's transaction, and a unit reads only its own."""

from typing import Any

import asyncpg
from pydantic import ValidationError

from smonth_intake import domain, handlers, records, repository, tasks, workbook
from smonth_intake.handlers import Deps, check_unit
from smonth_intake.models import ProgressReport
from smonth_shared.auth import Principal
from smonth_shared.db import Connection
from smonth_shared.events import AttachedFile
from smonth_shared.problems import Problem, problem_of

KIND_ZH = {"progress": "进展情况统计表", "liaison": "联络员反馈表", "summary": "总结报告",
           "material": "材料", "case": "典型案例"}  # fmt: skip
STATUS_ZH = {"current": "现任联络员", "replaced": "已被替换", "on_time": "按时报送",
             "late": "逾期报送", "received": "已接收", "practice": "典型做法", "video": "视频",
             "picture": "图片"}  # fmt: skip


async def unit_tasks(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> dict[str, Any]:
    registered = await _registered(conn, deps, unit, principal)
    campaign, now = deps.campaign, deps.clock.now()
    snapshot = await records.latest_snapshot(conn, campaign.id, unit)
    liaison = await repository.active_liaison(conn, campaign.id, unit)
    summary = await repository.summary_state(conn, campaign.id, unit)
    month = tasks.month_of(domain.office_today(campaign, now))
    counted = await records.counts(conn, campaign.id, unit, month)
    facts = tasks.UnitRecords(
        kind=registered.kind, snapshot=snapshot, liaison=liaison and liaison[1].name,
        summary=summary and summary[1], materials=counted["materials"],
        cases_this_month=counted["cases_this_month"],
    )  # fmt: skip
    return {"unit": unit, "name": registered.name, "kind": registered.kind,
            "today": domain.office_today(campaign, now).isoformat(),
            "tasks": tasks.unit_tasks(campaign, facts, now)}  # fmt: skip


async def unit_submissions(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> dict[str, Any]:
    await _registered(conn, deps, unit, principal)
    rows = await records.history(conn, deps.campaign.id, unit)
    return {"unit": unit, "submissions": [
        {"kind": row["kind"], "kind_zh": KIND_ZH[row["kind"]], "id": str(row["id"]),
         "received_at": row["received_at"].isoformat(), "about": row["about"],
         "status": row["status"], "status_zh": _status_zh(row["status"])}
        for row in rows
    ]}  # fmt: skip


async def summary_report(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> dict[str, Any]:
    """What the unit sent as its summary report, as it stands after its latest sending."""
    row = await _summary_row(conn, deps, unit, principal)
    file = AttachedFile.model_validate_json(row["file"]) if row["file"] else None
    moments = ("first_received_at", "last_received_at", "on_time_received_at")
    return {"unit": unit, "report_id": str(row["report_id"]), "title": row["title"],
            "body": row["body"], "on_time": row["on_time"], "times": row["times"],
            **{name: row[name] and row[name].isoformat() for name in moments},
            "file": file and file.model_dump(include={"filename", "content_type", "size"})}  # fmt: skip


async def summary_file(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> AttachedFile:
    row = await _summary_row(conn, deps, unit, principal)
    if not row["file"]:
        raise Problem(404, "No file", f"Unit {unit}'s summary report has no file.",
                      "本单位的总结报告没有附件。")  # fmt: skip
    return AttachedFile.model_validate_json(row["file"])


async def _summary_row(
    conn: Connection, deps: Deps, unit: str, principal: Principal
) -> asyncpg.Record:
    await _registered(conn, deps, unit, principal)
    row = await repository.summary_report(conn, deps.campaign.id, unit)
    if row is None:
        raise Problem(404, "No summary report yet", f"Unit {unit} has sent no summary report yet.",
                      "本单位尚未报送总结报告。")  # fmt: skip
    return row


async def latest_progress(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> dict[str, Any]:
    await _registered(conn, deps, unit, principal)
    snapshot = await records.latest_snapshot(conn, deps.campaign.id, unit)
    if snapshot is None:
        raise Problem(404, "No snapshot yet", f"Unit {unit} has reported no progress figures yet.",
                      "本单位尚未报送过进展情况统计数。")  # fmt: skip
    return {"unit": unit, "as_of": snapshot.as_of.isoformat(), "indicators": snapshot.indicators}


async def current_liaison(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> dict[str, Any]:
    await _registered(conn, deps, unit, principal)
    active = await repository.active_liaison(conn, deps.campaign.id, unit)
    if active is None:
        raise Problem(404, "No liaison yet", f"Unit {unit} has designated no liaison yet.",
                      "本单位尚未报送联络员。")  # fmt: skip
    return {"unit": unit, "liaison_id": str(active[0]), **active[1].model_dump()}


async def progress_template(
    conn: Connection, deps: Deps, unit: str, *, principal: Principal
) -> bytes:
    registered = await _registered(conn, deps, unit, principal)
    last = await records.latest_snapshot(conn, deps.campaign.id, unit)
    today = domain.office_today(deps.campaign, deps.clock.now())
    return workbook.template(deps.campaign, registered, last, today)


async def submit_workbook(
    conn: Connection, deps: Deps, content: bytes, *, principal: Principal
) -> dict[str, Any]:
    """Nothing is stored unless every cell passes: the same rules, one transaction."""
    body, cells = workbook.read(deps.campaign, content)
    try:
        report = ProgressReport.model_validate(body)
        return await handlers.submit_progress(conn, deps, report, principal=principal)
    except ValidationError as error:
        raise workbook.cell_refusal(problem_of(error), cells) from None
    except Problem as problem:
        raise workbook.cell_refusal(problem, cells) from None


async def _registered(
    conn: Connection, deps: Deps, unit: str, principal: Principal
) -> domain.RegisteredUnit:
    await check_unit(conn, deps, principal, unit)
    registered = await deps.units.unit(conn, deps.campaign.id, unit)
    assert registered is not None  # check_unit refused an unregistered unit
    return registered


def _status_zh(status: str) -> str:
    if status.startswith("r") and status[1:].isdigit():
        return "已接收" if status == "r1" else f"已接收（第 {status[1:]} 次更正）"
    return STATUS_ZH.get(status, status)
