"""Engines and connections, with connection failures turned into one actionable line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from loader import settings
from loader.errors import DatabaseUnavailable


@contextlib.contextmanager
def open_engine(url_option: str | None = None) -> Iterator[Engine]:
    """Yield an engine for the configured database; starts the embedded server when none is configured."""
    with settings.resolved_url(url_option) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def make_engine(url: str) -> Engine:
    engine = sa.create_engine(settings.sqlalchemy_url(url), poolclass=sa.NullPool)
    return engine


def connect(engine: Engine) -> sa.Connection:
    """Open a connection; an unreachable server, a wrong password or a missing database is exit 3."""
    try:
        return engine.connect()
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(describe_connect_error(engine, exc)) from exc


@contextlib.contextmanager
def begin(engine: Engine) -> Iterator[sa.Connection]:
    """A connection in one transaction, committed when the block ends without an exception."""
    with connect(engine) as conn, conn.begin():
        yield conn


@contextlib.contextmanager
def local_settings(conn: sa.Connection, settings: dict[str, str]) -> Iterator[None]:
    """Server settings (planner, work memory) for the statements in the block, in ``conn``'s
    transaction (set_config(..., true)), and back to what they were after it. An error inside
    aborts the transaction, which ends the settings too: nothing to restore then."""
    names = list(settings)
    before = conn.exec_driver_sql("select " + ", ".join(f"current_setting('{n}')" for n in names)).one()
    _set_local(conn, settings)
    yield
    _set_local(conn, dict(zip(names, before)))


def _set_local(conn: sa.Connection, settings: dict[str, str]) -> None:
    conn.exec_driver_sql(
        "select " + ", ".join("set_config(%s, %s, true)" for _ in settings),
        tuple(x for pair in settings.items() for x in pair),
    )


def run_together(conn: sa.Connection, statements: list[str]) -> None:
    """Run ``statements`` (SQL without parameters) in ``conn``'s transaction, in order, in one round trip.

    A statement without parameters goes to the server by the simple query protocol, which takes
    many at once: one round trip instead of one per statement, and SQLAlchemy's per-statement work
    once. The first statement that fails raises as it would alone (SQLAlchemy's exception around
    psycopg's) and the rest do not run.
    """
    conn.exec_driver_sql(";\n".join(statements), execution_options={"no_parameters": True}).close()


def first_rows_together(conn: sa.Connection, queries: list[str]) -> list[tuple]:
    """The first row of each of ``queries`` (each returns rows; no parameters), run as run_together does."""
    result = conn.exec_driver_sql(";\n".join(queries), execution_options={"no_parameters": True})
    cursor = result.cursor  # psycopg's cursor holds every statement's result, the first one current
    try:
        rows = [cursor.fetchone()]
        while cursor.nextset():
            rows.append(cursor.fetchone())
    finally:
        result.close()
    return rows


def describe_connect_error(engine: Engine, exc: Exception) -> str:
    from loader.readdb import connect_error_message

    where = engine.url.render_as_string(hide_password=True).replace("postgresql+psycopg", "postgresql")
    return connect_error_message(where, exc)


#: SQLSTATE disk_full: the server could not write a file (PostgreSQL manual, "PostgreSQL Error Codes").
DISK_FULL = "53100"


def database_error(exc: BaseException) -> str | None:
    """One line for an error that means the database went away or refused us, else None."""
    import psycopg

    from loader.locking import lock_timeout_message

    orig = getattr(exc, "orig", exc)
    waited = lock_timeout_message(exc)
    if waited is not None:
        return waited
    if isinstance(exc, sa.exc.OperationalError) or isinstance(orig, psycopg.OperationalError):
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        from loader.readdb import QUERY_CANCELED, cancelled_message

        if getattr(orig, "sqlstate", None) == QUERY_CANCELED:
            return cancelled_message(reason)
        if getattr(orig, "sqlstate", None) == DISK_FULL:
            # The server is up and says why (an embedded server's is named by loader.embedded.disk_full).
            return f"the database server's disk is full ({reason}): free space on the server's disk, then run the command again"
        return f"the database connection failed: {reason}; check that the server is running and reachable"
    return None
