"""Where the tests find the text extraction the curated source lines refer to.

The extraction (``000_b0f9d5d62dee0a8f.txt``, the PDF's text as the curators read it) is not part
of the repository. ``DWH_SOURCE_TEXT`` names the file; without it the tests look for
``shared/seed/`` beside the checkout or beside a folder above it (where CI keeps it). A test that
needs it and finds none is skipped with a reason that says how to provide it, except under
``CI=true``, where a missing extraction fails the run rather than let the provenance checks go
untested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = "shared/seed/000_b0f9d5d62dee0a8f.txt"
ENV = "DWH_SOURCE_TEXT"


def find() -> Path | None:
    """The extraction's path, or None when there is none to be found."""
    named = os.environ.get(ENV, "").strip()
    if named:
        return Path(named).expanduser()  # a wrong name must fail, not skip: the user asked for it
    for folder in REPO.parents:
        if (folder / SEED).is_file():
            return folder / SEED
    return None


def missing_reason() -> str:
    return (
        f"the text extraction is not available: set {ENV}=/path/to/000_b0f9d5d62dee0a8f.txt "
        f"or put it at {SEED} beside the checkout (see README.md, 'The text extraction')"
    )


def source_text() -> Path:
    """The extraction; skips the test when there is none (fails it under CI=true)."""
    found = find()
    if found is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true and {missing_reason()}")
        pytest.skip(missing_reason())
    if not found.is_file():
        pytest.fail(f"{ENV}={found} is not a file (expected the text extraction 000_b0f9d5d62dee0a8f.txt)")
    return found
