"""A second connection that checks a copy of the load's rows while the load builds its tables.

After COPY, a large load's server process spent most of its time on loader.setchecks' statements,
one after the other on one core, while the machine's other core had nothing to do (at 1M
observations: COPY with keys 3.5 s, foreign keys 0.9 s, the checks 6.8 s). The checks only read,
but they must read what the load's transaction holds, and no other connection sees that before
it commits. So a second connection is given the same rows: every chunk the load COPYs into the
tables up to SIDE_LAST (most of the facts) is also COPYed, by this module's thread, into
temporary tables of the same columns and types, without the facts' keys (private to that
connection's session, not WAL-logged, gone when it ends). As soon as it holds them, the second
connection starts on the check statements that read only those tables, longest first, while the
load copies the rest; the load's connection checks its foreign keys, then the statements that
read a table the copies lack, then takes from the same list as the second one until none is left.

This changes how fast the checks are made, never what they decide:
- the temporary tables hold the very text the load's COPY received, in columns of the same types,
  so every statement answers there what it would answer on the loaded tables (they have fewer
  constraints; what the loaded tables refuse sends the load to the Python checks anyway);
- the prose figures and the foreign keys are checked on the load's own connection, and so is
  every statement that names a table the copies lack (statements name each table they read);
- if the second connection cannot be opened, cannot make temporary tables or fails in any way,
  the load's connection runs every check itself, as it does for a small load (SIDE_BYTES).

Nothing here touches the warehouse's own tables: their columns come from loader.schema, not from
the database, so the second connection never waits for a lock the load's transaction holds
(which the load would wait on in turn, a deadlock the server could not see).
"""

from __future__ import annotations

import itertools
import queue
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from loader import schema, setchecks
from loader.dataset import SPECS
from loader.db import run_together

#: Below this many bytes of curated files a second connection costs more than it saves. Measured
#: (fresh loads into a migrated database, interleaved, medians): 0.7 MB 1.09 s with it against
#: 1.03 s without; 2.0 MB 1.10 s against 1.31 s; 11 MB 2.0 s against 2.9 s.
SIDE_BYTES = 1_500_000

#: The temporary tables' buffers in the second connection's server process (allocated as used; at
#: 1M observations the tables' heaps take 104 MB). Beyond them the server writes temporary pages
#: to files and reads them back, slower but the same.
TEMP_BUFFERS = "256MB"

#: The last table of loader.schema.LOAD_ORDER the second connection copies. It then starts
#: checking, while the load's connection copies the facts after it (payment, screening,
#: sustained_doorstroom, sec_nec_sec, trajectory_end_range), whose statements the load's connection
#: runs itself after its foreign keys. Measured at 1M observations (fresh loads, server log):
#: with every table copied to both, the second connection started checking at 1.45 s and both
#: connections ended at 4.7 s; stopping here, it copies 16 MB less, starts at 1.29 s, and both end
#: at 4.4 s.
SIDE_LAST = "doorstroom_after_evaluation"

_END = object()  # no more chunks for the current table
_STOP = object()  # no more tables: check


def create_sql(name: str) -> str:
    """A temporary table of the columns and types of ``name``'s file. Only the small tables (not the
    facts) get their primary key: the catalogue's checks look rows of them up one at a time."""
    table = schema.metadata.tables[f"{schema.SCHEMA}.{name}"]
    dialect = postgresql.dialect()
    columns = [f'"{c}" {table.c[c].type.compile(dialect=dialect)}' for c in SPECS[name].header]
    if name not in schema.FACT_TABLES:
        columns.append("primary key (" + ", ".join(f'"{c.name}"' for c in table.primary_key.columns) + ")")
    return f'create temporary table "{name}" ({", ".join(columns)})'


class SideChecks:
    """The second connection and its thread: ``table(name)`` and ``write(chunk)`` as the load
    COPYs, ``done()`` when every table is copied, then ``broken(conn)`` in place of
    setchecks.broken; ``close()`` always."""

    def __init__(self, engine: sa.Engine):
        self._conn = engine.connect()  # raises if it cannot: the caller goes on without
        # Chunks on their way (up to 1 MB each: loader.canonical.CHUNK); the load waits when the
        # second connection is this far behind, so memory stays flat.
        self._chunks: queue.Queue = queue.Queue(maxsize=8)
        self._ready = threading.Event()  # set once the copies are complete, or the thread has failed
        self._take = None  # the shared iterator of statements, once ready
        self._own: list[tuple[str, ...]] = []  # the statements that read a table the copies lack
        order = list(schema.LOAD_ORDER)
        self._tables = order[: order.index(SIDE_LAST) + 1]  # the tables copied; then it checks
        self._wanted: set[str] | None = set(self._tables)  # those still to come (None: no more)
        self._copying = False  # whether the current table's chunks go to the copies
        self.failed: list[str] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dwh-side-checks", daemon=True)
        self._thread.start()

    # --- the load's thread

    def table(self, name: str) -> None:
        self._copying = self._wanted is not None and name in self._wanted
        if self._copying:
            self._wanted.discard(name)
            self._put(name)

    def write(self, chunk: str) -> None:
        if self._copying:
            self._put(chunk)

    def end_table(self) -> None:
        if self._copying:
            self._put(_END)
            self._copying = False
            if not self._wanted:
                self.done()  # the copies are complete: the second connection checks from now

    def done(self) -> None:
        if self._wanted is not None:
            self._wanted = None
            self._put(_STOP)

    def _put(self, item) -> None:
        while self.error is None:
            try:
                self._chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    return

    def broken(self, conn: sa.Connection) -> list[str]:
        """The names of the checks that fail, the statements shared with the second connection."""
        self._ready.wait()
        if self.error is not None:
            return setchecks.broken(conn)  # the load's connection checks everything itself
        # Its own statements first (nobody else can run them), then the shared ones, under one
        # setting of the planner.
        failed = setchecks.run_statements(conn, itertools.chain(self._own, self._take)) + setchecks.prose_broken(conn)
        self._thread.join()
        if self.error is not None:  # it failed after taking statements it did not finish
            return setchecks.broken(conn)
        return failed + self.failed

    def close(self) -> None:
        """Stop the thread (cancelling its statement, if one runs) and close the connection."""
        if self._thread.is_alive():
            self.error = self.error or RuntimeError("closed")
            try:
                self._conn.connection.driver_connection.cancel()
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass
            while True:  # make room for the stop, whatever the thread is waiting for
                try:
                    self._chunks.get_nowait()
                except queue.Empty:
                    break
            try:
                self._chunks.put_nowait(_STOP)
            except queue.Full:
                pass
            self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._conn.close()  # rolls back: the temporary tables go with the session

    # --- the second connection's thread

    def _run(self) -> None:
        try:
            counts = self._copy()
            if counts is None:
                raise RuntimeError("stopped before every table was copied")
            # A statement reads the copies of the tables it names; those not copied are the load's.
            missing = [f'pg_temp."{name}"' for name in schema.LOAD_ORDER if name not in counts]
            copied = setchecks.queries(at="pg_temp")
            shared = []
            for names in setchecks.costliest_first(counts):
                (self._own if any(table in copied[names] for table in missing) else shared).append(names)
            self._take = _Shared(shared)
            self._ready.set()
            self.failed = setchecks.run_statements(self._conn, self._take, at="pg_temp")
        except BaseException as exc:  # noqa: BLE001 - reported to the load's thread, which checks alone
            self.error = exc
        finally:
            self._ready.set()

    def _copy(self) -> dict[str, int] | None:
        from loader.load import copy_sql  # the load's own COPY, into the copies

        conn = self._conn
        # Before the session's first temporary table: the size of its local buffers is fixed then.
        conn.exec_driver_sql(f"set temp_buffers = '{TEMP_BUFFERS}'")
        run_together(conn, [create_sql(name) for name in self._tables])
        counts: dict[str, int] = {}
        with conn.connection.driver_connection.cursor() as cursor:
            while (name := self._chunks.get()) is not _STOP:
                if self.error is not None:
                    return None
                with cursor.copy(copy_sql(name, f'pg_temp."{name}"')) as copy:
                    while (chunk := self._chunks.get()) is not _END:
                        if chunk is _STOP or self.error is not None:
                            return None
                        copy.write(chunk)
                counts[name] = cursor.rowcount
        return counts


def large(folder: Path) -> bool:
    """Whether ``folder``'s curated files take SIDE_BYTES or more (a second connection pays, and
    loader.bulkkeys builds the keys after the copy)."""
    size = 0
    for spec in SPECS.values():
        try:
            size += (Path(folder) / spec.file_name).stat().st_size
        except OSError:
            pass  # missing or unreadable: the load says so where it reads it
    return size >= SIDE_BYTES


def for_load(conn: sa.Connection, large: bool):
    """What checks the load on ``conn``: for a ``large`` dataset a SideChecks, when a second
    connection can be had, else the load's connection alone (OneConnection)."""
    if not large:
        return OneConnection()
    try:
        return SideChecks(conn.engine)
    except sa.exc.DBAPIError:
        return OneConnection()  # no connection to spare (the server's or the role's limit)


class OneConnection:
    """The checks on the load's connection alone, behind SideChecks' interface."""

    def table(self, name: str) -> None:
        pass

    def write(self, chunk: str) -> None:
        pass

    def end_table(self) -> None:
        pass

    def done(self) -> None:
        pass

    def broken(self, conn: sa.Connection) -> list[str]:
        return setchecks.broken(conn)

    def close(self) -> None:
        pass


class _Shared:
    """An iterator two threads take from, each item once."""

    def __init__(self, items):
        self._items = iter(items)
        self._lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self):
        with self._lock:
            return next(self._items)
