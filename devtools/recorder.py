"""A local HTTP server that records requests: a stand-in for the clinic's webhook and Twilio.

Tests point the escalation senders at it, tell it what status to answer with, and stop
and restart it on the same port to play a receiver that is down for a while.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Deque, Dict, List

from devtools.servers import free_port


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived: the raw body is exactly the bytes on the wire."""

    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # restart on the same port right after stopping
    daemon_threads = True


class Recorder:
    """Records every request; answers with queued statuses, then the default status."""

    def __init__(self, status: int = 200, body: bytes = b'{"ok": true}', port: int | None = None) -> None:
        self.port = port or free_port()
        self.default_status = status
        self.response_body = body
        self.delay_seconds = 0.0
        self.requests: List[RecordedRequest] = []
        self._statuses: Deque[int] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:PORT (the same across restarts)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether it is listening right now."""
        return self._server is not None

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order, then the default again."""
        with self._lock:
            self._statuses.extend(statuses)

    def set_status(self, status: int) -> None:
        """The status for every request from now on (after any queued ones)."""
        with self._lock:
            self.default_status = status

    def _next_status(self) -> int:
        with self._lock:
            return self._statuses.popleft() if self._statuses else self.default_status

    def _record(self, request: RecordedRequest) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> List[RecordedRequest]:
        """Blocks until at least `count` requests have arrived; raises on timeout."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived in {timeout} s")
            return list(self.requests)

    def start(self) -> Recorder:
        """Starts listening on 127.0.0.1 and this recorder's port."""
        if self._server is not None:
            return self
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder._record(RecordedRequest(self.command, self.path, dict(self.headers.items()), body))
                if recorder.delay_seconds:
                    time.sleep(recorder.delay_seconds)
                status = recorder._next_status()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(recorder.response_body)))
                self.end_headers()
                self.wfile.write(recorder.response_body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="recorder", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops listening: connections are refused until start() is called again."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def restart(self) -> None:
        """Stops and starts again on the same port."""
        self.stop()
        self.start()

    def clear(self) -> None:
        """Forgets the requests recorded so far."""
        with self._lock:
            self.requests.clear()

    def by_path(self, prefix: str) -> List[RecordedRequest]:
        """The recorded requests whose path starts with `prefix` (webhook vs Twilio)."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
