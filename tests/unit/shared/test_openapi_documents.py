"""The OpenAPI documents of the four services say what the services answer and what they take."""

from typing import Any

import pytest
from cryptography.fernet import Fernet

from smonth_exposure.app import build as build_exposure
from smonth_exposure.config import ExposureSettings
from smonth_intake.app import build as build_intake
from smonth_intake.config import IntakeSettings
from smonth_notify.app import build as build_notify
from smonth_notify.config import NotifySettings
from smonth_reports.app import build as build_reports
from smonth_reports.config import ReportsSettings
from smonth_shared.campaign import PROVINCE_CODES, load_campaign
from smonth_shared.problems import PROBLEM_JSON

SECRET = "unit-test-secret-0123456789abcdef0123"
OAUTH_TOKEN = "/v1/oauth/token"  # RFC 6749 answers its errors as application/json


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    key = Fernet.generate_key().decode()
    apps = {
        "intake": build_intake(IntakeSettings(safety_month_jwt_secret=SECRET,
                                              tip_contact_key=key)),  # type: ignore[call-arg]
        "exposure": build_exposure(ExposureSettings(safety_month_jwt_secret=SECRET)),
        "notify": build_notify(NotifySettings(safety_month_jwt_secret=SECRET)),
        "reports": build_reports(ReportsSettings(safety_month_jwt_secret=SECRET)),
    }  # fmt: skip
    return {name: app.openapi() for name, app in apps.items()}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items()
            for method, op in ops.items()]  # fmt: skip


def test_every_refusal_is_documented_as_a_problem_document(
    documents: dict[str, dict[str, Any]],
) -> None:
    for document in documents.values():
        assert "HTTPValidationError" not in document["components"]["schemas"]
        for path, _, operation in operations(document):
            for status, response in operation["responses"].items():
                if status.startswith("4") and not (path == OAUTH_TOKEN and status in "400 401"):
                    assert list(response["content"]) == [PROBLEM_JSON], (path, status)


def test_an_operation_that_needs_a_token_documents_401_and_403(
    documents: dict[str, dict[str, Any]],
) -> None:
    secured = [(path, op) for document in documents.values()
               for path, _, op in operations(document) if op.get("security")]  # fmt: skip
    assert len(secured) > 20
    for path, operation in secured:
        assert {"401", "403"} <= set(operation["responses"]), path


def test_unit_and_province_codes_are_those_of_the_campaign(
    documents: dict[str, dict[str, Any]],
) -> None:
    schemas = documents["intake"]["components"]["schemas"]
    campaign = load_campaign("2021")
    assert schemas["ProgressReport"]["properties"]["unit"]["enum"] == [
        u.code for u in campaign.units
    ]
    indicators = schemas["ProgressReport"]["properties"]["indicators"]["propertyNames"]
    assert indicators["enum"] == list(campaign.indicator_codes)
    assert set(schemas["TipSubmission"]["properties"]["province"]["enum"]) == PROVINCE_CODES
    assert "x-registry" not in str(documents)
