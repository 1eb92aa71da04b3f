"""The Frictionless Data Package descriptor of the curated dataset, derived from loader.schema.

``data/datapackage.json`` is this descriptor written out; regenerate it after changing a curated
table in loader/schema.py::

    python -m loader.datapackage > data/datapackage.json

tests/test_datapackage.py fails when the file and the generated descriptor differ, and runs
Frictionless (v5) on the shipped package, so the published description of every CSV column is the
one the database enforces. Everything the database enforces that Table Schema can say is declared:
the type, NOT NULL (``required``), single-column UNIQUE (``unique``), primary and foreign keys, the
range of smallint/integer/numeric(p,s) (``minimum``/``maximum``), and CHECK constraints of the forms
``col >= n``, ``col > n``, ``col <= n``, ``col < n`` and ``col IN ('a', 'b')`` (``enum``).
A CHECK of any other form makes the generator stop (:class:`Unexpressed`), so that a rule the
database enforces is never silently missing from the package: extend :func:`_check` or, when
Table Schema cannot say it (a rule over two columns), list its name in the table's
``info["not_in_datapackage"]`` with the reason next to it.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import sqlalchemy as sa

from loader import schema

_COMPARISON = re.compile(r"^\(?\s*(\w+)\s*(>=|>|<=|<)\s*(-?[0-9]+)\s*\)?$")
_IN = re.compile(r"^\(?\s*(\w+)\s+IN\s*\((.*)\)\s*\)?$", re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"\s*'((?:[^']|'')*)'\s*(?:,|$)")

#: The value range of PostgreSQL's integer types (the database rejects anything outside).
_INTEGER_RANGES = {"smallint": (-32768, 32767), "integer": (-2147483648, 2147483647), "bigint": (-(2**63), 2**63 - 1)}


class Unexpressed(ValueError):
    """A rule the database enforces that the generator cannot (yet) write into the descriptor."""


def curated_tables() -> list[sa.Table]:
    """The tables that have a curated CSV, in load order."""
    return [schema.metadata.tables[f"{schema.SCHEMA}.{name}"] for name in schema.LOAD_ORDER]


def curated_columns(table: sa.Table) -> list[sa.Column]:
    """The columns of the table's CSV, in file order: computed and identity columns are the database's."""
    return [c for c in table.columns if c.computed is None and c.identity is None]


def _type(column: sa.Column) -> tuple[str, dict, dict]:
    """Table Schema type, extra field properties, and the constraints the column type itself enforces."""
    t = column.type
    if isinstance(t, sa.Boolean):
        # The loader reads exactly these; Frictionless would also take yes/no/1/0.
        return "boolean", {"trueValues": ["true"], "falseValues": ["false"]}, {}
    if isinstance(t, sa.Integer):
        low, high = _INTEGER_RANGES["bigint" if isinstance(t, sa.BigInteger) else "smallint" if isinstance(t, sa.SmallInteger) else "integer"]
        return "integer", {}, {"minimum": low, "maximum": high}
    if isinstance(t, sa.Numeric):
        if t.precision is None:
            return "number", {}, {}
        # numeric(p, s) holds at most p - s digits before the point
        largest = Decimal(10) ** (t.precision - (t.scale or 0)) - Decimal(1).scaleb(-(t.scale or 0))
        return "number", {}, {"minimum": -largest, "maximum": largest}
    if isinstance(t, sa.Date):
        return "date", {}, {}
    if isinstance(t, (sa.Text, sa.String)):
        return "string", {}, {}
    raise Unexpressed(f"{column.table.name}.{column.name}: no Table Schema type for {t!r} (extend loader.datapackage._type)")


def _check(table: sa.Table, check: sa.CheckConstraint) -> tuple[str, dict]:
    """The column a CHECK constraint is about and what it says, as Table Schema constraints."""
    text = " ".join(str(check.sqltext).split())
    match = _COMPARISON.match(text)
    if match and match.group(1) in table.c:
        name, operator, bound = match.group(1), match.group(2), int(match.group(3))
        if not isinstance(table.c[name].type, sa.Integer) and operator in (">", "<"):
            raise Unexpressed(f"{table.name}: CHECK ({text}) is a strict bound on a non-integer column; Table Schema has only inclusive bounds")
        key = "minimum" if operator.startswith(">") else "maximum"
        bound += {">": 1, "<": -1}.get(operator, 0)
        return name, {key: bound}
    match = _IN.match(text)
    if match and match.group(1) in table.c:
        literals = _LITERAL.findall(match.group(2))
        if literals and ",".join(f"'{v}'" for v in literals).replace(" ", "") == match.group(2).replace(" ", ""):
            return match.group(1), {"enum": [v.replace("''", "'") for v in literals]}
    raise Unexpressed(
        f"{table.name}: CHECK ({text}) has no Table Schema equivalent in loader.datapackage; extend _check, "
        "or list the constraint's name in the table's info['not_in_datapackage'] if Table Schema cannot say it"
    )


def _merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if key == "minimum" and key in into:
            into[key] = max(into[key], value)
        elif key == "maximum" and key in into:
            into[key] = min(into[key], value)
        elif key == "enum" and key in into:
            into[key] = [v for v in into[key] if v in value]
        else:
            into[key] = value


def _json_number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def resource(table: sa.Table) -> dict:
    columns = curated_columns(table)
    curated = {c.name for c in columns}
    skipped = set(table.info.get("not_in_datapackage", ()))
    from_checks: dict[str, dict] = {}
    # A CHECK written on a Column sits in that column's constraints, not in the table's.
    checks = [*table.constraints, *(k for c in table.columns for k in c.constraints)]
    for constraint in sorted(checks, key=lambda c: str(c.name)):
        if isinstance(constraint, sa.CheckConstraint) and constraint.name not in skipped:
            name, said = _check(table, constraint)
            _merge(from_checks.setdefault(name, {}), said)
    unique = {next(iter(c.columns)).name for c in table.constraints if isinstance(c, sa.UniqueConstraint) and len(c.columns) == 1}
    unique |= {c.name for c in columns if c.unique}
    fields = []
    for column in columns:
        kind, extra, constraints = _type(column)
        constraints = {"required": not column.nullable, **({"unique": True} if column.name in unique else {}), **constraints}
        _merge(constraints, from_checks.get(column.name, {}))
        fields.append(
            {
                "name": column.name,
                "type": kind,
                **extra,
                "description": column.comment,
                "constraints": {k: _json_number(v) for k, v in constraints.items()},
            }
        )
    foreign_keys = []
    for fk in sorted(table.foreign_key_constraints, key=lambda c: [col.name for col in c.columns]):
        target = fk.referred_table
        if target.name not in schema.LOAD_ORDER or target.schema != schema.SCHEMA:
            raise Unexpressed(f"{table.name}: foreign key to {target.fullname}, which has no CSV in the package")
        foreign_keys.append(
            {
                "fields": [c.name for c in fk.columns],
                "reference": {"resource": "" if target is table else target.name, "fields": [e.column.name for e in fk.elements]},
            }
        )
    primary_key = [c.name for c in table.primary_key.columns]
    assert set(primary_key) <= curated, f"{table.name}: the primary key uses a computed column"
    return {
        "name": table.name,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "encoding": "utf-8",
        "description": table.comment,
        "schema": {
            "fields": fields,
            "primaryKey": primary_key,
            **({"foreignKeys": foreign_keys} if foreign_keys else {}),
            "missingValues": [""],
        },
    }


def descriptor() -> dict:
    return {
        "profile": "tabular-data-package",
        "name": "doorstroom-sv221-2024",
        "title": "Doorstroom naar het normaal economisch circuit: schriftelijke vraag nr. 221 (2 februari 2024)",
        "description": "Every printed figure of the answer to written question 221 of the Flemish Parliament, one row "
        "per printed cell, with the dimensions the document uses. Total members are coded _T. See CURATION.md.",
        "sources": [{"title": "Vlaams Parlement, schriftelijke vraag nr. 221 van 2 februari 2024", "path": "https://docs.vlaamsparlement.be/pfile?id=2042937"}],
        "resources": [resource(table) for table in curated_tables()],
    }


def render() -> str:
    return json.dumps(descriptor(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
