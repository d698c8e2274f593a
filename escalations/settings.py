"""Escalation settings, read from the environment only.

Secrets (the webhook secret, the Twilio token) must never live in a file in the repository,
so nothing here reads a file. A half-configured target is a mistake that would otherwise
fail silently at the worst moment, so it is refused loudly with an ERROR log instead.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Mapping, Tuple
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)

WEBHOOK = "webhook"
SMS = "sms"
DEFAULT_DB_URL = "sqlite:///escalations.db"
DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"
TWILIO_VARIABLES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "ESCALATION_SMS_TO")


class SettingsError(ValueError):
    """A setting that cannot be used at all (for example a number that is not a number)."""


@dataclass(frozen=True)
class Settings:
    """Everything the escalation package needs; secrets are kept out of repr()."""

    db_url: str = DEFAULT_DB_URL
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_number: str | None = field(default=None, repr=False)
    sms_to: str | None = field(default=None, repr=False)
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    dedup_seconds: float = 120.0
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    give_up_hours: float = 24.0
    http_timeout_seconds: float = 5.0
    problems: Tuple[str, ...] = ()

    @property
    def twilio_messages_url(self) -> str:
        """Twilio's Messages resource for this account."""
        base = self.twilio_api_base_url.rstrip("/")
        return f"{base}/2010-04-01/Accounts/{quote(self.twilio_account_sid or '', safe='')}/Messages.json"

    @property
    def webhook_enabled(self) -> bool:
        """True only for a usable webhook: a URL, a secret and https (or a loopback host)."""
        return bool(self.webhook_url and self.webhook_secret) and _transport_problem(self.webhook_url) is None

    @property
    def sms_enabled(self) -> bool:
        """True only when all four Twilio settings are present and the API URL is safe."""
        return all(
            (self.twilio_account_sid, self.twilio_auth_token, self.twilio_number, self.sms_to)
        ) and _transport_problem(self.twilio_api_base_url) is None

    @property
    def targets(self) -> Tuple[str, ...]:
        """The targets that get a notification for each new escalation."""
        return tuple(t for t, on in ((WEBHOOK, self.webhook_enabled), (SMS, self.sms_enabled)) if on)

    @property
    def give_up_seconds(self) -> float:
        """ESCALATION_GIVE_UP_HOURS in seconds."""
        return self.give_up_hours * 3600.0


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 and ::1: the only hosts plain http is allowed to."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _transport_problem(url: str) -> str | None:
    """Why this URL must not carry secrets or patient data, or None when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an http(s) URL with a host"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "must use https (plain http is allowed only to localhost)"
    return None


def _number(environ: Mapping[str, str], name: str, default: float, allow_zero: bool = False) -> float:
    """A positive number (or zero when allowed); anything else is refused, never guessed."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        wanted = "zero or more" if allow_zero else "more than zero"
        raise SettingsError(f"{name} must be {wanted}, got {raw!r}")
    return value


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    return value or None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Reads the settings from `environ` (default: os.environ) and logs what is misconfigured.

    Raises SettingsError only for values that cannot be interpreted; a target that is
    incomplete or unsafe is disabled (never half-used) and reported with an ERROR.
    """
    environ = os.environ if environ is None else environ
    settings = Settings(
        db_url=_text(environ, "ESCALATION_DB_URL") or DEFAULT_DB_URL,
        webhook_url=_text(environ, "ESCALATION_WEBHOOK_URL"),
        webhook_secret=_text(environ, "ESCALATION_WEBHOOK_SECRET"),
        twilio_account_sid=_text(environ, "TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_text(environ, "TWILIO_AUTH_TOKEN"),
        twilio_number=_text(environ, "TWILIO_NUMBER"),
        sms_to=_text(environ, "ESCALATION_SMS_TO"),
        twilio_api_base_url=(_text(environ, "TWILIO_API_BASE_URL") or DEFAULT_TWILIO_API_BASE_URL),
        dedup_seconds=_number(environ, "ESCALATION_DEDUP_SECONDS", 120.0, allow_zero=True),
        retry_base_seconds=_number(environ, "ESCALATION_RETRY_BASE_SECONDS", 2.0),
        retry_max_seconds=_number(environ, "ESCALATION_RETRY_MAX_SECONDS", 600.0),
        give_up_hours=_number(environ, "ESCALATION_GIVE_UP_HOURS", 24.0),
        http_timeout_seconds=_number(environ, "ESCALATION_HTTP_TIMEOUT_SECONDS", 5.0),
    )
    problems = []
    if settings.webhook_url:
        if not settings.webhook_secret:
            problems.append(
                "ESCALATION_WEBHOOK_URL is set but ESCALATION_WEBHOOK_SECRET is not: "
                "refusing to deliver unsigned escalations; the webhook is disabled"
            )
        transport = _transport_problem(settings.webhook_url)
        if transport:
            problems.append(f"ESCALATION_WEBHOOK_URL {transport}; the webhook is disabled")
    elif settings.webhook_secret:
        problems.append("ESCALATION_WEBHOOK_SECRET is set but ESCALATION_WEBHOOK_URL is not; no webhook")
    present = [name for name in TWILIO_VARIABLES if _text(environ, name)]
    if present and len(present) < len(TWILIO_VARIABLES):
        missing = [name for name in TWILIO_VARIABLES if name not in present]
        problems.append(f"SMS is disabled: {', '.join(missing)} not set (the other Twilio settings are)")
    elif present:
        transport = _transport_problem(settings.twilio_api_base_url)
        if transport:
            problems.append(f"TWILIO_API_BASE_URL {transport}; SMS is disabled")
    for problem in problems:
        logger.error("Escalation settings: %s", problem)
    if not settings.targets:
        logger.warning("No escalation notification target is enabled: escalations are only recorded")
    return replace(settings, problems=tuple(problems))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """This process's settings, read (and their problems logged) once."""
    return load_settings()
