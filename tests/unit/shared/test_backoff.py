"""Back-off: every retry loop waits longer each time, up to a ceiling, with jitter."""

import pytest

from smonth_shared.backoff import Backoff


def _upper_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter picks the top of its range, so the ceilings themselves show."""
    monkeypatch.setattr("smonth_shared.backoff.random.uniform", lambda low, high: high)


def test_the_delay_doubles_until_it_reaches_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    _upper_bounds(monkeypatch)
    backoff = Backoff(initial=0.2, maximum=5.0)

    delays = [backoff.next() for _ in range(8)]

    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])


def test_the_default_is_capped_at_ten_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    _upper_bounds(monkeypatch)
    backoff = Backoff()

    delays = [backoff.next() for _ in range(100)]

    assert delays[0] == pytest.approx(0.2)
    assert max(delays) == delays[-1] == 10.0


def test_reset_starts_again_from_the_initial_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    _upper_bounds(monkeypatch)
    backoff = Backoff(initial=1.0, maximum=60.0)
    for _ in range(5):
        backoff.next()

    backoff.reset()

    assert backoff.next() == 1.0


def test_jitter_keeps_each_delay_between_half_its_ceiling_and_the_ceiling() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, factor=2.0)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]

    delays = [backoff.next() for _ in ceilings]

    assert all(c / 2 <= d <= c for c, d in zip(ceilings, delays, strict=True))


def test_jitter_spreads_replicas_apart() -> None:
    delays = {Backoff(initial=1.0).next() for _ in range(50)}

    assert len(delays) > 1
