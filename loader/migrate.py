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


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    from alembic import command

    with show_warnings(connection):
        command.upgrade(alembic_config(connection), revision)


def downgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    with show_warnings(connection):
        command.downgrade(alembic_config(connection), revision)


@contextlib.contextmanager
def show_warnings(connection: sa.Connection) -> Iterator[None]:
    """Print the migrations' RAISE WARNING lines on stderr: what the user must know (e.g. that
    readers can still create large objects, or that a reader role was kept for its logins)."""
    raw = connection.connection.driver_connection

    def show(diagnostic) -> None:
        if diagnostic.severity_nonlocalized == "WARNING":
            print(f"dwh: warning: {diagnostic.message_primary}", file=sys.stderr, flush=True)

    raw.add_notice_handler(show)
    try:
        yield
    finally:
        raw.remove_notice_handler(show)
