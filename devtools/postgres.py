"""A throwaway real PostgreSQL server for tests, so SQL is checked against the real thing.

The server runs as the `postgres` OS user (initdb refuses root) from a temporary directory,
listens only on 127.0.0.1 on a free port with trust authentication, and is stopped and
removed afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

from devtools.servers import free_port

INSTALL_HINT = "install the server binaries with scripts/install-services.sh"
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server cannot be run here; the message says how to fix it."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates = [c for c in candidates if (c / "pg_ctl").exists() and (c / "postgres").exists()]
    if not candidates:
        raise PostgresUnavailable(
            f"PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: {INSTALL_HINT}"
        )
    return max(candidates, key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()] or [0])


def _as_server_user() -> List[str]:
    """The command prefix that runs a program as the postgres user when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root but `runuser` is missing (util-linux)")
    try:
        import pwd

        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(f"there is no `{SERVER_USER}` OS user: {INSTALL_HINT}") from None
    return [runuser, "-u", SERVER_USER, "--"]


def _run(command: List[str], what: str, cwd: Path) -> None:
    # cwd: the postgres user may not be allowed into the caller's working directory.
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    if done.returncode != 0:
        output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}".strip()
        raise RuntimeError(f"{what} failed with status {done.returncode}:\n{output}")


class PostgresServer:
    """A throwaway PostgreSQL server that can be stopped and started again on the same port
    and data, to play a database that goes away and comes back."""

    def __init__(self, database: str = "escalations_test") -> None:
        self.database = database
        self.bin_dir = find_bin_dir()
        self.prefix = _as_server_user()
        # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="escalations-pg-"))
        self.port = free_port()
        self.running = False
        data, self.sockets, self.log = self.root / "data", self.root / "sockets", self.root / "server.log"
        self.sockets.mkdir()
        if self.prefix:
            shutil.chown(self.root, SERVER_USER)
            shutil.chown(self.sockets, SERVER_USER)
        self.pg_ctl = [*self.prefix, str(self.bin_dir / "pg_ctl"), "-D", str(data)]
        _run(
            [*self.prefix, str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--no-sync"],
            "initdb",
            self.root,
        )

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (the same across restarts)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> PostgresServer:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*self.pg_ctl, "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"], "pg_ctl start",
             self.root)
        self.running = True
        return self

    def create_database(self, name: str | None = None) -> None:
        _run(
            [*self.prefix, str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
             "postgres", name or self.database],
            "createdb",
            self.root,
        )

    def stop(self) -> None:
        """Stops the server (fast shutdown: open connections are cut, as in an outage)."""
        if self.running:
            _run([*self.pg_ctl, "-m", "fast", "-w", "stop"], "pg_ctl stop", self.root)
            self.running = False

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_server(database: str = "escalations_test") -> Iterator[str]:
    """Runs a PostgreSQL server for the duration of the block and yields its SQLAlchemy URL."""
    server = PostgresServer(database)
    try:
        server.start()
        server.create_database()
        yield server.url
    finally:
        server.remove()
