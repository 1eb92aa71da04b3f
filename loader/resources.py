"""Where the shipped dataset, view SQL and migrations are.

In a checkout (and an editable install) they sit at the top of the repository; a built
wheel carries them in ``loader/_bundled`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"the installed package has no {name}/ folder")


def data_dir() -> Path:
    return _find("data")


def sql_dir() -> Path:
    return _find("sql")


def migrations_dir() -> Path:
    return _find("migrations")
