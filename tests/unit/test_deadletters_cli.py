"""`safety-month deadletters`: input it cannot act on is refused before it reaches a server,
naming the argument and the rule."""

import pytest
from typer.testing import CliRunner

from safety_month.cli import app

REFUSALS = {
    "a date that is not ISO 8601": (
        ["list", "--since", "16/06/2021"],
        "Invalid value for --since: '16/06/2021' is not an ISO 8601 date or time",
    ),
    "a source that is no service": (
        ["list", "--source", "hazard-db"],
        "Invalid value for --source: 'hazard-db' is not a service; choose one of intake,",
    ),
    "an id that is not partition/offset": (
        ["redrive", "0-42"], "Invalid value for ID...: 0-42: a letter's id is partition/offset"
    ),
    "neither ids nor --all-matching": (
        ["redrive"], "Invalid value for ID...: give the letters' ids, or --all-matching"
    ),
    "both ids and --all-matching": (
        ["redrive", "0/1", "--all-matching"], "give the letters' ids, or --all-matching, and not"
    ),
    "a filter without --all-matching": (
        ["redrive", "0/1", "--type", "tip.received"],
        "--since, --type and --source choose letters only with --all-matching",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSALS))
def test_input_the_command_cannot_act_on_is_refused_naming_the_argument(case: str) -> None:
    args, message = REFUSALS[case]

    result = CliRunner().invoke(app, ["deadletters", *args], env={"COLUMNS": "200"})

    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
