"""Alembic, driven on a connection the caller owns (Alembic cookbook: sharing a connection).

Alembic is imported only when a migration has to run: a load into an up-to-date database asks
the version table itself and does not pay for importing Alembic.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import sqlalchemy as sa

from loader import resources
from loader.errors import InputError
from loader.fingerprint import SCHEMA_HEAD as HEAD


def alembic_config(connection: sa.Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.migrations_dir()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return HEAD


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at (Alembic's version table), or None for an empty database."""
    if connection.execute(sa.text("select to_regclass('public.alembic_version')")).scalar() is None:
        return None
    return connection.execute(sa.text("select version_num from public.alembic_version")).scalar()


def readable_revision(connection: sa.Connection) -> bool:
    """Whether this login may read Alembic's version table (a reader login may not; docs/connecting.md)."""
    return connection.execute(
        sa.text("select to_regclass('public.alembic_version') is null or has_table_privilege('public.alembic_version', 'select')")
    ).scalar()


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    from alembic import command
    from alembic.util import CommandError

    # Never migrated: not even Alembic's version table (a downgrade to base leaves it, empty).
    # Online mode still does base (it makes the version table, empty) and ranges (a:b, which it
    # refuses, as Alembic says below; offline mode would take them).
    empty = (
        revision != "base"
        and ":" not in revision
        and connection.execute(sa.text("select to_regclass('public.alembic_version')")).scalar() is None
    )
    if not empty:
        _refuse_going_back(connection, revision)
    try:
        with show_warnings(connection):
            if empty:
                _upgrade_empty(connection, revision)
            else:
                command.upgrade(alembic_config(connection), revision)
    except CommandError as exc:
        # Alembic says so when it cannot resolve the target ("Can't locate revision identified by
        # 'x'", "Destination 0001 is not a valid upgrade target"): a wrong argument, exit 2.
        raise InputError(f"cannot migrate to {revision!r}: {exc} (expected head or one of: {', '.join(revisions())})") from exc


def _upgrade_empty(connection: sa.Connection, revision: str) -> None:
    """Upgrade a database that was never migrated (no version table): Alembic renders the
    migrations from base to ``revision`` as one script (its offline mode, what `alembic upgrade
    --sql` prints) and the script runs on ``connection``, in the caller's transaction, as one
    simple query.

    The migrations make no round trips of their own (migrations/env.py), so the script is the SQL
    that online mode sends statement by statement, version table included (tests/test_migrations.py
    compares the two databases). Online mode paid SQLAlchemy's execution path and a round trip for
    each of some 250 statements (CREATE TABLE, a COMMENT per column, ...): the migrations of the
    real data's fresh load took 0.31-0.37 s that way, 0.19-0.26 s as one script (in-process, on a
    shared 2-core machine). Notices of the migrations' PL/pgSQL reach show_warnings' handler as before.
    """
    import io

    from alembic import command

    config = alembic_config()
    config.attributes["in_callers_transaction"] = True  # no BEGIN/COMMIT in the script
    config.output_buffer = script = io.StringIO()
    command.upgrade(config, revision, sql=True)
    # No parameters: the script goes to the server as written (a % in it is not a placeholder),
    # by the simple query protocol, which takes many statements at once.
    connection.exec_driver_sql(script.getvalue(), execution_options={"no_parameters": True})


def _refuse_going_back(connection: sa.Connection, revision: str) -> None:
    """Alembic's upgrade to a revision older than the database's does nothing, silently; say so."""
    order = revisions()
    current = current_revision(connection)
    if current in order and revision in order and order.index(revision) < order.index(current):
        raise InputError(
            f"cannot migrate to {revision!r}: the database is at {current}, which is newer; "
            "dwh migrate only upgrades (expected head or a revision after the current one)"
        )


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def downgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    with show_warnings(connection):
        command.downgrade(alembic_config(connection), revision)


@contextlib.contextmanager
def show_warnings(connection: sa.Connection) -> Iterator[None]:
    """Print what the migrations say on stderr: every RAISE WARNING and RAISE NOTICE of their
    PL/pgSQL (e.g. that readers can still create large objects, which login was put in or taken
    out of a reader role, that a reader role was kept for its logins). PostgreSQL's own notices
    ("... does not exist, skipping") are not the user's business and stay quiet."""
    raw = connection.connection.driver_connection

    def show(diagnostic) -> None:
        severity = diagnostic.severity_nonlocalized
        if severity == "WARNING" or (severity == "NOTICE" and diagnostic.source_function == "exec_stmt_raise"):
            print(f"dwh: {severity.lower()}: {diagnostic.message_primary}", file=sys.stderr, flush=True)

    raw.add_notice_handler(show)
    try:
        yield
    finally:
        raw.remove_notice_handler(show)
