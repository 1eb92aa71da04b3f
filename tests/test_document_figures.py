"""A document's tables of one fact table print at most loader.dataset.DOCUMENT_FIGURES cells
together (issue 20): loader.identities checks them together, in memory, and one document of a
million figures took gigabytes. The streamed load's SQL refuses the same, so validate and load agree.

The shipped document's trajectory_end tables print 87 + 31 + 86 = 204 cells (T2c_provincie,
T2c_leeftijd and T2c_project, lines 8 to 10 of source_table.csv); a bound of 200 is crossed by
the third.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import loader.dataset as dataset
from loader import db, resources, setchecks
from loader.cli import main
from loader.dataset import read_dataset
from loader.errors import InputError

NAME = "source_table: a document's tables of one fact table print more cells than loader.dataset allows"
SAID = (
    "document SV-221-2024 prints more than 200 cells in trajectory_end tables with table T2c_project's 86 "
    "(expected at most 200 a document and fact table; their identities are checked together)"
)


def test_validate_refuses_a_document_past_the_bound_at_the_table_that_crosses_it(monkeypatch):
    monkeypatch.setattr(dataset, "DOCUMENT_FIGURES", 200)
    with pytest.raises(InputError) as caught:
        read_dataset(resources.data_dir())
    column = resources.data_dir().joinpath("source_table.csv").read_text(encoding="utf-8").splitlines()[9].rindex(",") + 2
    assert caught.value.problems == [f"{resources.data_dir() / 'source_table.csv'}:10:{column}: {SAID}"]
    monkeypatch.setattr(dataset, "DOCUMENT_FIGURES", 204)  # exactly the document's: allowed
    read_dataset(resources.data_dir())


def test_the_streamed_loads_sql_refuses_the_same(loaded_db, monkeypatch):
    engine = db.make_engine(loaded_db)
    with engine.connect() as conn:
        assert NAME not in setchecks.broken(conn)
        monkeypatch.setattr(dataset, "DOCUMENT_FIGURES", 200)
        assert NAME in setchecks.broken(conn)
        monkeypatch.setattr(dataset, "DOCUMENT_FIGURES", 204)
        assert NAME not in setchecks.broken(conn)
    engine.dispose()


def test_load_refuses_it_with_validates_message_and_loads_nothing(databases, monkeypatch, capsys):
    url = databases.create()
    monkeypatch.setattr(dataset, "DOCUMENT_FIGURES", 200)
    assert main(["load", "--database-url", url]) == 2
    assert SAID in capsys.readouterr().err
    engine = db.make_engine(url)
    with engine.connect() as conn:  # the load's transaction rolled back, the migration with it
        if conn.execute(sa.text("select to_regclass('dwh.trajectory_end') is not null")).scalar():
            assert conn.execute(sa.text("select count(*) from dwh.trajectory_end")).scalar() == 0
    engine.dispose()


@pytest.mark.parametrize("name", ["prose_figure", "source_inconsistency"])
def test_the_files_held_whole_have_a_bound_in_validate_and_load(name, databases, loaded_db, monkeypatch, capsys):
    """prose_figure.csv holds the document's 5 prose figures: a bound of 4 refuses it at its 5th
    row (line 6), in validate and in the streamed load's SQL. source_inconsistency.csv holds none:
    a bound of 0 refuses it only once a row is recorded."""
    rows = {"prose_figure": 5, "source_inconsistency": 0}[name]
    monkeypatch.setitem(dataset.HELD_ROWS, name, max(rows - 1, 0))
    with engine_of(loaded_db) as conn:
        assert (f"{name}: more rows than loader.dataset allows" in setchecks.broken(conn)) == (rows > 0)
    if rows:
        with pytest.raises(InputError) as caught:
            read_dataset(resources.data_dir())
        path = resources.data_dir() / f"{name}.csv"
        assert caught.value.problems == [f"{path}:6:1: {name}.csv has more than 4 rows (expected at most 4: they are checked together)"]
        url = databases.create()
        assert main(["load", "--database-url", url]) == 2
        assert f"{name}.csv has more than 4 rows" in capsys.readouterr().err
    else:
        read_dataset(resources.data_dir())


class engine_of:
    """A connection to ``url`` whose work is rolled back."""

    def __init__(self, url: str):
        self._engine = db.make_engine(url)

    def __enter__(self):
        self._conn = self._engine.connect()
        return self._conn

    def __exit__(self, *exc):
        self._conn.close()
        self._engine.dispose()


def test_the_tables_the_expressions_name_have_a_bound_in_validate_and_load(databases, loaded_db, monkeypatch, capsys):
    """The identities across facts name T1_totaal (2 cells) and T4_duurzaam (28); the prose
    figures add T3_totaal (2): 32 cells. A bound of 31 is crossed by T3_totaal (line 15 of
    source_table.csv), in validate, in the streamed load's SQL and in dwh load."""
    import loader.dataset as dataset

    name = "prose figures: the tables the expressions name print more cells than loader.dataset allows"
    with engine_of(loaded_db) as conn:
        assert name not in setchecks.prose_broken(conn)
        monkeypatch.setattr(dataset, "EXPRESSION_FIGURES", 31)
        assert name in setchecks.prose_broken(conn)
    path = resources.data_dir() / "source_table.csv"
    column = path.read_text(encoding="utf-8").splitlines()[14].rindex(",") + 2
    said = (
        "the tables the prose derivations and the identities across facts name print more than 31 cells with table "
        "T3_totaal's 2 (expected at most 31; their figures are checked together)"
    )
    with pytest.raises(InputError) as caught:
        read_dataset(resources.data_dir())
    assert caught.value.problems == [f"{path}:15:{column}: {said}"]
    url = databases.create()
    assert main(["load", "--database-url", url]) == 2
    assert said in capsys.readouterr().err
    monkeypatch.setattr(dataset, "EXPRESSION_FIGURES", 32)  # exactly the document's: allowed
    read_dataset(resources.data_dir())
