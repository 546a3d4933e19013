"""Progress statistics (attachment 1): the catalogue, the consistency rules, cumulative figures."""

from datetime import date

import pytest

from smonth_intake import domain
from smonth_intake.domain import Snapshot
from smonth_intake.models import ProgressReport
from smonth_shared.campaign import Campaign, load_campaign
from smonth_shared.problems import Problem

TODAY = date(2021, 6, 20)


@pytest.fixture
def campaign() -> Campaign:
    return load_campaign("2021")


def report(as_of: str = "2021-06-15", **indicators: int) -> ProgressReport:
    figures = indicators or {"study_sessions": 4, "study_participants": 120}
    return ProgressReport(unit="44", as_of=date.fromisoformat(as_of), indicators=figures)


def refusal(campaign: Campaign, submitted: ProgressReport, **neighbours: Snapshot) -> Problem:
    with pytest.raises(Problem) as refused:
        domain.check_progress(
            campaign, submitted, TODAY,
            before=neighbours.get("before"), after=neighbours.get("after"),
        )  # fmt: skip
    assert refused.value.status == 422
    return refused.value


def test_a_snapshot_within_the_window_and_the_catalogue_passes(campaign: Campaign) -> None:
    domain.check_progress(campaign, report(), TODAY, before=None, after=None)


def test_an_unknown_indicator_is_refused_by_name_with_the_allowed_codes(campaign: Campaign) -> None:
    problem = refusal(campaign, report(study_sessions=1, selfies_taken=3))

    assert [e.loc for e in problem.errors] == [["indicators", "selfies_taken"]]
    assert "study_sessions" in problem.errors[0].msg
    assert "selfies_taken" in problem.errors[0].msg_zh


def test_a_negative_figure_is_refused_by_the_model_naming_the_indicator() -> None:
    with pytest.raises(ValueError, match=r"indicators\.drills"):
        ProgressReport(unit="44", as_of=date(2021, 6, 15), indicators={"drills": -1})


@pytest.mark.parametrize("as_of", ["2021-05-31", "2021-07-06"])
def test_as_of_outside_the_statistics_window_is_refused(campaign: Campaign, as_of: str) -> None:
    problem = refusal(campaign, report(as_of=as_of))

    assert problem.errors[0].loc == ["as_of"]
    assert "2021-06-01..2021-07-05" in problem.detail


@pytest.mark.parametrize("as_of", ["2021-06-01", "2021-06-20"])
def test_the_first_day_of_the_window_and_today_pass(campaign: Campaign, as_of: str) -> None:
    domain.check_progress(campaign, report(as_of=as_of), TODAY, before=None, after=None)


def test_as_of_after_today_is_refused(campaign: Campaign) -> None:
    problem = refusal(campaign, report(as_of="2021-06-21"))

    assert problem.errors[0].loc == ["as_of"]
    assert "future" in problem.detail


def test_fewer_participants_than_sessions_is_refused_quoting_both(campaign: Campaign) -> None:
    problem = refusal(campaign, report(drills=12, drill_participants=5))

    error = problem.errors[0]
    assert error.loc == ["indicators", "drill_participants"]
    assert "(5)" in error.msg and "(12)" in error.msg
    assert "5" in error.msg_zh and "12" in error.msg_zh and "避险逃生和应急演练" in error.msg_zh


def test_as_many_participants_as_sessions_passes(campaign: Campaign) -> None:
    domain.check_progress(campaign, report(drills=12, drill_participants=12), TODAY,
                          before=None, after=None)  # fmt: skip


def test_every_broken_rule_is_named_at_once(campaign: Campaign) -> None:
    problem = refusal(
        campaign, report(drills=2, drill_participants=1, consult_events=9, consult_participants=3)
    )

    assert {e.loc[1] for e in problem.errors} == {"drill_participants", "consult_participants"}


def test_a_figure_lower_than_the_previous_snapshot_is_refused_quoting_both(
    campaign: Campaign,
) -> None:
    before = Snapshot(date(2021, 6, 10), {"media_reports": 9})

    problem = refusal(campaign, report(media_reports=7), before=before)

    error = problem.errors[0]
    assert error.loc == ["indicators", "media_reports"]
    assert "7" in error.msg and "9" in error.msg and "2021-06-10" in error.msg
    assert "7" in error.msg_zh and "9" in error.msg_zh


def test_a_figure_equal_to_or_above_the_previous_snapshot_passes(campaign: Campaign) -> None:
    before = Snapshot(date(2021, 6, 10), {"media_reports": 9, "drills": 1})

    domain.check_progress(campaign, report(media_reports=9, drills=4), TODAY,
                          before=before, after=None)  # fmt: skip


def test_leaving_out_a_figure_the_previous_snapshot_had_is_refused(campaign: Campaign) -> None:
    before = Snapshot(date(2021, 6, 10), {"media_reports": 9, "drills": 1})

    problem = refusal(campaign, report(media_reports=10), before=before)

    assert problem.errors[0].loc == ["indicators", "drills"]
    assert "missing" in problem.errors[0].msg


def test_a_back_filled_date_cannot_count_more_than_the_later_snapshot(campaign: Campaign) -> None:
    after = Snapshot(date(2021, 6, 18), {"hazards_exposed": 30})

    problem = refusal(campaign, report(hazards_exposed=31), after=after)

    assert problem.errors[0].loc == ["indicators", "hazards_exposed"]
    assert "31" in problem.errors[0].msg and "30" in problem.errors[0].msg


def test_a_back_filled_date_within_its_neighbours_passes(campaign: Campaign) -> None:
    before = Snapshot(date(2021, 6, 5), {"hazards_exposed": 10})
    after = Snapshot(date(2021, 6, 18), {"hazards_exposed": 30})

    domain.check_progress(campaign, report(hazards_exposed=20), TODAY, before=before, after=after)
