"""Alembic environment.

`dwh load` and `dwh migrate` hand Alembic their own connection (config.attributes["connection"]) so
that migration, data and views share one transaction. An Engine there works too (pytest-alembic's
fixtures pass one): the migrations then run in a transaction of their own on it. The `alembic`
command line gets its URL from loader.settings, starting the embedded server when no DATABASE_URL
is set, and its logging from alembic.ini (so it says which migrations it ran); whichever way the
migrations run, their warnings and notices reach stderr (loader.migrate.show_warnings).
`alembic upgrade head --sql` (offline mode) prints the DDL for review without a database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from loader import schema

config = context.config
target_metadata = schema.metadata

if config.config_file_name is not None:
    # The alembic command line: alembic.ini's loggers print "Running upgrade 0004 -> 0005" and the
    # like. dwh and the tests build their Config without a file and keep their own logging (and
    # do not import logging.config, 4 ms).
    import logging.config

    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_object(obj, name, type_, reflected, compare_to):
    # Only the warehouse schema is Alembic's; report views are re-created from sql/ by the loader.
    if type_ == "table":
        return obj.schema == schema.SCHEMA
    return True


def _options() -> dict:
    return dict(
        target_metadata=target_metadata,
        include_schemas=True,
        include_object=include_object,
        version_table_schema=None,
        transaction_per_migration=False,
    )


def run_with(connection: sa.Connection) -> None:
    context.configure(connection=connection, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_showing_warnings(connection: sa.Connection) -> None:
    # dwh hands over its connection inside its own show_warnings; any other caller gets it here.
    from loader.migrate import show_warnings

    with show_warnings(connection):
        run_with(connection)


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, sa.Connection):
        run_with(given)
        return
    if isinstance(given, sa.Engine):
        with given.begin() as conn:
            run_showing_warnings(conn)
        return
    if given is not None:
        raise TypeError(f"config.attributes['connection'] must be a SQLAlchemy Connection or Engine, not {type(given).__name__}")
    from loader.db import begin, open_engine

    with open_engine() as engine, begin(engine) as conn:
        run_showing_warnings(conn)


def run_migrations_offline() -> None:
    """Render the migrations as SQL; the migrations use no database round trips, so this is the DDL
    that online mode runs. Any URL of the PostgreSQL dialect will do: nothing connects.

    With ``config.attributes["in_callers_transaction"]`` (loader.migrate, for an empty database)
    the script leaves out BEGIN and COMMIT: it runs inside the transaction of the load or migration."""
    context.configure(
        url="postgresql+psycopg://",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transactional_ddl=not config.attributes.get("in_callers_transaction", False),
        **_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
