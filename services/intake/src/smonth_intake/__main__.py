from smonth_intake.app import MIGRATIONS, build
from smonth_intake.config import IntakeSettings
from smonth_shared.entrypoint import run_service

run_service(IntakeSettings, build, MIGRATIONS)
