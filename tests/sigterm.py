"""A session ended by SIGTERM (CI's `timeout`, an operator's kill) tears its fixtures down as
Ctrl-C does, so the servers it started stop with it: left running, they hold the "test"
profile's ports and the next session cannot start."""

import signal
from types import FrameType


def stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def pytest_configure() -> None:
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
