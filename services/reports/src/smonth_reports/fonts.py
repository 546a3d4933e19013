"""The Chinese typeface in the PDF (reportlab) and on the dashboard: Noto Sans SC, cut to the
characters a document uses (smonth_shared.typeface). The PDF embeds one fixed weight per style
(reportlab reads TrueType outlines, not variations); the dashboard gets the cut variable font.
"""

import hashlib
import io
from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabFont

from smonth_shared.typeface import BOLD, cut, web_font

REGULAR = 400
__all__ = ["BOLD", "REGULAR", "cut", "pdf_font", "web_font"]


def pdf_font(text: str, weight: int) -> str:
    """The name under which reportlab knows a font holding every character of `text`."""
    return _registered(frozenset(text), weight)


@cache
def _registered(characters: frozenset[str], weight: int) -> str:
    chars = "".join(sorted(characters))
    name = f"NotoSansSC-{weight}-{hashlib.sha256(chars.encode()).hexdigest()[:12]}"
    pdfmetrics.registerFont(ReportlabFont(name, io.BytesIO(cut(chars, weight=weight))))
    return name
