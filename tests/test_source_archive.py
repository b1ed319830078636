"""The source download: only what the project ships, built once, served with caching headers."""

import io
import tarfile
from pathlib import Path

import pytest

from papers.public import source


@pytest.fixture
def project(tmp_path, settings):
    """A project folder with an operator's files beside (and inside) the code."""
    root = tmp_path / "site"
    for name in ["manage.py", "LICENSE", "requirements.txt", "requirements-dev.txt"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"# {name}\n")
    for name in ["papers/models.py", "templates/base.html", "deploy/nginx.conf", "tools/x.py"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("code\n")
    secrets = tmp_path / "secrets.txt"
    secrets.write_text("password")
    for name in [
        ".env.production",
        "gunicorn.conf.py",
        "site.log",
        "dump.sql",
        "backup/db.sqlite3",
        "uploads/private.pdf",
        "papers/.env",
        "papers/__pycache__/models.cpython-311.pyc",
        "papers/old.log",
    ]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("secret")
    (root / "papers" / "link.txt").symlink_to(secrets)
    (root / "tools" / "linked").symlink_to(tmp_path)
    settings.BASE_DIR = root
    settings.DATA_DIR = tmp_path / "data"
    source.source_archive.cache_clear()
    yield root
    source.source_archive.cache_clear()


def names_in(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        return sorted(archive.getnames())


def test_only_what_the_project_ships_is_archived(project):
    built = source.source_archive()
    assert names_in(built.path) == [
        "digest-site/LICENSE",
        "digest-site/deploy/nginx.conf",
        "digest-site/manage.py",
        "digest-site/papers/models.py",
        "digest-site/requirements-dev.txt",
        "digest-site/requirements.txt",
        "digest-site/templates/base.html",
        "digest-site/tools/x.py",
    ]


def test_the_archive_is_built_once_and_named_by_its_contents(project):
    first = source.source_archive()
    assert source.source_archive() is first
    source.source_archive.cache_clear()
    again = source.source_archive()
    assert again.path == first.path and again.path.read_bytes() == first.path.read_bytes()
    (project / "papers" / "models.py").write_text("changed\n")
    source.source_archive.cache_clear()
    changed = source.source_archive()
    assert changed.digest != first.digest and changed.path.exists()
    assert not first.path.exists()  # the earlier deployment's archive is gone


def test_the_download_has_caching_headers_and_answers_304(client, db, project):
    response = client.get("/source/digest-site.tar.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert "max-age" in response["Cache-Control"] and response["ETag"]
    body = b"".join(response.streaming_content)
    names = tarfile.open(fileobj=io.BytesIO(body)).getnames()
    assert "digest-site/manage.py" in names and "digest-site/.env.production" not in names
    again = client.get("/source/digest-site.tar.gz", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
