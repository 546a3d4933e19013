"""China's working days: public holidays off, the weekend days worked in exchange (调休) on.

The State Council publishes each year's schedule late in the year before; the maintained
`chinese-calendar` package carries it. A day outside the years it knows is refused, never guessed.
"""

from datetime import date, timedelta

import chinese_calendar

FIRST_YEAR = min(chinese_calendar.holidays).year
LAST_YEAR = max(chinese_calendar.holidays).year


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise ValueError(
            f"{day}: chinese-calendar {chinese_calendar.__version__} knows China's working days "
            f"of {FIRST_YEAR}–{LAST_YEAR} only (a newer release adds a year once the State Council "
            "has published its holidays)"
        ) from None


def shift(day: date, working_days: int) -> date:
    """The n-th working day after `day` (before it when n < 0); `day` itself when n = 0."""
    step = timedelta(days=1 if working_days > 0 else -1)
    for _ in range(abs(working_days)):
        day += step
        while not is_working_day(day):
            day += step
    return day


def in_month(year: int, month: int) -> tuple[date, ...]:
    first = date(year, month, 1)
    days = (first + timedelta(days=n) for n in range(31))
    return tuple(d for d in days if d.month == month and is_working_day(d))
