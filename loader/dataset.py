"""Read and check a curated dataset folder against the warehouse schema, without a database.

Every problem is collected (up to a cap) with its ``file:line:column``; nothing is loaded unless
there are none. The shape of each CSV is the shape of its table in :mod:`loader.schema`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa

from loader import schema
from loader.csvfile import Problem, read_text, records
from loader.errors import InputError
from loader.fingerprint import data_hash

MAX_PROBLEMS = 50

_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # text, integer, decimal, date, boolean
    required: bool
    minimum: int | None
    maximum: int | None  # the largest value the database column holds
    references: tuple[str, str] | None  # (table, column)

    @property
    def expected(self) -> str:
        return {
            "text": "text",
            "integer": "a whole number" + (" >= 0" if self.minimum == 0 else "") + (f" up to {self.maximum}" if self.maximum else ""),
            "number": "a number with a dot for decimals, e.g. 100 or -7193.98",
            "decimal": "an amount with two decimals and a dot, e.g. 27313.55 or -10637.67",
            "date": "a date YYYY-MM-DD",
            "boolean": "true or false",
        }[self.kind]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    may_be_empty: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def _kind(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Integer):
        return "decimal" if t.scale == 2 else "number"
    if isinstance(t, sa.Integer):
        return "integer"
    if isinstance(t, sa.Date):
        return "date"
    return "text"


def table_spec(table: sa.Table) -> TableSpec:
    columns = []
    for c in table.columns:
        if c.computed is not None or c.identity is not None:
            continue  # derived in the database, never curated
        fk = next(iter(c.foreign_keys), None)
        columns.append(
            ColumnSpec(
                name=c.name,
                kind=_kind(c),
                required=not c.nullable,
                minimum=c.info.get("minimum"),
                maximum=32767 if isinstance(c.type, sa.SmallInteger) else 2147483647 if isinstance(c.type, sa.Integer) else None,
                references=(fk.column.table.name, fk.column.name) if fk is not None else None,
            )
        )
    return TableSpec(
        table.name,
        tuple(columns),
        tuple(c.name for c in table.primary_key.columns),
        may_be_empty=table.info.get("may_be_empty", False),
    )


SPECS: dict[str, TableSpec] = {name: table_spec(schema.metadata.tables[f"{schema.SCHEMA}.{name}"]) for name in schema.LOAD_ORDER}


@dataclass
class TableData:
    spec: TableSpec
    path: Path
    records: list = field(default_factory=list)  # csvfile.Record, in file order
    rows: list[tuple] = field(default_factory=list)  # typed values, same order

    def column_index(self, name: str) -> int:
        return self.spec.header.index(name)

    def where(self, row_number: int, column: str) -> tuple[str, int, int]:
        record = self.records[row_number]
        return str(self.path), record.line, record.columns[self.column_index(column)]


@dataclass
class Dataset:
    folder: Path
    tables: dict[str, TableData]
    data_hash: str


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(path, line, column, message))


def _parse(value: str, spec: ColumnSpec):
    """Typed value of one field, or raise ValueError with what was expected."""
    if value == "":
        if spec.required:
            raise ValueError(f"{spec.name} is empty (expected {spec.expected})")
        return None
    if spec.kind == "text":
        if value != value.strip():
            raise ValueError(f"{spec.name} {value!r} has leading or trailing spaces (expected the text without them)")
        return value
    if spec.kind == "integer":
        if not _INTEGER.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not a whole number (expected {spec.expected})")
        number = int(value)
        if spec.minimum is not None and number < spec.minimum:
            raise ValueError(f"{spec.name} {value!r} is negative (expected {spec.expected})")
        if spec.maximum is not None and abs(number) > spec.maximum:
            raise ValueError(f"{spec.name} {value!r} is too large (expected {spec.expected})")
        return number
    if spec.kind == "decimal":
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not an amount (expected {spec.expected})")
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
            raise ValueError(f"{spec.name} {value!r} is not an amount (expected {spec.expected})") from exc
    if spec.kind == "number":
        if not _NUMBER.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not a number (expected {spec.expected})")
        return Decimal(value)
    if spec.kind == "date":
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{spec.name} {value!r} is not a date (expected {spec.expected})") from None
    if spec.kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{spec.name} {value!r} is not a boolean (expected {spec.expected})")
        return value == "true"
    raise AssertionError(spec.kind)


def _read_table(folder: Path, spec: TableSpec, out: _Collector) -> TableData:
    path = folder / spec.file_name
    data = TableData(spec, path)
    label = str(path)
    text = read_text(path, label, out.problems)
    if text is None:
        return data
    if text.strip() == "":
        out.add(label, 1, 1, f"file is empty (expected the header {','.join(spec.header)})")
        return data
    expected = spec.header
    rows = records(text, label, out.problems)
    header = next(rows, None)
    if header is None:
        return data
    if header.values != expected:
        out.add(label, header.line, 1, _header_problem(header.values, expected))
        return data
    width = len(expected)
    parsers = list(enumerate(spec.columns))
    for record in rows:
        values = record.values
        if len(values) != width:
            columns = record.columns
            column = columns[width] if len(values) > width else columns[-1]
            out.add(label, record.line, column, f"{len(values)} fields (expected {width}: {','.join(expected)})")
            continue
        typed = []
        ok = True
        for i, col_spec in parsers:
            try:
                typed.append(_parse(values[i], col_spec))
            except ValueError as exc:
                out.add(label, record.line, record.columns[i], str(exc))
                ok = False
        if ok:
            data.records.append(record)
            data.rows.append(tuple(typed))
    if not data.rows and not spec.may_be_empty and not any(p.path == label for p in out.problems):
        out.add(label, header.line, 1, "has a header but no rows (expected at least one record)")
    return data


def _header_problem(found: list[str], expected: list[str]) -> str:
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    parts = []
    if missing:
        parts.append("missing column " + ", ".join(missing))
    if extra:
        parts.append("unknown column " + ", ".join(extra))
    if not parts:
        parts.append("columns out of order")
    return f"header {'; '.join(parts)} (expected {','.join(expected)})"


def _check_keys(tables: dict[str, TableData], out: _Collector) -> None:
    """Primary keys unique, foreign keys resolve."""
    keys: dict[str, set] = {}
    for name, data in tables.items():
        spec = data.spec
        pk_idx = [data.column_index(c) for c in spec.primary_key]
        seen: dict[tuple, int] = {}
        for i, row in enumerate(data.rows):
            key = tuple(row[j] for j in pk_idx)
            if key in seen:
                path, line, col = data.where(i, spec.primary_key[0])
                first = data.records[seen[key]].line
                shown = ", ".join(f"{c}={v}" for c, v in zip(spec.primary_key, key))
                out.add(path, line, col, f"duplicate row for {shown} (first at line {first}; expected each key once)")
            else:
                seen[key] = i
        if len(spec.primary_key) == 1:
            keys[name] = {k[0] for k in seen}
    for name, data in tables.items():
        for col_spec in data.spec.columns:
            if col_spec.references is None:
                continue
            target, _ = col_spec.references
            known = keys.get(target, set())
            j = data.column_index(col_spec.name)
            for i, row in enumerate(data.rows):
                if row[j] is not None and row[j] not in known:
                    path, line, col = data.where(i, col_spec.name)
                    out.add(path, line, col, f"unknown {col_spec.name} {row[j]!r} (expected one of {target}.csv: {_sample(known)})")


def _sample(values: set) -> str:
    shown = sorted(map(str, values))
    return ", ".join(shown[:20]) + (", ..." if len(shown) > 20 else "")


def _check_catalogue(tables: dict[str, TableData], out: _Collector) -> None:
    """Every catalogued table has its cells, in the fact table the catalogue names, and no more or fewer."""
    catalogue = tables["source_table"]
    fact_col = catalogue.column_index("fact_table")
    id_col = catalogue.column_index("table_id")
    cells_col = catalogue.column_index("printed_cells")
    counts: dict[tuple[str, str], int] = {}
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        j = data.column_index("table_id")
        for i, row in enumerate(data.rows):
            counts[(fact, row[j])] = counts.get((fact, row[j]), 0) + 1
    catalogued = {}
    for i, row in enumerate(catalogue.rows):
        table_id, fact, cells = row[id_col], row[fact_col], row[cells_col]
        catalogued[table_id] = fact
        path, line, col = catalogue.where(i, "fact_table")
        if fact not in schema.FACT_TABLES:
            out.add(path, line, col, f"unknown fact_table {fact!r} (expected one of {', '.join(schema.FACT_TABLES)})")
            continue
        found = counts.get((fact, table_id), 0)
        if found == 0:
            out.add(path, line, 1, f"table {table_id} has no observations in {fact}.csv (expected {cells} printed cells)")
        elif found != cells:
            path, line, col = catalogue.where(i, "printed_cells")
            out.add(path, line, col, f"table {table_id} has {found} observations in {fact}.csv (expected {cells} printed cells)")
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        j = data.column_index("table_id")
        for i, row in enumerate(data.rows):
            if row[j] in catalogued and catalogued[row[j]] != fact:
                path, line, col = data.where(i, "table_id")
                out.add(path, line, col, f"table {row[j]} belongs in {catalogued[row[j]]}.csv (expected only {fact} tables here)")


def read_dataset(folder: Path) -> Dataset:
    """Parse and check every CSV of ``folder``; raise InputError listing every problem."""
    out = _Collector()
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a curated dataset folder with {SPECS['source_table'].file_name} and the other CSVs)")
    tables = {name: _read_table(folder, spec, out) for name, spec in SPECS.items()}
    if not out.problems:
        _check_keys(tables, out)
    if not out.problems:
        _check_catalogue(tables, out)
    if not out.problems:
        from loader.breakdowns import check_breakdowns

        out.problems.extend(check_breakdowns(tables))
    if not out.problems:
        from loader.identities import check_dataset

        out.problems.extend(check_dataset(tables))
    if out.problems:
        raise_problems(out.problems)
    return Dataset(folder, tables, data_hash(folder))


def raise_problems(problems: list[Problem]) -> None:
    lines = [str(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    noun = "problem" if len(problems) == 1 else "problems"
    raise InputError(f"the curated data has {len(problems)} {noun}", lines)
