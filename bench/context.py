"""What every figure is given: the servers, the volumes of this run, a log, a scratch folder, the
folder of the results."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stack import Log
from safety_month.infra.stack import Endpoints
from smonth_shared.kafka import KafkaAccess
from smonth_shared.settings import kafka_settings


@dataclass(frozen=True)
class Volumes:
    rounds: int
    b1_step_seconds: float
    b1_probes: int
    b2_rate: float
    b2_seconds: float
    b3_rows: int
    b4_events: int
    b5_events: int
    b5_rounds: int
    b6_tips: int
    b6_concurrency: int
    b7_requests: int
    b8_warmup_seconds: float
    b8_steady_seconds: float
    b8_steady_rate: float
    b9_factors: tuple[float, ...]  # B9's volumes, as multiples of the 2021 month (MONTH_TIPS)
    # Each B9 volume on a system and a database of its own (a full run), or all of them one
    # after the other on the system B6 played (a quick run: a start costs a minute on a busy
    # machine, more than the quick volumes themselves).
    b9_fresh_systems: bool
    b10_tips: int  # B10's tips at 1× (its units at 1× are the 171 the 2021 notice addressed)
    b10_factor: int  # B10's larger volume: this many times the units and the tips


# The public's tips of the 2021 month (11.4万), which B9's factors multiply.
MONTH_TIPS = 114_000


FULL = Volumes(
    rounds=3, b1_step_seconds=3.0, b1_probes=4, b2_rate=100.0, b2_seconds=20.0, b3_rows=200_000,
    b4_events=100_000, b5_events=1_000_000, b5_rounds=2, b6_tips=114_000, b6_concurrency=32,
    b7_requests=100, b8_warmup_seconds=30.0, b8_steady_seconds=600.0, b8_steady_rate=20.0,
    b9_factors=(1.0, 3.0, 10.0), b9_fresh_systems=True, b10_tips=MONTH_TIPS, b10_factor=10,
)  # fmt: skip
QUICK = Volumes(
    rounds=2, b1_step_seconds=0.4, b1_probes=1, b2_rate=50.0, b2_seconds=1.0, b3_rows=1_000,
    b4_events=1_000, b5_events=2_000, b5_rounds=1, b6_tips=200, b6_concurrency=8,
    b7_requests=5, b8_warmup_seconds=0.5, b8_steady_seconds=3.0, b8_steady_rate=10.0,
    b9_factors=(0.002, 0.006, 0.02), b9_fresh_systems=False, b10_tips=1_000, b10_factor=10,
)  # fmt: skip


@dataclass
class Context:
    endpoints: Endpoints
    volumes: Volumes
    log: Log
    folder: Path
    quick: bool
    results: Path = Path("bench/results")  # where the run's JSON goes, and B9's and B10's plots

    @property
    def kafka(self) -> KafkaAccess:
        """The operator's access: the baselines' raw clients and the harness's topics."""
        return self.endpoints.kafka

    def kafka_settings(self) -> dict[str, Any]:
        """A service's settings to reach the broker as the operator (in-process measurements)."""
        return kafka_settings(self.endpoints.kafka)

    @property
    def server_url(self) -> str:
        return self.endpoints.database_url
