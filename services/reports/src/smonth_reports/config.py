from smonth_shared.settings import ServiceSettings


class ReportsSettings(ServiceSettings):
    service_name: str = "reports"
    http_port: int = 8004
