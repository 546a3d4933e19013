"""`safety-month deadletters`: input it cannot act on is refused before it reaches a server,
naming the argument and the rule; where each letter is re-driven to."""

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from safety_month.cli import app
from safety_month.deadletters import Letter
from smonth_shared.events import AUTHENTICATED_SYSTEM, INBOUND, INBOUND_REDRIVEN, TIP

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


def letter(topic: str, *headers: tuple[str, bytes]) -> Letter:
    return Letter(id="0/1", time=datetime.now(UTC), original_topic=topic,
                  event_type="progress.reported", source="intake", error="refused", key=b"M16",
                  value=b"{}", headers=(("original-topic", topic.encode()), *headers))  # fmt: skip


SYSTEM = (AUTHENTICATED_SYSTEM, b"mot-stats")
ROUTES = {
    "a service's letter goes back to its topic": (letter(TIP.name), True, TIP.name),
    "a system's letter with its system authenticated goes to the redriven topic": (
        letter(INBOUND.name, SYSTEM), True, INBOUND_REDRIVEN.name
    ),
    "a system's letter refused for its token goes nowhere": (letter(INBOUND.name), False, None),
    "a re-driven envelope refused again goes back to the redriven topic": (
        letter(INBOUND_REDRIVEN.name, SYSTEM), True, INBOUND_REDRIVEN.name
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ROUTES))
def test_where_a_letter_is_redriven_to(case: str) -> None:
    given, redrivable, topic = ROUTES[case]

    assert given.redrivable is redrivable
    if redrivable:
        assert given.redrive_topic == topic
