"""Every rule the database enforces is found by `dwh validate` (and `dwh load`) first, with exit 2
and the file, line and column that break it.

The rules are enumerated from the declaration in loader.schema, so a new constraint gets a case
here without anyone writing one: NOT NULL, the range of each integer or bounded numeric column,
each CHECK, each primary key, UNIQUE constraint and foreign key. Each case changes one record of
the shipped data so that it breaks that one rule, and the same change is shown to be refused by
PostgreSQL itself (COPY into a migrated database), so no case can pass by testing nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from loader import db, migrate, resources, schema
from loader.cli import main

FRESH = "zz_mutation"


@dataclass(frozen=True)
class Case:
    kind: str  # not-null, range, check, primary-key, unique, foreign-key
    table: str
    columns: tuple[str, ...]
    detail: str = ""  # the CHECK's SQL

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.table}.{'+'.join(self.columns)}" + (f":{self.detail}" if self.detail else "")


def _curated(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if c.computed is None and c.identity is None]


def declared_cases() -> list[Case]:
    cases = []
    for name in schema.LOAD_ORDER:
        table = schema.metadata.tables[f"{schema.SCHEMA}.{name}"]
        checks = {}
        for column in _curated(table):
            if not column.nullable:
                cases.append(Case("not-null", name, (column.name,)))
            if isinstance(column.type, sa.Integer) or (isinstance(column.type, sa.Numeric) and column.type.precision is not None):
                cases.append(Case("range", name, (column.name,)))
            checks |= {c.name: c for c in column.constraints if isinstance(c, sa.CheckConstraint)}
        for constraint in table.constraints:
            columns = tuple(c.name for c in getattr(constraint, "columns", []))
            if isinstance(constraint, sa.PrimaryKeyConstraint):
                cases.append(Case("primary-key", name, columns))
            elif isinstance(constraint, sa.UniqueConstraint):
                cases.append(Case("unique", name, columns))
            elif isinstance(constraint, sa.ForeignKeyConstraint):
                cases.append(Case("foreign-key", name, tuple(constraint.column_keys)))
            elif isinstance(constraint, sa.CheckConstraint):
                checks[constraint.name] = constraint
        for constraint in checks.values():
            sql = str(constraint.sqltext)
            cases.append(Case("check", name, (re.match(r"\s*(\w+)", sql)[1],), sql))
    return cases


CASES = declared_cases()


def test_every_kind_of_rule_is_enumerated():
    kinds = {c.kind for c in CASES}
    assert kinds == {"not-null", "range", "check", "primary-key", "unique", "foreign-key"}
    assert len([c for c in CASES if c.kind == "primary-key"]) == len(schema.LOAD_ORDER)
    assert any(c.id == "unique:source_table.position" for c in CASES)
    assert any(c.id == "check:doorstroom.source_line:source_line > 0" for c in CASES)


# ------------------------------------------------------------------ building a mutated dataset


def _read(folder: Path, name: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO((folder / f"{name}.csv").read_text(encoding="utf-8-sig"), newline="")))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")


def _column_of(header: list[str], row: list[str], column: str) -> int:
    """1-based character column where ``column``'s field starts in the written line."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row[: header.index(column)] + ["x"])
    return len(out.getvalue())


def _base_row(table: sa.Table, folder: Path) -> list[str]:
    """A valid record for a table that ships without any (source_inconsistency)."""
    row = []
    for column in _curated(table):
        fk = next(iter(column.foreign_keys), None)
        if fk is not None:
            header, rows = _read(folder, fk.column.table.name)
            row.append(rows[0][header.index(fk.column.name)])
        elif isinstance(column.type, sa.Integer):
            row.append("1")
        elif isinstance(column.type, sa.Numeric):
            row.append("1.00")
        elif isinstance(column.type, sa.Date):
            row.append("2024-01-01")
        elif isinstance(column.type, sa.Boolean):
            row.append("false")
        else:
            row.append(FRESH + "_base")
    return row


def _breaking_value(case: Case, column: sa.Column) -> str:
    if case.kind == "not-null":
        return ""
    if case.kind == "foreign-key":
        return FRESH
    if case.kind == "range":
        if isinstance(column.type, sa.SmallInteger):
            return "32768"
        if isinstance(column.type, sa.BigInteger):
            return str(2**63)
        if isinstance(column.type, sa.Integer):
            return "2147483648"
        precision, scale = column.type.precision, column.type.scale or 0
        return "1" + "0" * (precision - scale) + ("." + "0" * scale if scale else "")
    m = re.fullmatch(r"\s*\w+\s*(>=|<=|<>|>|<|=)\s*(-?\d+)\s*", case.detail)
    if m:
        n = int(m[2])
        return str({">": n, ">=": n - 1, "<": n, "<=": n + 1, "=": n + 1, "<>": n}[m[1]])
    if re.fullmatch(r"\s*\w+\s+IN\s*\(.*\)\s*", case.detail, re.IGNORECASE):
        return FRESH
    pytest.fail(f"no mutation known for the CHECK {case.detail!r} of {case.table}: add one here")


def mutate(case: Case, source: Path, folder: Path) -> tuple[Path, int, int]:
    """Write the shipped data with ``case`` broken into ``folder``; the broken file, line and column."""
    folder.mkdir()
    for name in schema.LOAD_ORDER:
        (folder / f"{name}.csv").write_bytes((source / f"{name}.csv").read_bytes())
    table = schema.metadata.tables[f"{schema.SCHEMA}.{case.table}"]
    header, rows = _read(folder, case.table)
    if not rows:
        rows = [_base_row(table, source)]
    column = case.columns[0]
    index = 0
    if case.kind == "none":
        pass
    elif case.kind in ("primary-key", "unique"):
        copy = list(rows[0])
        if case.kind == "unique":  # a new key, the same value in the unique columns
            for key in table.primary_key.columns:
                if key.name not in case.columns:
                    copy[header.index(key.name)] = FRESH if isinstance(key.type, sa.Text) else "32000"
        rows.append(copy)
        index = len(rows) - 1
    elif case.kind == "check" and (m := re.fullmatch(r"\s*(\w+)\s*(>=|<=|<>|>|<|=)\s*([a-z_]\w*)\s*", case.detail)):
        # A rule between two columns of a row (minimum < maximum): break it against the other column.
        other = int(rows[0][header.index(m[3])])
        rows[0][header.index(m[1])] = str({"<": other, ">": other, "<=": other + 1, ">=": other - 1, "=": other + 1, "<>": other}[m[2]])
    else:
        for name in case.columns:
            rows[0][header.index(name)] = _breaking_value(case, table.c[name])
    path = folder / f"{case.table}.csv"
    _write(path, header, rows)
    return path, index + 2, _column_of(header, rows[index], column)


# ------------------------------------------------------------------ the validator finds each


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_validate_refuses_each_declared_rule_where_it_is_broken(case, tmp_path, capsys):
    path, line, column = mutate(case, resources.data_dir(), tmp_path / "data")
    assert main(["validate", "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err.splitlines()
    here = [e for e in err if e.startswith(f"{path}:{line}:{column}: ")]
    assert here, f"expected a problem at {path.name}:{line}:{column}, got {err}"
    assert case.columns[0] in here[0]
    assert err[-1].startswith("dwh: error: the curated data has ")


# ------------------------------------------------------------------ and so does PostgreSQL


@pytest.fixture(scope="module")
def migrated_db(databases) -> str:
    url = databases.create()
    engine = db.make_engine(url)
    try:
        with db.begin(engine) as conn:
            migrate.upgrade(conn)
    finally:
        engine.dispose()
    return url


def _copy_all(url: str, folder: Path) -> None:
    """COPY every file of ``folder`` into its table, in one transaction that is rolled back."""
    with psycopg.connect(url) as conn:
        try:
            with conn.cursor() as cursor:
                for name in schema.LOAD_ORDER:
                    header = (folder / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()[0]
                    columns = ", ".join(f'"{c}"' for c in header.split(","))
                    with cursor.copy(f"COPY {schema.SCHEMA}.{name} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                        copy.write((folder / f"{name}.csv").read_bytes())
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        finally:
            conn.rollback()


def test_the_unbroken_data_and_base_rows_are_accepted_by_postgresql(migrated_db, tmp_path):
    folder = tmp_path / "data"
    mutate(Case("none", "source_inconsistency", ("note",)), resources.data_dir(), folder)
    _copy_all(migrated_db, folder)  # raises if the starting point itself broke a rule


def test_postgresql_refuses_each_mutation_too(migrated_db, tmp_path):
    """The mutations above are real: the database rejects every one of them."""
    accepted = []
    for i, case in enumerate(CASES):
        folder = tmp_path / f"case{i}"
        mutate(case, resources.data_dir(), folder)
        try:
            _copy_all(migrated_db, folder)
        except psycopg.Error:
            continue
        accepted.append(case.id)
    assert accepted == []


# ------------------------------------------------------------------ `dwh load` refuses them the same way


@pytest.mark.parametrize(
    "case",
    [next(c for c in CASES if c.kind == kind) for kind in ("not-null", "range", "check", "primary-key", "unique", "foreign-key")],
    ids=lambda c: c.id,
)
def test_load_refuses_each_kind_of_rule_with_exit_2_and_loads_nothing(case, tmp_path, empty_db, capsys):
    path, line, column = mutate(case, resources.data_dir(), tmp_path / "data")
    assert main(["load", "--data", str(tmp_path / "data"), "--database-url", empty_db]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any(e.startswith(f"{path}:{line}:{column}: ") for e in err), err
    assert err[-1].endswith("; nothing was loaded")
    with psycopg.connect(empty_db) as conn:  # the whole load was one transaction, the migration included
        assert conn.execute("select to_regclass('dwh.load_history')").fetchone()[0] is None
