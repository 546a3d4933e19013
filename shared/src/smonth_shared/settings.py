"""The settings every service shares; each service extends this class with its own."""

from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from smonth_shared.auth import IdentityProvider
from smonth_shared.clock import parse_speed_changes
from smonth_shared.kafka import KafkaAccess, SaslMechanism, SecurityProtocol

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev-secret"}


class ServiceSettings(BaseSettings):
    """Read from the environment (and a `.env` file, if present); names are upper-case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    service_name: str = Field(
        description="The service's name: intake, exposure, notify or reports."
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/safety_month",
        description="PostgreSQL; each service uses only its own schema in it.",
    )
    kafka_bootstrap_servers: str = Field(default="localhost:9092")
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        description="SASL_PLAINTEXT or SASL_SSL with a user and password (SCRAM), SSL for a "
        "client certificate (mutual TLS), PLAINTEXT only on a network nobody else reaches.",
    )
    kafka_sasl_mechanism: SaslMechanism = Field(default="SCRAM-SHA-512")
    kafka_sasl_username: str | None = Field(
        default=None, description="This service's own principal on the cluster."
    )
    kafka_sasl_password: str | None = Field(default=None, repr=False)
    kafka_ssl_cafile: str | None = Field(default=None, description="The cluster's CA (PEM).")
    kafka_ssl_certfile: str | None = Field(
        default=None, description="This service's client certificate (PEM), for mutual TLS."
    )
    kafka_ssl_keyfile: str | None = Field(default=None, description="Its private key (PEM).")
    oidc_jwks_url: str | None = Field(
        default=None,
        description="A deployment's own identity provider: its JWKS document (RS256/ES256 "
        "tokens with the same claims are then taken besides intake's own).",
    )
    oidc_issuer: str | None = Field(default=None, description="Its `iss`.")
    oidc_audience: str | None = Field(default=None, description="The `aud` it gives us.")
    http_host: str = Field(default="127.0.0.1")
    http_port: int = Field(default=8000, ge=1, le=65535)
    campaign: str = Field(default="2021", description="The campaign this deployment serves.")
    campaign_file: Path | None = Field(
        default=None, description="A campaign file to use instead of the one shipped for CAMPAIGN."
    )
    clock_start: AwareDatetime | None = Field(
        default=None, description="Simulated clock: the instant it shows at CLOCK_ORIGIN."
    )
    clock_origin: AwareDatetime | None = Field(
        default=None,
        description="Simulated clock: the wall-clock instant at which it showed CLOCK_START. "
        "Every process given the same origin shows the same simulated time.",
    )
    clock_speed: float = Field(default=1.0, gt=0, description="Simulated seconds per wall second.")
    clock_speed_changes: str = Field(
        default="",
        description="Later speeds of the simulated clock: 'INSTANT=SPEED; ...' (RFC 3339 instants).",
    )
    safety_month_jwt_secret: str = Field(
        default="", description="HS256 key of the bearer tokens (SAFETY_MONTH_JWT_SECRET)."
    )
    log_level: str = Field(default="INFO")
    consumer_group_prefix: str = Field(
        default="smonth",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Consumer groups are named PREFIX.<consumer>; a new prefix reads the topics "
        "from their beginning (a second deployment side by side, a rebuilt environment).",
    )
    relay_batch_size: int = Field(default=2000, ge=1)
    consumer_max_attempts: int = Field(
        default=5, ge=1, description="Attempts at a failing event before it is dead-lettered."
    )

    @field_validator("clock_speed_changes")
    @classmethod
    def _readable_speed_changes(cls, value: str) -> str:
        try:
            changes = parse_speed_changes(value)
        except ValueError:
            raise ValueError(
                "CLOCK_SPEED_CHANGES must read 'INSTANT=SPEED; ...', "
                "e.g. '2021-07-08T00:00:00+08:00=250000'"
            ) from None
        if any(instant.tzinfo is None or speed <= 0 for instant, speed in changes):
            raise ValueError("each change needs an instant with its offset and a positive speed")
        return value

    @field_validator("safety_month_jwt_secret")
    @classmethod
    def _refuse_placeholder_secret(cls, value: str) -> str:
        if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < 32:
            raise ValueError(
                "SAFETY_MONTH_JWT_SECRET must be set to a random value of at least 32 characters"
            )
        return value

    @model_validator(mode="after")
    def _credentials_for_sasl(self) -> "ServiceSettings":
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (this service's principal)"
            )
        return self

    @model_validator(mode="after")
    def _whole_identity_provider(self) -> "ServiceSettings":
        given = [self.oidc_jwks_url, self.oidc_issuer, self.oidc_audience]
        if any(given) and not all(given):
            raise ValueError("OIDC_JWKS_URL, OIDC_ISSUER and OIDC_AUDIENCE go together")
        return self

    @property
    def identity_provider(self) -> IdentityProvider | None:
        if self.oidc_jwks_url and self.oidc_issuer and self.oidc_audience:
            return IdentityProvider(self.oidc_jwks_url, self.oidc_issuer, self.oidc_audience)
        return None

    @property
    def kafka(self) -> KafkaAccess:
        return KafkaAccess(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism, username=self.kafka_sasl_username,
            password=self.kafka_sasl_password, ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile, ssl_keyfile=self.kafka_ssl_keyfile,
        )  # fmt: skip

    def consumer_group(self, consumer: str) -> str:
        return f"{self.consumer_group_prefix}.{consumer}"

    @property
    def db_schema(self) -> str:
        """Each service owns one PostgreSQL schema named after it."""
        return self.service_name


def kafka_settings(kafka: KafkaAccess) -> dict[str, Any]:
    """The settings fields that make a service reach the cluster as `kafka` says (a service
    built in-process by a test or a benchmark)."""
    return {"kafka_bootstrap_servers": kafka.bootstrap_servers,
            "kafka_security_protocol": kafka.security_protocol,
            "kafka_sasl_mechanism": kafka.sasl_mechanism,
            "kafka_sasl_username": kafka.username, "kafka_sasl_password": kafka.password,
            "kafka_ssl_cafile": kafka.ssl_cafile, "kafka_ssl_certfile": kafka.ssl_certfile,
            "kafka_ssl_keyfile": kafka.ssl_keyfile}  # fmt: skip
