"""What `dwh load` tells the user when something fails around the commit.

Standard library only (and the project's errors): `dwh load` imports this before it knows whether
the data is unchanged, and that no-op must not pay for importing SQLAlchemy or psycopg.
"""

from __future__ import annotations

import contextlib

from loader.errors import DatabaseUnavailable, InputError


class CommitInDoubt(DatabaseUnavailable):
    """The connection was lost while COMMIT was under way: only the database knows whether it happened."""


class LoadOutcome:
    """Whether the load's transaction has committed, so an error afterwards is reported as what it is."""

    def __init__(self) -> None:
        self.done = False
        self.result = None  # loader.load.LoadResult, or None for the cheap no-op
        self.warning: str | None = None

    def committed(self, result) -> None:
        self.done = True
        self.result = result


@contextlib.contextmanager
def load_outcome():
    """Turn an error around a load into the outcome the user must be told.

    After the commit, a failure (say the server died and its clean-up failed) does not undo the
    load: it becomes a warning, and the command says the data was loaded. Before the commit, a
    lost database is exit 3 and "nothing was loaded", whatever the clean-up raised on top of it.
    """
    outcome = LoadOutcome()
    try:
        yield outcome
    except (InputError, CommitInDoubt, KeyboardInterrupt):
        raise
    except Exception as exc:
        if outcome.done:
            outcome.warning = f"the data was committed, but the clean-up afterwards failed ({_first_line(exc)})"
            return
        reason = _database_reason(exc)
        if reason is not None:
            raise DatabaseUnavailable(f"{reason}; nothing was loaded") from exc
        raise


def _database_reason(exc: BaseException) -> str | None:
    """What went wrong with the database, from ``exc`` or the errors it was raised while handling."""
    from loader.db import database_error

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DatabaseUnavailable):
            return str(exc)
        reason = database_error(exc)
        if reason is not None:
            return reason
        if type(exc).__name__ in ("NoSuchProcess", "ZombieProcess"):  # psutil, from the embedded server's clean-up
            return "the database server stopped during the load"
        exc = exc.__cause__ or exc.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
