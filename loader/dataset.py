"""Read and check a curated dataset folder against the warehouse schema, without a database.

Every problem is collected (up to a cap) with its ``file:line:column``; nothing is loaded unless
there are none. The shape of each CSV is the shape of its table in :mod:`loader.schema`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from loader import schema
from loader.csvfile import Problem, decode, read_bytes, records
from loader.errors import InputError
from loader.fingerprint import combine, file_digest

MAX_PROBLEMS = 50

_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]{2}")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# What the database column holds (PostgreSQL manual, "Numeric Types").
_INTEGER_RANGE = {sa.SmallInteger: (-32768, 32767), sa.BigInteger: (-(2**63), 2**63 - 1), sa.Integer: (-(2**31), 2**31 - 1)}
_NUMERIC_DIGITS = 131072  # digits before the decimal point of an unconstrained numeric


@dataclass(frozen=True)
class RowRule:
    """A CHECK constraint comparing two columns of one row (``minimum < maximum``)."""

    constraint: str
    sql: str
    left: str
    operator: str
    right: str

    def holds(self, row: dict) -> bool:
        a, b = row[self.left], row[self.right]
        return a is None or b is None or _OPERATORS[self.operator](a, b)


@dataclass(frozen=True)
class Rule:
    """A CHECK constraint of the schema that is not a bound on a whole number, as a test on a value."""

    constraint: str
    sql: str
    test: object  # value -> bool

    def holds(self, value) -> bool:
        return value is None or self.test(value)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # text, integer, decimal, number, date, boolean
    required: bool
    minimum: int | None  # the smallest value a CHECK constraint allows (None: only the type's range)
    maximum: int | None  # the largest value the database column holds (and its CHECK constraints allow)
    references: tuple[str, str] | None  # (table, column)
    digits: int | None = None  # digits a decimal may have before the point
    rules: tuple[Rule, ...] = ()
    lowest: int | None = None  # the smallest value of the column's type, for the message

    @property
    def expected(self) -> str:
        return {
            "text": "text",
            "integer": "a whole number" + (f" >= {self.minimum}" if self.minimum is not None else "") + (f" up to {self.maximum}" if self.maximum else ""),
            "number": "a number with a dot for decimals, e.g. 100 or -7193.98",
            "decimal": "an amount with two decimals and a dot, e.g. 27313.55 or -10637.67",
            "date": "a date YYYY-MM-DD",
            "boolean": "true or false",
        }[self.kind]


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    target: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    may_be_empty: bool = False
    unique: tuple[tuple[str, ...], ...] = ()  # UNIQUE constraints besides the primary key
    foreign_keys: tuple[ForeignKey, ...] = ()
    row_rules: tuple[RowRule, ...] = ()  # CHECK constraints that compare two columns of a row

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
    if isinstance(t, sa.Text) and type(t) in (sa.Text, sa.String):
        return "text"
    raise NotImplementedError(f"loader.dataset cannot check {column.table.name}.{column.name} of type {t!r}: teach _kind and _parse its values")


def _integer_range(column: sa.Column) -> tuple[int, int] | tuple[None, None]:
    for type_, bounds in _INTEGER_RANGE.items():
        if isinstance(column.type, type_):
            return bounds
    return None, None


_COMPARISON = re.compile(r"\s*(\w+)\s*(>=|<=|<>|!=|>|<|=)\s*(-?[0-9]+)\s*")
_COLUMNS_COMPARED = re.compile(r"\s*(\w+)\s*(>=|<=|<>|!=|>|<|=)\s*([a-z_]\w*)\s*")
_IN_LIST = re.compile(r"\s*(\w+)\s+IN\s*\(((?:\s*'[^']*'\s*,?)+)\)\s*", re.IGNORECASE)
_OPERATORS = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    "=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
}  # fmt: skip


def _row_rules(table: sa.Table) -> tuple[RowRule, ...]:
    """The CHECK constraints of ``table`` that compare two of its columns (see _checks for the rest)."""
    rules = []
    for constraint in (c for c in table.constraints if isinstance(c, sa.CheckConstraint)):
        sql = str(constraint.sqltext)
        if (m := _COLUMNS_COMPARED.fullmatch(sql)) and m[3] in table.columns:
            rules.append(RowRule(constraint.name, sql, m[1], m[2], m[3]))
    return tuple(rules)


def _checks(table: sa.Table) -> dict[str, list[tuple[str, str, str, object]]]:
    """Column name -> (constraint name, SQL, operator, operand) of every CHECK constraint on the table.

    Only the shapes the schema uses are understood; any other CHECK stops the import with a message,
    so a new rule cannot reach the database without the validator knowing it.
    """
    found: dict[str, list] = {}
    constraints = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
    constraints += [c for col in table.columns for c in col.constraints if isinstance(c, sa.CheckConstraint)]
    for constraint in constraints:
        sql = str(constraint.sqltext)
        if m := _COMPARISON.fullmatch(sql):
            found.setdefault(m[1], []).append((constraint.name, sql, m[2], int(m[3])))
        elif (m := _COLUMNS_COMPARED.fullmatch(sql)) and m[3] in table.columns:
            continue  # a rule between two columns of a row: _row_rules
        elif m := _IN_LIST.fullmatch(sql):
            found.setdefault(m[1], []).append((constraint.name, sql, "in", frozenset(re.findall(r"'([^']*)'", m[2]))))
        else:
            raise NotImplementedError(f"loader.dataset cannot check the constraint {constraint.name} ({sql}) of {table.name}: teach _checks its shape")
    unknown = set(found) - set(table.columns.keys())
    if unknown:
        raise NotImplementedError(f"CHECK constraints of {table.name} name unknown columns {sorted(unknown)}")
    return found


def _column_spec(c: sa.Column, checks: list) -> ColumnSpec:
    kind = _kind(c)
    lowest, maximum = _integer_range(c)
    minimum = None
    rules = []
    for name, sql, op, operand in checks:
        # A bound on a whole number narrows the range (and shows in the message and the data package).
        if kind == "integer" and op in (">=", ">"):
            minimum = max(lowest if minimum is None else minimum, operand + (op == ">"))
        elif kind == "integer" and op in ("<=", "<"):
            maximum = min(maximum, operand - (op == "<"))
        elif op == "in":
            rules.append(Rule(name, sql, operand.__contains__))
        else:
            rules.append(Rule(name, sql, lambda v, f=_OPERATORS[op], b=operand: f(v, b)))
    digits = None
    if kind in ("decimal", "number"):
        precision, scale = c.type.precision, c.type.scale or 0
        digits = precision - scale if precision is not None else _NUMERIC_DIGITS
    fk = next(iter(c.foreign_keys), None)
    return ColumnSpec(
        name=c.name,
        kind=kind,
        required=not c.nullable,
        minimum=minimum,
        maximum=maximum,
        references=(fk.column.table.name, fk.column.name) if fk is not None else None,
        digits=digits,
        rules=tuple(rules),
        lowest=lowest,
    )


def table_spec(table: sa.Table) -> TableSpec:
    """What a curated file of ``table`` must hold, derived from its declaration in loader.schema:
    types and their ranges, NOT NULL, CHECK constraints, the primary key, UNIQUE constraints and
    foreign keys. The database enforces the same declaration; the validator says where a file breaks it."""
    checks = _checks(table)
    columns = [
        _column_spec(c, checks.get(c.name, []))
        for c in table.columns
        if c.computed is None and c.identity is None  # derived in the database, never curated
    ]
    unique = tuple(
        tuple(col.name for col in c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint) and not isinstance(c, sa.PrimaryKeyConstraint)
    )
    unique += tuple((c.name,) for c in table.columns if c.unique and (c.name,) not in unique)
    foreign_keys = tuple(
        ForeignKey(tuple(fk.column_keys), fk.referred_table.name, tuple(e.column.name for e in fk.elements))
        for fk in sorted(table.foreign_key_constraints, key=lambda fk: fk.column_keys)
    )
    return TableSpec(
        table.name,
        tuple(columns),
        tuple(c.name for c in table.primary_key.columns),
        may_be_empty=table.info.get("may_be_empty", False),
        unique=unique,
        foreign_keys=foreign_keys,
        row_rules=_row_rules(table),
    )


SPECS: dict[str, TableSpec] = {name: table_spec(schema.metadata.tables[f"{schema.SCHEMA}.{name}"]) for name in schema.LOAD_ORDER}


@dataclass
class TableData:
    spec: TableSpec
    path: Path
    records: list = field(default_factory=list)  # csvfile.Record, in file order
    rows: list[tuple] = field(default_factory=list)  # typed values, same order
    digest: str = "unreadable"  # SHA-256 of the bytes read (fingerprint.file_digest)

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
        return _ruled(value, value, spec)
    if spec.kind == "integer":
        if not _INTEGER.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not a whole number (expected {spec.expected})")
        number = int(value)
        if spec.minimum is not None and number < spec.minimum:
            what = "negative" if spec.minimum == 0 else f"less than {spec.minimum}"
            raise ValueError(f"{spec.name} {value!r} is {what} (expected {spec.expected})")
        if spec.lowest is not None and number < spec.lowest:
            raise ValueError(f"{spec.name} {value!r} is too small (expected {spec.expected}, at least {spec.lowest})")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"{spec.name} {value!r} is too large (expected {spec.expected})")
        return _ruled(number, value, spec)
    if spec.kind == "decimal":
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not an amount (expected {spec.expected})")
        return _ruled(_decimal(value, spec), value, spec)
    if spec.kind == "number":
        if not _NUMBER.fullmatch(value):
            raise ValueError(f"{spec.name} {value!r} is not a number (expected {spec.expected})")
        return _ruled(_decimal(value, spec), value, spec)
    if spec.kind == "date":
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{spec.name} {value!r} is not a date (expected {spec.expected})") from None
        return _ruled(day, value, spec)
    if spec.kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{spec.name} {value!r} is not a boolean (expected {spec.expected})")
        return _ruled(value == "true", value, spec)
    raise AssertionError(spec.kind)


def _decimal(value: str, spec: ColumnSpec) -> Decimal:
    whole = value.lstrip("-").split(".")[0].lstrip("0")
    if len(whole) > spec.digits:
        raise ValueError(f"{spec.name} {value!r} is too large (expected {spec.expected} with at most {spec.digits} digits before the point)")
    return Decimal(value)


def _ruled(typed, value: str, spec: ColumnSpec):
    """``typed``, once every CHECK rule of the column holds for it."""
    if not spec.rules:
        return typed
    for rule in spec.rules:
        if not rule.holds(typed):
            raise ValueError(f"{spec.name} {value!r} breaks the rule {rule.sql} (constraint {rule.constraint})")
    return typed


def _read_table(folder: Path, spec: TableSpec, out: _Collector, on_text, snapshot) -> TableData:
    path = folder / spec.file_name
    data = TableData(spec, path)
    label = str(path)
    raw = None if snapshot is None else snapshot.read(spec.file_name)  # the bytes a streamed load read
    if raw is None:
        raw = read_bytes(path, label, out.problems)  # the one read of this file
    data.digest = file_digest(raw)
    text = None if raw is None else decode(raw, label, out.problems)
    del raw
    if text is None:
        return data
    if on_text is not None:
        on_text(spec.name, text)
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
        if ok and spec.row_rules:
            named = dict(zip(expected, typed))
            for rule in spec.row_rules:
                if not rule.holds(named):
                    i = expected.index(rule.left)
                    out.add(
                        label, record.line, record.columns[i],
                        f"{rule.left} {values[i]} breaks {rule.constraint} (expected {rule.sql}; {rule.right} is {values[expected.index(rule.right)]})",
                    )
                    ok = False
        if ok:
            data.records.append(record)
            data.rows.append(tuple(typed))
    if not data.rows and not spec.may_be_empty and not any(p.path == label for p in out.problems):
        out.add(label, header.line, 1, "has a header but no rows (expected at least one record)")
    return data


_COLUMN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _header_problem(found: list[str], expected: list[str]) -> str:
    if not set(found) & set(expected):
        # Not a header of ours at all (say a symbolic link to another file): quote nothing of it.
        return f"first line is not the header (expected {','.join(expected)})"
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    parts = []
    if missing:
        parts.append("missing column " + ", ".join(missing))
    if extra:
        # Only names that look like column names are quoted; anything else is counted, not shown.
        shown = [c for c in extra if _COLUMN_NAME.fullmatch(c)]
        hidden = len(extra) - len(shown)
        if hidden:
            shown.append(f"{hidden} more not shown" if shown else f"{hidden} not shown")
        parts.append("unknown column " + ", ".join(shown))
    if not parts:
        parts.append("columns out of order")
    return f"header {'; '.join(parts)} (expected {','.join(expected)})"


def _check_keys(tables: dict[str, TableData], out: _Collector) -> None:
    """Primary keys and UNIQUE constraints hold, foreign keys resolve (as loader.schema declares them)."""
    for data in tables.values():
        spec = data.spec
        _check_unique(data, spec.primary_key, "duplicate row for {shown} (first at line {first}; expected each key once)", out)
        for columns in spec.unique:
            _check_unique(data, columns, "duplicate {shown} (first at line {first}; expected each " + ", ".join(columns) + " once)", out)
    known: dict[tuple[str, tuple[str, ...]], set] = {}
    for data in tables.values():
        for fk in data.spec.foreign_keys:
            if (fk.table, fk.target) not in known:
                target = tables[fk.table]
                idx = [target.column_index(c) for c in fk.target]
                known[(fk.table, fk.target)] = {tuple(row[j] for j in idx) for row in target.rows}
            values = known[(fk.table, fk.target)]
            idx = [data.column_index(c) for c in fk.columns]
            if len(idx) == 1:  # the common case, without a tuple per row
                j = idx[0]
                single = {k[0] for k in values}
                suspects = (i for i, row in enumerate(data.rows) if row[j] is not None and row[j] not in single)
            else:
                suspects = (i for i, row in enumerate(data.rows) if (key := tuple(row[j] for j in idx)) not in values and None not in key)
            for i in suspects:
                key = tuple(data.rows[i][j] for j in idx)
                path, line, col = data.where(i, fk.columns[0])
                shown = ", ".join(f"{c} {v!r}" for c, v in zip(fk.columns, key))
                sample = _sample({k[0] if len(k) == 1 else k for k in values})
                out.add(path, line, col, f"unknown {shown} (expected one of {fk.table}.csv: {sample})")


def _check_unique(data: TableData, columns: tuple[str, ...], message: str, out: _Collector) -> None:
    idx = [data.column_index(c) for c in columns]
    seen: dict[tuple, int] = {}
    for i, row in enumerate(data.rows):
        key = tuple(row[j] for j in idx)
        if None in key:
            continue  # NULLs are distinct in a PostgreSQL UNIQUE constraint
        if key in seen:
            path, line, col = data.where(i, columns[0])
            shown = ", ".join(f"{c}={v}" for c, v in zip(columns, key))
            out.add(path, line, col, message.format(shown=shown, first=data.records[seen[key]].line))
        else:
            seen[key] = i


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


def read_dataset(folder: Path, on_text=None, snapshot=None) -> Dataset:
    """Parse and check every CSV of ``folder``; raise InputError listing every problem.

    Each file is read once; its hash, its checks and (through ``on_text(name, text)``, called with
    each file's text as soon as it is read, in load order) the load are made of the same bytes.
    Only the files the schema names are read; anything else in the folder is ignored. With a
    ``snapshot`` (loader.snapshot), the bytes it holds are checked instead of the files.
    """
    out = _Collector()
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a curated dataset folder with {SPECS['source_table'].file_name} and the other CSVs)")
    tables = {name: _read_table(folder, spec, out, on_text, snapshot) for name, spec in SPECS.items()}
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
    return Dataset(folder, tables, combine({data.spec.file_name: data.digest for data in tables.values()}))


def raise_problems(problems: list[Problem]) -> None:
    lines = [str(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    noun = "problem" if len(problems) == 1 else "problems"
    raise InputError(f"the curated data has {len(problems)} {noun}", lines)
