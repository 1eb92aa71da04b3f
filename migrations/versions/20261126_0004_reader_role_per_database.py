"""One reader role per warehouse database, CONNECT for it alone, no large objects for readers.

Migration 0002's ``dwh_reader`` is one role for the whole server, so a login made for the
warehouse in database A could read the warehouse in database B. From here on the reader role is
``dwh_reader_<database>`` (loader.roles.reader_role; the rule is copied below as SQL, frozen, and
tests/test_reader_role.py proves the two agree). It may connect to its own database only: CONNECT
is taken from PUBLIC on the warehouse database, so any other non-superuser role that is not the
database's owner needs ``GRANT CONNECT ON DATABASE ... TO it`` to keep connecting.

Large objects persist and can fill the disk; PostgreSQL grants EXECUTE on the functions that
create them to PUBLIC. Only a superuser can take that away (the functions belong to the bootstrap
superuser; a database owner's REVOKE only warns). Run as a superuser, this migration revokes it in
this database; run as the owner, it warns that readers can still create large objects.

No login is left without rights: a login of ``dwh_reader`` that could read this warehouse before
(it existed before this migration's transaction, and the login may connect to it) is put in the new
role, and a notice says so (REVOKE the new role from any that should not). A warehouse created in
the same transaction (a first `dwh load` runs 0001 to head at once) was never readable by anyone,
so no login is carried into it: membership of ``dwh_reader`` does not carry into another database.
(Before this was written, 0004 carried every login of ``dwh_reader`` into brand-new warehouses too;
migration 0006 takes those memberships back.) ``dwh_reader`` loses its
rights here but is not dropped (other warehouses on the server may still be at 0002). On
downgrade the new role keeps its logins and is dropped only when it has none; it becomes a member
of ``dwh_reader`` so that its logins read at 0002 as before, and gets its rights back on upgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:00:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The reader role's name, as loader.roles.reader_role computes it (frozen copy).
_ROLE_NAME = r"""
    CASE WHEN current_database() ~ '^[a-z0-9_]+$' AND octet_length(current_database()) <= 52
         THEN 'dwh_reader_' || current_database()
         ELSE 'dwh_reader_'
              || left(regexp_replace(translate(current_database(), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '[^a-z0-9_]', '_', 'g'), 43)
              || '_' || left(encode(sha256(convert_to(current_database(), 'UTF8')), 'hex'), 8)
    END
"""

_LO_FUNCTIONS = ("lo_create(oid)", "lo_creat(integer)", "lo_from_bytea(oid, bytea)")


def upgrade() -> None:
    revoke_lo = "\n".join(
        f"EXECUTE 'REVOKE EXECUTE ON FUNCTION pg_catalog.{f} FROM PUBLIC';" for f in _LO_FUNCTIONS
    )
    op.execute(
        f"""
        DO $$
        DECLARE
            reader name := {_ROLE_NAME};
            login record;
            carried name[];
            current_xact bigint := pg_current_xact_id()::text::bigint;
            created bigint := (SELECT xmin::text::bigint FROM pg_class WHERE oid = to_regclass('alembic_version'));
            new_here boolean;
        BEGIN
            -- Was the warehouse created in this very transaction? The xmin of Alembic's version
            -- table's catalogue row is the 32-bit id of the transaction (or subtransaction) that
            -- ran the first migration (nothing updates that row: the migrations grant nothing on
            -- it, VACUUM writes it in place); put the epoch of ours in front of it and ask whether
            -- it is still in progress, which only ours can be.
            created := (current_xact >> 32 << 32) + created;
            IF created > current_xact THEN
                created := created - 4294967296;
            END IF;
            new_here := created >= 0 AND pg_xact_status(created::text::xid8) IS NOT DISTINCT FROM 'in progress';
            -- Who could read it before: asked now, before CONNECT is taken from PUBLIC below.
            IF to_regrole('dwh_reader') IS NOT NULL AND NOT new_here THEN
                SELECT array_agg(r.rolname ORDER BY r.rolname) INTO carried
                FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                WHERE m.roleid = 'dwh_reader'::regrole AND r.rolcanlogin AND NOT r.rolsuper
                  AND has_database_privilege(r.oid, current_database(), 'CONNECT');
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
                EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
            ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = reader
                          AND (rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)) THEN
                RAISE EXCEPTION 'role % exists but is a login or has powers beyond reading; it cannot be this warehouse''s reader role', reader;
            END IF;
            EXECUTE format(
                'COMMENT ON ROLE %I IS %L', reader,
                'Read-only access to the doorstroom warehouse in database ' || current_database() || ': connect to that '
                'database, select on its report views and dwh tables, nothing else (no temporary tables; no large objects '
                'where a superuser ran the migrations, which only a superuser can take away). Grant it to a login with '
                '`dwh grant-reader NAME`.');
            EXECUTE format('GRANT USAGE ON SCHEMA dwh, report TO %I', reader);
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA dwh, report TO %I', reader);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA dwh, report GRANT SELECT ON TABLES TO %I', reader);
            EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), reader);
            IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'public') THEN
                REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dwh_reader') THEN
                -- Undo the downgrade's nesting, carry the shared role's logins over, take its rights here.
                IF EXISTS (SELECT FROM pg_auth_members WHERE roleid = 'dwh_reader'::regrole AND member = reader::regrole) THEN
                    EXECUTE format('REVOKE dwh_reader FROM %I', reader);
                END IF;
                FOR login IN SELECT unnest(coalesce(carried, '{{}}')) AS rolname LOOP
                    EXECUTE format('GRANT %I TO %I', reader, login.rolname);
                    RAISE NOTICE 'login % (in dwh_reader) is now in %', login.rolname, reader;
                END LOOP;
                ALTER DEFAULT PRIVILEGES IN SCHEMA dwh, report REVOKE SELECT ON TABLES FROM dwh_reader;
                REVOKE ALL ON ALL TABLES IN SCHEMA dwh, report FROM dwh_reader;
                REVOKE USAGE ON SCHEMA dwh, report FROM dwh_reader;
            END IF;
            IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                {revoke_lo}
            ELSE
                RAISE WARNING 'readers of % can still create large objects: only a superuser can revoke EXECUTE on pg_catalog.lo_create, lo_creat and lo_from_bytea (see docs/connecting.md)', current_database();
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    grant_lo = "\n".join(f"EXECUTE 'GRANT EXECUTE ON FUNCTION pg_catalog.{f} TO PUBLIC';" for f in _LO_FUNCTIONS)
    op.execute(
        f"""
        DO $$
        DECLARE
            reader name := {_ROLE_NAME};
            logins text;
        BEGIN
            IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                {grant_lo}
            END IF;
            -- Back to 0002: the shared role reads this warehouse and PUBLIC may connect.
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dwh_reader') THEN
                    CREATE ROLE dwh_reader NOLOGIN;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created concurrently by a migration of another database
            END;
            GRANT USAGE ON SCHEMA dwh, report TO dwh_reader;
            GRANT SELECT ON ALL TABLES IN SCHEMA dwh, report TO dwh_reader;
            ALTER DEFAULT PRIVILEGES IN SCHEMA dwh, report GRANT SELECT ON TABLES TO dwh_reader;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO PUBLIC', current_database());
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = reader) THEN
                RETURN;
            END IF;
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA dwh, report REVOKE SELECT ON TABLES FROM %I', reader);
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA dwh, report FROM %I', reader);
            EXECUTE format('REVOKE USAGE ON SCHEMA dwh, report FROM %I', reader);
            EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM %I', current_database(), reader);
            SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) INTO logins
            FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE m.roleid = reader::regrole;
            IF logins IS NULL THEN
                BEGIN
                    EXECUTE format('DROP ROLE %I', reader);
                EXCEPTION WHEN dependent_objects_still_exist THEN
                    NULL;  -- a copy of this database still grants it something
                END;
            ELSE
                -- Dropping it would leave its logins without rights after the next upgrade.
                EXECUTE format('GRANT dwh_reader TO %I', reader);
                RAISE WARNING 'kept role % for its logins (%): they read through dwh_reader until the next upgrade', reader, logins;
            END IF;
        END
        $$
        """
    )
