"""intake's pages, rendered on the server in Chinese: the 12350 tip form, its receipt and the
receipt look-up, which call the same tip line as the API (tipline.py), never the database; and
the signed-in unit's desk (unit.py), whose script calls the API itself."""

from fastapi import APIRouter

from smonth_intake.config import IntakeSettings
from smonth_intake.pages import assets, tips, unit
from smonth_intake.tipline import Tipline
from smonth_shared.campaign import Campaign


def router(settings: IntakeSettings, campaign: Campaign, tipline: Tipline) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(tips.router(settings, campaign, tipline))
    pages.include_router(unit.router(campaign))
    pages.include_router(assets.router(campaign))
    return pages
