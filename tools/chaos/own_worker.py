"""A real Celery worker of the chaos campaign's own: the prefork pool `make worker` runs, one pool
process, so the campaign can SIGKILL that process in the middle of a task and watch the worker
replace it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tools.chaos import ROOT


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def wait_for(condition, timeout: float, what: str, every: float = 0.1) -> float:
    """Wait until `condition()` is true; returns the seconds waited, raises TimeoutError."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)
    return time.monotonic() - started


class OwnWorker:
    """`celery -A digest_site worker --pool=prefork --concurrency=1` with the given environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "digest_site.settings", **env}
        self.log_path = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - the worker writes to it until stopped
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "digest_site", "worker", "--pool=prefork"]
            + ["--concurrency=1", "-Q", "digest", "--without-gossip", "--without-mingle"]
            + ["--without-heartbeat", "-l", "info"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(lambda: "ready." in self.log(), 60, "the worker to start")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pool_process(self, timeout: float = 30) -> int:
        """The pid of the pool process (waiting for the worker to replace a dead one)."""
        found: list[int] = []

        def one() -> bool:
            found[:] = children(self.process.pid)
            return len(found) == 1

        wait_for(one, timeout, "the worker's pool process")
        return found[0]

    def kill_pool_process(self) -> int:
        pid = self.pool_process()
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pool = children(self.process.pid)
        self.process.send_signal(signal.SIGQUIT)  # cold shutdown: running tasks are not waited for
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        for pid in pool:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
