"""The pages' Chinese typeface: Noto Sans SC (SIL Open Font License) from the
`justmytype-intl-cjk` package, served by intake itself so that no page depends on a font CDN or on
the fonts of the visitor's machine.

Two cuts of one family. `page`: every character the pages can show (their templates and the
campaign's names), all weights, small, loaded on every page. `text`: the 3,755 common characters
of GB 2312 (level 1) at the regular weight, for what a tipster types; the browser fetches it only
for a character of its `unicode-range`, which leaves out every character of the first.
"""

import io
import string
from functools import cache
from importlib.resources import files

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

FONT_FILE = files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"
ALWAYS = string.printable + "，。、；：？！“”‘’（）《》【】—…·　"
REGULAR = 400


def _cut(text: str, *, weight: int | None) -> bytes:
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
        font.flavor = "woff"
        font.save(out)
    return out.getvalue()


@cache
def page_font(text: str) -> bytes:
    return _cut(text, weight=None)


@cache
def text_font() -> bytes:
    return _cut("".join(common_characters()), weight=REGULAR)


@cache
def common_characters() -> tuple[str, ...]:
    """GB 2312 level 1: rows 16 to 55 of 94 cells, the last row ending at cell 89."""
    cells = ((row, cell) for row in range(0xB0, 0xD8) for cell in range(0xA1, 0xFF))
    return tuple(bytes(c).decode("gb2312") for c in cells if c < (0xD7, 0xFA))


def unicode_range(characters: tuple[str, ...]) -> str:
    """The characters as a CSS unicode-range, consecutive code points joined."""
    points = sorted({ord(c) for c in characters})
    spans: list[list[int]] = []
    for point in points:
        if spans and spans[-1][1] == point - 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)
