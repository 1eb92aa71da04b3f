"""Read and check a curated dataset folder against the warehouse schema, without a database.

Every problem is collected (up to a cap) with its ``file:line:column``; nothing is loaded unless
there are none. The shape of each CSV is the shape of its table in :mod:`loader.schema`.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass, field
from decimal import Decimal
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from loader import schema
from loader.csvfile import Problem, copy_regular, quote, records, scan, stream_lines
from loader.errors import InputError
from loader.fingerprint import combine, file_digest
from loader.rowstore import Budget, Records, Rows, RowStore, SeenKeys, field_starts

#: Problems listed; past these they are counted, not kept (memory stays flat on any input).
MAX_PROBLEMS = 50
#: Lines handed to ``on_lines`` at a time, at most, and their characters at most (a batch of
#: 10,000 lines of 9,000 characters took 90 MB, and the load's COPY queue holds five).
BATCH = 10_000
BATCH_CHARACTERS = 1 << 20

#: The most cells a document's tables of one fact table may print together: as many as one table
#: can (printed_cells is a smallint), 37 times the whole document's 896. loader.identities checks
#: them together, a few KB a figure, so this bounds its memory (issue 20: one document of a
#: million figures took gigabytes); loader.setchecks refuses the same in the streamed load.
DOCUMENT_FIGURES = 32_767
#: The most cells the tables that expressions name (the prose derivations, the identities across
#: facts) may print together: their figures are held together while the expressions are
#: evaluated. The document's name 32. loader.setchecks refuses the same in the streamed load.
EXPRESSION_FIGURES = 32_767
#: The most rows of the files whose rows loader.identities holds all at once (as records to match
#: failing identities against, and as expressions to evaluate): as many as the catalogue can hold
#: tables (source_table.position is a smallint). The document has 5 prose figures and no recorded
#: inconsistency. loader.setchecks refuses the same in the streamed load.
HELD_ROWS = {"prose_figure": 65_536, "source_inconsistency": 65_536}
#: The longest text a column that no index holds may take: far above any text of the document (a
#: caption is a few hundred characters), far below what would make a load or a message unwieldy.
TEXT_MAX = 10_000
#: What a B-tree index entry may hold: PostgreSQL refuses one over 2704 bytes (8 kB pages), which
#: a load would otherwise meet as a database error. Kept below that for the entry's other bytes.
INDEX_ENTRY_BYTES = 2600
#: The most a whole number's digits can be (bigint's range is 19 digits): longer is too large, or
#: too small, without asking int() (which refuses numbers over 4300 digits with its own message).
_MAX_DIGITS = 19

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
    longest: int | None = None  # text: the most characters a value may have
    indexed: bool = False  # text: an index holds it (so ``longest`` is what the index can hold)

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


def _longest(c: sa.Column) -> tuple[int, bool]:
    """The most characters a text value of ``c`` may have, and whether an index holds the column.

    In an index of n columns each may take INDEX_ENTRY_BYTES / n bytes, at up to 4 bytes a
    character in UTF-8. Keys, UNIQUE constraints, indexes and foreign keys all count: a foreign
    key's columns match an indexed key of their table, and may be indexed themselves.
    """
    table = c.table
    groups = [list(k.columns) for k in table.constraints if isinstance(k, (sa.PrimaryKeyConstraint, sa.UniqueConstraint))]
    groups += [list(i.columns) for i in table.indexes] + [list(fk.columns) for fk in table.foreign_key_constraints]
    widths = [len(g) for g in groups if any(col is c for col in g)] + ([1] if c.unique else [])
    if not widths:
        return TEXT_MAX, False
    return INDEX_ENTRY_BYTES // (4 * max(widths)), True


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
    longest, indexed = _longest(c) if kind == "text" else (None, False)
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
        longest=longest,
        indexed=indexed,
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
    records: Sequence | None = None  # record-like (line, columns, values, text), in file order; a view of ``store``
    rows: Sequence | None = None  # tuples of typed values, same order; a view of ``store``
    digest: str = "unreadable"  # SHA-256 of the bytes read (fingerprint.file_digest)
    count: int = 0  # records that passed their checks (records and rows are kept only while nothing is wrong)
    store: RowStore | None = field(default=None, repr=False, compare=False)  # the rows kept, in columns

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = RowStore(len(self.spec.columns))
        if self.rows is None:
            self.rows = Rows(self.store)
        if self.records is None:
            self.records = Records(self.store)

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
    """The problems found: the first MAX_PROBLEMS kept, every one counted (in all and per file)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.count = 0
        self.per_file: dict[str, int] = {}

    def append(self, problem: Problem) -> None:
        self.count += 1
        self.per_file[problem.path] = self.per_file.get(problem.path, 0) + 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def extend(self, problems) -> None:
        for problem in problems:
            self.append(problem)

    def add(self, path: str, line: int, column: int, message: str) -> None:
        self.append(Problem(path, line, column, message))

    @property
    def full(self) -> bool:
        """Whether a new problem would only be counted (its message need not be written)."""
        return len(self.problems) >= MAX_PROBLEMS

    def tally(self, path: str) -> None:
        """Count a problem past MAX_PROBLEMS without writing its message."""
        self.count += 1
        self.per_file[path] = self.per_file.get(path, 0) + 1


def _parse(value: str, spec: ColumnSpec):
    """Typed value of one field, or raise ValueError with what was expected."""
    if value == "":
        if spec.required:
            raise ValueError(f"{spec.name} is empty (expected {spec.expected})")
        return None
    if spec.kind == "text":
        if len(value) > spec.longest:
            limit = "what the database can index" if spec.indexed else "the longest text a column takes"
            raise ValueError(f"{spec.name} {quote(value)} is too long (expected at most {spec.longest:,} characters, {limit})")
        if value != value.strip():
            raise ValueError(f"{spec.name} {quote(value)} has leading or trailing spaces (expected the text without them)")
        return _ruled(value, value, spec)
    if spec.kind == "integer":
        if not _INTEGER.fullmatch(value):
            raise ValueError(f"{spec.name} {quote(value)} is not a whole number (expected {spec.expected})")
        if len(value.lstrip("-")) > _MAX_DIGITS:  # past any range, and past what int() takes
            size = "too small" if value.startswith("-") else "too large"
            raise ValueError(f"{spec.name} {quote(value)} is {size} (expected {spec.expected})")
        number = int(value)
        if spec.minimum is not None and number < spec.minimum:
            what = "negative" if spec.minimum == 0 else f"less than {spec.minimum}"
            raise ValueError(f"{spec.name} {quote(value)} is {what} (expected {spec.expected})")
        if spec.lowest is not None and number < spec.lowest:
            raise ValueError(f"{spec.name} {quote(value)} is too small (expected {spec.expected}, at least {spec.lowest})")
        if spec.maximum is not None and number > spec.maximum:
            raise ValueError(f"{spec.name} {quote(value)} is too large (expected {spec.expected})")
        return _ruled(number, value, spec)
    if spec.kind == "decimal":
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"{spec.name} {quote(value)} is not an amount (expected {spec.expected})")
        return _ruled(_decimal(value, spec), value, spec)
    if spec.kind == "number":
        if not _NUMBER.fullmatch(value):
            raise ValueError(f"{spec.name} {quote(value)} is not a number (expected {spec.expected})")
        return _ruled(_decimal(value, spec), value, spec)
    if spec.kind == "date":
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{spec.name} {quote(value)} is not a date (expected {spec.expected})") from None
        return _ruled(day, value, spec)
    if spec.kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{spec.name} {quote(value)} is not a boolean (expected {spec.expected})")
        return _ruled(value == "true", value, spec)
    raise AssertionError(spec.kind)


def _parser(spec: ColumnSpec):
    """_parse for one column, with the common case of a good value first (10^7 rows are read in
    Python when a load falls back to these checks); anything else goes to _parse, which says why."""
    if spec.rules:
        return lambda value: _parse(value, spec)
    if spec.kind == "text":
        longest = spec.longest

        def text(value: str):
            if value and len(value) <= longest and value == value.strip():
                return value
            return _parse(value, spec)

        return text
    if spec.kind == "integer":
        low = max(x for x in (spec.minimum, spec.lowest, -(2**63)) if x is not None)
        high = spec.maximum if spec.maximum is not None else 2**63 - 1
        match = _INTEGER.fullmatch

        def integer(value: str):
            if 0 < len(value) <= _MAX_DIGITS and match(value) and low <= (number := int(value)) <= high:
                return number
            return _parse(value, spec)

        return integer
    return lambda value: _parse(value, spec)


def _decimal(value: str, spec: ColumnSpec) -> Decimal:
    whole = value.lstrip("-").split(".")[0].lstrip("0")
    if len(whole) > spec.digits:
        raise ValueError(f"{spec.name} {quote(value)} is too large (expected {spec.expected} with at most {spec.digits} digits before the point)")
    return Decimal(value)


def _ruled(typed, value: str, spec: ColumnSpec):
    """``typed``, once every CHECK rule of the column holds for it."""
    if not spec.rules:
        return typed
    for rule in spec.rules:
        if not rule.holds(typed):
            raise ValueError(f"{spec.name} {quote(value)} breaks the rule {rule.sql} (constraint {rule.constraint})")
    return typed


def _read_table(folder: Path, spec: TableSpec, out: _Collector, on_lines, snapshot, budget: Budget) -> TableData:
    path = folder / spec.file_name
    data = TableData(spec, path, store=RowStore(len(spec.columns), budget))
    label = str(path)
    copy = None if snapshot is None else snapshot.open(spec.file_name)  # the bytes a streamed load read
    own = copy is None
    if own:
        copy = copy_regular(path, label, out)  # the one read of this file
    if copy is None:
        data.digest = file_digest(None)
        return data
    try:
        _check_records(data, copy, out, on_lines)
    finally:
        if own:
            copy.close()
    return data


def _check_records(data: TableData, copy, out: _Collector, on_lines) -> None:
    """Check every record of one file's bytes, a chunk at a time; keep its records while nothing is wrong.

    Primary keys and UNIQUE constraints are checked here, as each row is read, so that no row
    needs to be kept once the dataset is known to be refused: memory then stays flat however
    many rows follow (duplicates are then looked for among the keys read before the first problem).
    """
    spec, label = data.spec, str(data.path)
    scanned = scan(copy, label, out)
    data.digest = scanned.digest
    if not scanned.text:
        return
    if scanned.blank:
        out.add(label, 1, 1, f"file is empty (expected the header {','.join(spec.header)})")
        return
    expected = spec.header
    rows = records(stream_lines(copy, label, out), label, out)
    header = next(rows, None)
    if header is None:
        return
    if header.values != expected:
        out.add(label, header.line, _header_column(header, expected), _header_problem(header.values, expected))
        return
    width = len(expected)
    store = data.store
    # Each column's parser, and where the store keeps its values (each text is parsed once while
    # the column is coded: loader.rowstore.Column).
    parsers = [(i, _parser(c), column) for (i, c), column in zip(enumerate(spec.columns), store.columns)]
    keys = [
        (columns, idx, _key_of(idx), message, SeenKeys(store, idx))
        for columns, message in [
            (spec.primary_key, "duplicate row for {shown} (first at line {first}; expected each key once)"),
            *((columns, "duplicate {shown} (first at line {first}; expected each " + ", ".join(columns) + " once)") for columns in spec.unique),
        ]
        for idx in [[expected.index(c) for c in columns]]
    ]
    batch: list[str] = []
    characters = 0
    for record in rows:
        values = record.values
        if len(values) != width:
            columns = record.columns
            column = columns[width] if len(values) > width else columns[-1]
            out.add(label, record.line, column, f"{len(values)} fields (expected {width}: {','.join(expected)})")
            continue
        typed = []
        codes = []
        ok = True
        for i, parse, column in parsers:
            text = values[i]
            code = None if column.known is None else column.known.get(text)
            if code is None:
                try:
                    value = parse(text)
                except ValueError as exc:
                    out.add(label, record.line, record.columns[i], str(exc))
                    ok = False
                    continue
                code = column.code(text, value)
            else:
                value = column.distinct[code]
            typed.append(value)
            codes.append(code)
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
        if not ok:
            continue
        typed = tuple(typed)
        for columns, idx, key_of, message, seen in keys:
            key = key_of(typed)
            if None in key:
                continue  # NULLs are distinct in a PostgreSQL UNIQUE constraint
            found = seen.find(key)
            if found is not None:
                ok = False
                if out.full:  # 10^7 copies of a row: counted, not each written out
                    out.tally(label)
                    continue
                shown = ", ".join(f"{c}={_bare(v)}" for c, v in zip(columns, key))
                first, surely = found
                said = message.format(shown=shown, first=first)
                if not surely:  # a file of millions of keys: an earlier row, the first is reported as its duplicate
                    said = said.replace("(first at line", "(also at line", 1)
                out.add(label, record.line, record.column(idx[0]), said)
            elif not out.count:  # once the dataset is refused, no more keys are kept
                seen.add(key, record.line)
        if not ok:
            continue
        data.count += 1
        if data.count > HELD_ROWS.get(spec.name, data.count):
            if data.count == HELD_ROWS[spec.name] + 1:  # said once, at the first row past the bound
                out.add(label, record.line, 1, f"{spec.file_name} has more than {HELD_ROWS[spec.name]:,} rows (expected at most {HELD_ROWS[spec.name]:,}: they are checked together)")
            continue
        if not out.count:
            store.append(record.line, codes, typed, field_starts(record))
            if on_lines is not None:
                batch.append(text := record.text)
                characters += len(text)
                if len(batch) == BATCH or characters >= BATCH_CHARACTERS:
                    on_lines(spec.name, batch)
                    batch, characters = [], 0
    store.end_of_file()
    for columns, idx, _, message, seen in keys:
        _report_late_duplicates(label, store, columns, idx, message, seen, out)
    if on_lines is not None and not out.count:
        if batch:
            on_lines(spec.name, batch)
        on_lines(spec.name, None)
    if not data.count and not spec.may_be_empty and not out.per_file.get(label):
        out.add(label, header.line, 1, "has a header but no rows (expected at least one record)")


def _report_late_duplicates(label: str, store: RowStore, columns, idx, message: str, seen: SeenKeys, out: _Collector) -> None:
    """The duplicates of a file of millions of keys that SeenKeys finds only after the file, in line order."""
    count, found = seen.late_duplicates(MAX_PROBLEMS)
    for row, first in found:
        if out.full:
            out.tally(label)
            continue
        shown = ", ".join(f"{c}={_bare(v)}" for c, v in zip(columns, store.key(row, idx)))
        out.add(label, store.line(row), store.start(row, idx[0]), message.format(shown=shown, first=store.line(first)))
    for _ in range(count - len(found)):
        out.tally(label)


def _key_of(idx: list[int]):
    """The key of a row (a tuple of the values at ``idx``), at C speed."""
    if len(idx) == 1:
        j = idx[0]
        return lambda row: (row[j],)
    return operator.itemgetter(*idx)


def _bare(value) -> str:
    """A key's value as a message shows it: as is, or quoted and cut when it is long."""
    text = str(value)
    return text if len(text) <= 40 else quote(text)


_COLUMN_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _header_column(header, expected: list[str]) -> int:
    """Where a header goes wrong, when it is ours but for spaces or a trailing comma; else 1."""
    found = header.values
    if found[: len(expected)] == expected and len(found) > len(expected) and not any(found[len(expected) :]):
        return header.columns[len(expected)]
    stripped = [c.strip() for c in found]
    if stripped == expected:
        return header.columns[next(i for i, c in enumerate(found) if c != c.strip())]
    return 1


def _header_problem(found: list[str], expected: list[str]) -> str:
    stripped = [c.strip() for c in found]
    if found != stripped and stripped == expected:
        spaced = ", ".join(quote(c) for c in found if c != c.strip())
        return f"header column name {spaced} has a leading or trailing space (expected {','.join(expected)})"
    if found[: len(expected)] == expected and not any(found[len(expected) :]):
        extra = len(found) - len(expected)
        commas = "a comma" if extra == 1 else f"{extra} commas"
        return f"header ends in {commas} after {expected[-1]}: an empty column name (expected {','.join(expected)})"
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


#: Rows of a referenced table past which its keys are not all held at once (_check_foreign_keys).
FOREIGN_KEYS_HELD = 1 << 17


def _check_foreign_keys(tables: dict[str, TableData], out: _Collector) -> None:
    """Foreign keys resolve, as loader.schema declares them (keys and UNIQUE: _check_records).

    A referenced table of up to FOREIGN_KEYS_HELD rows has its keys held in a set. A larger one
    (a hostile file: the document's dimensions have tens of members) is read once for each
    FOREIGN_KEYS_HELD rows of the referencing file, keeping only the keys those rows ask for,
    so that memory stays flat whatever the two files' sizes.
    """
    from heapq import nsmallest

    held: dict[tuple[str, tuple[str, ...]], set] = {}
    for data in tables.values():
        for fk in data.spec.foreign_keys:
            target = tables[fk.table]
            idx = [data.column_index(c) for c in fk.columns]
            target_key = _key_of([target.column_index(c) for c in fk.target])
            if len(target.rows) > FOREIGN_KEYS_HELD:
                misses = _misses_in_batches(data, _key_of(idx), target, target_key)
            else:
                if (fk.table, fk.target) not in held:
                    held[(fk.table, fk.target)] = set(map(target_key, target.rows))
                present = held[(fk.table, fk.target)]
                if len(idx) == 1:  # the common case, without a tuple per row
                    j = idx[0]
                    single = {k[0] for k in present}
                    misses = ((i, (row[j],)) for i, row in enumerate(data.rows) if row[j] is not None and row[j] not in single)
                else:
                    key_of = _key_of(idx)
                    misses = ((i, key) for i, row in enumerate(data.rows) if (key := key_of(row)) not in present and None not in key)
            sample = None
            for i, key in misses:
                if out.full:  # every row of a large file may miss: counted, not each written out
                    out.tally(str(data.path))
                    continue
                path, line, col = data.where(i, fk.columns[0])
                shown = ", ".join(f"{c} {quote(v) if isinstance(v, str) else repr(v)}" for c, v in zip(fk.columns, key))
                if sample is None:  # the first keys in sorted order: 20 shown, and whether there are more
                    first = nsmallest(21, map(str, (k[0] if len(k) == 1 else k for k in map(target_key, target.rows))))
                    sample = ", ".join(map(_bare, first[:20])) + (", ..." if len(first) > 20 else "")
                out.add(path, line, col, f"unknown {shown} (expected one of {fk.table}.csv: {sample})")


def _misses_in_batches(data: TableData, key_of, target: TableData, target_key):
    """(row, key) of each row of ``data`` whose key ``target`` lacks, in row order: the rows taken
    FOREIGN_KEYS_HELD at a time, ``target`` read once for each batch, keeping only what it asks for."""
    from itertools import islice

    rows = enumerate(data.rows)
    while chunk := list(islice(rows, FOREIGN_KEYS_HELD)):
        batch = [(i, key) for i, row in chunk if None not in (key := key_of(row))]
        del chunk
        wanted = {key for _, key in batch}
        present = {key for key in map(target_key, target.rows) if key in wanted}
        del wanted
        yield from ((i, key) for i, key in batch if key not in present)


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
    document_col = catalogue.column_index("document_id")
    catalogued = {}
    printed: dict[tuple[str, str], int] = {}  # (fact, document) -> the cells of its tables so far
    for i, row in enumerate(catalogue.rows):
        table_id, fact, cells = row[id_col], row[fact_col], row[cells_col]
        catalogued[table_id] = fact
        path, line, col = catalogue.where(i, "fact_table")
        if fact not in schema.FACT_TABLES:
            out.add(path, line, col, f"unknown fact_table {fact!r} (expected one of {', '.join(schema.FACT_TABLES)})")
            continue
        document = row[document_col]
        before = printed.get((fact, document), 0)
        printed[(fact, document)] = before + cells
        if before <= DOCUMENT_FIGURES < before + cells:
            path, line, col = catalogue.where(i, "printed_cells")
            out.add(
                path, line, col,
                f"document {document} prints more than {DOCUMENT_FIGURES:,} cells in {fact} tables with table {table_id}'s {cells} "
                f"(expected at most {DOCUMENT_FIGURES:,} a document and fact table; their identities are checked together)",
            )
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


def read_dataset(folder: Path, on_lines=None, snapshot=None) -> Dataset:
    """Parse and check every CSV of ``folder``; raise InputError listing every problem.

    Each file is read once, a chunk at a time, into a private copy; its hash, its checks and
    (through ``on_lines(name, lines)``, called in load order with each file's records as they
    pass, BATCH lines or BATCH_CHARACTERS at a time, then with None at the end of the file, while nothing is wrong)
    the load are made of the same bytes. Only the files the schema names are read; anything else
    in the folder is ignored. With a ``snapshot`` (loader.snapshot), the bytes it holds are
    checked instead of the files. Memory stays flat on input that is refused: past the first
    problem no record is kept, past MAX_PROBLEMS problems are counted, not kept.
    """
    out = _Collector()
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (expected a curated dataset folder with {SPECS['source_table'].file_name} and the other CSVs)")
    budget = Budget()  # the characters every coded column of the dataset keeps, in all
    tables = {name: _read_table(folder, spec, out, on_lines, snapshot, budget) for name, spec in SPECS.items()}
    if not out.count:
        _check_foreign_keys(tables, out)
    if not out.count:
        _check_catalogue(tables, out)
    if not out.count:
        from loader.breakdowns import check_breakdowns

        out.extend(check_breakdowns(tables))
    if not out.count:
        from loader.identities import check_dataset

        check_dataset(tables, out)
    if out.count:
        raise_problems(out.problems, out.count)
    return Dataset(folder, tables, combine({data.spec.file_name: data.digest for data in tables.values()}))


def raise_problems(problems: list[Problem], count: int | None = None) -> None:
    """Raise InputError listing the first MAX_PROBLEMS problems; ``count`` is how many there are in all."""
    count = len(problems) if count is None else count
    lines = [str(p) for p in problems[:MAX_PROBLEMS]]
    if count > len(lines):
        lines.append(f"... and {count - len(lines)} more problems")
    noun = "problem" if count == 1 else "problems"
    raise InputError(f"the curated data has {count} {noun}", lines)
