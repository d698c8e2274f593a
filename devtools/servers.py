"""Start the real action server and Rasa server as processes, for tests and benchmarks."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List

import requests

PROJECT = Path(__file__).resolve().parent.parent
BIN = PROJECT / ".venv" / "bin"
MODEL = PROJECT / "models" / "current.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not start in {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class Servers:
    """A real action server and Rasa server on free ports, sharing one SQLite tracker store."""

    workdir: Path
    env: Dict[str, str]
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    replica_ports: Dict[str, int] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    def _rasa_env(self) -> Dict[str, str]:
        """The project's own endpoints.yml, pointed by the environment at this action server
        and, unless the caller chose a database, a SQLite tracker store in the work dir."""
        return {
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "TRACKER_STORE_URL": f"sqlite:///{self.workdir / 'trackers.db'}",
            **{k: v for k, v in self.env.items() if k in ("TRACKER_STORE_URL", "REDIS_URL")},
        }

    def _start(self, name: str, args: List[str], health: str, env: Dict[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(BIN / "rasa"), *args], cwd=PROJECT, env={**self.env, **(env or {})},
                stdout=out, stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        wait_until_up(health, process, log)

    def start_actions(self) -> None:
        self._start(
            "actions",
            ["run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
            f"http://127.0.0.1:{self.actions_port}/health",
        )

    def start_rasa(
        self, name: str = "rasa", port: int | None = None, tracker_store_url: str | None = None
    ) -> None:
        """A Rasa server; more than one (other names and ports) makes replicas sharing the
        stores that TRACKER_STORE_URL and REDIS_URL in `env` name, unless `tracker_store_url`
        gives this one a store of its own."""
        port = port or self.replica_ports.get(name) or (self.rasa_port if name == "rasa" else free_port())
        self.replica_ports[name] = port
        self._start(
            name,
            ["run", "--model", str(MODEL), "--port", str(port), "--endpoints",
             str(PROJECT / "endpoints.yml"), "--credentials", str(PROJECT / "credentials.yml")],
            f"http://127.0.0.1:{port}/",
            env={
                **self._rasa_env(),
                **({"TRACKER_STORE_URL": tracker_store_url} if tracker_store_url else {}),
            },
        )

    def rest_url_of(self, name: str) -> str:
        """The REST webhook of one Rasa replica."""
        return f"http://127.0.0.1:{self.replica_ports[name]}/webhooks/rest/webhook"

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def pause(self, name: str) -> None:
        """Freezes a server (SIGSTOP): it accepts connections but never answers, like a hang."""
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """Lets a paused server go on."""
        self.processes[name].send_signal(signal.SIGCONT)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def ask(
        self,
        sender: str,
        text: str,
        message_id: str | None = None,
        timeout: float = 60,
        replica: str = "rasa",
    ) -> List[str]:
        """Sends one message over REST (to one replica) and returns the texts of the replies."""
        body = {"sender": sender, "message": text}
        if message_id:
            body["message_id"] = message_id
        url = self.rest_url if replica == "rasa" else self.rest_url_of(replica)
        response = requests.post(url, json=body, timeout=timeout)
        response.raise_for_status()
        return [m.get("text", "") for m in response.json()]

    def post_raw(self, body: bytes, content_type: str = "application/json") -> requests.Response:
        return requests.post(self.rest_url, data=body, headers={"Content-Type": content_type}, timeout=60)
