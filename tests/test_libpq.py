"""loader.libpq, the read path of `dwh show`, gives what psycopg gives: the same values, the same errors.

psycopg is the reference here: every expectation is what psycopg itself returns or raises for the
same statement on the same server.
"""

from __future__ import annotations

import psycopg
import pytest

from loader import libpq

#: One value of each type the read path may meet, NULL included; and the catalogue's own types.
_VALUES = (
    "select 279 as count, 12345678901::bigint as big, 2::smallint as small, 27313.55::numeric as amount, "
    "'-7193.980'::numeric as exact, 'NaN'::numeric as nan, 0.5::float8 as half, true as yes, false as no, "
    "'Antwerpen'::text as label, 'Oost-Vlaanderen'::varchar as name, 'ab'::char(3) as padded, "
    "null::integer as blank, null::text as no_label, to_regclass('pg_class') as relation, "
    "'éà €'::text as accents, 'pg_class'::name as system_name, 26::oid as oid"
)


def test_values_and_column_names_are_psycopgs(empty_db):
    with psycopg.connect(empty_db) as reference:
        cursor = reference.execute(_VALUES)
        expected_names = [c.name for c in cursor.description]
        expected = cursor.fetchall()
    conn = libpq.connect(empty_db)
    try:
        cursor = conn.execute(_VALUES)
        assert [c.name for c in cursor.description] == expected_names
        rows = cursor.fetchall()
    finally:
        conn.close()
    assert repr(rows) == repr(expected)  # repr: NaN equals nothing, not even itself
    assert [type(v) for v in rows[0]] == [type(v) for v in expected[0]]
    assert str(rows[0][4]) == "-7193.980"  # the scale kept, as psycopg keeps it


def test_named_parameters_as_psycopg_takes_them(empty_db):
    sql = "select %(a)s::text || %(b)s::text || %(a)s::text as joined, %(n)s::integer is null as empty, 100 %% 7 as rest"
    params = {"a": "x'y", "b": "%(a)s", "n": None}
    with psycopg.connect(empty_db) as reference:
        expected = reference.execute(sql, params).fetchall()
    conn = libpq.connect(empty_db)
    try:
        assert conn.execute(sql, params).fetchall() == expected == [("x'y%(a)sx'y", True, 2)]
    finally:
        conn.close()


def test_a_type_psycopg_would_read_otherwise_is_refused(empty_db):
    conn = libpq.connect(empty_db)
    try:
        with pytest.raises(TypeError, match="type oid 1082"):
            conn.execute("select current_date")
    finally:
        conn.close()


@pytest.mark.parametrize(
    "sql",
    ["select * from no_such_table", "select 1/0", "select nonsense(", "select cast('x' as integer)"],
)
def test_a_failed_statement_raises_psycopgs_exception(empty_db, sql):
    with psycopg.connect(empty_db) as reference, pytest.raises(psycopg.Error) as expected:
        reference.execute(sql)
    conn = libpq.connect(empty_db)
    try:
        with pytest.raises(psycopg.Error) as raised:
            conn.execute(sql)
        assert type(raised.value) is type(expected.value)
        assert raised.value.sqlstate == expected.value.sqlstate
        assert str(raised.value) == str(expected.value)
        conn.execute("select 1")  # the session goes on after an error outside a transaction
    finally:
        conn.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@127.0.0.1:1/nothing",
        "postgresql://nobody@localhost:1/nothing",
        "postgresql://nobody@no-such-host.invalid/nothing",
        "postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=soon",
    ],
)
def test_a_refused_connection_raises_what_psycopg_raises(url):
    with pytest.raises(psycopg.Error) as expected:
        psycopg.connect(url)
    with pytest.raises(psycopg.Error) as raised:
        libpq.connect(url)
    assert (type(raised.value), str(raised.value)) == (type(expected.value), str(expected.value))


def test_a_wrong_database_name_is_psycopgs_message(empty_db):
    wrong = empty_db.rsplit("/", 1)[0] + "/no_such_database_at_all"
    with pytest.raises(psycopg.OperationalError) as expected:
        psycopg.connect(wrong)
    with pytest.raises(psycopg.OperationalError) as raised:
        libpq.connect(wrong)
    assert str(raised.value) == str(expected.value)
    assert 'database "no_such_database_at_all" does not exist' in str(raised.value)


def test_the_libpq_is_psycopgs():
    assert libpq.version() == psycopg.pq.version()


def test_a_server_that_never_answers_times_out_as_psycopg_says():
    import socket
    import time

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts the connection, never speaks
        url = f"postgresql://nobody@127.0.0.1:{silent.getsockname()[1]}/nothing?connect_timeout=5&sslmode=disable"
        with pytest.raises(psycopg.Error) as expected:
            psycopg.connect(url)
        started = time.monotonic()
        with pytest.raises(psycopg.Error) as raised:
            libpq.connect(url)
        waited = time.monotonic() - started
    assert (type(raised.value), str(raised.value)) == (type(expected.value), str(expected.value))
    assert 5 <= waited < 9  # the 5 s given, waited once: not again through psycopg (10 s)


def test_a_notice_of_the_server_is_not_printed_as_psycopg_prints_none(empty_db, capfd):
    conn = libpq.connect(empty_db)
    try:
        conn.execute("do $$ begin raise notice 'a notice'; raise warning 'a warning'; end $$")
        conn.execute("commit")  # outside a transaction: WARNING there is no transaction in progress
    finally:
        conn.close()
    assert capfd.readouterr() == ("", "")


def test_a_session_the_server_ends_raises_what_psycopg_raises(empty_db):
    ending = "select pg_terminate_backend(pg_backend_pid())"
    with psycopg.connect(empty_db, autocommit=True) as reference, pytest.raises(psycopg.Error) as expected:
        reference.execute(ending)
    conn = libpq.connect(empty_db)
    try:
        with pytest.raises(psycopg.Error) as raised:
            conn.execute(ending)
    finally:
        conn.close()
    assert (type(raised.value), str(raised.value)) == (type(expected.value), str(expected.value))
    assert raised.value.sqlstate == "57P01"  # AdminShutdown: the server's word, not only a lost connection
