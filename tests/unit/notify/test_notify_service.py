"""notify's settings and composition: what an operator sets, what the service serves."""

import pytest

from smonth_notify.app import build
from smonth_notify.config import NotifySettings

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_the_settings_are_read_from_the_environment_under_their_contract_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTP_HOST", "mail.example.cn")
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("SMTP_SENDER", "notify@example.cn")
    monkeypatch.setenv("SMS_GATEWAY_URL", "http://sms.example.cn/send")
    monkeypatch.setenv("OFFICE_FALLBACK_EMAIL", "office@example.cn")
    monkeypatch.setenv("SEND_MAX_ATTEMPTS", "4")
    settings = NotifySettings(safety_month_jwt_secret=SECRET)
    assert (settings.service_name, settings.http_port, settings.db_schema) == (
        "notify", 8003, "notify"
    )  # fmt: skip
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_sender) == (
        "mail.example.cn", 2525, "notify@example.cn"
    )  # fmt: skip
    assert settings.sms_gateway_url == "http://sms.example.cn/send"
    assert (settings.office_fallback_email, settings.send_max_attempts) == ("office@example.cn", 4)


def test_the_service_serves_the_reminders_and_documents_its_events() -> None:
    app = build(NotifySettings(safety_month_jwt_secret=SECRET))
    paths = app.openapi()["paths"]
    assert "/v1/reminders" in paths
    assert {"/healthz", "/readyz", "/metrics", "/asyncapi.json"} <= {
        getattr(route, "path", "") for route in app.routes
    }
