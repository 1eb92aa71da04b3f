"""The read-only role of one warehouse database, and the logins for psql and BI tools that use it.

Roles belong to the whole server, privileges on tables to one database. One role for every
warehouse (migration 0002's ``dwh_reader``) let a login made for database A read the warehouse in
database B, so each warehouse database has a role of its own, named after the database (see
:func:`reader_role`), with CONNECT on that database only. Migration 0004 creates it; the
functions here keep it right after views are re-created and when a login is granted.
"""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from loader import schema
from loader.errors import DatabaseUnavailable, InputError

#: Role names start with this; the rest names the database.
READER_PREFIX = "dwh_reader_"

#: The shared role of migration 0002, before roles were per database.
LEGACY_READER_ROLE = schema.READER_ROLE

#: PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1).
MAX_NAME_BYTES = 63

_PLAIN = re.compile(r"[a-z0-9_]+")
_NOT_PLAIN = re.compile(r"[^a-z0-9_]")
_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LOGIN = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: Functions that create large objects; EXECUTE on them is granted to PUBLIC by PostgreSQL.
LARGE_OBJECT_CREATORS = ("lo_create(oid)", "lo_creat(integer)", "lo_from_bytea(oid, bytea)")

#: Sessions one reader login may hold at once. BI tools keep a small pool (Superset 5, Metabase up
#: to 15 but few on a warehouse this small); the cap keeps logins from taking the server's slots.
READER_CONNECTION_LIMIT = 10

#: Session settings of every reader login, which PostgreSQL applies at each login. Settings of a
#: role are not inherited by its members, so they are set on the logins, not on the reader role.
#: A reader may change a user setting in its own session (statement_timeout, the idle timeout):
#: those guard against runaway queries and a forgotten open transaction, which would hold up a
#: load's DDL (it waits DWH_LOCK_TIMEOUT, 60 s by default, longer than either); `dwh serve` holds
#: its sessions to them all the same (loader.warden). The superuser
#: settings cannot be changed by the reader: temp_file_limit bounds the disk one session may fill
#: (sorts, hashes and WITH HOLD cursors spill there), so the sessions of one login hold at most
#: READER_CONNECTION_LIMIT times it (640 MB); the log settings keep a reader's failing statements, whose
#: text and quoted values the reader chooses and which may be up to 1 GB long, out of the server log.
READER_SETTINGS = {
    "statement_timeout": "30s",
    "idle_in_transaction_session_timeout": "30s",
    "temp_file_limit": "64MB",
    "log_min_messages": "fatal",
    "log_min_error_statement": "panic",
}


def reader_role(database: str) -> str:
    """The reader role of ``database``: ``dwh_reader_<database>``.

    Derived from the database's name (not its OID) so that it is the same after a dump and
    restore, is readable in ``\\du``, and needs no table to look it up. A name that is not plain
    lower-case ASCII, or too long for the 63-byte limit, is made plain and shortened, and the
    first 8 hex digits of its SHA-256 keep two such names apart. Migration 0004 holds a frozen
    copy of this rule in SQL; tests/test_reader_role.py proves the two agree.
    """
    if _PLAIN.fullmatch(database) and len(READER_PREFIX) + len(database) <= MAX_NAME_BYTES:
        return READER_PREFIX + database
    plain = _NOT_PLAIN.sub("_", database.translate(_UPPER))
    digest = hashlib.sha256(database.encode("utf-8")).hexdigest()[:8]
    room = MAX_NAME_BYTES - len(READER_PREFIX) - 1 - len(digest)
    return f"{READER_PREFIX}{plain[:room]}_{digest}"


def current_reader_role(conn: sa.Connection) -> str:
    return reader_role(conn.execute(sa.text("select current_database()")).scalar_one())


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("select quote_ident(:n)"), {"n": name}).scalar_one()


def _role_exists(conn: sa.Connection, name: str) -> bool:
    return conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": name}).first() is not None


def per_database_roles_applied(conn: sa.Connection) -> bool:
    """True when the database is at or past migration 0004 (the per-database reader role)."""
    from loader import migrate

    current = migrate.current_revision(conn)
    if current is None:
        return False
    if current == migrate.head_revision():
        return True  # without importing Alembic: head includes 0004
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    return any(r.revision == "0004" for r in script.iterate_revisions(current, "base"))


def ensure_reader_role(conn: sa.Connection) -> str:
    """Create this database's reader role if missing and give it exactly what it may use; its name.

    Repeats what migration 0004 does, because some of it does not travel with the database: a
    copy made with CREATE DATABASE ... TEMPLATE (or a dump restored elsewhere) has the original's
    grants, which name the original's reader role, and the server's default database privileges
    (CONNECT and TEMPORARY for PUBLIC). Also takes back what reader roles of other databases were
    granted here, so their logins cannot read this copy.
    """
    role = current_reader_role(conn)
    quoted = _quote(conn, role)
    if not _role_exists(conn, role):
        conn.exec_driver_sql(f"create role {quoted} nologin")
        conn.exec_driver_sql(f"comment on role {quoted} is {_literal(conn, role_comment(conn))}")
    unsafe = conn.execute(
        sa.text("select rolcanlogin or rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls from pg_roles where rolname = :r"),
        {"r": role},
    ).scalar_one()
    if unsafe:
        raise DatabaseUnavailable(f"role {role} exists but is a login or has powers beyond reading; it cannot be this warehouse's reader role (drop or rename it)")
    database = _quote(conn, conn.execute(sa.text("select current_database()")).scalar_one())
    for other in _foreign_reader_roles(conn, role):
        _revoke_reading(conn, _quote(conn, other), database)
    if conn.execute(
        sa.text("select pg_has_role(:r, :legacy, 'member') from pg_roles where rolname = :legacy"), {"r": role, "legacy": LEGACY_READER_ROLE}
    ).scalar():
        # Left by a downgrade to 0002 (see migration 0004); through it the role would read other warehouses.
        conn.exec_driver_sql(f"revoke {LEGACY_READER_ROLE} from {quoted}")
    statements = []
    for s in (schema.SCHEMA, schema.REPORT_SCHEMA):
        statements.append(f"grant usage on schema {s} to {quoted}")
        statements.append(f"grant select on all tables in schema {s} to {quoted}")
        statements.append(f"alter default privileges in schema {s} grant select on tables to {quoted}")
    statements += _hide_server_paths(conn, quoted)
    statements.append(f"revoke connect, temporary on database {database} from public")
    statements.append(f"grant connect on database {database} to {quoted}")
    statements.append("revoke create on schema public from public")
    if _may_revoke_large_objects(conn):
        statements += [f"revoke execute on function pg_catalog.{function} from public" for function in LARGE_OBJECT_CREATORS]
    from loader.db import run_together

    # In this order, in one round trip: what the queries above read does not depend on them.
    run_together(conn, statements)
    return role


#: Columns that name a place in the server's file system: a reader may select every other column
#: of their table (column privileges; information_schema.columns lists only what it may read).
SERVER_PATHS = {"load_history": ("data_source",)}


def _hide_server_paths(conn: sa.Connection, quoted: str) -> list[str]:
    """The statements that give the reader every column of SERVER_PATHS' tables but those paths."""
    statements = []
    for table, hidden in SERVER_PATHS.items():
        if conn.execute(sa.text("select to_regclass(:t)"), {"t": f"{schema.SCHEMA}.{table}"}).scalar() is None:
            continue
        # What information_schema.columns lists, from the catalog itself (that view took 5 ms of a
        # fresh load): the table's live columns that this login owns or has a column privilege on.
        readable = conn.execute(
            sa.text(
                "select string_agg(quote_ident(a.attname), ', ' order by a.attnum) from pg_attribute as a join pg_class as c on c.oid = a.attrelid "
                "where c.oid = cast(:t as regclass) and a.attnum > 0 and not a.attisdropped and a.attname <> all(:hidden) "
                "and (pg_has_role(c.relowner, 'USAGE') or has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES'))"
            ),
            {"t": f"{schema.SCHEMA}.{table}", "hidden": list(hidden)},
        ).scalar_one()
        statements.append(f"revoke select on {schema.SCHEMA}.{table} from {quoted}")
        statements.append(f"grant select ({readable}) on {schema.SCHEMA}.{table} to {quoted}")
    return statements


def role_comment(conn: sa.Connection) -> str:
    database = conn.execute(sa.text("select current_database()")).scalar_one()
    return (
        f"Read-only access to the doorstroom warehouse in database {database}: connect to that database, select "
        "on its report views and dwh tables, nothing else (no temporary tables; no large objects where a "
        "superuser ran the migrations, which only a superuser can take away). Grant it to a login with "
        "`dwh grant-reader NAME`."
    )


def _literal(conn: sa.Connection, text: str) -> str:
    return conn.execute(sa.text("select quote_literal(:t)"), {"t": text}).scalar_one()


def _may_revoke_large_objects(conn: sa.Connection) -> bool:
    # pg_catalog's functions belong to the bootstrap superuser: a database owner's REVOKE on them
    # only warns ("no privileges could be revoked"), so try only where it takes effect.
    return conn.execute(sa.text("select rolsuper from pg_roles where rolname = current_user")).scalar_one()


def _foreign_reader_roles(conn: sa.Connection, own: str) -> list[str]:
    """Reader roles (by their prefix, and the legacy shared one) of other databases that may use our schemas."""
    rows = conn.execute(
        sa.text(
            "select distinct r.rolname from pg_namespace n, aclexplode(n.nspacl) a join pg_roles r on r.oid = a.grantee "
            "where n.nspname in (:s, :rs) and (r.rolname like :prefix or r.rolname = :legacy) and r.rolname <> :own"
        ),
        {"s": schema.SCHEMA, "rs": schema.REPORT_SCHEMA, "prefix": READER_PREFIX.replace("_", r"\_") + "%", "legacy": LEGACY_READER_ROLE, "own": own},
    )
    return [r[0] for r in rows]


def _revoke_reading(conn: sa.Connection, quoted: str, database: str) -> None:
    for s in (schema.SCHEMA, schema.REPORT_SCHEMA):
        conn.exec_driver_sql(f"alter default privileges in schema {s} revoke select on tables from {quoted}")
        conn.exec_driver_sql(f"revoke all on all tables in schema {s} from {quoted}")
        conn.exec_driver_sql(f"revoke usage on schema {s} from {quoted}")
    conn.exec_driver_sql(f"revoke connect on database {database} from {quoted}")


# ------------------------------------------------------------------ logins

#: Names PostgreSQL reserves or that stand for someone else; a login cannot take them.
RESERVED = {"public", "none", "current_user", "session_user", "current_role", "user", "all", "postgres"}


def check_login_name(name: str) -> None:
    if not _LOGIN.fullmatch(name):
        raise InputError(f"login name {name!r} is not a plain name (expected lower case letters, digits and _, e.g. metabase)")
    if name in RESERVED or name.startswith("pg_") or name.startswith(READER_PREFIX) or name == LEGACY_READER_ROLE:
        raise InputError(f"login name {name!r} is reserved (expected a new name, e.g. metabase)")


def create_reader_login(conn: sa.Connection, name: str, password: str, warnings: list[str] | None = None) -> bool:
    """Make ``name`` a login of this database's reader role, with the limits of a reader; True when it was created.

    A limit the connected role may not set is left out and said in ``warnings`` (see
    :func:`limit_login`).

    An existing login is repaired: its password is set and it is put (back) in the role, as long
    as it can do nothing a reader may not (no superuser or other powers, owns nothing, no
    privileges of its own and no membership in roles other than reader roles): e.g. a login that
    lost its membership when a migration dropped the role it was in.
    """
    check_login_name(name)
    from loader.locking import refuse_read_only, take_load_lock

    refuse_read_only(conn)  # before reading Alembic's version table, which a reader may not
    if not per_database_roles_applied(conn):
        raise DatabaseUnavailable("the warehouse is not at the current schema: run `dwh load` or `dwh migrate` first")
    take_load_lock(conn)  # one change of the reader role at a time, and none during a load or migration
    role = ensure_reader_role(conn)
    existing = conn.execute(
        sa.text(
            "select rolsuper, rolcanlogin and not (rolcreaterole or rolcreatedb or rolreplication or rolbypassrls) as plain "
            "from pg_roles where rolname = :n"
        ),
        {"n": name},
    ).first()
    if existing is not None and existing.rolsuper:
        raise InputError(f"login name {name!r} is reserved (a superuser; expected a new name, e.g. metabase)")
    if existing is not None and not (existing.plain and _only_reads(conn, name)):
        raise InputError(
            f"role {name!r} already exists and is not a reader login: it has other rights, owns objects or is in other roles (expected a new name)"
        )
    quoted, quoted_role = _quote(conn, name), _quote(conn, role)
    quoted_password = _literal(conn, password)
    limit = f"connection limit {READER_CONNECTION_LIMIT}"
    if existing is not None:
        conn.exec_driver_sql(f"alter role {quoted} with login password {quoted_password} {limit}")
    else:
        conn.exec_driver_sql(f"create role {quoted} with login password {quoted_password} {limit}")
    conn.exec_driver_sql(f"grant {quoted_role} to {quoted}")
    missing = limit_login(conn, name)
    if warnings is not None:
        warnings.extend(missing)
    return existing is None


def limit_login(conn: sa.Connection, name: str) -> list[str]:
    """Give the login ``name`` the session settings of a reader (READER_SETTINGS); a warning per one left out.

    temp_file_limit and the log settings are superuser settings: only a superuser, or a role
    granted SET on the parameter (PostgreSQL 15 and newer), may attach them to a role. A loader
    login on a managed server is often neither; the login then works without that limit, and
    the warning says who can add it, rather than refusing a login the user needs.
    """
    quoted = _quote(conn, name)
    warnings = []
    for setting, value in READER_SETTINGS.items():
        savepoint = conn.begin_nested()  # a refused setting must not abort the caller's transaction
        try:
            conn.exec_driver_sql(f"alter role {quoted} set {setting} = {_literal(conn, value)}")
        except sa.exc.ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
                raise
            savepoint.rollback()
            warnings.append(
                f"login {name} has no {setting} = {value}: {current_login(conn)} may not set it; "
                f"ask a superuser to run ALTER ROLE {quoted} SET {setting} = {_literal(conn, value)}"
            )
        else:
            savepoint.commit()
    return warnings


def current_login(conn: sa.Connection) -> str:
    return conn.execute(sa.text("select current_user")).scalar_one()


def _only_reads(conn: sa.Connection, name: str) -> bool:
    """The role owns nothing, holds no privileges of its own anywhere, and is only in reader roles."""
    return conn.execute(
        sa.text(
            """
            select not exists (
                       select from pg_shdepend d join pg_roles r on r.oid = d.refobjid
                       where d.refclassid = 'pg_authid'::regclass and r.rolname = :n and d.deptype in ('o', 'a', 'i')
                   )
               and not exists (
                       select from pg_auth_members m
                       join pg_roles member on member.oid = m.member
                       join pg_roles granted on granted.oid = m.roleid
                       where member.rolname = :n and granted.rolname not like :prefix and granted.rolname <> :legacy
                   )
            """
        ),
        {"n": name, "prefix": READER_PREFIX.replace("_", r"\_") + "%", "legacy": LEGACY_READER_ROLE},
    ).scalar_one()
