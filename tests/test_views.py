"""Every report view against the document's table, typed from the source (tests/golden)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader import roles, schema, views

GOLDEN = Path(__file__).parent / "golden"

# The 18 tables of shared/tables.md, in document order.
TABLE_IDS = [
    "T1_totaal", "T1_provincie", "T1_leeftijd",
    "T2ab_provincie", "T2ab_leeftijd", "T2ab_project",
    "T2c_provincie", "T2c_leeftijd", "T2c_project",
    "T2d_project", "T2d_provincie", "T2d_leeftijd",
    "T2e_betalingen",
    "T3_totaal", "T3_provincie", "T3_leeftijd",
    "T4_duurzaam", "T4_sec_nec_sec",
]  # fmt: skip


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _golden(table_id: str) -> tuple[list[str], list[list[str]]]:
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.mark.parametrize("table_id", TABLE_IDS)
def test_view_reproduces_the_document(loaded_engine, table_id):
    header, expected = _golden(table_id)
    with loaded_engine.connect() as conn:
        result = conn.execute(sa.text(f"select * from report.{table_id.lower()}"))
        columns = list(result.keys())
        actual = [[_cell(v) for v in row] for row in result]
    assert columns == header
    assert len(actual) == len(expected), f"{table_id}: {len(actual)} rows, the document prints {len(expected)}"
    for number, (got, want) in enumerate(zip(actual, expected), start=1):
        assert got == want, f"{table_id} row {number}"


def test_amounts_are_numeric_with_two_decimals(loaded_engine):
    with loaded_engine.connect() as conn:
        types = conn.execute(
            sa.text(
                "select distinct data_type, numeric_scale from information_schema.columns "
                "where table_schema = 'report' and table_name = 't2e_betalingen' and column_name <> 'Project'"
            )
        ).all()
    assert types == [("numeric", 2)]


def test_the_views_are_the_files(loaded_engine):
    """The database holds exactly the views of sql/report, each as its file defines it."""
    with loaded_engine.connect() as conn:
        assert views.existing_views(conn) == set(views.view_files())
        assert {t.lower() for t in TABLE_IDS} <= set(views.view_files())

        def definitions():
            return dict(
                conn.execute(
                    sa.text("select viewname, definition from pg_views where schemaname = 'report'")
                ).all()
            )

        stored = definitions()
        for path in views.view_files().values():
            conn.exec_driver_sql(path.read_text(encoding="utf-8"))
        assert definitions() == stored
        conn.rollback()


def test_every_table_view_and_column_has_a_comment(loaded_engine):
    params = {"schemas": [schema.SCHEMA, schema.REPORT_SCHEMA]}
    with loaded_engine.connect() as conn:
        relations = conn.execute(
            sa.text(
                "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = any(:schemas) and c.relkind in ('r', 'v') and obj_description(c.oid, 'pg_class') is null"
            ),
            params,
        ).scalars().all()
        columns = conn.execute(
            sa.text(
                "select n.nspname || '.' || c.relname || '.' || a.attname from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace "
                "join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
                "where n.nspname = any(:schemas) and c.relkind in ('r', 'v') and col_description(c.oid, a.attnum) is null"
            ),
            params,
        ).scalars().all()
        count = conn.execute(
            sa.text("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = any(:schemas)"),
            params,
        ).scalar_one()
    assert count > 30  # the check looked at something
    assert relations == []
    assert columns == []


def test_recreating_views_keeps_grants_and_comments(loaded_db):
    from loader import db

    engine = db.make_engine(loaded_db)
    try:
        with db.begin(engine) as conn:
            before = conn.execute(
                sa.text("select has_table_privilege(:r, 'report.t2ab_project', 'select'), obj_description('report.t2ab_project'::regclass)"), {"r": roles.current_reader_role(conn)}
            ).one()
            # A column change forces drop and create; grants and comments must come back.
            conn.exec_driver_sql("drop view report.t2ab_project")
            conn.exec_driver_sql("create view report.t2ab_project as select 1 as x")
            views.create_views(conn)
            after = conn.execute(
                sa.text("select has_table_privilege(:r, 'report.t2ab_project', 'select'), obj_description('report.t2ab_project'::regclass)"), {"r": roles.current_reader_role(conn)}
            ).one()
            conn.rollback()
    finally:
        engine.dispose()
    assert before[0] is True and before[1]
    assert after == before


def test_views_of_an_earlier_column_set_are_replaced_by_migrate(databases, loaded_db, capsys):
    """A database whose report views have the column sets of before the open cells (report.cijfers
    and the tidy views without ranges, sec_nec_sec_overgangen.sinds_jaar, onzekere_cellen on its
    own, no open_cellen) gets the views of sql/report from `dwh migrate`, with nothing left over."""
    from loader.cli import main

    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    engine = sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        views.drop_views(conn)
        conn.exec_driver_sql("create view report.cijfers as select 'sec_nec_sec'::text as feit, 'T4_sec_nec_sec'::text as tabel, 2018 as jaar, 1140::numeric as waarde")
        conn.exec_driver_sql("create view report.sec_nec_sec_overgangen as select tabel, jaar as sinds_jaar, waarde::integer as aantal from report.cijfers")
        conn.exec_driver_sql("create view report.cellen as select 'T1_totaal'::text as tabel, ''::text as rij, 'CMW'::text as kolom, 1010::numeric as waarde, 'printed'::text as status, 84 as bronregel")
        conn.exec_driver_sql("create view report.onzekere_cellen as select tabel, rij, kolom, waarde as gekozen_waarde, 0 as minimum, 1 as maximum, 1 as plaatsingen, 1 as plaatsingen_zoals_gekozen, 'ambiguous'::text as status from report.cellen")
    assert main(["migrate", "--database-url", url]) == 0
    with engine.connect() as conn:
        assert views.existing_views(conn) == set(views.view_files())
        columns = set(
            conn.execute(sa.text("select column_name from information_schema.columns where table_schema = 'report' and table_name = 'sec_nec_sec_overgangen'")).scalars()
        )
        statuses = conn.execute(sa.text("select status, count(*) from report.onzekere_cellen group by status")).all()
    engine.dispose()
    assert "periode" in columns and "sinds_jaar" not in columns
    assert [tuple(s) for s in statuses] == [("open", 73)]
    capsys.readouterr()
    assert main(["show", "T2c_project", "--format", "json", "--database-url", url]) == 0
    assert json.loads(capsys.readouterr().out)["status_counts"] == {"open": {"figures": 35, "blank_cells": 38}}


def test_only_views_that_differ_from_their_files_are_replaced(loaded_db):
    """A view is replaced (and locked) only when its definition, columns or comments differ from its file."""
    from loader import db
    from loader.viewchanges import changed_views

    files = views.dependency_order(views.view_files())
    engine = db.make_engine(loaded_db)
    try:
        with db.begin(engine) as conn:
            assert changed_views(conn, files) == set()
            conn.exec_driver_sql("comment on column report.cijfers.waarde is 'another comment'")
            conn.exec_driver_sql("comment on view report.t1_totaal is 'another comment'")
            definition = conn.exec_driver_sql("select pg_get_viewdef('report.t2ab_project'::regclass)").scalar_one()
            conn.exec_driver_sql(f"create or replace view report.t2ab_project as {definition.rstrip().rstrip(';')} limit 5")
            conn.exec_driver_sql("drop view report.t3_totaal")
            assert changed_views(conn, files) == {"cijfers", "t1_totaal", "t2ab_project", "t3_totaal"}
            before = conn.exec_driver_sql("select mod(txid_current(), 4294967296)").scalar_one()
            views.create_views(conn)
            assert changed_views(conn, files) == set()
            # The views whose rewrite rule create_views wrote (in savepoints: transaction ids after ours).
            rewritten = set(conn.exec_driver_sql(
                "select c.relname from pg_rewrite r join pg_class c on c.oid = r.ev_class "
                f"where c.relnamespace = 'report'::regnamespace and r.xmin::text::bigint > {before}"
            ).scalars())
            conn.rollback()
    finally:
        engine.dispose()
    # t1_totaal's comment differs, not its definition: it is replaced all the same (the file is one unit).
    assert rewritten == {"cijfers", "t1_totaal", "t2ab_project", "t3_totaal"}


@pytest.mark.parametrize("kind", ["columns changed", "no file"])
def test_a_users_view_on_a_report_view_is_never_dropped_silently(loaded_db, kind):
    from loader import db
    from loader.errors import DatabaseUnavailable

    engine = db.make_engine(loaded_db)
    try:
        with db.begin(engine) as conn:
            if kind == "columns changed":
                # As when a new version of dwh changes the view's columns: it must be dropped and created again.
                conn.exec_driver_sql("drop view report.t2ab_project")
                conn.exec_driver_sql("create view report.t2ab_project as select 1 as x")
                view = "t2ab_project"
            else:
                conn.exec_driver_sql("create view report.retired as select 1 as x")
                view = "retired"
            conn.exec_driver_sql(f"create view public.my_extract as select * from report.{view}")
            with pytest.raises(DatabaseUnavailable) as raised:
                views.create_views(conn)
            conn.rollback()
    finally:
        engine.dispose()
    assert str(raised.value) == (
        f"report.{view} must be dropped and created again (its columns changed, or it has no file), but "
        "public.my_extract depends on it; drop or change that first (dwh never drops what it did not create)"
    )
