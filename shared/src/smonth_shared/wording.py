"""How the services write what a person reads in Chinese, the same in every one of them."""

from datetime import date


def chinese_day(day: date) -> str:
    """2021年7月5日: as the office writes a date, and as a date input shows it in a zh-CN browser."""
    return f"{day.year}年{day.month}月{day.day}日"
