"""SIGTERM ends a session with its session fixtures torn down (tests/sigterm.py)."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.polling import eventually_blocking

ROOT = Path(__file__).resolve().parents[2]


def test_a_session_killed_with_sigterm_tears_its_session_fixtures_down(tmp_path: Path) -> None:
    started, stopped = tmp_path / "started", tmp_path / "stopped"
    (tmp_path / "test_held.py").write_text(
        textwrap.dedent(f"""
        import signal
        import pytest

        @pytest.fixture(scope="session")
        def servers():
            open({str(started)!r}, "w").close()
            yield
            open({str(stopped)!r}, "w").close()

        def test_runs_until_killed(servers):
            signal.pause()  # until the signal the test sends
    """)
    )
    log = tmp_path / "session.log"
    with log.open("wb") as output:
        session = subprocess.Popen(  # noqa: S603 - our own interpreter and pytest
            [sys.executable, "-m", "pytest", "-p", "tests.sigterm", "-p", "no:cacheprovider",
             "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path / "test_held.py")],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            eventually_blocking(started.exists, timeout=60, what="the session fixture set up")
            session.send_signal(signal.SIGTERM)
            session.wait(timeout=60)
        finally:
            if session.poll() is None:
                session.kill()
                session.wait()
    output = log.read_text()
    assert stopped.exists(), output
    assert session.returncode != 0  # interrupted, not passed
