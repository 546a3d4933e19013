"""The local deployment's secrets: taken from the environment, or made once and kept in .run/."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

GENERATORS = {
    "SAFETY_MONTH_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "TIP_CONTACT_KEY": lambda: Fernet.generate_key().decode(),
}


def local_secrets(folder: Path) -> dict[str, str]:
    """Environment first; otherwise the values kept in `folder/secrets.env` (mode 600)."""
    path = folder / "secrets.env"
    kept = dict(
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line
    ) if path.exists() else {}  # fmt: skip
    values = {
        name: os.environ.get(name) or kept.get(name) or make() for name, make in GENERATORS.items()
    }
    if any(kept.get(name) != value for name, value in values.items() if name not in os.environ):
        folder.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return values
