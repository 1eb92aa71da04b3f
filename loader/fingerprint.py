"""Fingerprints of what a load is made of: the curated CSVs and the view definitions.

Standard library only, so that `dwh load` can tell unchanged data apart before it imports
anything heavy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from loader import resources

REPORT_SCHEMA = "report"

#: The newest revision in migrations/versions; tests/test_migrations.py keeps it equal to Alembic's head.
SCHEMA_HEAD = "0005"


def data_hash(folder: Path) -> str:
    """SHA-256 over every CSV file of a dataset folder (name and bytes, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
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
