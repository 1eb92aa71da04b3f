"""Alembic environment.

`dwh load` and `dwh migrate` hand Alembic their own connection (config.attributes["connection"]) so
that migration, data and views share one transaction; the `alembic` command line gets its URL from
loader.settings, starting the embedded server when no DATABASE_URL is set.
"""

from __future__ import annotations

from alembic import context

from loader import schema

config = context.config
target_metadata = schema.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # Only the warehouse schema is Alembic's; report views are re-created from sql/ by the loader.
    if type_ == "table":
        return obj.schema == schema.SCHEMA
    return True


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_schemas=True,
        include_object=include_object,
        version_table_schema=None,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    from loader.db import begin, open_engine

    with open_engine() as engine, begin(engine) as conn:
        run_with(conn)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: run the migrations against a database")
run_migrations_online()
