"""Logins for psql and BI tools that may read the warehouse and nothing else."""

from __future__ import annotations

import re

import sqlalchemy as sa

from loader import schema
from loader.errors import DatabaseUnavailable, InputError

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def create_reader_login(conn: sa.Connection, name: str, password: str) -> bool:
    """Create login ``name`` in role dwh_reader (or reset its password); True when it was created."""
    if not _NAME.fullmatch(name):
        raise InputError(f"login name {name!r} is not a plain name (expected lower case letters, digits and _, e.g. metabase)")
    if name in (schema.READER_ROLE, "postgres"):
        raise InputError(f"login name {name!r} is reserved (expected a new name, e.g. metabase)")
    if not conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": schema.READER_ROLE}).first():
        raise DatabaseUnavailable("the role dwh_reader does not exist: run `dwh load` or `dwh migrate` first")
    exists = conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": name}).first() is not None
    quoted_password = conn.execute(sa.text("select quote_literal(:p)"), {"p": password}).scalar_one()
    if exists and not conn.execute(
        sa.text("select pg_has_role(:n, :r, 'member') and not rolsuper from pg_roles where rolname = :n"),
        {"n": name, "r": schema.READER_ROLE},
    ).scalar_one():
        raise InputError(f"role {name!r} already exists and is not a reader login (expected a new name)")
    if exists:
        conn.exec_driver_sql(f'alter role "{name}" with login password {quoted_password}')
    else:
        conn.exec_driver_sql(f'create role "{name}" with login password {quoted_password} in role {schema.READER_ROLE}')
    conn.exec_driver_sql(f'grant {schema.READER_ROLE} to "{name}"')
    # Migration 0002 revokes this too, but a database's own privileges are not copied by
    # CREATE DATABASE ... TEMPLATE or a plain dump and restore: make sure before a login uses it.
    conn.execute(sa.text("DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$"))
    return not exists
