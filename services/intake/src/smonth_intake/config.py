from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from pydantic import Field, field_validator

from smonth_shared.events import INBOUND, INBOUND_REDRIVEN
from smonth_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
    tip_contact_key: str = Field(
        default="",
        description="Fernet keys (urlsafe base64 of 32 bytes) encrypting tipsters' contact "
        "details, comma-separated: the first encrypts, each decrypts. To rotate, put a new key "
        "first, run `python -m smonth_intake rotate-contact-key`, then drop the old one.",
    )
    blob_dir: Path = Field(default=Path(".run/blobs"), description="Where uploaded files are kept.")
    tip_rate_per_minute: int = Field(
        default=30,
        ge=1,
        description="Tips (and, apart, receipt look-ups) per client address a minute.",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="Largest file of a material (413 beyond)."
    )
    max_summary_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest file of a summary report (413 beyond)."
    )
    inbound_topic: str = Field(
        default=INBOUND.name, description="Where ministry systems publish their envelopes."
    )
    inbound_consumer: str = Field(
        default="intake", description="The consumer (group smonth.<name>) reading inbound_topic."
    )
    inbound_redriven_topic: str = Field(
        default=INBOUND_REDRIVEN.name,
        description="Where the operator re-drives ministry systems' dead letters (group "
        "smonth.<inbound_consumer>.redriven, with inbound_consumer's inbox).",
    )

    public_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Where people reach intake's pages: the links of invitations and resets.",
    )
    smtp_host: str = Field(default="localhost", description="The mail server for account mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(default="安全生产月 <noreply@safety-month.local>")
    access_token_ttl: int = Field(
        default=900,
        ge=60,
        le=3600,
        description="Seconds an access token lives (a withdrawal acts before, everywhere).",
    )
    session_days: int = Field(default=14, ge=1, le=90, description="A sign-in's longest life.")

    @field_validator("tip_contact_key")
    @classmethod
    def _refuse_missing_key(cls, value: str) -> str:
        keys = [key.strip() for key in value.split(",")]
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key.encode())
            except ValueError:
                raise ValueError(
                    f"TIP_CONTACT_KEY: key {position} of {len(keys)} is not a Fernet key (44 "
                    "characters of urlsafe base64; keys are separated by commas); make one with: "
                    "python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                ) from None
        return ",".join(keys)

    def contact_cipher(self) -> MultiFernet:
        """Encrypts with the first key, decrypts with any."""
        return MultiFernet([Fernet(key.encode()) for key in self.tip_contact_key.split(",")])
