from smonth_reports.app import MIGRATIONS, build
from smonth_reports.config import ReportsSettings
from smonth_shared.entrypoint import run_service

run_service(ReportsSettings, build, MIGRATIONS)
