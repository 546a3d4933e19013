"""The Chinese typeface of every page and document: Noto Sans SC (SIL Open Font License), shipped
by the `justmytype-intl-cjk` package as one variable TrueType font, so nothing depends on the
fonts of the machine that renders, prints or shows it.

The font is cut to the characters a page or document uses (a fraction of a second).
"""

import io
import string
from functools import cache
from importlib.resources import files

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

FONT_FILE = files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"
ALWAYS = string.printable + "，。、；：？！“”‘’（）《》〔〕【】—…·％●○■□▲△　"
BOLD = 700


def cut(text: str, *, weight: int | None, flavor: str | None = None) -> bytes:
    """The font with only the glyphs of `text` (and ASCII); at `weight`, or variable if None;
    as TrueType, or `flavor` ("woff") for a page."""
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
        font.flavor = flavor
        font.save(out)
    return out.getvalue()


def common_hanzi() -> str:
    """The 3,755 characters of GB 2312's first level, in which nearly every person's and
    place's name is written: a page that shows names (data, not its own words) cuts the font
    to these as well (about 2 MB, some seconds to cut, once per process)."""
    return "".join(
        bytes([row, cell]).decode("gb2312")
        for row in range(0xB0, 0xD8)
        for cell in range(0xA1, 0xFF)
        if not (row == 0xD7 and cell > 0xF9)  # the level ends at D7F9
    )


@cache
def web_font(text: str) -> bytes:
    """The variable font cut to `text`, for a page's @font-face."""
    return cut(text, weight=None)
