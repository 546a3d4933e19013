"""The benchmark's choice of launcher profile (SMONTH_BENCH_PROFILE)."""

import pytest

from bench.stack import KAFKA_PORT, POSTGRES_PORT, PROFILE, bench_profile


def test_without_a_value_the_bench_runs_on_its_own_profile() -> None:
    assert bench_profile("  ") == (PROFILE, KAFKA_PORT, POSTGRES_PORT)


def test_a_named_profile_gives_its_ports() -> None:
    assert bench_profile("relay:31092:27092") == ("relay", 31092, 27092)


@pytest.mark.parametrize("value", ["relay", "relay:31092", "relay:x:27092", ":31092:27092",
                                   "test:31092:27092"])  # fmt: skip
def test_a_malformed_profile_or_the_test_suites_is_refused(value: str) -> None:
    with pytest.raises(SystemExit, match="SMONTH_BENCH_PROFILE"):
        bench_profile(value)
