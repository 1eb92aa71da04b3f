"""Taking every lock a change needs at once, so that it never deadlocks with readers.

Re-creating the report views one by one took an exclusive lock on each in turn, held to the end
of the transaction. A reader of report.doorstroom locks that view and then report.cijfers, which
it reads; when the load had just replaced report.cijfers and then needed report.doorstroom, the
two waited for each other until PostgreSQL's deadlock check killed one (a failed read, or a
failed load). A fixed order alone does not help: a reader's transaction may read views in any
order.

So the locks are taken in one statement, ``LOCK TABLE a, b, ... IN ... MODE``, allowed to wait
only briefly (``lock_timeout``); when that runs out, the attempt's savepoint is rolled back, which
releases whatever it had taken, so no reader ever waits for us while we wait for it for longer
than one attempt. A short wait alone starves under readers that never stop (each attempt finds a
read in progress), so the wait escalates: it doubles with each failed attempt up to LONGEST_WAIT.
While we wait, new readers queue behind our request and the reads in progress end, so the longer
attempt succeeds. LONGEST_WAIT stays below the server's ``deadlock_timeout``: a reader caught in
a cycle with us sees our wait end before its own deadlock check runs. Past the load's lock
timeout (loader.locking) the last attempt's error is raised: exit 3, with who to look for.

Locking a view locks the relations it reads too (PostgreSQL does so recursively), so a direct
reader of a dwh table waits for the short end of the transaction as well.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

import sqlalchemy as sa

#: The first attempt's wait, in seconds.
FIRST_WAIT = 0.01
#: The longest one attempt waits; longer than the slowest read of a report view, shorter than
#: PostgreSQL's default deadlock_timeout (1 s).
LONGEST_WAIT = 0.25


def lock_at_once(conn: sa.Connection, relations: Iterable[str], mode: str = "access exclusive", *, deadline: float | None = None) -> int:
    """Lock every relation (quoted, schema-qualified names) in ``mode``, all or none; the attempts it took.

    Runs in ``conn``'s transaction, whose ``lock_timeout`` (set by loader.locking) is restored
    afterwards. ``deadline`` (time.monotonic) defaults to the load's lock timeout from now.
    """
    from loader.locking import _is_lock_timeout, _set_lock_timeout, lock_timeout

    names = list(dict.fromkeys(relations))
    if not names:
        return 0
    limit = lock_timeout()
    deadline = time.monotonic() + limit if deadline is None else deadline
    deadlock = _deadlock_timeout(conn)
    wait = min(FIRST_WAIT, deadlock / 4)
    longest = min(LONGEST_WAIT, deadlock / 2)
    statement = f"lock table {', '.join(names)} in {mode} mode"
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        last = remaining <= wait
        savepoint = conn.begin_nested()
        try:
            # Even the last attempt waits no longer than LONGEST_WAIT: a reader is never the one a
            # deadlock check ends, the load gives up instead.
            _set_lock_timeout(conn, max(remaining, 0.001) if last else wait)
            conn.exec_driver_sql(statement)
        except sa.exc.OperationalError as exc:
            savepoint.rollback()
            if last or not _is_lock_timeout(exc):
                raise
            wait = min(wait * 2, longest)
            time.sleep(random.uniform(0, FIRST_WAIT))  # lets the readers queued behind us through
            continue
        savepoint.commit()
        _set_lock_timeout(conn, limit)
        return attempts


def _deadlock_timeout(conn: sa.Connection) -> float:
    """The server's deadlock_timeout in seconds."""
    milliseconds = conn.exec_driver_sql("select setting::float from pg_settings where name = 'deadlock_timeout'").scalar_one()
    return milliseconds / 1000
