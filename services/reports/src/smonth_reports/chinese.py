"""Figures and dates written the way the office publishes them: 1934万人次, 11.4万条次, 2.3亿份."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from smonth_shared.wording import chinese_day

WAN = 10_000
YI = 100_000_000


def cn_number(value: int) -> str:
    """Below 1万 the digits as they are; from 1万 in 万, from 1亿 in 亿, with one decimal below a
    thousand of them (11.4万, 2.3亿) and none from a thousand on (1934万): the precision of a press
    release. Rounded half up; a value that rounds up to 1万万 is written 1亿."""
    if value < 0:
        return "-" + cn_number(-value)
    if value < WAN:
        return str(value)
    size, name = (YI, "亿") if value >= YI else (WAN, "万")
    scaled = Decimal(value) / size
    rounded = scaled.quantize(Decimal(1) if scaled >= 1000 else Decimal("0.1"), ROUND_HALF_UP)
    if name == "万" and rounded >= WAN:
        return "1亿"
    return _plain(rounded) + name


def cn_amount(value: int, unit: str) -> str:
    """A figure with its measuring unit: cn_amount(19_340_000, "人次") == "1934万人次"."""
    return cn_number(value) + unit


cn_date = chinese_day


def cn_moment(moment: datetime) -> str:
    """An instant in the office's own time zone (the caller converts): 2021年7月6日9时."""
    text = f"{cn_date(moment.date())}{moment.hour}时"
    return text + (f"{moment.minute}分" if moment.minute else "")


def cn_month(month: str) -> str:
    """'2021-06' as 2021年6月."""
    year, number = month.split("-")
    return f"{year}年{int(number)}月"


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
