"""The pages' Chinese typeface: Noto Sans SC (SIL Open Font License) from the
`justmytype-intl-cjk` package, served by intake itself so that no page depends on a font CDN or on
the fonts of the visitor's machine.

Two cuts of one family. `page`: every character the pages can show (their templates and the
campaign's names), all weights, small, loaded on every page. `text`: the 3,755 common characters
of GB 2312 (level 1) at the regular weight, for what a tipster types; the browser fetches it only
for a character of its `unicode-range`, which leaves out every character of the first.
"""

from functools import cache

from smonth_shared.typeface import common_hanzi, cut

REGULAR = 400


@cache
def page_font(text: str) -> bytes:
    return cut(text, weight=None, flavor="woff")


@cache
def text_font() -> bytes:
    return cut(common_hanzi(), weight=REGULAR, flavor="woff")


@cache
def common_characters() -> tuple[str, ...]:
    return tuple(common_hanzi())


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
