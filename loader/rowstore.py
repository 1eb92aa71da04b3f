"""The checked rows of one curated file, kept in columns: a few bytes a field instead of objects.

loader.dataset keeps every row of a dataset it has not refused, for the checks that span files
(foreign keys, the catalogue, the identities). As a tuple and a csvfile.Record each, a row took
about 2 KB: 401 MiB at 180,000 observations. Here a field is a two-byte code into its column's
values (each parsed once; a column of too many values keeps each row's own), plus where it
starts in its line (two bytes while lines are short), and a row its line number.

``rows`` and ``records`` give them back as tuples and record-like objects, on demand.
"""

from __future__ import annotations

import datetime as dt
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate
from operator import add


class Column:
    """One column's values: while they are few, a code a row (two bytes) into the list of the
    values met, each parsed once (``known``: the text read -> its code); past DISTINCT of them, a
    list of the typed values, each parsed anew."""

    DISTINCT = 1 << 16

    __slots__ = ("codes", "distinct", "known", "plain")

    def __init__(self) -> None:
        self.codes: array | None = array("H")
        self.distinct: list = []
        self.known: dict[str, int] | None = {}
        self.plain: list | None = None

    def code(self, text: str, value) -> int | None:
        """The code of a new ``text`` parsed as ``value``, or None once the column is plain."""
        if self.known is None:
            return None
        if len(self.distinct) == self.DISTINCT:  # too many to code: every row's own value from now on
            self.plain = [self.distinct[c] for c in self.codes]
            self.codes = self.known = None
            self.distinct = []
            return None
        self.known[text] = code = len(self.distinct)
        self.distinct.append(value)
        return code

    def append(self, code: int | None, value) -> None:
        if self.plain is None:
            self.codes.append(code)
        else:
            self.plain.append(value)

    def __getitem__(self, i: int):
        return self.distinct[self.codes[i]] if self.plain is None else self.plain[i]

    def __iter__(self):
        return map(self.distinct.__getitem__, self.codes) if self.plain is None else iter(self.plain)


class RowStore:
    def __init__(self, width: int):
        self.width = width
        self.columns = [Column() for _ in range(width)]
        self.lines = array("q")
        self.starts = array("H")  # 1-based column of each field, ``width`` a row; "i" once a line is long

    def __len__(self) -> int:
        return len(self.lines)

    def append(self, line: int, codes: list, typed, starts: list[int]) -> None:
        for column, code, value in zip(self.columns, codes, typed):
            if code is None:  # Column.append, inline: a call per field costs more than the rest
                column.plain.append(value)
            else:
                column.codes.append(code)
        self.lines.append(line)
        if starts[-1] > 0xFFFF and self.starts.typecode == "H":  # starts grow along the line: the last is the largest
            self.starts = array("i", self.starts)
        self.starts.extend(starts)

    def row(self, i: int) -> tuple:
        return tuple(column[i] for column in self.columns)

    def key(self, i: int, idx) -> tuple:
        return tuple(self.columns[j][i] for j in idx)

    def index_of_line(self, line: int) -> int | None:
        """The row read at ``line``, if it was kept (lines only grow, so a search finds it)."""
        i = bisect_left(self.lines, line)
        return i if i < len(self.lines) and self.lines[i] == line else None


def field_starts(record) -> list[int]:
    """The 1-based column where each field of a csvfile.Record starts."""
    if '"' in record.text:
        return record.columns
    values = record.values
    # Field i starts after the i fields before it and their i commas.
    return list(map(add, accumulate(map(len, values), initial=0), range(1, len(values) + 1)))


class _View(Sequence):
    """A RowStore's rows as a sequence of what ``_item`` makes of each."""

    def __init__(self, store: RowStore):
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._item(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._item(i)

    def _item(self, i: int):
        raise NotImplementedError


class Rows(_View):
    """The rows of a RowStore as tuples of typed values, in file order."""

    def _item(self, i: int) -> tuple:
        return self._store.row(i)

    def __iter__(self):
        return zip(*self._store.columns)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


class StoredRecord:
    """A kept row as loader.load's COPY and the messages read a csvfile.Record: its line, where its
    fields start, and its values written out again (a value with a comma or quote quoted)."""

    __slots__ = ("_store", "_i")

    def __init__(self, store: RowStore, i: int):
        self._store, self._i = store, i

    @property
    def line(self) -> int:
        return self._store.lines[self._i]

    @property
    def columns(self) -> list[int]:
        w = self._store.width
        return self._store.starts[self._i * w : (self._i + 1) * w].tolist()

    def column(self, j: int) -> int:
        return self._store.starts[self._i * self._store.width + j]

    @property
    def values(self) -> list[str]:
        return [_text(v) for v in self._store.row(self._i)]

    @property
    def text(self) -> str:
        return ",".join('"' + v.replace('"', '""') + '"' if any(c in v for c in ',"') else v for v in self.values)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Records(_View):
    """The rows of a RowStore as records (StoredRecord), in file order."""

    def _item(self, i: int) -> StoredRecord:
        return StoredRecord(self._store, i)


class SeenKeys:
    """The keys of a file's rows read so far and the line of each, for finding duplicates.

    A dict of every key took ~150 bytes a row. Here a kept row's key is an 8-byte slot of an
    open-addressing table: the high 32 bits of the key's hash and the row. A slot whose hash
    matches is a duplicate only if that kept row has the very same key, so the answer is exact.
    A key seen whose row was not kept (the row that refused the dataset, by another of its keys)
    goes to a dict of its own.
    """

    _ROW = 32  # low bits of a slot: its row + 1 (0: empty); high bits: the high bits of the hash
    _ROWS = (1 << _ROW) - 1
    _HASH = ((1 << 64) - 1) ^ _ROWS

    def __init__(self, store: RowStore, idx: list[int]):
        self._store, self._idx = store, idx
        self._slots = array("Q", bytes(8 * 1024))
        self._used = 0
        self._pending: tuple[tuple, int] | None = None  # the last key added, until its row is kept or not
        self._unkept: dict[tuple, int] = {}

    def get(self, key: tuple) -> int | None:
        """The line of the first row with ``key``, or None."""
        self._settle()
        if self._unkept and key in self._unkept:
            return self._unkept[key]
        high = hash(key) & self._HASH
        slots, mask = self._slots, len(self._slots) - 1
        k = (high >> self._ROW) & mask
        while slot := slots[k]:
            if slot & self._HASH == high:
                i = (slot & self._ROWS) - 1
                if self._store.key(i, self._idx) == key:
                    return self._store.lines[i]
            k = (k + 1) & mask
        return None

    def add(self, key: tuple, line: int) -> None:
        self._settle()
        self._pending = (key, line)

    def _settle(self) -> None:
        """File the pending key: its row has been kept by now, or it never will be."""
        if self._pending is None:
            return
        key, line = self._pending
        self._pending = None
        lines = self._store.lines
        if not lines or lines[-1] != line:
            self._unkept[key] = line
            return
        if 3 * (self._used + 1) > 2 * len(self._slots):
            self._grow()
        self._put(self._slots, (hash(key) & self._HASH) | len(lines))
        self._used += 1

    def _put(self, slots: array, slot: int) -> None:
        mask = len(slots) - 1
        k = (slot >> self._ROW) & mask
        while slots[k]:
            k = (k + 1) & mask
        slots[k] = slot

    def _grow(self) -> None:
        slots = array("Q", bytes(16 * len(self._slots)))
        for slot in self._slots:
            if slot:
                self._put(slots, slot)
        self._slots = slots
