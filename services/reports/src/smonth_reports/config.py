from pydantic import Field

from smonth_shared.settings import ServiceSettings


class ReportsSettings(ServiceSettings):
    service_name: str = "reports"
    http_port: int = 8004
    public_url: str | None = Field(
        default=None,
        description="The address other systems reach reports at (PUBLIC_URL); the links of "
        "published artifacts start with it. Default: http://HTTP_HOST:HTTP_PORT.",
    )

    intake_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Where people reach intake's pages (INTAKE_URL): the dashboard links the "
        "office's account administration there.",
    )

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")
