"""Loading a checked dataset: migrate, replace the data, rebuild the views, in the caller's transaction.

Readers never see a partial state: everything happens in one transaction, and the old rows are
removed with DELETE or replaced by MERGE (MVCC-safe; TRUNCATE would show concurrent readers an
empty table). Two loads at once are serialized by the load lock (loader.locking).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

import loader
from loader import fingerprint, grants, migrate, report, schema, views
from loader.csvfile import split_line
from loader.canonical import NotCanonical
from loader.dataset import SPECS, Dataset, read_dataset
from loader.fingerprint import combine
from loader.snapshot import Snapshot
from loader.errors import DatabaseUnavailable, DwhError
from loader.db import database_error, run_together
from loader.outcome import CommitInDoubt


COPY_CHUNK = 10_000  # records per write to COPY


@dataclass
class LoadResult:
    outcome: str  # loaded | unchanged
    route: str = ""  # streamed (checked in SQL) | checked in Python (loader.dataset); see load_folder
    row_counts: dict[str, int] = field(default_factory=dict)
    migrated_from: str | None = None
    migrated_to: str | None = None


def lock(conn: sa.Connection) -> None:
    from loader.locking import take_load_lock  # a lock readers cannot take, waits reported (loader.locking)

    take_load_lock(conn)


def migrate_schema(conn: sa.Connection, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema. When a migration runs, the views (which depend on the tables) are
    dropped first; the caller re-creates them (loader.views.create_views)."""
    before = migrate.current_revision(conn)
    target = migrate.head_revision() if revision == "head" else revision
    if before != target:
        if before is not None:
            views.drop_views(conn)
        migrate.upgrade(conn, revision)
    after = migrate.current_revision(conn)
    return before, after


def last_load(conn: sa.Connection) -> sa.Row | None:
    return conn.execute(
        sa.select(schema.load_history.c.data_hash, schema.load_history.c.views_hash)
        .where(schema.load_history.c.outcome == "loaded")
        .order_by(schema.load_history.c.load_id.desc())
        .limit(1)
    ).first()


def load(conn: sa.Connection, dataset: Dataset, *, force: bool = False) -> LoadResult:
    """Load a checked ``dataset`` on ``conn`` (inside the caller's transaction): the records it
    checked, not the files again."""

    def replace() -> tuple[dict[str, int], str, str]:  # row counts, data hash, route
        with foreign_keys_checked_at_the_end(conn):
            delete_data(conn)
            with conn.connection.driver_connection.cursor() as cursor:
                for name in schema.LOAD_ORDER:
                    with cursor.copy(copy_sql(name)) as copy:
                        for chunk in _batches(_record_lines(dataset.tables[name].records)):
                            copy.write(chunk)
        return {name: len(dataset.tables[name].records) for name in schema.LOAD_ORDER}, dataset.data_hash, "checked in Python"

    return _load(conn, dataset.folder, force, replace)


def load_folder(conn: sa.Connection, folder: Path, *, force: bool = False, source: Path | None = None) -> LoadResult:
    """Check the dataset in ``folder`` and load it on ``conn`` (inside the caller's transaction).

    Each file is read once, into a private snapshot (loader.snapshot). The usual route streams
    each file into COPY as it is read, with its shape checked on the way (loader.canonical), and
    then checks everything else set-based in SQL over what COPY stored (loader.setchecks; a large
    dataset's shared with a second connection, loader.sidechecks, and into empty tables its keys
    built after the copy, loader.bulkkeys), with the database enforcing its own constraints.
    When any of that fails, or a file is not in the
    shape that route reads exactly as loader.dataset does, the streamed rows are rolled back and
    loader.dataset checks the snapshot's bytes: it says what is wrong (file:line:column), or, if
    nothing is, copies those bytes. With a ``source`` (the text extraction), provenance is checked
    on the snapshot too, so it speaks of the very bytes committed. Nothing is committed unless
    every check passed.
    """

    def replace() -> tuple[dict[str, int], str, str]:  # row counts, data hash, route
        snapshot = Snapshot(folder)
        try:
            streamed = conn.begin_nested()
            try:
                result = _streamed_copy(conn, snapshot)
            except _Fallback:
                streamed.rollback()
            else:
                streamed.commit()
                _check_provenance(snapshot, source)
                return (*result, "streamed")
            snapshot.complete(SPECS[name].file_name for name in schema.LOAD_ORDER)
            try:
                with foreign_keys_checked_at_the_end(conn):
                    result = _checked_copy(conn, folder, snapshot)
            except Exception as exc:  # the driver's own error from the COPY thread, or SQLAlchemy's
                if (outside := _held_by_outside_key(exc)) is not None:
                    raise outside from None
                raise
            _check_provenance(snapshot, source)
            return (*result, "checked in Python")
        finally:
            snapshot.close()

    return _load(conn, folder, force, replace)


def _check_provenance(snapshot: Snapshot, source: Path | None) -> None:
    if source is not None:
        from loader import provenance

        provenance.check_snapshot(snapshot, source)


class _Fallback(Exception):
    """The streamed route cannot vouch for the data: loader.dataset checks the snapshot instead."""


#: SQLSTATE classes of a row the database refused: cardinality violations (a reload's MERGE
#: meeting a key its file repeats, loader.load.merge_staged), data exceptions, integrity
#: violations, and program limits (a value too long for an index entry, which loader.dataset
#: refuses by its length).
_REFUSED = ("21", "22", "23", "54")


def _streamed_copy(conn: sa.Connection, snapshot: Snapshot) -> tuple[dict[str, int], str]:
    import psycopg

    from loader import bulkkeys, sidechecks

    large = sidechecks.large(snapshot.folder)
    side = sidechecks.for_load(conn, large)
    try:
        with foreign_keys_checked_at_the_end(conn, on_broken=_Fallback):
            # Into empty tables COPY goes straight in; a reload stages each file and merges it.
            held, temporary = _holds_rows(conn)
            staged = held and temporary
            if not staged:
                delete_data(conn)  # nothing to delete, unless temporary tables are not allowed
            keys = bulkkeys.drop(conn) if large and not held else []  # built after the copy
            digests, counts = {}, {}
            with conn.connection.driver_connection.cursor() as cursor:
                if staged:
                    run_together(conn, [_stage_sql(name) for name in schema.LOAD_ORDER])
                for name in schema.LOAD_ORDER:
                    spec = SPECS[name]
                    stream = snapshot.stream(spec.file_name, spec)
                    side.table(name)
                    with cursor.copy(copy_sql(name, _stage(name) if staged else None)) as copy:
                        for chunk in stream.chunks():
                            copy.write(chunk)
                            side.write(chunk)
                    side.end_table()
                    digests[spec.file_name] = stream.digest
                    counts[name] = cursor.rowcount  # the rows COPY stored
            side.done()
            bulkkeys.add(conn, keys)
            if staged and merge_staged(conn, counts):
                raise _Fallback  # a file repeats a key: loader.dataset says where
        if side.broken(conn):
            raise _Fallback
    except NotCanonical as exc:
        raise _Fallback from exc
    except (psycopg.Error, sa.exc.DBAPIError) as exc:
        state = getattr(getattr(exc, "orig", exc), "sqlstate", None) or ""
        if (outside := _held_by_outside_key(exc)) is not None:
            raise outside from None  # the data may be right: the database keeps rows for another table
        if state[:2] in _REFUSED or isinstance(exc.__context__, NotCanonical):
            raise _Fallback from exc
        raise
    finally:
        side.close()
    return counts, combine(digests)


def _checked_copy(conn: sa.Connection, folder: Path, snapshot: Snapshot) -> tuple[dict[str, int], str]:
    delete_data(conn)
    copier = _Copier(conn)
    # The COPY thread needs the GIL only for moments, but often (each time the socket takes
    # more data); with the default 5 ms switch interval it waits behind the checks most of the
    # time. 0.5 ms lets the two overlap (measured: 5.0 s -> 4.0 s for 100,000 rows).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        copier.start()
        try:
            dataset = read_dataset(folder, on_lines=copier.put, snapshot=snapshot)
        except BaseException:
            copier.stop()
            raise
        copier.finish()
    finally:
        sys.setswitchinterval(interval)
    return {name: len(dataset.tables[name].records) for name in schema.LOAD_ORDER}, dataset.data_hash


def _load(conn: sa.Connection, folder: Path, force: bool, replace) -> LoadResult:
    started = _now(conn)
    lock(conn)
    # The views may be dropped and created again: the grants a DBA gave on them come back (loader.grants).
    with grants.kept(conn):
        before, after = migrate_schema(conn)
        views_hash = views.views_hash()
        previous = last_load(conn)
        # A migration that could not bring its tables up to date from the loaded data asks for a
        # load (dwh.load_required): the same data is loaded again, not found unchanged.
        force = force or bool(report.load_required(conn))
        # Views are re-created only when their definitions change: CREATE OR REPLACE takes an
        # exclusive lock on each view, which would make readers of several views wait (or deadlock).
        views_current = (
            previous is not None
            and previous.views_hash == views_hash
            and before == after
            and set(views.view_files()) == views.existing_views(conn)
        )
        # The data hash is known once the files are read, and they are read once, while they are
        # copied: data found unchanged after all is rolled back to this savepoint.
        savepoint = conn.begin_nested()
        counts, data_hash, route = replace()
        if views_current and previous.data_hash == data_hash and not force:
            savepoint.rollback()
            _record(conn, started, "unchanged", data_hash, folder, views_hash, {})
            return LoadResult("unchanged", route, migrated_from=before, migrated_to=after)
        savepoint.commit()
        conn.execute(schema.load_required.delete())
        if not views_current:
            views.create_views(conn)
        _record(conn, started, "loaded", data_hash, folder, views_hash, counts)
        return LoadResult("loaded", route, counts, before, after)


class ForeignKeyBroken(Exception):
    """A foreign key that the checks should have caught (a defect of the loader): exit 1, nothing committed."""


@contextlib.contextmanager
def foreign_keys_checked_at_the_end(conn: sa.Connection, on_broken: type[Exception] = ForeignKeyBroken):
    """Bulk-load without a trigger per row and foreign key, then check every foreign key set-based.

    PostgreSQL checks a foreign key with a trigger per inserted row, which made COPY into the
    fact tables several times slower than COPY itself. Where the login may (a superuser, or one
    granted SET on the parameter), the load's transaction sets session_replication_role to replica
    for the copy, as ``pg_restore --disable-triggers`` does, and then checks every foreign key
    set-based (one scan per table, foreign_key_queries), as ALTER TABLE ... VALIDATE CONSTRAINT
    would. The checks of loader.dataset have found any such row before (with its file:line:column);
    this is the database's own word on it.
    Primary keys, UNIQUE, CHECK and NOT NULL are enforced by the server as always.

    Replica mode turns off every trigger, not only the warehouse's own keys': a reload that
    deleted a row a user's foreign key refers to left that user's rows pointing at nothing (and
    its ON DELETE action undone), and a trigger a user put on a warehouse table did not fire. So
    when a foreign key from outside refers to a loaded table, or a loaded table has a trigger of
    its own, the triggers stay on and every one acts as declared.
    """
    if _others_triggers(conn):
        yield
        return
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        savepoint.commit()
        bulk = True
    except sa.exc.DBAPIError as exc:
        if database_error(exc) is not None:
            raise
        savepoint.rollback()  # not allowed to: the triggers check every row, slower but the same rules
        bulk = False
    yield
    if bulk:
        conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
        check_foreign_keys(conn, on_broken)


def _others_triggers(conn: sa.Connection) -> bool:
    """Whether a trigger the warehouse did not declare would act on a load: a foreign key of a
    table that is not loaded (a user's) refers to a loaded table, or a loaded table has a trigger
    that is not a foreign key's (the warehouse declares none)."""
    tables = [f"{schema.SCHEMA}.{name}" for name in schema.LOAD_ORDER]
    return bool(conn.exec_driver_sql(
        "select exists (select from pg_constraint where contype = 'f' "
        "and confrelid = any(%(t)s::regclass[]) and not conrelid = any(%(t)s::regclass[])) "
        "or exists (select from pg_trigger where tgrelid = any(%(t)s::regclass[]) and not tgisinternal)",
        {"t": tables},
    ).scalar())


def _held_by_outside_key(exc: Exception) -> DatabaseUnavailable | None:
    """The error to give when ``exc`` is a foreign key of a table the load does not fill (a
    user's) refusing to let the load delete or change a row it refers to; else None."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    if getattr(orig, "sqlstate", None) != "23503" or diag is None:
        return None
    if diag.schema_name == schema.SCHEMA and diag.table_name in schema.LOAD_ORDER:
        return None  # one of the warehouse's own keys: the data's to answer for
    detail = (diag.message_detail or diag.message_primary or "").strip().rstrip(".")
    return DatabaseUnavailable(
        f"the foreign key {diag.constraint_name} of {diag.schema_name}.{diag.table_name} refers to rows this load "
        f"would delete or change ({detail}); change or drop that key, or the rows of that table, and load again"
    )


def check_foreign_keys(conn: sa.Connection, error: type[Exception] = ForeignKeyBroken) -> None:
    """Raise if a row of a loaded table has no row its foreign key refers to."""
    from loader.db import first_rows_together

    broken = []
    queries = foreign_key_queries()
    for (keys, _), orphans in zip(queries, first_rows_together(conn, [sql for _, sql in queries]), strict=True):
        broken += [f"{key}: {n} rows" for key, n in zip(keys, orphans) if n]
    if broken:
        raise error("foreign keys broken after the copy although the checks passed: " + "; ".join(broken))


def foreign_key_queries() -> list[tuple[list[str], str]]:
    """Per loaded table with foreign keys: the keys' names, and one ``select`` of each key's orphan count.

    One scan of the table for all its keys: a left join to each referred table (its key is unique,
    so no row is repeated), counting per key the rows that found no match.
    """
    out = []
    for name in schema.LOAD_ORDER:
        table = schema.metadata.tables[f"{schema.SCHEMA}.{name}"]
        keys, joins, counts = [], [], []
        for k, fk in enumerate(sorted(table.foreign_key_constraints, key=lambda fk: fk.name)):
            pairs = [(e.parent.name, e.column.name) for e in fk.elements]
            match = " and ".join(f'p{k}."{target}" = c."{column}"' for column, target in pairs)
            present = " and ".join(f'c."{column}" is not null' for column, _ in pairs)
            keys.append(fk.name)
            joins.append(f"left join {schema.SCHEMA}.{fk.referred_table.name} as p{k} on {match}")
            counts.append(f'count(*) filter (where {present} and p{k}."{pairs[0][1]}" is null)')
        if keys:
            out.append((keys, f"select {', '.join(counts)} from {schema.SCHEMA}.{name} as c {' '.join(joins)}"))
    return out


def delete_data(conn: sa.Connection) -> None:
    # 24 DELETEs without parameters: one round trip (loader.db.run_together).
    tables = (schema.metadata.tables[f"{schema.SCHEMA}.{name}"] for name in reversed(schema.LOAD_ORDER))
    run_together(conn, [str(table.delete().compile(dialect=conn.dialect)) for table in tables])


def copy_sql(name: str, into: str | None = None) -> str:
    """The COPY statement a load streams ``name``'s records into (no header; bench/run.py uses it too);
    ``into``: another table of the same columns (a stage)."""
    columns = ", ".join(f'"{c}"' for c in SPECS[name].header)
    return f"COPY {into or f'{schema.SCHEMA}.{name}'} ({columns}) FROM STDIN WITH (FORMAT csv)"


# A reload: staged and merged, not deleted and copied again.
#
# Deleting every row and copying the files again made a reload of unchanged or nearly unchanged
# data the slowest load of all: each new row's key met the deleted row's entry in the primary
# key's index, and the server looked that row up to see it was gone (COPY of 291,924 rows of
# trajectory_end into the table it had just emptied: 3.3 s, against 1.9 s into an empty table).
# So a reload COPYs each file into a stage, a temporary table of the file's columns (private to
# the load's session, not WAL-logged, dropped at commit), and MERGEs it into the table on its
# primary key: a new row is inserted, a changed row updated, an unchanged row not written at all;
# then the rows the files no longer hold are deleted. Same data: about 1 s for that table, and no
# dead rows for readers and the checks to step over. Readers see the old rows until the load
# commits, as before. A change the merge cannot make row by row (two tables trading a UNIQUE
# position) is refused by the database and sends the load to the Python checks, which delete and
# copy.


def _holds_rows(conn: sa.Connection) -> tuple[bool, bool]:
    """Whether a table holds rows, and whether the login may make temporary tables: a reload
    merges into the rows held, through temporary tables; without them (its database's TEMP
    privilege revoked) it deletes and copies."""
    tables = [f"{schema.SCHEMA}.{name}" for name in schema.LOAD_ORDER]
    held = " or ".join(f"exists (select from {t})" for t in tables)
    row = conn.exec_driver_sql(f"select ({held}), has_database_privilege(current_database(), 'TEMP')").one()
    return bool(row[0]), bool(row[1])


def _stage(name: str) -> str:
    return f"pg_temp.dwh_stage_{name}"


def _stage_sql(name: str) -> str:
    """A temporary table of the file's columns and types; no constraints: the table's own check what the merge writes."""
    columns = ", ".join(f'"{c}"' for c in SPECS[name].header)
    return f"create temporary table dwh_stage_{name} on commit drop as select {columns} from {schema.SCHEMA}.{name} with no data"


#: Planner settings for the merge: the stages have no statistics, and a nested loop over the
#: primary key's index probes it once a row (as ON CONFLICT would: 1.7 s for trajectory_end's
#: 291,924 rows, against 0.5 s hashed).
MERGE_PLANNER = {"work_mem": "128MB", "enable_nestloop": "off", "enable_mergejoin": "off"}


def _compared(name: str) -> tuple[list[str], str, str | None]:
    """``name``'s columns besides the key, the join of its stage (s) and table (d) on the key, and
    the condition that a row of both differs (None when every column is in the key)."""
    table = schema.metadata.tables[f"{schema.SCHEMA}.{name}"]
    key = [c.name for c in table.primary_key.columns]
    rest = [c for c in SPECS[name].header if c not in key]
    on = " and ".join(f'd."{c}" = s."{c}"' for c in key)
    if not rest:
        return rest, on, None
    # A number without a fixed scale keeps the digits it was written with (1.50 is not 1.5 to
    # a reader): compared as text, so that a new way of writing it is written too.
    as_text = {c.name for c in table.columns if type(c.type) is sa.Numeric and c.type.scale is None}
    shown = lambda side, c: f'{side}."{c}"::text' if c in as_text else f'{side}."{c}"'  # noqa: E731
    mine, theirs = (", ".join(shown(side, c) for c in rest) for side in "ds")
    return rest, on, f"({mine}) is distinct from ({theirs})"


def merge_sql(name: str) -> list[str]:
    """MERGE of ``name``'s stage into its table, then the DELETE of the rows the stage does not hold."""
    rest, on, differ = _compared(name)
    header = [f'"{c}"' for c in SPECS[name].header]
    when = ""
    if differ is not None:
        when = f"when matched and {differ} then update set " + ", ".join(f'"{c}" = s."{c}"' for c in rest) + " "
    target = f"{schema.SCHEMA}.{name}"
    return [
        f"merge into {target} as d using {_stage(name)} as s on {on} {when}"
        f"when not matched then insert ({', '.join(header)}) values ({', '.join(f's.{c}' for c in header)})",
        f"delete from {target} as d where not exists (select from {_stage(name)} as s where {on})",
    ]


def changes_sql(name: str) -> str:
    """Whether merging ``name``'s stage has anything to write: a row of the stage not in the table,
    of the table not in the stage, or in both with other values (merge_sql's comparison). One
    join of the two, where the MERGE and the DELETE of a table make two."""
    _, on, differ = _compared(name)
    return (
        f"select count(*) filter (where d.ctid is null or s.ctid is null or {differ or 'false'}) > 0 "
        f"from {_stage(name)} as s full join {schema.SCHEMA}.{name} as d on {on}"
    )


def merge_staged(conn: sa.Connection, counts: dict[str, int]) -> list[str]:
    """Merge every stage (``counts``: the rows COPY put in each) into its table, and return the
    tables whose file repeats a key (the load must then refuse it; nothing else is checked here).

    Inserts and updates go parents first (load order), then the rows no file holds any more are
    deleted, children first, so that a foreign key checked row by row (a login that may not skip
    the triggers, foreign_keys_checked_at_the_end) always finds its row.

    A repeated key is not always refused by the merge: two rows of one key that both match the
    table's row and equal it change nothing. It is found by counting: the stage's rows that
    matched (its rows less those inserted) must be as many as the table's rows that matched (its
    rows before, less those deleted).
    """
    from loader.db import local_settings

    with local_settings(conn, MERGE_PLANNER):
        return _merge(conn, counts)


def _merge(conn: sa.Connection, counts: dict[str, int]) -> list[str]:
    from loader.db import first_rows_together

    count = "select " + ", ".join(f"(select count(*) from {schema.SCHEMA}.{name})" for name in schema.LOAD_ORDER)
    held = dict(zip(schema.LOAD_ORDER, conn.exec_driver_sql(count).one()))
    # A table whose stage holds exactly its rows is neither merged nor deleted from: one join
    # instead of two (a forced reload of unchanged data at 1M observations: the merge took
    # 2.1 s of which the DELETEs' anti-joins 0.95 s). A key its stage repeats is found by the
    # counts below either way.
    writes = dict(zip(schema.LOAD_ORDER, (row[0] for row in first_rows_together(conn, [changes_sql(n) for n in schema.LOAD_ORDER]))))
    statements = {name: merge_sql(name) for name in schema.LOAD_ORDER}
    for name in schema.LOAD_ORDER:
        if writes[name]:
            conn.exec_driver_sql(statements[name][0])
    inserted = {name: rows - held[name] for name, rows in zip(schema.LOAD_ORDER, conn.exec_driver_sql(count).one())}
    repeated = []
    for name in reversed(schema.LOAD_ORDER):
        deleted = conn.exec_driver_sql(statements[name][1]).rowcount if writes[name] else 0
        if counts[name] - inserted[name] != held[name] - deleted:
            repeated.append(name)
    run_together(conn, [f"drop table {_stage(name)}" for name in schema.LOAD_ORDER])
    return repeated


class _Stopped(Exception):
    pass


_DONE = None  # put on the copier's queue after the last file


class _Copier(threading.Thread):
    """Streams each file's records into COPY on the load's connection, while the caller checks them.

    The records come from loader.dataset.read_dataset (``put``) in load order, a batch of lines
    at a time as they pass their checks: the bytes the checks read, never the file again. The
    queue is bounded, so memory stays flat whatever the size of the files.
    """

    def __init__(self, conn: sa.Connection):
        super().__init__(name="dwh-copy", daemon=True)
        self._raw = conn.connection.driver_connection
        self._batches: queue.Queue = queue.Queue(maxsize=4)
        self._stopping = threading.Event()
        self.error: BaseException | None = None

    def put(self, name: str, batch: list[str] | None) -> None:
        """A batch of ``name``'s record lines, or None after its last one."""
        while True:
            try:
                self._batches.put((name, batch), timeout=0.1)
                return
            except queue.Full:
                if not self.is_alive():  # it failed: finish() reports why
                    return

    def run(self) -> None:
        try:
            with self._raw.cursor() as cursor:
                for expected in schema.LOAD_ORDER:
                    with cursor.copy(copy_sql(expected)) as copy:
                        while True:
                            item = self._batches.get()
                            if item is _DONE or self._stopping.is_set():
                                raise _Stopped
                            name, batch = item
                            assert name == expected, (name, expected)  # read_dataset reads in load order
                            if batch is None:
                                break
                            copy.write("".join(_copy_line(line, None) for line in batch))
                    del item, batch
        except BaseException as exc:  # reported by finish(), unless the checks explain it
            self.error = exc

    def stop(self) -> None:
        """The checks failed: end the COPY (the transaction is rolled back by the caller)."""
        self._stopping.set()
        while True:  # make room for the end, if the queue is full
            try:
                self._batches.put_nowait(_DONE)
                break
            except queue.Full:
                try:
                    self._batches.get_nowait()
                except queue.Empty:
                    pass
        self.join()

    def finish(self) -> None:
        self._put_done()
        self.join()
        if self.error is not None:
            raise self.error

    def _put_done(self) -> None:
        while self.is_alive():
            try:
                self._batches.put(_DONE, timeout=0.1)
                return
            except queue.Full:
                continue


def _record_lines(records):
    for record in records:
        yield _copy_line(record.text, record.values)


def _copy_line(line: str, values: list[str] | None) -> str:
    if '"' in line:
        # A quoted field may be "" (NULL for us, an empty string for COPY): write the values anew.
        if values is None:
            values = split_line(line)[0]
        line = ",".join('"' + v.replace('"', '""') + '"' if any(c in v for c in ',"') else v for v in values)
    return line + "\n"


def _batches(copy_lines):
    batch = []
    for line in copy_lines:
        batch.append(line)
        if len(batch) == COPY_CHUNK:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _now(conn: sa.Connection) -> dt.datetime:
    return conn.execute(sa.text("select clock_timestamp()")).scalar_one()


def _record(conn, started, outcome, data_hash, folder, views_hash, counts, message=None) -> None:
    conn.execute(
        schema.load_history.insert().values(
            started_at=started,
            finished_at=sa.func.clock_timestamp(),
            outcome=outcome,
            data_hash=data_hash,
            views_hash=views_hash,
            data_source=str(folder),
            row_counts=counts,
            loader_version=loader.__version__,
            message=message,
        )
    )


def commit(transaction) -> None:
    """Commit the load's transaction, telling a lost connection during COMMIT apart from one before it."""
    try:
        transaction.commit()
    except Exception as exc:
        from loader.db import database_error

        if (outside := _held_by_outside_key(exc)) is not None:
            raise outside from None  # a user's deferred foreign key, checked at COMMIT: nothing was committed
        reason = database_error(exc)
        if reason is None:
            raise
        raise CommitInDoubt(
            f"{reason}; the connection was lost while committing, so whether the data was loaded is not known "
            "(`dwh status` tells once the server is back)"
        ) from exc


def note_failure(engine: sa.Engine, folder: Path, exc: BaseException) -> None:
    """Record a failed load in a transaction of its own (the load's was rolled back); best effort."""
    from loader.db import begin, database_error

    if database_error(exc) is not None or isinstance(exc, DwhError):
        return  # the database is gone or was never reached: nowhere to write it
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    try:
        with begin(engine) as conn:
            if migrate.current_revision(conn) is not None:
                _record(
                    conn, _now(conn), "failed", fingerprint.data_hash(folder), folder, views.views_hash(), {},
                    f"{type(exc).__name__}: {message}",
                )
    except Exception:
        pass  # the original error is what the user must see


def status(conn: sa.Connection, limit: int = 10) -> list[dict]:
    """The newest loads; ``data_source`` is None for a reader login, which may not read it (loader.roles.SERVER_PATHS)."""
    lh = schema.load_history
    may_see_source = conn.execute(sa.text("select has_column_privilege('dwh.load_history', 'data_source', 'select')")).scalar()
    columns = [c if c.name != "data_source" or may_see_source else sa.null().label("data_source") for c in lh.c]
    rows = conn.execute(sa.select(*columns).order_by(lh.c.load_id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]

