from smonth_shared.entrypoint import run_service

from smonth_reports.app import MIGRATIONS, build
from smonth_reports.config import ReportsSettings

run_service(ReportsSettings, build, MIGRATIONS)
