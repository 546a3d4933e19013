"""intake's pages, in Chinese: the public 12350 tip form, its receipt and the receipt look-up,
rendered on the server over the API's own tip line (tipline.py); the signed-in unit's desk
(unit.py: tasks, attachments 1 and 2, history) and the signed-in pages of units and the office
(submissions.py: summary report, materials, cases, accounts), whose scripts call the API. None
reads the database."""

from fastapi import APIRouter

from smonth_intake.config import IntakeSettings
from smonth_intake.pages import app_assets, assets, submissions, tips, unit
from smonth_intake.tipline import Tipline
from smonth_shared.campaign import Campaign


def router(settings: IntakeSettings, campaign: Campaign, tipline: Tipline) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(tips.router(settings, campaign, tipline))
    pages.include_router(unit.router(campaign))
    pages.include_router(assets.router(campaign))
    pages.include_router(submissions.router(settings, campaign, tipline.runtime.clock))
    pages.include_router(app_assets.router(campaign))
    return pages
