import sys

from smonth_intake.app import MIGRATIONS, build
from smonth_intake.config import IntakeSettings
from smonth_intake.contact_keys import rotate_contact_key_command
from smonth_intake.registry import import_units_command
from smonth_shared.entrypoint import run_service

if sys.argv[1:2] == ["import-units"]:
    sys.exit(import_units_command(sys.argv[2:]))
if sys.argv[1:2] == ["rotate-contact-key"]:
    sys.exit(rotate_contact_key_command(sys.argv[2:]))
run_service(IntakeSettings, build, MIGRATIONS)
