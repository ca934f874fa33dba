"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, 127.0.0.1, free port.

The server runs as an unprivileged user (PostgreSQL refuses to run as root): the current user
when it is not root, else the ``postgres`` account the Debian packages create, else ``nobody``.
It trusts local connections, keeps nothing on disk after :meth:`PostgresServer.stop`, and is
tuned for tests (no fsync), never for data anyone keeps.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PostgresServer", "find_pg_bin"]

_DEBIAN_ROOT = Path("/usr/lib/postgresql")


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: the newest Debian version, else PATH."""
    if _DEBIAN_ROOT.is_dir():
        versions = sorted(
            (p for p in _DEBIAN_ROOT.iterdir() if (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
        )
        if versions:
            return versions[-1] / "bin"
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> str | None:
    """The account to run the server as; None means the current (non-root) user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and no unprivileged account to run PostgreSQL as")


class PostgresServer:
    """One PostgreSQL cluster, started by :meth:`start` and removed by :meth:`stop`.

    Attributes:
        port: the TCP port on 127.0.0.1.
        user: the superuser role name inside the cluster.
    """

    def __init__(self, bin_dir: Path, *, user: str = "activeq") -> None:
        self.bin_dir = bin_dir
        self.user = user
        self.port = _free_port()
        self._os_user = _server_user()
        self._root = Path(tempfile.mkdtemp(prefix="activeq-pg-"))
        self._data = self._root / "data"
        self._socket_dir = self._root / "sock"
        self._log = self._root / "server.log"
        self._started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._os_user is not None:
            command = ["runuser", "-u", self._os_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def start(self, timeout: float = 60.0) -> PostgresServer:
        """initdb, then start the server and wait until it accepts connections."""
        self._socket_dir.mkdir()
        if self._os_user is not None:
            entry = pwd.getpwnam(self._os_user)
            for path in (self._root, self._socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        done = self._run("initdb", "-D", str(self._data), "-U", self.user, "--auth=trust",
                         "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stderr}")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self._socket_dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        done = self._run("pg_ctl", "-D", str(self._data), "-l", str(self._log), "-o", options,
                         "-w", "-t", str(int(timeout)), "start")
        if done.returncode != 0:
            log = self._log.read_text() if self._log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed ({done.returncode}):\n{done.stderr}\n{log}")
        self._started = True
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not listen on port {self.port}") from None
                time.sleep(0.05)

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for a database of this server."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """The libpq connection string for a database of this server."""
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        if self._started:
            self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "stop")
            self._started = False
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
