"""Loading a checked dataset: migrate, replace the data, rebuild the views, in the caller's transaction.

Readers never see a partial state: everything happens in one transaction, and the old rows are
removed with DELETE (MVCC-safe; TRUNCATE would show concurrent readers an empty table). Two loads
at once are serialized by a transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

import loader
from loader import migrate, schema, views
from loader.dataset import Dataset
from loader.errors import DwhError
from loader.unchanged import LOAD_LOCK


COPY_CHUNK = 10_000  # records per write to COPY


@dataclass
class LoadResult:
    outcome: str  # loaded | unchanged
    row_counts: dict[str, int] = field(default_factory=dict)
    migrated_from: str | None = None
    migrated_to: str | None = None


def lock(conn: sa.Connection) -> None:
    conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": LOAD_LOCK})


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
    """Load ``dataset`` on ``conn`` (inside the caller's transaction)."""
    started = _now(conn)
    lock(conn)
    before, after = migrate_schema(conn)
    views_hash = views.views_hash()
    previous = last_load(conn)
    # Views are re-created only when their definitions change: CREATE OR REPLACE takes an
    # exclusive lock on each view, which would make readers of several views wait (or deadlock).
    views_current = (
        previous is not None
        and previous.views_hash == views_hash
        and before == after
        and set(views.view_files()) == views.existing_views(conn)
    )
    if views_current and previous.data_hash == dataset.data_hash and not force:
        _record(conn, started, "unchanged", dataset, views_hash, {})
        return LoadResult("unchanged", migrated_from=before, migrated_to=after)
    counts = replace_data(conn, dataset)
    if not views_current:
        views.create_views(conn)
    _record(conn, started, "loaded", dataset, views_hash, counts)
    return LoadResult("loaded", counts, before, after)


def replace_data(conn: sa.Connection, dataset: Dataset) -> dict[str, int]:
    for name in reversed(schema.LOAD_ORDER):
        conn.execute(schema.metadata.tables[f"{schema.SCHEMA}.{name}"].delete())
    raw = conn.connection.driver_connection
    counts = {}
    with raw.cursor() as cursor:
        for name in schema.LOAD_ORDER:
            data = dataset.tables[name]
            columns = ", ".join(f'"{c}"' for c in data.spec.header)
            # The checked records go to COPY as the CSV lines they are (empty field = NULL, as in
            # the curated files), in large chunks: no per-value adaptation in Python.
            with cursor.copy(f"COPY {schema.SCHEMA}.{name} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                records = data.records
                for start in range(0, len(records), COPY_CHUNK):
                    copy.write("".join(_copy_line(r) + "\n" for r in records[start : start + COPY_CHUNK]))
            counts[name] = len(data.records)
    return counts


def _copy_line(record) -> str:
    """The record as a line of COPY's CSV format, where only an unquoted empty field is NULL."""
    if '"' not in record.text:
        return record.text
    # A quoted field may be "" (NULL for us, an empty string for COPY): write the values anew.
    return ",".join(
        '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"') else v for v in record.values
    )


def _now(conn: sa.Connection) -> dt.datetime:
    return conn.execute(sa.text("select clock_timestamp()")).scalar_one()


def _record(conn, started, outcome, dataset, views_hash, counts, message=None) -> None:
    conn.execute(
        schema.load_history.insert().values(
            started_at=started,
            finished_at=sa.func.clock_timestamp(),
            outcome=outcome,
            data_hash=dataset.data_hash,
            views_hash=views_hash,
            data_source=str(dataset.folder),
            row_counts=counts,
            loader_version=loader.__version__,
            message=message,
        )
    )


def note_failure(engine: sa.Engine, dataset: Dataset, exc: BaseException) -> None:
    """Record a failed load in a transaction of its own (the load's was rolled back); best effort."""
    from loader.db import begin, database_error

    if database_error(exc) is not None or isinstance(exc, DwhError):
        return  # the database is gone or was never reached: nowhere to write it
    message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    try:
        with begin(engine) as conn:
            if migrate.current_revision(conn) is not None:
                _record(conn, _now(conn), "failed", dataset, views.views_hash(), {}, f"{type(exc).__name__}: {message}")
    except Exception:
        pass  # the original error is what the user must see


def status(conn: sa.Connection, limit: int = 10) -> list[dict]:
    rows = conn.execute(
        sa.select(schema.load_history).order_by(schema.load_history.c.load_id.desc()).limit(limit)
    ).mappings()
    return [dict(r) for r in rows]

