"""Where the tests find the text extraction the curated source lines refer to."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEED = "shared/seed/000_b0f9d5d62dee0a8f.txt"


def source_text() -> Path:
    """../shared beside the clone (as in CI), or beside a folder further up; a missing file fails the test."""
    for folder in REPO.parents:
        if (folder / SEED).is_file():
            return folder / SEED
    pytest.fail(f"the text extraction {SEED} is not beside the repository or any folder above it")
