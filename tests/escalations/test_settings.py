"""Settings come from the environment; half-configured targets are refused loudly."""

from __future__ import annotations

import logging

import pytest

from escalations.settings import SettingsError, load_settings

TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC1",
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_NUMBER": "+15550100000",
    "ESCALATION_SMS_TO": "+15550199999",
}


def test_defaults_enable_nothing():
    settings = load_settings({})
    assert settings.db_url == "sqlite:///escalations.db"
    assert settings.targets == ()
    assert (settings.dedup_seconds, settings.retry_base_seconds, settings.retry_max_seconds) == (120, 2, 600)
    assert (settings.give_up_hours, settings.http_timeout_seconds) == (24, 5)
    assert settings.twilio_api_base_url == "https://api.twilio.com"


def test_a_complete_configuration_enables_both_targets():
    settings = load_settings(
        {"ESCALATION_WEBHOOK_URL": "https://care.example/hook", "ESCALATION_WEBHOOK_SECRET": "s", **TWILIO,
         "ESCALATION_DB_URL": "postgresql+psycopg2://u@db:5432/clinic", "ESCALATION_DEDUP_SECONDS": "30"}
    )
    assert settings.targets == ("webhook", "sms")
    assert settings.db_url == "postgresql+psycopg2://u@db:5432/clinic" and settings.dedup_seconds == 30
    assert settings.twilio_messages_url == "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    assert "token" not in repr(settings) and "+1555" not in repr(settings)


def test_a_webhook_without_a_secret_is_refused_with_an_error(caplog):
    with caplog.at_level(logging.ERROR, logger="escalations"):
        settings = load_settings({"ESCALATION_WEBHOOK_URL": "https://care.example/hook"})
    assert not settings.webhook_enabled and settings.targets == ()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("ESCALATION_WEBHOOK_SECRET" in message for message in errors)


@pytest.mark.parametrize(
    ("url", "enabled"),
    [
        ("http://care.example/hook", False),
        ("http://10.0.0.5/hook", False),
        ("ftp://care.example/hook", False),
        ("https://care.example/hook", True),
        ("http://localhost:8080/hook", True),
        ("http://127.0.0.2:8080/hook", True),
        ("http://[::1]:8080/hook", True),
    ],
)
def test_plain_http_only_to_loopback(url, enabled, caplog):
    with caplog.at_level(logging.ERROR, logger="escalations"):
        settings = load_settings({"ESCALATION_WEBHOOK_URL": url, "ESCALATION_WEBHOOK_SECRET": "s"})
    assert settings.webhook_enabled is enabled
    assert bool(caplog.records) is not enabled


@pytest.mark.parametrize("left_out", sorted(TWILIO))
def test_sms_needs_all_four_settings(left_out, caplog):
    env = {k: v for k, v in TWILIO.items() if k != left_out}
    with caplog.at_level(logging.ERROR, logger="escalations"):
        settings = load_settings(env)
    assert not settings.sms_enabled
    assert left_out in caplog.text


def test_twilio_stand_in_must_be_https_or_local():
    assert load_settings({**TWILIO, "TWILIO_API_BASE_URL": "http://127.0.0.1:9999"}).sms_enabled
    assert not load_settings({**TWILIO, "TWILIO_API_BASE_URL": "http://twilio.example"}).sms_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [("ESCALATION_DEDUP_SECONDS", "two minutes"), ("ESCALATION_RETRY_BASE_SECONDS", "0"),
     ("ESCALATION_GIVE_UP_HOURS", "-1"), ("ESCALATION_HTTP_TIMEOUT_SECONDS", "nan")],
)
def test_numbers_that_make_no_sense_are_refused(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})
