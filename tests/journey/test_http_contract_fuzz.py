"""The HTTP contract under a fuzzer: every operation of every service, with a token of each role
and without one, answers only what its OpenAPI document says — no 5xx, no undocumented status
or content type, no body or header off its schema, no invalid request accepted, no operation
that works without its token or takes a method it does not document.

Schemathesis generates the requests from each running service's own document, valid ones and
invalid ones; every finding is collected, so that one run shows them all.
"""

import time
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from safety_month.supervisor import SERVICES

RunningSystem = Any  # the `running_system` fixture of conftest.py

pytestmark = [pytest.mark.integration, pytest.mark.journey, pytest.mark.slow, pytest.mark.fuzz]

# Not `positive_data_acceptance`: a schema-valid body can still break a rule of the campaign that
# JSON Schema cannot say (an as-of date outside the month, a count below the unit's last snapshot,
# a file whose bytes are not its declared type, an e-mail that signs nobody in), and those answer
# 422, 415 or 400 as the documents say.

# A workbook upload is bytes like any file: the fuzzer sends what it makes of the schema's binary.
schemathesis.serializer.alias(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream"
)

CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_schema_conformance, negative_data_rejection, response_headers_conformance,
    missing_required_header, unsupported_method, ignored_auth,
]  # fmt: skip
EXAMPLES_PER_OPERATION = 12  # per role and per mode: 5 callers x 2 modes x 12 = 120 an operation
CALLERS: dict[str, tuple[str, str | None] | None] = {
    "anonymous": None,
    "unit": ("unit", "44"),
    "staff": ("staff", None),
    "system": ("system", None),
    "admin": ("admin", None),
}


def fuzz_operation(
    service: str, operation: Any, mode: GenerationMode, headers: dict[str, str],
    session: requests.Session, record: Callable[..., None],
) -> None:  # fmt: skip
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
        phases=[Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def examine(case: Any) -> None:
        response = case.call(headers=headers, session=session, timeout=60)
        failures: list[Failure] = []
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            failures = list(group.exceptions)
        except Failure as failure:
            failures = [failure]
        record(service, case, mode, response, failures)

    examine()


def test_every_operation_answers_only_what_its_document_says(
    running_system: RunningSystem,
) -> None:
    findings: dict[str, str] = {}
    cases = 0

    def record(service: str, case: Any, mode: str, response: Any, failures: list[Failure]) -> None:
        nonlocal cases
        cases += 1
        for failure in failures:
            finding = (f"{service} {case.method} {case.path} [{mode}] -> {response.status_code}: "
                       f"{failure.title}")  # fmt: skip
            findings.setdefault(finding, f"{finding}\n{failure}\n  {case.as_curl_command()}\n")

    started = time.monotonic()
    operations = 0
    with requests.Session() as session:
        for service in SERVICES:
            url = running_system.url(service)
            schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
            for result in schema.get_all_operations():
                operation = result.ok()
                operations += 1
                for who, role in CALLERS.items():
                    headers = running_system.auth(*role) if role else {}
                    before = len(findings)
                    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                        fuzz_operation(service, operation, mode, headers, session, record)
                    if len(findings) > before:
                        print(f"{service} {operation.label} as {who}: {len(findings) - before}")
    elapsed = time.monotonic() - started
    print(f"fuzz: {cases} cases over {operations} operations of {len(SERVICES)} services "
          f"in {elapsed:.0f} s")  # fmt: skip
    assert operations >= 30
    failing = {service for service in SERVICES for finding in findings
               if finding.startswith(service) and "-> 5" in finding}  # fmt: skip
    logs = "\n".join(running_system.recent_logs(service, 60) for service in sorted(failing))
    assert not findings, f"{len(findings)} findings:\n" + "\n".join(findings.values()) + logs
