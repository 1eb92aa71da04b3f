"""loader.db.run_together and first_rows_together: many statements in one round trip, as if one by one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from loader import db


@pytest.fixture
def conn(empty_db):
    engine = db.make_engine(empty_db)
    with engine.connect() as connection, connection.begin():
        yield connection
    engine.dispose()


def test_each_statement_runs_in_order_in_the_callers_transaction(conn):
    db.run_together(conn, ["create table t (n int)", "insert into t values (1)", "insert into t values (2)", "update t set n = n * 10"])
    assert sorted(conn.execute(sa.text("select n from t")).scalars()) == [10, 20]
    assert conn.in_transaction()


def test_first_rows_are_each_querys_first_row_in_order(conn):
    rows = db.first_rows_together(conn, ["select 1, 'a'", "select n from generate_series(5, 7) as n", "select '100%', null::int"])
    assert rows == [(1, "a"), (5,), ("100%", None)]  # a % is not a placeholder: there are no parameters


def test_a_failing_statement_raises_sqlalchemys_exception_as_alone(conn):
    conn.exec_driver_sql("create table t (n int primary key)")
    savepoint = conn.begin_nested()
    with pytest.raises(sa.exc.IntegrityError) as failed:
        db.run_together(conn, ["insert into t values (1)", "insert into t values (1)", "insert into t values (2)"])
    assert failed.value.orig.sqlstate == "23505"  # unique_violation, SQLAlchemy's exception around psycopg's
    savepoint.rollback()
    with pytest.raises(sa.exc.DataError):
        db.first_rows_together(conn, ["select 1", "select 1 / 0", "select 2"])
