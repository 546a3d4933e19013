"""Templates, the headers every page carries, and the refusals shown next to their fields."""

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from smonth_shared.problems import Problem
from smonth_shared.wording import chinese_day

ENVIRONMENT = Environment(
    loader=PackageLoader("smonth_intake", "pages/templates"), autoescape=True,
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)  # fmt: skip


ENVIRONMENT.filters["day"] = chinese_day
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # A page may hold a receipt code or a form's token: never kept by a cache or the back button.
    "Cache-Control": "no-store",
}


def html(template: str, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:  # fmt: skip
    body = ENVIRONMENT.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers={**HEADERS, **(headers or {})})


def refusal(
    problem: Problem, fields: dict[str, str]
) -> tuple[dict[str, str], dict[str, str] | None]:
    """The Chinese message of each refused field by the form's field name (`contact.phone` is
    `contact_phone`; a field's first message counts), and the banner above the form for a
    refusal that names no field of it (a rate limit, an outage)."""
    errors: dict[str, str] = {}
    for error in problem.errors:
        name = "_".join(str(part) for part in error.loc[:2])
        if name in fields:
            errors.setdefault(name, error.msg_zh)
    return errors, None if errors else {"kind": "error", "text": problem.detail_zh}
