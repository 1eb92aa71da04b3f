"""Only regular files the data package names are read: anything else is a one-line error with exit 2
(or ignored, if the package does not name it), never a hang, and never quoted back.

The commands run as subprocesses with a timeout, the way a user meets them: a FIFO that made
`dwh validate` wait forever fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loader import resources

SECRET = "s3cr3t-token-0042"


def dwh(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "loader", *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def folder(tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(resources.data_dir(), data)
    return data


def _refused(folder: Path, message: str) -> None:
    done = dwh("validate", "--data", str(folder), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"{folder}/fund.csv:1:1: {message}\ndwh: error: the curated data has 1 problem\n"


def test_a_fifo_named_like_a_curated_file_is_refused_not_waited_on(folder):
    (folder / "fund.csv").unlink()
    os.mkfifo(folder / "fund.csv")
    _refused(folder, "is a named pipe (FIFO) (expected a regular CSV file)")


def test_a_fifo_the_package_does_not_name_is_ignored(folder, empty_db):
    os.mkfifo(folder / "notes.csv")
    done = dwh("validate", "--data", str(folder), timeout=60)
    assert done.returncode == 0, done.stderr
    done = dwh("load", "--data", str(folder), "--database-url", empty_db, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("loaded ")


def test_a_load_from_a_fifo_is_refused_and_loads_nothing(folder, empty_db):
    (folder / "fund.csv").unlink()
    os.mkfifo(folder / "fund.csv")
    done = dwh("load", "--data", str(folder), "--database-url", empty_db, timeout=120)
    assert done.returncode == 2
    assert done.stderr == (
        f"{folder}/fund.csv:1:1: is a named pipe (FIFO) (expected a regular CSV file)\n"
        "dwh: error: the curated data has 1 problem; nothing was loaded\n"
    )


def test_a_folder_named_like_a_curated_file_is_refused(folder):
    (folder / "fund.csv").unlink()
    (folder / "fund.csv").mkdir()
    _refused(folder, "is a folder (expected a regular CSV file)")


def test_a_broken_symbolic_link_is_refused(folder):
    (folder / "fund.csv").unlink()
    (folder / "fund.csv").symlink_to(folder / "no-such-file.csv")
    _refused(folder, "is a symbolic link to a file that does not exist (expected a CSV file)")


def test_an_unreadable_file_is_refused(folder):
    (folder / "fund.csv").unlink()
    if os.geteuid() == 0:
        # root reads any file whatever its mode; a write-only sysctl is refused even to root.
        target = Path("/proc/sys/vm/compact_memory")
        if not target.exists():
            pytest.skip("running as root without a file root may not read")
        (folder / "fund.csv").symlink_to(target)
    else:
        (folder / "fund.csv").write_text("fund_id,name\n")
        (folder / "fund.csv").chmod(0)
    _refused(folder, "cannot be read: permission denied (expected a file the user running dwh may read)")


@pytest.mark.parametrize(
    "content",
    [
        f"{SECRET}\n",  # one word, like a password file
        f"root:{SECRET}:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",  # like /etc/shadow
        f"fund_id,{SECRET}\nESF,x\n",  # a header that is half right
        f"{SECRET}\0binary\n",
    ],
    ids=["one-word", "shadow-like", "half-a-header", "binary"],
)
def test_a_symlink_to_another_file_never_has_its_content_quoted(folder, tmp_path, content):
    secret = tmp_path / "secret"
    secret.write_text(content)
    (folder / "fund.csv").unlink()
    (folder / "fund.csv").symlink_to(secret)
    for command in ("validate", "tables"):
        done = dwh(command, "--data", str(folder), timeout=60)
        assert done.returncode == 2
        assert SECRET not in done.stderr + done.stdout
        assert done.stderr.startswith(f"{folder}/fund.csv:1:")
        assert len(done.stderr.splitlines()) == 2


def test_a_symlink_to_a_regular_csv_is_read(folder, tmp_path):
    elsewhere = tmp_path / "fund-elsewhere.csv"
    shutil.move(folder / "fund.csv", elsewhere)
    (folder / "fund.csv").symlink_to(elsewhere)
    done = dwh("validate", "--data", str(folder), timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_carriage_return_inside_a_field_is_refused_by_validate_and_load_alike(folder, empty_db):
    path = folder / "measure.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace(",", ",Lokale\r", 1)  # line 3: a bare CR after the code
    path.write_text("\n".join(lines), encoding="utf-8")
    column = lines[2].index("\r") + 1
    expected = f"{path}:3:{column}: carriage return inside a line (expected line breaks as LF or CRLF only)\n"
    done = dwh("validate", "--data", str(folder))
    assert (done.returncode, done.stderr) == (2, expected + "dwh: error: the curated data has 1 problem\n")
    done = dwh("load", "--data", str(folder), "--database-url", empty_db)
    assert (done.returncode, done.stderr) == (2, expected + "dwh: error: the curated data has 1 problem; nothing was loaded\n")
