"""Grants a DBA gave by hand, kept across a load or migration, and named when one takes them away.

A load or migration may drop the report views and create them again (a migration drops them all
first; a view whose columns change is dropped and created afresh, loader.views): PostgreSQL drops
a view's grants with it, so ``GRANT SELECT ON ALL TABLES IN SCHEMA report TO metabase`` would be
lost without a word. Migration 0004 takes CONNECT on the database from PUBLIC, so a login that
connected through PUBLIC and read the warehouse by a grant of its own can no longer connect.

:func:`kept` notes every such grant before (on the dwh and report schemas, their tables, views
and sequences, and the database), except the ones dwh manages itself (its reader roles and the
owners' own rights). Afterwards a grant on an object that was created again under the same name
is given again: the object is the same to its readers. What is really gone (a grant a migration
revoked, an object no longer there, CONNECT a login had through PUBLIC) is named, one warning per
role, with the statements that restore it; whether the role should have it is the DBA's call.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from loader import schema
from loader.roles import LEGACY_READER_ROLE, READER_PREFIX

#: Roles dwh grants to and revokes from itself: its reader roles (loader.roles).
_OURS = "(r.rolname like :prefix or r.rolname = :legacy)"
_PARAMS = {"prefix": READER_PREFIX.replace("_", r"\_") + "%", "legacy": LEGACY_READER_ROLE, "s": schema.SCHEMA, "rs": schema.REPORT_SCHEMA}


@dataclass(frozen=True)
class Grant:
    grantee: str  # a role's name, or PUBLIC
    privilege: str  # SELECT, USAGE, CONNECT, ...
    kind: str  # TABLE, SEQUENCE, SCHEMA or DATABASE: as GRANT names it
    target: str  # schema.name, the schema's or the database's name
    grantable: bool


@dataclass
class Snapshot:
    grants: dict[Grant, int]  # each grant, with the OID of its object
    connecting: set[str]  # logins that could connect and held a grant of their own (or their group's)


def _grants(conn: sa.Connection) -> dict[Grant, int]:
    """Every grant on the warehouse's objects and database, but the owners' and dwh's own roles'."""
    rows = conn.execute(
        sa.text(
            f"""
            select coalesce(r.rolname, 'PUBLIC') as grantee, a.privilege_type as privilege,
                   case c.relkind when 'S' then 'SEQUENCE' else 'TABLE' end as kind,
                   n.nspname || '.' || c.relname as target, a.is_grantable as grantable, c.oid::bigint as oid
            from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
            left join pg_roles r on r.oid = a.grantee
            where n.nspname in (:s, :rs) and a.grantee <> c.relowner and not coalesce({_OURS}, false)
            union all
            select coalesce(r.rolname, 'PUBLIC'), a.privilege_type, 'SCHEMA', n.nspname, a.is_grantable, n.oid::bigint
            from pg_namespace n, aclexplode(n.nspacl) a left join pg_roles r on r.oid = a.grantee
            where n.nspname in (:s, :rs) and a.grantee <> n.nspowner and not coalesce({_OURS}, false)
            union all
            select r.rolname, a.privilege_type, 'DATABASE', d.datname, a.is_grantable, d.oid::bigint
            from pg_database d, aclexplode(d.datacl) a join pg_roles r on r.oid = a.grantee
            where d.datname = current_database() and a.grantee <> d.datdba and not {_OURS}
            """
        ),
        _PARAMS,
    )
    return {Grant(r.grantee, r.privilege, r.kind, r.target, r.grantable): r.oid for r in rows}


def _connecting(conn: sa.Connection, grantees: set[str]) -> set[str]:
    """The logins among ``grantees`` and their members that may connect to this database now."""
    names = sorted(grantees - {"PUBLIC"})
    if not names:
        return set()
    rows = conn.execute(
        sa.text(
            """
            select distinct l.rolname from pg_roles l, pg_roles g, pg_database d
            where g.rolname = any(:names) and l.rolcanlogin and not l.rolsuper
              and d.datname = current_database() and l.oid <> d.datdba
              and pg_has_role(l.oid, g.oid, 'USAGE') and has_database_privilege(l.oid, d.oid, 'CONNECT')
            """
        ),
        {"names": names},
    )
    return {r[0] for r in rows}


def snapshot(conn: sa.Connection) -> Snapshot:
    grants = _grants(conn)
    return Snapshot(grants, _connecting(conn, {g.grantee for g in grants}))


def restore(conn: sa.Connection, before: Snapshot) -> list[str]:
    """Give back the grants on objects created again under their name; one line per role for what is gone."""
    if not before.grants:
        return []  # nothing to give back or to name (a new warehouse, or one only dwh grants on)
    now = _grants(conn)
    objects = {(g.kind, g.target): oid for g, oid in now.items()}
    objects.update(_objects(conn))
    lost: dict[str, list[tuple[Grant, str | None]]] = {}  # role -> (grant, a note; None: its object is gone)
    for grant, oid in before.grants.items():
        if grant in now:
            continue
        current = objects.get((grant.kind, grant.target))
        if current is not None and current != oid and grant.kind in ("TABLE", "SEQUENCE"):
            conn.exec_driver_sql(_statement(conn, grant))  # the same view, created again: the same readers
        else:
            lost.setdefault(grant.grantee, []).append((grant, None if current is None else ""))
    database = conn.execute(sa.text("select current_database()")).scalar_one()
    for login in sorted(before.connecting - _connecting(conn, {g.grantee for g in before.grants})):
        connect = Grant(login, "CONNECT", "DATABASE", database, False)
        lost.setdefault(login, []).append((connect, " (through PUBLIC, which may no longer connect)"))
    return [_warning(conn, role, lost[role]) for role in sorted(lost)]


def _objects(conn: sa.Connection) -> dict[tuple[str, str], int]:
    """The warehouse's relations and schemas, and the database, by how a grant names them."""
    rows = conn.execute(
        sa.text(
            """
            select case c.relkind when 'S' then 'SEQUENCE' else 'TABLE' end, n.nspname || '.' || c.relname, c.oid::bigint
            from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in (:s, :rs)
            union all select 'SCHEMA', nspname, oid::bigint from pg_namespace where nspname in (:s, :rs)
            union all select 'DATABASE', datname, oid::bigint from pg_database where datname = current_database()
            """
        ),
        _PARAMS,
    )
    return {(r[0], r[1]): r[2] for r in rows}


def _name(conn: sa.Connection, role: str) -> str:
    return role if role == "PUBLIC" else conn.dialect.identifier_preparer.quote(role)


def _statement(conn: sa.Connection, grant: Grant) -> str:
    quote = conn.dialect.identifier_preparer.quote
    target = ".".join(quote(part) for part in grant.target.split(".", 1))
    option = " WITH GRANT OPTION" if grant.grantable else ""
    return f"GRANT {grant.privilege} ON {grant.kind} {target} TO {_name(conn, grant.grantee)}{option}"


def _warning(conn: sa.Connection, role: str, grants: list[tuple[Grant, str | None]]) -> str:
    there = [(g, why) for g, why in grants if why is not None]
    gone = sorted({g.target for g, why in grants if why is None})
    items = [f"{g.privilege} on {g.kind.lower()} {g.target}{why}" for g, why in there]
    if gone:
        items.append(f"its grants on {', '.join(gone)}, which {'is' if len(gone) == 1 else 'are'} no longer there")
    restore = f"; to give them back, run: {'; '.join(_statement(conn, g) for g, _ in there)}" if there else ""
    return f"role {role} lost rights it had in this warehouse: {', '.join(items)}{restore}"


@contextlib.contextmanager
def kept(conn: sa.Connection) -> Iterator[None]:
    """Around a load or migration on ``conn``: grants of objects created again come back, lost ones are named on stderr."""
    before = snapshot(conn)
    yield
    for line in restore(conn, before):
        print(f"dwh: warning: {line}", file=sys.stderr, flush=True)
