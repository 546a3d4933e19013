from pydantic import Field

from smonth_shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    http_port: int = 8003
    smtp_host: str = Field(default="localhost", description="The mail server reminders go through.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(
        default="notify@localhost", description="The From address of reminder e-mails."
    )
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds per SMTP conversation.")
    sms_gateway_url: str | None = Field(
        default=None, description="HTTP gateway taking POST {to, text}; unset: no SMS is planned."
    )
    sms_timeout: float = Field(default=10.0, gt=0, description="Seconds per gateway request.")
    office_fallback_email: str | None = Field(
        default=None,
        description="Where a unit's reminder goes while it has no liaison; unset: the office's "
        "own address from the campaign file.",
    )
    daily_cap_per_unit: int | None = Field(
        default=None,
        ge=1,
        description="Overrides the campaign file's reminders.daily_cap_per_unit.",
    )
    send_max_attempts: int = Field(
        default=5, ge=1, description="Attempts at one reminder before it is recorded as failed."
    )
    send_backoff_initial: float = Field(default=1.0, gt=0, description="Seconds before a retry.")
    send_backoff_max: float = Field(default=60.0, gt=0, description="Longest wait between tries.")
    send_retry_interval: float = Field(
        default=600.0, gt=0,
        description="Seconds (of the service's clock) before a reminder the mail server or the "
        "gateway did not take is tried again; it is tried until its day is over.",
    )  # fmt: skip
    send_concurrency: int = Field(default=8, ge=1, description="Reminders in flight at once.")
