"""A line in loader.canonical's shape is read by PostgreSQL's COPY exactly as loader.csvfile reads it.

This is what lets the streamed load send files straight to COPY. Random lines over an alphabet of
the troublesome characters (quotes, commas, CR, tabs, no-break spaces, signs, dots) are kept when
they have the canonical shape; COPY (CSV) into a real table must then store, field for field, what
loader.csvfile and loader.dataset make of them: the same text (NULL for an empty field), the same
whole number, the same amount.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from loader import canonical
from loader.csvfile import split_line


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    references: tuple | None = None


@dataclass(frozen=True)
class Spec:
    name: str
    columns: tuple

    @property
    def header(self):
        return [c.name for c in self.columns]


SPEC = Spec("probe", (Column("code", "text", ("x", "y")), Column("label", "text"), Column("value", "integer"), Column("amount", "decimal")))
ALPHABET = ['a', 'b', 'é', ' ', '\t', '\xa0', '"', '""', ',', '\r', '-', '.', '0', '7', '9', '+', 'x', '_']


def _field(rng: random.Random) -> str:
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))
    shape = rng.random()
    if shape < 0.3:
        return '"' + text + '"'
    if shape < 0.5:
        return str(rng.randint(-5000, 5000))
    if shape < 0.6:
        return f"{rng.randint(-5000, 5000)}.{rng.randint(0, 99):02d}"
    return text


def _lines(count: int) -> list[str]:
    pattern = canonical.lines_pattern(SPEC)
    rng = random.Random(20240202)
    kept, tried = [], 0
    while len(kept) < count:
        tried += 1
        line = ",".join(_field(rng) for _ in SPEC.columns)
        if pattern.fullmatch(line + "\n"):
            kept.append(line)
    assert tried > 2 * count  # the alphabet makes plenty of lines that are not canonical
    return kept


def test_copy_reads_canonical_lines_as_the_checks_do(empty_db):
    lines = _lines(3000)
    assert any('"' in line for line in lines) and any("\xa0" in line for line in lines)
    with psycopg.connect(empty_db) as conn:
        conn.execute("create temp table probe (n serial, code text, label text, value text, amount text)")
        conn.execute("create temp table typed (n serial, value integer, amount numeric(14, 2))")
        with conn.cursor() as cursor:
            with cursor.copy("copy probe (code, label, value, amount) from stdin with (format csv)") as copy:
                copy.write("".join(line + "\n" for line in lines))
            whole = [line for line in lines if _is_number(split_line(line)[0])]
            with cursor.copy("copy typed (value, amount) from stdin with (format csv)") as copy:
                copy.write("".join(",".join(split_line(line)[0][2:]) + "\n" for line in whole))
        stored = conn.execute("select code, label, value, amount from probe order by n").fetchall()
        typed = conn.execute("select value, amount from typed order by n").fetchall()
    for line, row in zip(lines, stored, strict=True):
        values, _ = split_line(line)
        assert list(row) == [v if v != "" else None for v in values], repr(line)
    for line, row in zip(whole, typed, strict=True):
        _, _, value, amount = split_line(line)[0]
        assert row == (int(value), Decimal(amount)), repr(line)


def _is_number(values: list[str]) -> bool:
    try:
        int(values[2]), Decimal(values[3])
    except Exception:
        return False
    return "." not in values[2] and values[3].count(".") == 1
