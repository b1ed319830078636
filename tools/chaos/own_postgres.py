"""A PostgreSQL cluster of the chaos campaign's own, restarted by its database fault.

The machine's PostgreSQL server is never touched: the campaign makes a throw-away cluster with the
server programs (initdb, pg_ctl) in a temporary folder, on a free loopback port, and removes it at
the end. initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tools.chaos.own_redis import free_port

SERVER_USER = "postgres"


def server_programs() -> Path | None:
    """The folder of the newest installed PostgreSQL server programs (initdb, pg_ctl), if any."""
    found = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            version = folder.parent.name
            found.append((int(version) if version.isdigit() else 0, folder))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def unavailable_reason() -> str:
    """Why the campaign cannot run a cluster of its own here ("" when it can)."""
    if server_programs() is None:
        return "the PostgreSQL server programs (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to own a cluster"
    return ""


class OwnPostgres:
    """`start()`, `pause()` and `resume()` (a restart), `stop()` (and remove it); `url` names its
    `postgres` database."""

    def __init__(self) -> None:
        self.programs = server_programs()
        self.port = free_port()
        self.folder: Path | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def settings(self) -> dict:
        """The parts of a Django DATABASES entry that point at this cluster."""
        return {"HOST": "127.0.0.1", "PORT": str(self.port), "NAME": "postgres", "USER": "postgres"}

    def _run(self, *args: str) -> None:
        command = [str(self.programs / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.programs is None:
            raise RuntimeError(unavailable_reason())
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="chaos-postgres-"))
            if os.geteuid() == 0:
                owner = pwd.getpwnam(SERVER_USER)
                os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._run(
                "initdb", "-D", str(self.folder / "data"), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        self._start()

    def _start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def _stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "-t", "60", "stop")

    def pause(self) -> None:
        """Stop the server at once, as a restart does: every connection is cut."""
        self._stop("fast")

    def resume(self) -> None:
        self._start()

    def stop(self) -> None:
        if self.folder is None:
            return
        try:
            self._stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
