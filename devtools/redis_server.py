"""A throwaway real Redis server for tests: Rasa's lock store, run for real, on loopback.

It can be stopped and started again on the same port, to play a Redis that goes away and
comes back. Nothing is persisted: locks are short-lived by nature.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from devtools.servers import free_port

INSTALL_HINT = "install the server binaries with scripts/install-services.sh"


class RedisUnavailable(RuntimeError):
    """redis-server is not installed here; the message says how to fix it."""


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, with no persistence."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RedisUnavailable(f"redis-server not found: {INSTALL_HINT}")
        self.binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="assistant-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self, timeout: float = 20) -> RedisServer:
        if self.process is not None and self.process.poll() is None:
            return self
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
        raise RedisUnavailable(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
