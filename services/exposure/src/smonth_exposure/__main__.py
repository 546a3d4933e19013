from smonth_exposure.app import MIGRATIONS, build
from smonth_exposure.config import ExposureSettings
from smonth_shared.entrypoint import run_service

run_service(ExposureSettings, build, MIGRATIONS)
