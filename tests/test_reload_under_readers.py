"""Reloads under readers: no reader gets an error, no load fails, no read waits long.

Three readers loop over report views while `dwh load --force` reloads five times, every other
time with changed view definitions (as after an upgrade of dwh). Re-creating the views one by one
used to deadlock with readers: a reader of report.doorstroom holds that view and waits for
report.cijfers, which the load has just replaced and now holds, while the load waits for
report.doorstroom.
"""

from __future__ import annotations

import shutil
import threading
import time

import psycopg
import sqlalchemy as sa

from loader import db, resources
from loader.load import commit, load_folder

#: The views the readers loop over: document tables and tidy views, one of which (cijfers) the others read.
VIEWS = ("t1_provincie", "t2c_project", "doorstroom", "trajecten_beeindigd", "cijfers")
READERS = 3
RELOADS = 5
#: How much longer than its slowest read with no load running a read may take while loads run.
ALLOWED_EXTRA_WAIT = 0.5


class Reader(threading.Thread):
    """Reads the views in turn (each read its own transaction), timing each read, until stopped."""

    def __init__(self, url: str, offset: int):
        super().__init__(daemon=True)
        self.url, self.offset = url, offset
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {v: [] for v in VIEWS}
        self.errors: list[str] = []
        self.reads = 0

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="reader") as conn:
            i = self.offset
            while not self.stop.is_set():
                view = VIEWS[i % len(VIEWS)]
                i += 1
                started = time.monotonic()
                try:
                    # Counted by the server: the same locks and work as reading the rows, without
                    # holding the GIL the in-process load needs too.
                    conn.execute(f"select count(*) from (select * from report.{view}) as v").fetchone()
                except psycopg.Error as exc:
                    self.errors.append(f"{view}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                    continue
                self.times[view].append(time.monotonic() - started)
                self.reads += 1

    def worst(self) -> dict[str, float]:
        return {v: max(t, default=0.0) for v, t in self.times.items()}


def _changed_views(shipped, folder, changed: bool) -> None:
    """The shipped view files, or the same with report.cijfers' definition changed (same columns)."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(shipped, folder)
    if changed:
        path = folder / "report" / "cijfers.sql"
        text = path.read_text(encoding="utf-8")
        # The first branch of its union (doorstroom); the same columns, another definition.
        original = "'personen' as eenheid, value::numeric as waarde"
        assert text.count(original) == 1
        path.write_text(text.replace(original, "'personen' as eenheid, (value + 0)::numeric as waarde"), encoding="utf-8")


def _readers(url: str) -> list[Reader]:
    readers = [Reader(url, k) for k in range(READERS)]
    for r in readers:
        r.start()
    return readers


def _stop(readers: list[Reader]) -> None:
    for r in readers:
        r.stop.set()
    for r in readers:
        r.join(timeout=60)


def test_reloads_under_readers_neither_fail_nor_deadlock(databases, loaded_db, tmp_path, monkeypatch):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    data = resources.data_dir()
    shipped = resources.sql_dir()
    sql = tmp_path / "sql"
    monkeypatch.setattr(resources, "sql_dir", lambda: sql)
    _changed_views(shipped, sql, changed=False)

    # Each reader's slowest read with no load running.
    alone = _readers(url)
    time.sleep(1.0)
    _stop(alone)
    assert all(r.reads and not r.errors for r in alone), [r.errors for r in alone]
    baseline = {v: max(r.worst()[v] for r in alone) for v in VIEWS}

    readers = _readers(url)
    failures = []
    engine = db.make_engine(url)
    try:
        for k in range(RELOADS):
            _changed_views(shipped, sql, changed=k % 2 == 0)
            try:
                with db.connect(engine) as conn:
                    transaction = conn.begin()
                    result = load_folder(conn, data, force=True)
                    commit(transaction)
                assert result.outcome == "loaded"
            except Exception as exc:  # noqa: BLE001  (every failure is reported below)
                failures.append(f"load {k + 1}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            time.sleep(0.1)  # the readers read the new views too
    finally:
        _stop(readers)
        engine.dispose()

    errors = [e for r in readers for e in r.errors]
    assert not failures and not errors, {"failed loads": failures, "failed reads": errors}
    assert all(r.reads for r in readers)
    during = {v: max(r.worst()[v] for r in readers) for v in VIEWS}
    slow = {v: (round(baseline[v], 3), round(during[v], 3)) for v in VIEWS if during[v] > baseline[v] + ALLOWED_EXTRA_WAIT}
    assert not slow, f"reads that waited more than {ALLOWED_EXTRA_WAIT} s beyond their worst alone (alone, during loads): {slow}"

    # The last load ran with the changed definition: the database has it.
    with psycopg.connect(url) as conn:
        definition = conn.execute("select pg_get_viewdef('report.cijfers'::regclass)").fetchone()[0]
    assert "+ 0" in definition
