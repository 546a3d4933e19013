from smonth_shared.entrypoint import run_service

from smonth_intake.app import MIGRATIONS, build
from smonth_intake.config import IntakeSettings

run_service(IntakeSettings, build, MIGRATIONS)
