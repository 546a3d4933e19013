from smonth_notify.app import MIGRATIONS, build
from smonth_notify.config import NotifySettings
from smonth_shared.entrypoint import run_service

run_service(NotifySettings, build, MIGRATIONS)
