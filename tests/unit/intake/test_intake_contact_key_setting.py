"""TIP_CONTACT_KEY: one Fernet key or several, comma-separated, the first encrypting."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from smonth_intake.config import IntakeSettings


def settings(keys: str) -> IntakeSettings:
    return IntakeSettings(
        database_url="postgresql://db/safety_month", safety_month_jwt_secret="s" * 32,
        tip_contact_key=keys,
    )  # fmt: skip


def test_each_key_of_the_setting_must_be_a_fernet_key() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="key 2 of 2 is not a Fernet key"):
        settings(f"{good},not-a-key")
    with pytest.raises(ValidationError, match="key 1 of 1 is not a Fernet key"):
        settings("")
    assert settings(f" {good} ").tip_contact_key == good


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = Fernet(old).encrypt(b"contact")
    cipher = settings(f"{new.decode()},{old.decode()}").contact_cipher()
    assert cipher.decrypt(token) == b"contact"
    assert Fernet(new).decrypt(cipher.encrypt(b"contact")) == b"contact"
