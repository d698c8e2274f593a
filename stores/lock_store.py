"""The lock store: Redis when REDIS_URL is set (required with several Rasa replicas), else
Rasa's in-memory one.

Rasa locks each conversation while it handles a message, so two messages of the same
conversation are processed one after the other, in order. With one process an in-memory
lock does that; with several replicas the lock has to live in Redis, or two replicas could
answer the same conversation at once and interleave its events.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

URL_VARIABLE = "REDIS_URL"
KEY_PREFIX = "spine_assistant"


def redis_settings(url: str) -> dict:
    """RedisLockStore's arguments from a URL like redis://:password@redis:6379/1."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"{URL_VARIABLE} must look like redis://[:password@]host[:port][/db]")
    path = parts.path.strip("/")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(path) if path else 1,
        "username": parts.username or None,
        "password": parts.password or None,
        "use_ssl": parts.scheme == "rediss",
    }


class EnvLockStore(LockStore):
    """Named in endpoints.yml; Rasa instantiates it and gets the store the environment asks for.

    Rasa builds a custom lock store by calling the class with `endpoint_config=...`, so
    `__new__` returns a ready RedisLockStore or InMemoryLockStore instead of an instance of
    this class: every lock operation is then Rasa's own, tested code.
    """

    def __new__(cls, endpoint_config: EndpointConfig | None = None, **_: Any) -> LockStore:  # type: ignore[misc]
        url = os.environ.get(URL_VARIABLE, "").strip()
        if not url:
            logger.info("Lock store: in memory (one Rasa process only)")
            return InMemoryLockStore()
        settings = redis_settings(url)
        prefix = (endpoint_config.kwargs.get("key_prefix") if endpoint_config else None) or KEY_PREFIX
        logger.info("Lock store: Redis at %s:%s db %s", settings["host"], settings["port"], settings["db"])
        return RedisLockStore(key_prefix=prefix, **settings)
