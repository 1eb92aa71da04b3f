"""A plain libpq connection for commands that only read (`dwh show`): no SQLAlchemy, no psycopg.

SQLAlchemy stays how the schema is declared, migrated and loaded; a read of one report view
needs none of it, and importing it took most of the time `dwh show` spent before its answer.
Importing psycopg then took most of what was left: the read goes through loader.libpq, which
raises psycopg's own exceptions. The database is chosen by the one settings function
(loader.settings), as for every command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from loader import settings
from loader.errors import DatabaseUnavailable


@contextlib.contextmanager
def read_only(url_option: str | None = None) -> Iterator:
    """A connection to the configured database, in one read-only transaction for the block."""
    with settings.connected(url_option, _connect) as conn:
        conn.execute("begin read only")
        yield conn
        conn.execute("commit")  # on an error the session ends with the transaction open: rolled back


def _connect(url: str):
    """A loader.libpq connection to ``url``; a refused one is DatabaseUnavailable, saying what to check."""
    from loader import libpq

    libpq_url = settings.libpq_url(url)
    try:
        return libpq.connect(libpq_url)
    except Exception as exc:
        if not libpq.is_operational_error(exc):
            raise
        raise DatabaseUnavailable(connect_error_message(settings.redact(libpq_url), exc)) from exc


#: SQLSTATE query_canceled: a statement_timeout, or a cancel request, ended a statement; the server is up.
QUERY_CANCELED = "57014"


def cancelled_message(reason: str) -> str:
    """One line for a statement the server cancelled: not a lost connection, and what to change."""
    return (
        f"the server cancelled a statement ({reason}): a statement_timeout set for this login or database, "
        "or in PGOPTIONS, is shorter than the command needs, or someone cancelled it; run the command again"
    )


def connect_error_message(where: str, exc: BaseException) -> str:
    """One line for a failed connection to ``where`` (a URL without its password), with what to check."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if getattr(getattr(exc, "orig", exc), "sqlstate", None) == QUERY_CANCELED:  # the first statements of a session
        return cancelled_message(reason)
    lowered = reason.lower()
    if "password" in lowered:
        hint = "check the user name and password in the URL"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "create the database or fix its name in the URL"
    else:
        hint = "check that the server is running and the host and port in the URL"
    return f"cannot connect to {where}: {reason}; {hint}"
