"""The site served by gunicorn in a process of its own, as `deploy/` serves it, for the faults that
need a real server process (one whose database connections outlive a request)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from tools.chaos import ROOT
from tools.chaos.own_redis import free_port
from tools.chaos.own_worker import wait_for


class OwnSite:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "digest_site.settings",
            "DJANGO_SECURE_SSL": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            **env,
        }
        self.log_path = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from django.conf import settings

        if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
            # Served as deployed: the static files collected (`make static`), with their manifest.
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env=self.env,
                check=True,
            )
        log = open(self.log_path, "a")  # noqa: SIM115 - the server writes to it until stopped
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "digest_site.wsgi:application"]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "4"]
            + ["--timeout", "60", "--graceful-timeout", "5"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def answers() -> bool:
            try:
                requests.get(self.url + "/robots.txt", timeout=2)
            except requests.RequestException:
                return False
            return True

        wait_for(answers, 60, "the site to answer", every=0.2)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=30, allow_redirects=False)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
