"""The load lock: one load or migration at a time per warehouse, never taken by a reader, never silent.

The lock is ``LOCK TABLE dwh.load_history IN EXCLUSIVE MODE``, held to the end of the load's
transaction. PostgreSQL lets a role take that mode only with UPDATE, DELETE or TRUNCATE on the
table, which readers do not have; what readers take (ACCESS SHARE, by SELECT) does not conflict
with it. (Migration 0002's lock was an advisory lock, which every login can take and hold.)

A database with no tables yet (the first load) has no table to lock: two first loads are then
kept apart by the advisory lock, and the loser takes the table lock once it sees the table.

A wait is never silent and never endless: after FIRST_REPORT seconds it says on stderr who holds
the lock, and it gives up after ``DWH_LOCK_TIMEOUT`` seconds (default 60) with exit 3. The same
limit holds, as PostgreSQL's ``lock_timeout``, for every other lock the rest of the transaction
waits for (a migration or a view that must wait for a reader's open transaction).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import sqlalchemy as sa

from loader.errors import DatabaseUnavailable, InputError, ReadOnlyLogin

LOCK_TABLE = "dwh.load_history"
#: Advisory lock key for a database without tables (the first load): "dwh\0".
FIRST_LOAD_KEY = 0x64776800
TIMEOUT_ENV = "DWH_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
#: Seconds of waiting before the wait is reported.
FIRST_REPORT = 2.0

_TABLE_LOCK = sa.text(f"lock table {LOCK_TABLE} in exclusive mode")
_FIRST_LOAD_LOCK = sa.text("select pg_advisory_xact_lock(:k)").bindparams(k=FIRST_LOAD_KEY)


class LockTimeout(DatabaseUnavailable):
    """Another session held a lock the load or migration needs for longer than allowed (exit 3)."""


def lock_timeout() -> float:
    """Seconds to wait for a lock: ``DWH_LOCK_TIMEOUT``, else 60."""
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 86400 * 365:
        raise InputError(f"{TIMEOUT_ENV}={value!r} is not a number of seconds (expected e.g. 60)")
    return seconds


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def refuse_read_only(conn: sa.Connection) -> None:
    """Stop, in one line, a login that may only read: without this a reader's `dwh load` failed
    on the first statement it may not run, as an unexpected error naming a table.

    A login may change the warehouse when it may add to the load history (once the tables exist)
    or create schemas in the database (before the first load)."""
    user, may_write = conn.execute(
        sa.text(
            "select current_user, case when to_regclass(:t) is null then has_database_privilege(current_database(), 'create') "
            "else has_table_privilege(:t, 'insert') end"
        ),
        {"t": LOCK_TABLE},
    ).one()
    if not may_write:
        raise ReadOnlyLogin(
            f"login {user} may only read this warehouse: loading, migrating and granting logins need the login that owns it"
        )


def take_load_lock(conn: sa.Connection, timeout: float | None = None, say: Callable[[str], None] = _say) -> None:
    """Take the load lock in ``conn``'s transaction, reporting a wait and giving up after ``timeout`` s."""
    refuse_read_only(conn)
    timeout = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + timeout
    has_table = _has_table(conn)
    _acquire(conn, _TABLE_LOCK if has_table else _FIRST_LOAD_LOCK, has_table, timeout, deadline, say)
    if not has_table and _has_table(conn):
        # Another first load created the tables while we waited: take the lock everyone else takes.
        _acquire(conn, _TABLE_LOCK, True, timeout, deadline, say)
    _set_lock_timeout(conn, timeout)


def _has_table(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("select to_regclass(:t)"), {"t": LOCK_TABLE}).scalar() is not None


def _acquire(conn, statement, on_table: bool, timeout: float, deadline: float, say) -> None:
    if _try(conn, statement, min(FIRST_REPORT, timeout)):
        return
    holders = describe_holders(conn, on_table)
    say(f"dwh: waiting for the load lock on database {_database(conn)}, held by {holders}; giving up after {timeout:g} s ({TIMEOUT_ENV})")
    remaining = deadline - time.monotonic()
    if remaining > 0 and _try(conn, statement, remaining):
        return
    raise LockTimeout(
        f"gave up waiting for the load lock after {timeout:g} s: it is held by {describe_holders(conn, on_table)}; "
        f"end that session or wait longer with {TIMEOUT_ENV}=SECONDS"
    )


def _try(conn: sa.Connection, statement, seconds: float) -> bool:
    """Run ``statement``, allowing it ``seconds`` of waiting for its lock; False when that ran out."""
    savepoint = conn.begin_nested()
    try:
        _set_lock_timeout(conn, seconds)
        conn.execute(statement)
    except sa.exc.OperationalError as exc:
        savepoint.rollback()
        if _is_lock_timeout(exc):
            return False
        raise
    savepoint.commit()
    return True


def _set_lock_timeout(conn: sa.Connection, seconds: float) -> None:
    # Local to the transaction (or savepoint): the connection goes back to the server's setting.
    milliseconds = max(1, round(seconds * 1000))
    conn.execute(sa.text("select set_config('lock_timeout', :v, true)"), {"v": f"{milliseconds}ms"})


def _is_lock_timeout(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", exc), "sqlstate", None) == "55P03"  # lock_not_available


def _database(conn: sa.Connection) -> str:
    return conn.execute(sa.text("select current_database()")).scalar_one()


def describe_holders(conn: sa.Connection, on_table: bool = True) -> str:
    """Who holds the load lock: 'pid 123 (user alice, application psql)', or 'another session'."""
    rows = conn.execute(
        sa.text(
            """
            select l.pid, a.usename, a.application_name
            from pg_locks l left join pg_stat_activity a on a.pid = l.pid
            where l.granted and l.pid is distinct from pg_backend_pid()
              and l.database = (select oid from pg_database where datname = current_database())
              and case when :on_table
                       then l.locktype = 'relation' and l.relation = to_regclass(:t) and l.mode <> 'AccessShareLock'
                       else l.locktype = 'advisory' and l.classid::bigint = 0 and l.objid::bigint = :k and l.objsubid = 1
                  end
            order by l.pid
            """
        ),
        {"on_table": on_table, "t": LOCK_TABLE, "k": FIRST_LOAD_KEY},
    ).all()
    if not rows:
        return "another session"
    described = []
    for pid, user, application in rows:
        if pid is None:
            described.append("a prepared transaction")
        else:
            described.append(f"pid {pid} (user {user or '?'}, application {application or '?'})")
    return ", ".join(described)


def lock_timeout_message(exc: BaseException) -> str | None:
    """One line for a lock wait that ran out after the load lock was taken (a migration or view waited), else None."""
    if not _is_lock_timeout(exc):
        return None
    try:
        seconds = f"{lock_timeout():g} s"
    except InputError:
        seconds = "the allowed time"
    return (
        f"gave up waiting for a lock after {seconds}: another session (e.g. a reader's open transaction) holds a table "
        f"or view this needs; see pg_stat_activity, end that session or wait longer with {TIMEOUT_ENV}=SECONDS"
    )
