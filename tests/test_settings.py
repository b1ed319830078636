"""Settings come from the environment; a bad value stops start-up naming the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
)


def start(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.pop("REDIS_URL", None)
    clean["DJANGO_SETTINGS_MODULE"] = "digest_site.settings"
    clean["DJANGO_SECRET_KEY"] = "a-key-for-this-probe"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_embedded_defaults():
    result = start()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "False"]


def test_services_from_the_environment():
    result = start(
        DATABASE_URL="postgres://someone@db.invalid:5432/digest", REDIS_URL="redis://r:6379/0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False", "False"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("ARXIV_DELAY_SECONDS", "-1"),
        ("ARXIV_API_URL", "export.arxiv.org"),
        ("SUMMARIZER", "magic"),
        ("SUMMARY_LANGUAGE", "fr"),
        ("ARXIV_PAGE_SIZE", "0"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name, value):
    result = start(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_production_without_a_secret_key_stops_start_up_naming_it():
    result = start(DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert start(DJANGO_SECRET_KEY="", DJANGO_DEBUG="true").returncode == 0


def test_deploy_checks_are_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-" + "x" * 30,
        DJANGO_ALLOWED_HOSTS="digest.example.org",
        DJANGO_SETTINGS_MODULE="digest_site.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_variable_the_settings_read_is_in_the_readme():
    source = (ROOT / "digest_site" / "settings.py").read_text()
    names = set(re.findall(r'_setting\(\s*"([A-Z_]+)"', source))
    names |= set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    assert len(names) > 30
    assert sorted(name for name in names if f"`{name}`" not in readme) == []
