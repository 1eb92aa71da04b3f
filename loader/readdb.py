"""A plain psycopg connection for commands that only read (`dwh show`): no SQLAlchemy on that path.

SQLAlchemy stays how the schema is declared, migrated and loaded; a read of one report view
needs none of it, and importing it took most of the time `dwh show` spent before its answer.
The database is chosen by the one settings function (loader.settings), as for every command.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from loader import settings
from loader.errors import DatabaseUnavailable


@contextlib.contextmanager
def read_only(url_option: str | None = None) -> Iterator:
    """A psycopg connection to the configured database, in one read-only transaction for the block."""
    import psycopg

    with settings.resolved_url(url_option) as url:
        libpq = settings.libpq_url(url)
        try:
            conn = psycopg.connect(libpq)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(connect_error_message(settings.redact(libpq), exc)) from exc
        conn.read_only = True
        with conn:  # commits (nothing) at the end, rolls back on an error, and closes
            yield conn


def connect_error_message(where: str, exc: BaseException) -> str:
    """One line for a failed connection to ``where`` (a URL without its password), with what to check."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = reason.lower()
    if "password" in lowered:
        hint = "check the user name and password in the URL"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "create the database or fix its name in the URL"
    else:
        hint = "check that the server is running and the host and port in the URL"
    return f"cannot connect to {where}: {reason}; {hint}"
