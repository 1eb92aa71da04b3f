"""The range of every open cell of answer 2c: dwh.trajectory_end_range.

Filled from data/trajectory_end_range.csv, which `dwh placements --write` computes from the text
extraction and the document's identities; report.onzekere_cellen reads it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 23:30:00
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trajectory_end_range",
        sa.Column("table_id", sa.Text(), nullable=False, comment="The document table the cell belongs to"),
        sa.Column("end_year_id", sa.Text(), nullable=False, comment="Year the trajectory ended (the cell's column)"),
        sa.Column("measure_id", sa.Text(), nullable=False, comment="Social economy measure (the cell's column)"),
        sa.Column("phase_id", sa.Text(), nullable=False, comment="Voltooid, Stopgezet or _T for a Totaal row (the cell's row)"),
        sa.Column("province_id", sa.Text(), nullable=False, comment="Province of the cell's row, or _T when the table does not break down by province"),
        sa.Column("age_band_id", sa.Text(), nullable=False, comment="Age band of the cell's row, or _T when the table does not break down by age"),
        sa.Column("esf_project_id", sa.Text(), nullable=False, comment="ESF project of the cell's row, or _T when the table does not break down by project"),
        sa.Column("minimum", sa.Integer(), nullable=False, comment="Smallest number of trajectories any placement puts in the cell (a blank cell counts as 0)"),
        sa.Column("maximum", sa.Integer(), nullable=False, comment="Largest number of trajectories any placement puts in the cell"),
        sa.Column(
            "placements",
            sa.Integer(),
            nullable=False,
            comment="How many placements of the printed numbers fit every identity of the document, counted over the "
            "rows that are placed together with this cell (e.g. all Stopgezet rows of T2c_project)",
        ),
        sa.Column(
            "placements_as_chosen",
            sa.Integer(),
            nullable=False,
            comment="Of those placements, how many give the cell the content dwh.trajectory_end holds (a figure, or blank when it has no row)",
        ),
        sa.CheckConstraint("minimum >= 0", name=op.f("ck_trajectory_end_range_minimum_not_negative")),
        sa.CheckConstraint("minimum < maximum", name=op.f("ck_trajectory_end_range_range_not_empty")),
        sa.CheckConstraint("placements_as_chosen > 0", name=op.f("ck_trajectory_end_range_chosen_placements_positive")),
        sa.CheckConstraint("placements_as_chosen < placements", name=op.f("ck_trajectory_end_range_chosen_among_placements")),
        sa.ForeignKeyConstraint(["age_band_id"], ["dwh.age_band.age_band_id"], name=op.f("fk_trajectory_end_range_age_band_id_age_band")),
        sa.ForeignKeyConstraint(["end_year_id"], ["dwh.year.year_id"], name=op.f("fk_trajectory_end_range_end_year_id_year")),
        sa.ForeignKeyConstraint(["esf_project_id"], ["dwh.esf_project.esf_project_id"], name=op.f("fk_trajectory_end_range_esf_project_id_esf_project")),
        sa.ForeignKeyConstraint(["measure_id"], ["dwh.measure.measure_id"], name=op.f("fk_trajectory_end_range_measure_id_measure")),
        sa.ForeignKeyConstraint(["phase_id"], ["dwh.trajectory_phase.phase_id"], name=op.f("fk_trajectory_end_range_phase_id_trajectory_phase")),
        sa.ForeignKeyConstraint(["province_id"], ["dwh.province.province_id"], name=op.f("fk_trajectory_end_range_province_id_province")),
        sa.ForeignKeyConstraint(["table_id"], ["dwh.source_table.table_id"], name=op.f("fk_trajectory_end_range_table_id_source_table")),
        sa.PrimaryKeyConstraint(
            "table_id", "end_year_id", "measure_id", "phase_id", "province_id", "age_band_id", "esf_project_id",
            name=op.f("pk_trajectory_end_range"),
        ),
        schema="dwh",
        comment="Cells of answer 2c (printed or blank) whose content differs between the placements of the printed "
        "numbers that fit the document, with the range over all of them; written by `dwh placements --write` from "
        "the text extraction and the document's identities. One row per uncertain cell",
    )


def downgrade() -> None:
    # Report views read the table (report.open_cellen, report.cellen, report.cijfers and the tidy
    # views on it): they go with it, and the loader re-creates the views after any migration.
    op.execute("DROP TABLE dwh.trajectory_end_range CASCADE")
