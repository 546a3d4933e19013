"""The Chinese typeface of the PDF and the dashboard: Noto Sans SC (SIL Open Font License), shipped
by the `justmytype-intl-cjk` package as one variable TrueType font, so nothing depends on the
fonts of the machine that renders or prints.

The font is cut to the characters a document uses (a fraction of a second): the PDF embeds one
fixed weight per style (reportlab reads TrueType outlines, not variations); the dashboard gets
the cut variable font as a web font.
"""

import hashlib
import io
import string
from functools import cache
from importlib.resources import files

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabFont

FONT_FILE = files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"
ALWAYS = string.printable + "，。、；：？！“”‘’（）《》〔〕【】—…·％●○■□▲△　"
REGULAR, BOLD = 400, 700


def cut(text: str, *, weight: int | None) -> bytes:
    """The font with only the glyphs of `text` (and ASCII); at `weight`, or variable if None."""
    options = subset.Options()
    options.notdef_outline = True
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text + ALWAYS))))
    out = io.BytesIO()
    with TTFont(str(FONT_FILE), lazy=True) as font:
        subsetter.subset(font)
        if weight is not None:
            instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
            style = "Bold" if weight >= BOLD else "Regular"
            font["name"].setName(f"NotoSansSC-{style}", 6, 3, 1, 0x409)  # the PostScript name
        font.save(out)
    return out.getvalue()


def pdf_font(text: str, weight: int) -> str:
    """The name under which reportlab knows a font holding every character of `text`."""
    return _registered(frozenset(text), weight)


@cache
def _registered(characters: frozenset[str], weight: int) -> str:
    chars = "".join(sorted(characters))
    name = f"NotoSansSC-{weight}-{hashlib.sha256(chars.encode()).hexdigest()[:12]}"
    pdfmetrics.registerFont(ReportlabFont(name, io.BytesIO(cut(chars, weight=weight))))
    return name


@cache
def web_font(text: str) -> bytes:
    return cut(text, weight=None)
