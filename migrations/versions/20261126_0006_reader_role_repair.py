"""Take back the reader-role memberships migration 0004 gave to logins that never could read this warehouse.

Until it was corrected, migration 0004 put every login of the server-wide ``dwh_reader`` role of
0002 into this database's reader role, also when the warehouse was brand new: a first `dwh load`
runs 0001 to head in one transaction, so the logins that an earlier `dwh grant-reader` made for
another warehouse on the same server could read this one from its first day. 0004 now carries a
login only when it could read the warehouse before; this migration repairs databases that ran the
old 0004.

Such a membership is recognised by its catalogue row: it was written by the transaction that ran
the warehouse's first migration (the same transaction id in ``pg_auth_members.xmin`` and in the
``xmin`` of the ``pg_class`` row of Alembic's version table, which nothing updates after), and its
login is in ``dwh_reader``. A login that could read the
warehouse before was carried later, by an upgrade of a warehouse that already existed, so its row
has another transaction id. Each membership taken back is named in a notice (`dwh migrate` and
`alembic upgrade` show it) with the command that restores it, should the login need it after all.

Downgrade keeps the memberships as they are: the logins it took out never should have been in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The reader role's name, as loader.roles.reader_role computes it (frozen copy, as in 0004).
_ROLE_NAME = r"""
    CASE WHEN current_database() ~ '^[a-z0-9_]+$' AND octet_length(current_database()) <= 52
         THEN 'dwh_reader_' || current_database()
         ELSE 'dwh_reader_'
              || left(regexp_replace(translate(current_database(), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '[^a-z0-9_]', '_', 'g'), 43)
              || '_' || left(encode(sha256(convert_to(current_database(), 'UTF8')), 'hex'), 8)
    END
"""


def upgrade() -> None:
    op.execute(
        f"""
        DO $$
        DECLARE
            reader name := {_ROLE_NAME};
            login record;
        BEGIN
            IF to_regrole('dwh_reader') IS NULL OR to_regrole(reader) IS NULL THEN
                RETURN;
            END IF;
            FOR login IN
                SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                WHERE m.roleid = reader::regrole
                  AND m.xmin = (SELECT xmin FROM pg_class WHERE oid = to_regclass('alembic_version'))
                  AND EXISTS (SELECT FROM pg_auth_members l WHERE l.roleid = 'dwh_reader'::regrole AND l.member = m.member)
                ORDER BY r.rolname
            LOOP
                EXECUTE format('REVOKE %I FROM %I', reader, login.rolname);
                RAISE NOTICE 'login % is no longer in %: migration 0004 put it there only because it is in dwh_reader, '
                    'when this warehouse was created, so it never could read it; if it should, run: GRANT % TO %',
                    login.rolname, reader, quote_ident(reader), quote_ident(login.rolname);
            END LOOP;
        END
        $$
        """
    )


def downgrade() -> None:
    pass
