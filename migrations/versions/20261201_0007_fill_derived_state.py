"""Fill what migrations 0003 and 0005 added from the data already loaded, so no view is wrong until the next load.

0003 added dwh.dimension and dwh.source_table_dimension, 0005 dwh.trajectory_end_range, all empty;
`dwh load` fills them from the curated CSVs. A warehouse upgraded with data in place (say from 0002)
kept its facts but showed, until the next load, no totals in report.cijfers, every tidy
``is_totaal`` false (a BI user who leaves out the totals then counts every figure two or three
times) and an empty report.onzekere_cellen (now report.open_cellen). This migration brings them up to date from what is
loaded, where they are empty and the facts are there:

- dwh.dimension: the eight dimensions, a frozen copy of data/dimension.csv (catalogue text that
  does not depend on the figures).
- dwh.source_table_dimension: derived from the loaded facts. A printed table breaks down by a
  dimension when its figures hold more than one member of it (a table that does not break down by
  a dimension holds one member, _T or the one year it is about); for the shipped data this is
  exactly data/source_table_dimension.csv, and tests/test_upgrades.py compares every report view
  after this upgrade with a fresh load.
- dwh.trajectory_end_range: the range of every open cell comes from the placement search
  (`dwh placements --write`), which SQL cannot repeat. The 73 ranges of the shipped data are frozen
  here and written only when dwh.trajectory_end holds exactly the shipped figures (an MD5 over its
  rows' places and values, not their status). For any other data it cannot, and the warehouse would be silently wrong (an empty
  report.open_cellen, no open marks): it writes a row in the new table dwh.load_required
  and warns; while that table has a row, `dwh show`, `export` and `reconcile` refuse with exit 3 and
  "run `dwh load`", the report views that carry statuses and ranges (report.cellen, report.cijfers
  and the tidy views on it, report.open_cellen) raise the same error through dwh.require_loaded(),
  and the next load empties it.

- dwh.observation_status: the status ``ambiguous`` of loaded figures becomes ``open`` (the one word
  the views, outputs and docs now use for a cell the printed numbers leave open).

A database without loaded facts (a new one, or one migrated without a load) gets nothing: the next
load fills everything. Downgrade drops dwh.load_required and leaves the rows it filled; the tables'
own migrations drop them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: MD5 over dwh.trajectory_end as the shipped data holds it (the expression in upgrade()).
_SHIPPED_TRAJECTORY_END = "51b11c8ebe1aa55eebb3b96142fb8fe8"


def upgrade() -> None:
    op.create_table(
        "load_required",
        sa.Column("reason", sa.Text(), nullable=False, comment="What is out of date and what to do, as `dwh show`, `export` and `reconcile` say it"),
        sa.Column("revision", sa.Text(), nullable=False, comment="The migration that wrote the row"),
        sa.Column("noted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False, comment="When it was written"),
        sa.PrimaryKeyConstraint("reason", name=op.f("pk_load_required")),
        schema="dwh",
        comment="Why the warehouse must be loaded again before it is read: a migration that cannot bring what it adds up to "
        "date from the loaded data writes a row, and `dwh show`, `export` and `reconcile` refuse (exit 3, run dwh load) "
        "while there is one; every `dwh load` deletes them all. Empty in a warehouse that may be read",
    )
    # The report views that carry what this migration may be unable to fill (statuses and ranges:
    # report.cellen, report.cijfers and every tidy view on it, report.open_cellen) call this in
    # their WHERE clause, so a reader in psql or a BI tool gets the same refusal as `dwh show`
    # instead of a silently wrong answer. Without arguments and STABLE, the planner evaluates it
    # once per query (a one-time filter), not per row.
    op.execute(
        """
        CREATE FUNCTION dwh.require_loaded() RETURNS boolean
        LANGUAGE plpgsql STABLE
        AS $$
        BEGIN
            IF EXISTS (SELECT FROM dwh.load_required) THEN
                RAISE EXCEPTION 'the warehouse must be loaded again before it is read (%): run dwh load',
                    (SELECT string_agg(reason, '; ' ORDER BY reason) FROM dwh.load_required)
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            RETURN true;
        END
        $$
        """
    )
    op.execute(
        "COMMENT ON FUNCTION dwh.require_loaded() IS 'True, or an error when dwh.load_required has a row (the warehouse "
        "must be loaded again before it is read); the report views that carry statuses and ranges filter on it'"
    )
    op.execute(
        """
        INSERT INTO dwh.dimension (dimension_id, label, description)
        SELECT * FROM (VALUES
        ('year', 'jaar', 'Calendar year; the fact table says which year it is (start, end, doorstroom, payment, first year counted)'),
        ('measure', 'maatregel', 'Social economy measure: collectief maatwerk (CMW) or lokale diensteneconomie (LDE)'),
        ('province', 'provincie', 'Province of residence (or Brussels or outside Brussels/Flanders)'),
        ('age_band', 'leeftijd', 'Age band of the worker'),
        ('esf_project', 'esf_project', 'ESF project of call 432'),
        ('fund', 'fonds', 'Fund that paid: ESF or VCF'),
        ('trajectory_phase', 'fase', 'How a trajectory ended: Voltooid or Stopgezet'),
        ('sustain_threshold', 'duurzaamheid', 'Threshold of sustained doorstroom (all doorstroom, 3, 6 or 12 months); nested, so never added up')
        ) AS d (dimension_id, label, description)
        WHERE EXISTS (SELECT FROM dwh.source_table) AND NOT EXISTS (SELECT FROM dwh.dimension)
        """
    )
    op.execute(
        """
        INSERT INTO dwh.source_table_dimension (table_id, dimension_id)
        SELECT b.table_id, b.dimension_id FROM (
        SELECT table_id, 'year' FROM dwh.doorstroom GROUP BY table_id HAVING count(DISTINCT year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.doorstroom GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        UNION ALL SELECT table_id, 'province' FROM dwh.doorstroom GROUP BY table_id HAVING count(DISTINCT province_id) > 1
        UNION ALL SELECT table_id, 'age_band' FROM dwh.doorstroom GROUP BY table_id HAVING count(DISTINCT age_band_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.trajectory_start GROUP BY table_id HAVING count(DISTINCT start_year_id) > 1
        UNION ALL SELECT table_id, 'province' FROM dwh.trajectory_start GROUP BY table_id HAVING count(DISTINCT province_id) > 1
        UNION ALL SELECT table_id, 'age_band' FROM dwh.trajectory_start GROUP BY table_id HAVING count(DISTINCT age_band_id) > 1
        UNION ALL SELECT table_id, 'esf_project' FROM dwh.trajectory_start GROUP BY table_id HAVING count(DISTINCT esf_project_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT end_year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        UNION ALL SELECT table_id, 'trajectory_phase' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT phase_id) > 1
        UNION ALL SELECT table_id, 'province' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT province_id) > 1
        UNION ALL SELECT table_id, 'age_band' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT age_band_id) > 1
        UNION ALL SELECT table_id, 'esf_project' FROM dwh.trajectory_end GROUP BY table_id HAVING count(DISTINCT esf_project_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.doorstroom_after_evaluation GROUP BY table_id HAVING count(DISTINCT doorstroom_year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.doorstroom_after_evaluation GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        UNION ALL SELECT table_id, 'province' FROM dwh.doorstroom_after_evaluation GROUP BY table_id HAVING count(DISTINCT province_id) > 1
        UNION ALL SELECT table_id, 'age_band' FROM dwh.doorstroom_after_evaluation GROUP BY table_id HAVING count(DISTINCT age_band_id) > 1
        UNION ALL SELECT table_id, 'esf_project' FROM dwh.doorstroom_after_evaluation GROUP BY table_id HAVING count(DISTINCT esf_project_id) > 1
        UNION ALL SELECT table_id, 'esf_project' FROM dwh.payment GROUP BY table_id HAVING count(DISTINCT esf_project_id) > 1
        UNION ALL SELECT table_id, 'fund' FROM dwh.payment GROUP BY table_id HAVING count(DISTINCT fund_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.payment GROUP BY table_id HAVING count(DISTINCT payment_year_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.screening GROUP BY table_id HAVING count(DISTINCT year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.screening GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        UNION ALL SELECT table_id, 'province' FROM dwh.screening GROUP BY table_id HAVING count(DISTINCT province_id) > 1
        UNION ALL SELECT table_id, 'age_band' FROM dwh.screening GROUP BY table_id HAVING count(DISTINCT age_band_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.sustained_doorstroom GROUP BY table_id HAVING count(DISTINCT doorstroom_year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.sustained_doorstroom GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        UNION ALL SELECT table_id, 'sustain_threshold' FROM dwh.sustained_doorstroom GROUP BY table_id HAVING count(DISTINCT threshold_id) > 1
        UNION ALL SELECT table_id, 'year' FROM dwh.sec_nec_sec GROUP BY table_id HAVING count(DISTINCT since_year_id) > 1
        UNION ALL SELECT table_id, 'measure' FROM dwh.sec_nec_sec GROUP BY table_id HAVING count(DISTINCT measure_id) > 1
        ) AS b (table_id, dimension_id)
        WHERE NOT EXISTS (SELECT FROM dwh.source_table_dimension)
          AND EXISTS (SELECT FROM dwh.dimension d WHERE d.dimension_id = b.dimension_id)
        """
    )
    # The status of a figure whose place the printed numbers leave open was called ambiguous until
    # it got one word everywhere (views, outputs, docs): open. Loaded data keeps its statuses until the
    # next load, so a warehouse upgraded with data in place is renamed here, descriptions as in
    # data/observation_status.csv.
    op.execute(
        """
        DO $$
        DECLARE
            fact record;
        BEGIN
            IF NOT EXISTS (SELECT FROM dwh.observation_status WHERE status_id = 'ambiguous') THEN
                RETURN;
            END IF;
            INSERT INTO dwh.observation_status (status_id, description)
            VALUES ('open', 'Printed in the document, but the printed totals leave its cell open: other placements that fit the document put it elsewhere, so the cell may hold anything from its minimum to its maximum; CURATION.md lists the possibilities and why this one was chosen')
            ON CONFLICT (status_id) DO NOTHING;
            FOR fact IN
                SELECT c.table_name FROM information_schema.columns c
                JOIN information_schema.tables t USING (table_schema, table_name)
                WHERE c.table_schema = 'dwh' AND c.column_name = 'status_id' AND t.table_type = 'BASE TABLE'
                  AND c.table_name <> 'observation_status'
                ORDER BY 1
            LOOP
                EXECUTE format('UPDATE dwh.%I SET status_id = %L WHERE status_id = %L', fact.table_name, 'open', 'ambiguous');
            END LOOP;
            DELETE FROM dwh.observation_status WHERE status_id = 'ambiguous';
            UPDATE dwh.observation_status SET description = 'Printed in the document and fixed in its cell: every placement of the printed numbers that fits the document puts it there (directly, or proven by the printed totals; see CURATION.md)' WHERE status_id = 'printed';
        END
        $$
        """
    )
    op.execute(
        f"""
        DO $$
        DECLARE
            loaded text := (
                SELECT md5(string_agg(concat_ws(',', table_id, end_year_id, measure_id, phase_id, province_id,
                                                age_band_id, esf_project_id, value), E'\\n'
                                      ORDER BY concat_ws(',', table_id, end_year_id, measure_id, phase_id, province_id,
                                                         age_band_id, esf_project_id, value) COLLATE "C"))
                FROM dwh.trajectory_end);
        BEGIN
            IF loaded IS NULL OR EXISTS (SELECT FROM dwh.trajectory_end_range) THEN
                RETURN;  -- nothing loaded, or the ranges are there
            END IF;
            IF loaded <> '{_SHIPPED_TRAJECTORY_END}' THEN
                INSERT INTO dwh.load_required (reason, revision) VALUES (
                    'the ranges of the open cells of answer 2c (report.open_cellen) are not known for the figures '
                    'loaded before this upgrade', '0007');
                RAISE WARNING 'the warehouse must be loaded again before it is read: dwh.trajectory_end does not hold the '
                    'shipped figures, whose open cells this migration knows, so report.open_cellen would be empty; '
                    'dwh show, export and reconcile refuse until then; run dwh placements --write if the figures changed, then dwh load';
                RETURN;
            END IF;
            INSERT INTO dwh.trajectory_end_range (table_id, end_year_id, measure_id, phase_id, province_id, age_band_id, esf_project_id, minimum, maximum, placements, placements_as_chosen)
            VALUES
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 9796),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 12123),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 2960),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 13074),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 16645),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7738', 0, 1, 21691, 5296),
        ('T2c_project', '2021', 'CMW', 'VOLTOOID', '_T', '_T', '7874', 0, 1, 3, 1),
        ('T2c_project', '2021', 'LDE', 'VOLTOOID', '_T', '_T', '7874', 0, 1, 3, 1),
        ('T2c_project', '2023', 'CMW', 'VOLTOOID', '_T', '_T', '7874', 0, 1, 3, 2),
        ('T2c_project', '2023', 'LDE', 'VOLTOOID', '_T', '_T', '7874', 0, 1, 3, 2),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7874', 0, 7, 21691, 21547),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7874', 1, 7, 21691, 21547),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7874', 0, 1, 21691, 14214),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7874', 0, 1, 21691, 14581),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7874', 0, 1, 21691, 11274),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7874', 0, 1, 21691, 10763),
        ('T2c_project', '2023', 'CMW', 'VOLTOOID', '_T', '_T', '7875', 0, 1, 3, 2),
        ('T2c_project', '2023', 'LDE', 'VOLTOOID', '_T', '_T', '7875', 0, 1, 3, 2),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7875', 0, 1, 21691, 17579),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7875', 0, 4, 21691, 10767),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7875', 0, 2, 21691, 21071),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7875', 0, 4, 21691, 7677),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7875', 0, 4, 21691, 15812),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7875', 0, 2, 21691, 13182),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7876', 0, 2, 21691, 20625),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7876', 0, 3, 21691, 18251),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7876', 0, 4, 21691, 17203),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7876', 0, 4, 21691, 19466),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7876', 0, 4, 21691, 19420),
        ('T2c_project', '2021', 'LDE', 'VOLTOOID', '_T', '_T', '7877', 0, 4, 3, 1),
        ('T2c_project', '2022', 'LDE', 'VOLTOOID', '_T', '_T', '7877', 0, 4, 3, 1),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7877', 0, 6, 21691, 7456),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7877', 0, 6, 21691, 4060),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7877', 0, 6, 21691, 8555),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7877', 0, 3, 21691, 19409),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7877', 0, 3, 21691, 19351),
        ('T2c_project', '2021', 'CMW', 'VOLTOOID', '_T', '_T', '7878', 0, 5, 3, 1),
        ('T2c_project', '2021', 'LDE', 'VOLTOOID', '_T', '_T', '7878', 0, 2, 3, 1),
        ('T2c_project', '2022', 'LDE', 'VOLTOOID', '_T', '_T', '7878', 1, 5, 3, 1),
        ('T2c_project', '2023', 'CMW', 'VOLTOOID', '_T', '_T', '7878', 0, 2, 3, 1),
        ('T2c_project', '2023', 'LDE', 'VOLTOOID', '_T', '_T', '7878', 0, 1, 3, 1),
        ('T2c_project', '2021', 'CMW', 'VOLTOOID', '_T', '_T', '7880', 0, 3, 3, 1),
        ('T2c_project', '2021', 'LDE', 'VOLTOOID', '_T', '_T', '7880', 0, 3, 3, 1),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 14928),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 16805),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 20459),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 17507),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 19451),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7881', 0, 1, 21691, 2386),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7882', 0, 2, 21691, 7204),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7882', 0, 2, 21691, 4467),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7882', 0, 2, 21691, 19947),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7882', 0, 2, 21691, 9514),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7882', 0, 2, 21691, 1877),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7882', 0, 1, 21691, 8891),
        ('T2c_project', '2021', 'CMW', 'VOLTOOID', '_T', '_T', '7883', 0, 3, 3, 1),
        ('T2c_project', '2023', 'CMW', 'VOLTOOID', '_T', '_T', '7883', 0, 3, 3, 1),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 7459),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 13297),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 15494),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 13042),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 12713),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7883', 0, 1, 21691, 9327),
        ('T2c_project', '2021', 'CMW', 'STOPGEZET', '_T', '_T', '7887', 0, 2, 21691, 7300),
        ('T2c_project', '2021', 'LDE', 'STOPGEZET', '_T', '_T', '7887', 0, 2, 21691, 6754),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7887', 0, 2, 21691, 16042),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7887', 0, 2, 21691, 12500),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7887', 0, 1, 21691, 9002),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7887', 0, 1, 21691, 12315),
        ('T2c_project', '2022', 'CMW', 'STOPGEZET', '_T', '_T', '7889', 0, 1, 21691, 17123),
        ('T2c_project', '2022', 'LDE', 'STOPGEZET', '_T', '_T', '7889', 0, 3, 21691, 15059),
        ('T2c_project', '2023', 'CMW', 'STOPGEZET', '_T', '_T', '7889', 0, 3, 21691, 7044),
        ('T2c_project', '2023', 'LDE', 'STOPGEZET', '_T', '_T', '7889', 0, 2, 21691, 7044);
        END
        $$
        """
    )


def downgrade() -> None:
    # The report views that call it go with it, as with 0005's table; dwh re-creates the views
    # that belong to the revision it migrates to.
    op.execute("DROP FUNCTION dwh.require_loaded() CASCADE")
    op.drop_table("load_required", schema="dwh")
