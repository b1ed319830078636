"""The site's own source as a tar.gz, so every user can get it (AGPL-3.0, section 13).

Only what the project ships goes in (an allow-list): an operator's files kept beside the code
(.env files, server configurations with passwords, logs, database dumps, uploads) never do. The
archive is built once per deployment: named by the hash of its contents, kept on disk and shared
by every process, and served with an ETag so browsers and proxies keep it too.
"""

import functools
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Folders of the project, and its files at the top level.
SHIPPED_FOLDERS = ("papers", "digest_site", "templates", "locale", "tools", "deploy")
SHIPPED_FILES = ("manage.py", "Makefile", "README.md", "LICENSE", "pyproject.toml")
SHIPPED_PATTERNS = ("requirements*.txt",)
# Never shipped, even inside those folders: caches, compiled files, local data.
SKIPPED_NAMES = {"__pycache__"}
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".sqlite3", ".log", ".sql", ".dump", ".bak"}
PREFIX = "digest-site"


def _shipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    if any(part.startswith(".") or part in SKIPPED_NAMES for part in parts):
        return False
    # A link could point anywhere (an operator's secrets); only regular files are shipped.
    return not path.is_symlink() and path.is_file() and path.suffix not in SKIPPED_SUFFIXES


def source_files(root: Path) -> list[Path]:
    """The files the archive holds, sorted."""
    files = [root / name for name in SHIPPED_FILES]
    for pattern in SHIPPED_PATTERNS:
        files += root.glob(pattern)
    for folder in SHIPPED_FOLDERS:
        top = root / folder
        if top.is_dir() and not top.is_symlink():
            files += top.rglob("*")
    return sorted({path for path in files if _shipped(path, root)})


@dataclass(frozen=True)
class SourceArchive:
    path: Path
    digest: str  # sha256 of the archive's file names and contents

    @property
    def etag(self) -> str:
        return f'"{self.digest[:32]}"'


def _digest(root: Path, files: list[Path]) -> str:
    hashed = hashlib.sha256()
    for path in files:
        hashed.update(str(path.relative_to(root)).encode() + b"\0")
        hashed.update(hashlib.sha256(path.read_bytes()).digest())
    return hashed.hexdigest()


def _write_archive(root: Path, files: list[Path], target: Path) -> None:
    """A reproducible tar.gz: fixed times and owners, so the same files give the same bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as raw:
            with (
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
                tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
            ):
                for path in files:
                    data = path.read_bytes()
                    info = tarfile.TarInfo(f"{PREFIX}/{path.relative_to(root)}")
                    info.size = len(data)
                    info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
                    archive.addfile(info, io.BytesIO(data))
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def archive_folder() -> Path:
    return Path(settings.DATA_DIR) / "source"


@functools.cache
def source_archive() -> SourceArchive:
    """The archive of the running code, built on first use and kept for the process's life."""
    root = Path(settings.BASE_DIR)
    files = source_files(root)
    digest = _digest(root, files)
    path = archive_folder() / f"{PREFIX}-{digest[:32]}.tar.gz"
    if not path.exists():
        _write_archive(root, files, path)
        for old in path.parent.glob(f"{PREFIX}-*.tar.gz"):
            if old != path:  # an earlier deployment's
                old.unlink(missing_ok=True)
    return SourceArchive(path=path, digest=digest)
