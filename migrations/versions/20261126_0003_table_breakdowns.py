"""Which dimensions each printed table breaks down by, and the document order of the ESF projects.

dwh.dimension lists the dimensions; dwh.source_table_dimension says, per printed table, which of
them it prints as rows or columns. The tidy report views derive their totals flag from it: a
figure is a total when it has the member _T in one of its table's own dimensions. esf_project gets
the sort_order the other ordered dimensions already have.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dimension",
        sa.Column("dimension_id", sa.Text(), nullable=False, comment="Code: the name of the dwh table that lists the dimension's members, e.g. 'province'"),
        sa.Column("label", sa.Text(), nullable=False, comment="Name of the dimension as the tidy report views call it, e.g. 'provincie'"),
        sa.Column("description", sa.Text(), nullable=False, comment="What the dimension distinguishes"),
        sa.PrimaryKeyConstraint("dimension_id", name=op.f("pk_dimension")),
        schema="dwh",
        comment="The dimensions a printed table can break down by (year, measure, province, ...); one row per dimension",
    )
    op.create_table(
        "source_table_dimension",
        sa.Column("table_id", sa.Text(), nullable=False, comment="The printed table"),
        sa.Column("dimension_id", sa.Text(), nullable=False, comment="A dimension whose members the table prints as rows or columns"),
        sa.ForeignKeyConstraint(["dimension_id"], ["dwh.dimension.dimension_id"], name=op.f("fk_source_table_dimension_dimension_id_dimension")),
        sa.ForeignKeyConstraint(["table_id"], ["dwh.source_table.table_id"], name=op.f("fk_source_table_dimension_table_id_source_table")),
        sa.PrimaryKeyConstraint("table_id", "dimension_id", name=op.f("pk_source_table_dimension")),
        schema="dwh",
        comment="Which dimensions each printed table breaks down by: one row per table and dimension. A figure is a total "
        "(is_totaal in the tidy report views) when it has the total member _T in one of these dimensions; _T in any other "
        "dimension only says that the table does not break down by it. `dwh validate` checks that the cells agree",
    )
    op.add_column(
        "esf_project",
        sa.Column("sort_order", sa.SmallInteger(), nullable=True, comment="Order in which the document lists the members"),
        schema="dwh",
    )
    # A loaded warehouse keeps working until the next load replaces the rows: the document lists
    # the projects by number, the total last.
    op.execute(
        """
        UPDATE dwh.esf_project AS p SET sort_order = o.n
        FROM (SELECT esf_project_id, row_number() OVER (ORDER BY project_number NULLS LAST) AS n FROM dwh.esf_project) AS o
        WHERE o.esf_project_id = p.esf_project_id
        """
    )
    op.alter_column("esf_project", "sort_order", nullable=False, schema="dwh")


def downgrade() -> None:
    # The report views read these (they are not Alembic's): they go too, and the loader re-creates
    # them from sql/ after the next upgrade.
    op.execute("DROP TABLE dwh.source_table_dimension CASCADE")
    op.execute("DROP TABLE dwh.dimension CASCADE")
    op.execute("ALTER TABLE dwh.esf_project DROP COLUMN sort_order CASCADE")
