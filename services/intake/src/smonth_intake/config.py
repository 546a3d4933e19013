from pathlib import Path

from pydantic import Field, field_validator

from smonth_shared.events import INBOUND
from smonth_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    http_port: int = 8001
    tip_contact_key: str = Field(
        default="",
        description="Fernet key (urlsafe base64 of 32 bytes) encrypting tipsters' contact details.",
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

    @field_validator("tip_contact_key")
    @classmethod
    def _refuse_missing_key(cls, value: str) -> str:
        if len(value) != 44:
            raise ValueError(
                "TIP_CONTACT_KEY must be a Fernet key (44 characters of urlsafe base64); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        return value
