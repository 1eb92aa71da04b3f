"""What is committed is exactly what was checked, even when a file changes during the load.

A thread swaps sec_nec_sec.csv back and forth between the shipped file and a copy with one figure
off by one (which breaks an identity of the document), by atomic rename and by rewriting it in
place, while loads run. Every load must either be refused (exit 2) or commit the document's
figures with the hash of the shipped files; the next plain `dwh load` of the shipped data then
knows whether it is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from loader import db, resources
from loader.errors import InputError
from loader.load import load_folder

GOOD = "T4_sec_nec_sec,2018,CMW,1070,printed,476"
BAD = "T4_sec_nec_sec,2018,CMW,1071,printed,476"  # the same length: a torn read mixes the two
DOCUMENT = {"_T": 1140, "CMW": 1070, "LDE": 70}  # sec_nec_sec as printed (line 476 of the answer)


def shipped_hash() -> str:
    """The data hash of the shipped files, worked out here from its definition (fingerprint.data_hash)."""
    combined = hashlib.sha256()
    folder = resources.data_dir()
    for path in sorted(p for p in folder.glob("*.csv")):
        combined.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\0")
    return combined.hexdigest()


class Swapper(threading.Thread):
    def __init__(self, folder: Path):
        super().__init__(daemon=True)
        self.path = folder / "sec_nec_sec.csv"
        self.good = self.path.read_bytes()
        assert GOOD.encode() in self.good
        self.bad = self.good.replace(GOOD.encode(), BAD.encode())
        self.stopping = threading.Event()
        self.swaps = 0

    def run(self) -> None:
        spare = self.path.with_name("swap.tmp")
        while not self.stopping.is_set():
            for content in (self.bad, self.good):
                if self.swaps % 3 == 2:  # in place: a reader may see part of each
                    with open(self.path, "r+b") as f:
                        f.write(content)
                else:  # atomic rename
                    spare.write_bytes(content)
                    os.replace(spare, self.path)
                self.swaps += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.path.write_bytes(self.good)


def committed(url: str) -> tuple[dict, str]:
    with psycopg.connect(url) as conn:
        values = dict(conn.execute("select measure_id, value from dwh.sec_nec_sec").fetchall())
        latest = conn.execute("select data_hash from dwh.load_history where outcome = 'loaded' order by load_id desc limit 1").fetchone()[0]
    return values, latest


@pytest.mark.parametrize("rounds", [40])
def test_a_file_swapped_during_loads_never_lands_unchecked(tmp_path, empty_db, rounds):
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    good_hash = shipped_hash()
    engine = db.make_engine(empty_db)
    swapper = Swapper(folder)
    outcomes = {"loaded": 0, "refused": 0}
    swapper.start()
    try:
        for _ in range(rounds):
            try:
                with db.begin(engine) as conn:
                    load_folder(conn, folder, force=True)
            except InputError:
                outcomes["refused"] += 1
                continue
            outcomes["loaded"] += 1
            assert committed(empty_db) == (DOCUMENT, good_hash)
    finally:
        swapper.stop()
        engine.dispose()
    assert swapper.swaps > rounds
    # Both outcomes happened, or the test proved nothing.
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0, outcomes
    from loader.cli import main

    assert main(["load", "--data", str(folder), "--database-url", empty_db]) == 0
    assert committed(empty_db) == (DOCUMENT, good_hash)


def test_a_swap_between_loads_is_not_taken_for_unchanged_data(tmp_path, empty_db, capsys):
    """The hash recorded is of the bytes loaded: bad data on disk is never called unchanged."""
    from loader.cli import main

    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    assert main(["load", "--data", str(folder), "--database-url", empty_db]) == 0
    path = folder / "sec_nec_sec.csv"
    path.write_bytes(path.read_bytes().replace(GOOD.encode(), BAD.encode()))
    capsys.readouterr()
    assert main(["load", "--data", str(folder), "--database-url", empty_db]) == 2
    assert "T4_sec_nec_sec" in capsys.readouterr().err
    assert committed(empty_db) == (DOCUMENT, shipped_hash())


def test_an_unchanged_load_imports_neither_sqlalchemy_nor_psycopg(databases, loaded_db):
    """The no-op stays cheap: the hash of the files and two psql round trips, no heavy imports."""
    import subprocess
    import sys

    import sqlalchemy as sa

    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    code = (
        "import sys\nfrom loader.cli import main\n"
        f"assert main(['load', '--database-url', {url!r}]) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg', 'alembic'))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"unchanged: {sa.engine.make_url(url).render_as_string()} already holds this data (")


def test_the_files_are_hashed_for_the_no_op_only_when_a_load_was_made(tmp_path, empty_db, monkeypatch, capsys):
    """Into a database that holds no load, `dwh load` does not read every file first to ask whether
    they are unchanged (at 1M observations that cost 0.07 s of a 5 s load); once a load is made,
    the files are hashed, and the same data is found unchanged."""
    from loader import fingerprint
    from loader.cli import main

    hashed = []
    real = fingerprint.data_hash
    monkeypatch.setattr(fingerprint, "data_hash", lambda folder: hashed.append(folder) or real(folder))
    assert main(["load", "--database-url", empty_db]) == 0
    assert hashed == []
    assert capsys.readouterr().out.startswith("loaded ")
    assert main(["load", "--database-url", empty_db]) == 0
    assert hashed == [resources.data_dir()]
    assert capsys.readouterr().out.startswith("unchanged: ")
