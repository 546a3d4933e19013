from smonth_shared.settings import ServiceSettings


class ExposureSettings(ServiceSettings):
    service_name: str = "exposure"
    http_port: int = 8002
