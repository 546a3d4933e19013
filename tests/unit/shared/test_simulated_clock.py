"""The one clock: a simulated clock that every process given the same settings agrees on."""

import asyncio
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smonth_shared.clock import SimulatedClock, WallClock, clock_from_settings, parse_speed_changes

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2021, 6, 1, 0, 0, tzinfo=SHANGHAI)
TOLERANCE = timedelta(seconds=1)


class Wall:
    """The wall clock as smonth_shared.clock sees it, standing still until a test moves it: a
    simulated clock running a thousand times faster would otherwise move a second between two
    lines of a test on a busy machine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)
        wall = self

        class FrozenDatetime(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
                return wall.now

        monkeypatch.setattr("smonth_shared.clock.datetime", FrozenDatetime)

    def move(self, **elapsed: float) -> None:
        self.now += timedelta(**elapsed)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    return Wall(monkeypatch)


def test_a_simulated_clock_shows_its_start_at_its_origin(wall: Wall) -> None:
    clock = SimulatedClock(START, speed=1000.0, origin=wall.now)

    assert clock.now() == START


def test_a_simulated_clock_without_an_origin_starts_now(wall: Wall) -> None:
    clock = SimulatedClock(START, speed=1.0)

    assert clock.now() == START


def test_a_simulated_clock_runs_at_its_speed(wall: Wall) -> None:
    clock = SimulatedClock(START, speed=360.0, origin=wall.now - timedelta(seconds=10))

    # 10 wall seconds at 360x are one simulated hour.
    assert clock.now() == START + timedelta(hours=1)


def test_a_simulated_clock_follows_the_wall_clock_as_it_moves(wall: Wall) -> None:
    clock = SimulatedClock(START, speed=60.0, origin=wall.now)
    assert clock.now() == START

    wall.move(minutes=1)

    assert clock.now() == START + timedelta(hours=1)


def test_two_processes_given_the_same_settings_agree(wall: Wall) -> None:
    origin = wall.now - timedelta(minutes=5)

    one = SimulatedClock(START, speed=720.0, origin=origin)
    other = clock_from_settings(START, 720.0, origin)

    assert one.now() == other.now() == START + timedelta(hours=60)


async def test_sleeping_until_a_past_instant_returns_at_once() -> None:
    clock = SimulatedClock(START, speed=1.0, origin=datetime.now(UTC))
    began = time.perf_counter()

    await clock.sleep_until(START - timedelta(days=3))
    await WallClock().sleep_until(datetime.now(UTC) - timedelta(hours=1))

    # Sleeping the three days (or the hour) would take that long; a busy machine takes less.
    assert time.perf_counter() - began < 30


async def test_sleeping_until_a_simulated_instant_takes_that_time_divided_by_the_speed() -> None:
    clock = SimulatedClock(START, speed=3600.0, origin=datetime.now(UTC))
    began = time.perf_counter()

    await clock.sleep_until(clock.now() + timedelta(minutes=3))  # 0.05 wall seconds

    # At least that long; three simulated minutes slept on the wall clock would be 180 s.
    assert 0.05 <= time.perf_counter() - began < 30


def test_a_start_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        SimulatedClock(datetime(2021, 6, 1), speed=1.0)


def test_without_a_start_the_clock_is_the_wall_clock() -> None:
    clock = clock_from_settings(None, 1.0, None)

    assert isinstance(clock, WallClock)
    assert abs(clock.now() - datetime.now(UTC)) < TOLERANCE


def test_a_speed_change_takes_over_at_its_simulated_instant(wall: Wall) -> None:
    origin = wall.now - timedelta(seconds=10)
    change = START + timedelta(hours=1)
    clock = SimulatedClock(START, speed=360.0, origin=origin, changes=[(change, 3600.0)])
    # 10 wall seconds: the first hour takes 10 s at ×360, so the change is just reached.
    assert clock.now() == change
    assert clock.wall_time_of(change) == origin + timedelta(seconds=10)
    later = change + timedelta(hours=2)
    assert clock.wall_time_of(later) == origin + timedelta(seconds=12)
    wall.move(seconds=1)
    assert clock.now() == change + timedelta(hours=1)


def test_the_clock_holds_at_its_start_until_its_origin() -> None:
    origin = datetime.now(UTC) + timedelta(seconds=30)
    clock = SimulatedClock(START, speed=1000.0, origin=origin)
    assert clock.now() == START
    assert clock.wall_time_of(START + timedelta(seconds=1000)) == origin + timedelta(seconds=1)


async def test_a_clock_all_but_stopped_sleeps_towards_a_far_instant_without_overflowing() -> None:
    clock = SimulatedClock(START, speed=1e-6)
    far = START + timedelta(days=30)  # 2.6e12 wall seconds: past any date
    assert clock.wall_time_of(far) == datetime.max.replace(tzinfo=UTC)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await clock.sleep_until(far)


def test_speed_changes_are_read_from_their_setting() -> None:
    changes = parse_speed_changes("2021-07-08T00:00:00+08:00=250000; 2021-09-01T00:00:00+08:00=1")
    assert [speed for _, speed in changes] == [250000.0, 1.0]
    assert parse_speed_changes("") == []
