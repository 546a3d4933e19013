"""The shape DESIGN.md fixes, checked: services never import each other."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_services_never_import_each_other_and_shared_imports_no_service() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - the project's own tool
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_has_the_same_modules() -> None:
    expected = {"__init__.py", "__main__.py", "app.py", "config.py", "domain.py", "handlers.py",
                "repository.py", "api.py"}  # fmt: skip
    for service in ("intake", "exposure", "notify", "reports"):
        package = ROOT / "services" / service / "src" / f"smonth_{service}"
        present = {path.name for path in package.glob("*.py")}
        assert expected <= present, f"{service} lacks {sorted(expected - present)}"
        assert sorted((package / "migrations").glob("[0-9][0-9][0-9]_*.sql")), service
