"""The read-only role dwh_reader: usage of the dwh and report schemas, select on their tables and views.

It also takes from PUBLIC the right to create temporary tables in this database, so a reader
login can create nothing at all.

Roles belong to the whole server, so the role is created only if missing and, on downgrade, dropped
only when no other database still grants it anything. The loader grants select on views it
re-creates (loader.views.grant_reader); default privileges cover tables later migrations add.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:30:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dwh_reader') THEN
                CREATE ROLE dwh_reader NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created concurrently by a migration of another database
        END
        $$
        """
    )
    op.execute(
        "COMMENT ON ROLE dwh_reader IS 'Read-only access to the doorstroom warehouse: select on the report views "
        "and the dwh tables, nothing else. Grant it to a login for psql or a BI tool.'"
    )
    for schema in ("dwh", "report"):
        op.execute(f"GRANT USAGE ON SCHEMA {schema} TO dwh_reader")
        op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO dwh_reader")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO dwh_reader")
    # PostgreSQL lets every role create temporary tables in a new database; a reader may create nothing.
    op.execute("DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$")


def downgrade() -> None:
    op.execute("DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$")
    for schema in ("dwh", "report"):
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE SELECT ON TABLES FROM dwh_reader")
        op.execute(f"REVOKE SELECT ON ALL TABLES IN SCHEMA {schema} FROM dwh_reader")
        op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM dwh_reader")
    op.execute(
        """
        DO $$
        BEGIN
            DROP ROLE IF EXISTS dwh_reader;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            NULL;  -- another database on this server still uses the role
        END
        $$
        """
    )
