"""What the tests of deploy/ (alert rules, the Grafana dashboard) ask of PromQL and of a /metrics
page: which series an expression names, whether its brackets close, which series a page offers."""

import re

PAIRS = {")": "(", "]": "[", "}": "{"}
PROMETHEUS_OWN = {"up"}  # series Prometheus makes itself for each scrape


def named_series(expr: str) -> set[str]:
    """The project's series (and Prometheus' own) an expression reads."""
    return set(re.findall(r"\b(smonth_\w+|up)\b", expr))


def balanced(expr: str) -> bool:
    """Brackets of every kind closed in order, outside the quoted label values."""
    stack: list[str] = []
    for char in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
        if char in "([{":
            stack.append(char)
        elif char in PAIRS and (not stack or stack.pop() != PAIRS[char]):
            return False
    return not stack


def exported(text: str) -> set[str]:
    """The series names a /metrics page offers, those of families without samples yet too."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        suffixes = {"histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}
        names |= {name, *(name + suffix for suffix in suffixes.get(kind, ()))}
    return names
