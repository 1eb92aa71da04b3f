"""Fingerprints of what a load is made of: the curated CSVs and the view definitions.

Standard library only, so that `dwh load` can tell unchanged data apart before it imports
anything heavy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from loader import resources

REPORT_SCHEMA = "report"

#: The newest revision in migrations/versions; tests/test_migrations.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0008"


def data_files() -> list[str]:
    """The file names of a curated dataset: the resources of the shipped data package (tested to be
    the tables of loader.schema). Only these are ever read from a dataset folder."""
    descriptor = json.loads((resources.data_dir() / "datapackage.json").read_text(encoding="utf-8"))
    return sorted(resource["path"] for resource in descriptor["resources"])


def file_digest(raw: bytes | None) -> str:
    """SHA-256 of one file's bytes; a file that could not be read has none."""
    return "unreadable" if raw is None else hashlib.sha256(raw).hexdigest()


def combine(digests: dict[str, str]) -> str:
    """The data hash from the digest of each curated file (file name -> file_digest)."""
    combined = hashlib.sha256()
    for name in sorted(digests):
        combined.update(name.encode() + b"\0" + digests[name].encode() + b"\0")
    return combined.hexdigest()


def data_hash(folder: Path) -> str:
    """SHA-256 over the curated files of a dataset folder (each file's SHA-256, in name order).

    A load records the hash of the very bytes it checked and copied (loader.dataset computes it
    while reading); this reads the files anew only to ask whether they are unchanged, a chunk at
    a time (memory stays flat). A file that is missing or not a regular file hashes as
    unreadable, and never blocks: it is opened without waiting and checked on the open file.
    """
    folder = Path(folder)
    return combine({name: _file_digest(folder / name) for name in data_files()})


def _file_digest(path: Path) -> str:
    from loader.csvfile import NotRegularFile, open_regular  # standard library only, like this module

    try:
        handle = open_regular(path)
    except (OSError, NotRegularFile):
        return file_digest(None)
    digest = hashlib.sha256()
    with handle:
        try:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        except OSError:
            return file_digest(None)
    return digest.hexdigest()


def view_files() -> dict[str, Path]:
    """View name -> file, for every ``sql/report/*.sql``."""
    folder = resources.sql_dir() / REPORT_SCHEMA
    return {path.stem: path for path in sorted(folder.glob("*.sql"))}


def views_hash() -> str:
    digest = hashlib.sha256()
    for name, path in view_files().items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
