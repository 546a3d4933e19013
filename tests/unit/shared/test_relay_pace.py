"""The relay's pace: the rows of its looks over the last second, which decides whether it lets
rows gather before it looks again (smonth_shared.outbox.GATHER_FROM_ROWS_A_SECOND)."""

from smonth_shared.outbox import GATHER_FROM_ROWS_A_SECOND, Pace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_pace_counts_the_rows_of_the_last_second_only() -> None:
    clock = Clock()
    pace = Pace(clock)
    assert pace.rows_a_second(10) == 10
    clock.now += 0.5
    assert pace.rows_a_second(20) == 30
    clock.now += 0.6  # the first look is more than a second old
    assert pace.rows_a_second(5) == 25
    clock.now += 5.0
    assert pace.rows_a_second(0) == 0


def test_a_few_tips_a_second_never_gather_even_after_a_pause() -> None:
    """At B2's 100 tips a second, a look after a pause finds the pause's rows: still no rate."""
    clock = Clock()
    pace = Pace(clock)
    for _ in range(200):
        clock.now += 0.05
        assert pace.rows_a_second(5) <= GATHER_FROM_ROWS_A_SECOND


def test_thousands_of_tips_a_second_gather() -> None:
    clock = Clock()
    pace = Pace(clock)
    busy = False
    for _ in range(40):
        clock.now += 0.01
        busy = pace.rows_a_second(30) > GATHER_FROM_ROWS_A_SECOND
    assert busy
