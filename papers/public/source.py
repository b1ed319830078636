"""The site's own source as a tar.gz, so every user can get it (AGPL-3.0, section 13)."""

import tarfile
import tempfile
from pathlib import Path

from django.conf import settings

# Not source: environments, data, uploads, build output and caches.
SKIPPED = {
    ".git",
    ".venv",
    "data",
    "media",
    "staticfiles",
    "node_modules",
    "artifacts",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
}


def source_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(part in SKIPPED for part in parts) or not path.is_file():
            continue
        if path.suffix in {".pyc", ".sqlite3"} or path.name == ".env":
            continue
        files.append(path)
    return files


def source_archive() -> tempfile.SpooledTemporaryFile:
    """A gzipped tar of the running code, rewound and ready to send."""
    root = Path(settings.BASE_DIR)
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in source_files(root):
            archive.add(path, arcname=f"digest-site/{path.relative_to(root)}")
    buffer.seek(0)
    return buffer
