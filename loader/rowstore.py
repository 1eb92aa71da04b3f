"""The checked rows of one curated file, kept in columns, in blocks that go to a temporary file.

loader.dataset keeps every row of a dataset it has not refused, for the checks that span files
(foreign keys, the catalogue, the identities). As a tuple and a csvfile.Record each, a row took
about 2 KB: 401 MiB at 180,000 observations. Here a field is a two-byte code into its column's
values (each parsed once; a column of too many values, or of too many characters of them, keeps
each row's own), plus where it starts in its line (two bytes while lines are short), and a row
its line number. Rows are kept in blocks of BLOCK rows (fewer when their own values are long);
a full block is written to an unnamed temporary file and read back when it is asked for, so
memory does not grow with the rows (issue 20: 10^7 rows that pass every check of their own
file are still all kept until the checks that span files).

``rows`` and ``records`` give them back as tuples and record-like objects, on demand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import pickle
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from operator import add

from loader.errors import TemporaryFileError, temporary_file_error


_pwrite = os.pwrite  # a name of our own: the tests make it fail as a full disk does


class Budget:
    """The characters the coded columns of one dataset may keep (their dictionaries), in all."""

    CHARACTERS = 16 << 20

    def __init__(self) -> None:
        self.left = self.CHARACTERS


class Column:
    """One column's values: while they are few, a code a row (two bytes) into the list of the
    values met, each parsed once (``known``: the text read -> its code); past DISTINCT of them,
    or once the dataset's Budget of characters is spent, each row keeps its typed value
    (``known`` is None: plain). The codes given before still mean their values."""

    DISTINCT = 1 << 16
    ENTRY = 64  # what a value costs besides its characters (a str, a dict slot, a list slot)

    __slots__ = ("distinct", "known", "budget")

    def __init__(self, budget: Budget | None = None) -> None:
        self.distinct: list = []
        self.known: dict[str, int] | None = {}
        self.budget = budget if budget is not None else Budget()

    @property
    def plain(self) -> bool:
        return self.known is None

    def code(self, text: str, value) -> int | None:
        """The code of a new ``text`` parsed as ``value``, or None once the column is plain."""
        if self.known is None:
            return None
        cost = len(text) + self.ENTRY
        if len(self.distinct) == self.DISTINCT or cost > self.budget.left:  # every row's own value from now on
            self.known = None
            return None
        self.budget.left -= cost
        self.known[text] = code = len(self.distinct)
        self.distinct.append(value)
        return code


class _Block:
    """Rows kept together: per column an array of codes, or a list of values once it is plain;
    each row's line, and where its fields start (``width`` a row)."""

    __slots__ = ("columns", "lines", "starts", "size")

    def __init__(self, columns: list, lines: array, starts: array) -> None:
        self.columns, self.lines, self.starts = columns, lines, starts
        self.size = 0  # characters of the plain values, roughly: a block of long texts is cut short


class _Spill:
    """An unnamed temporary file (gone when closed or when the process ends) that blocks are
    appended to and read back from by their place."""

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(prefix="dwh-rows-", buffering=0)
        except OSError as exc:
            raise temporary_file_error("keep the rows being checked", exc) from None
        self._end = 0

    def write(self, data) -> tuple[int, int]:
        view, at = memoryview(data), self._end
        try:
            while view:
                done = _pwrite(self._file.fileno(), view, self._end)
                view, self._end = view[done:], self._end + done
        except OSError as exc:
            raise temporary_file_error("write the rows being checked", exc) from None
        return at, self._end - at

    def read(self, at: int, size: int) -> bytes:
        data = os.pread(self._file.fileno(), size, at)
        if len(data) != size:
            raise TemporaryFileError(f"the temporary file of the rows being checked in {tempfile.gettempdir()} was cut short")
        return data

    def close(self) -> None:
        self._file.close()


#: Blocks read back and kept for lookups by row, of every store at once: (store, block) -> _Block.
_CACHE: dict[tuple[int, int], _Block] = {}
_SERIAL = itertools.count()


class RowStore:
    BLOCK = 1 << 14  # rows a block holds at most
    BLOCK_CHARACTERS = 1 << 21  # plain values' characters a block holds at most
    CACHED = 8  # blocks read back that are kept (_CACHE), for lookups by row
    SMALL = 1 << 10  # rows of a file whose block stays in memory when the file is read

    def __init__(self, width: int, budget: Budget | None = None):
        budget = budget if budget is not None else Budget()
        self.width = width
        self.columns = [Column(budget) for _ in range(width)]
        self._count = 0
        self._firsts = array("q")  # the first row of each block written out, then of the open one
        self._first_lines = array("q")
        self._places: list[tuple[int, int]] = []  # where each block written out is in the spill
        self._spill: _Spill | None = None
        self._serial = next(_SERIAL)  # this store's blocks in _CACHE (an id() could be taken again)
        self._open = self._new_block()

    def __len__(self) -> int:
        return self._count

    def _new_block(self) -> _Block:
        self._firsts.append(self._count)
        return _Block([[] if c.plain else array("H") for c in self.columns], array("q"), array("H"))

    def append(self, line: int, codes: list, typed, starts: list[int]) -> None:
        block = self._open
        if None in codes and any(code is None and column.__class__ is array for column, code in zip(block.columns, codes)):
            self._plain_from_now(block)  # a column just turned plain
        for column, code, value in zip(block.columns, codes, typed):
            if code is None:  # inline: a call per field costs more than the rest
                column.append(value)
                block.size += len(value) if value.__class__ is str else 32  # an int or Decimal object, and its slot
            else:
                column.append(code)
        if not block.lines:
            self._first_lines.append(line)
        block.lines.append(line)
        if starts[-1] > 0xFFFF and block.starts.typecode == "H":  # starts grow along the line: the last is the largest
            block.starts = array("i", block.starts)
        block.starts.extend(starts)
        self._count += 1
        if len(block.lines) == self.BLOCK or block.size > self.BLOCK_CHARACTERS:
            self._write_out(block)

    def _plain_from_now(self, block: _Block) -> None:
        for j, column in enumerate(self.columns):
            if column.plain and block.columns[j].__class__ is array:
                block.columns[j] = [column.distinct[c] for c in block.columns[j]]

    def _write_out(self, block: _Block) -> None:
        if self._spill is None:
            self._spill = _Spill()
        self._places.append(self._spill.write(pickle.dumps((block.columns, block.lines, block.starts), protocol=5)))
        self._open = self._new_block()

    def end_of_file(self) -> None:
        """The file is read: a store that wrote blocks out, or whose only block is not small,
        writes out its last one too (24 files' last blocks would otherwise stay)."""
        if self._open.lines and (self._places or len(self._open.lines) > self.SMALL):
            self._write_out(self._open)

    def _block(self, b: int) -> _Block:
        if b == len(self._places):
            return self._open
        block = _CACHE.get((self._serial, b))
        if block is None:
            block = _Block(*pickle.loads(self._spill.read(*self._places[b])))
            while len(_CACHE) >= self.CACHED:
                del _CACHE[next(iter(_CACHE))]
            _CACHE[(self._serial, b)] = block
        return block

    def _at(self, i: int) -> tuple[_Block, int]:
        """The block of row ``i`` and the row's place in it."""
        if not 0 <= i < self._count:
            raise IndexError(i)
        b = bisect_right(self._firsts, i) - 1
        return self._block(b), i - self._firsts[b]

    def _value(self, block: _Block, j: int, k: int):
        column = block.columns[j]
        return self.columns[j].distinct[column[k]] if column.__class__ is array else column[k]

    def row(self, i: int) -> tuple:
        block, k = self._at(i)
        return tuple(self._value(block, j, k) for j in range(self.width))

    def key(self, i: int, idx) -> tuple:
        block, k = self._at(i)
        return tuple(self._value(block, j, k) for j in idx)

    def line(self, i: int) -> int:
        block, k = self._at(i)
        return block.lines[k]

    def last_line(self) -> int | None:
        return self._open.lines[-1] if self._open.lines else self._block(len(self._places) - 1).lines[-1] if self._places else None

    def starts(self, i: int) -> list[int]:
        block, k = self._at(i)
        return block.starts[k * self.width : (k + 1) * self.width].tolist()

    def start(self, i: int, j: int) -> int:
        block, k = self._at(i)
        return block.starts[k * self.width + j]

    def index_of_line(self, line: int) -> int | None:
        """The row read at ``line``, if it was kept (lines only grow, so a search finds it)."""
        b = bisect_right(self._first_lines, line) - 1
        if b < 0:
            return None
        lines = self._block(b).lines
        k = bisect_left(lines, line)
        return self._firsts[b] + k if k < len(lines) and lines[k] == line else None

    def blocks(self):
        """Each block's rows as tuples of typed values, in file order, each block read once."""
        for b in range(len(self._places) + 1):
            block = self._block(b) if b == len(self._places) or (self._serial, b) in _CACHE else _Block(*pickle.loads(self._spill.read(*self._places[b])))
            yield [
                map(self.columns[j].distinct.__getitem__, column) if column.__class__ is array else column
                for j, column in enumerate(block.columns)
            ]

    def __iter__(self):
        for columns in self.blocks():
            yield from zip(*columns)

    def close(self) -> None:
        """Let the temporary file go (it goes with the process too)."""
        for b in range(len(self._places)):
            _CACHE.pop((self._serial, b), None)
        if self._spill is not None:
            self._spill.close()
            self._spill = None


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
        return iter(self._store)

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
        return self._store.line(self._i)

    @property
    def columns(self) -> list[int]:
        return self._store.starts(self._i)

    def column(self, j: int) -> int:
        return self._store.start(self._i, j)

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

    def __iter__(self):
        return map(self._item, range(len(self._store)))


_MASK = (1 << 64) - 1
_ROW = 32  # low bits of a slot: its row + 1 (0: empty); high bits: the high bits of the key's hash
_ROWS = (1 << _ROW) - 1


class _Slots:
    """An open-addressing table of 8-byte slots, each the high bits of a key's hash and its row + 1."""

    __slots__ = ("slots", "used")

    def __init__(self, size: int = 1024) -> None:
        self.slots = array("Q", bytes(8 * size))
        self.used = 0

    @property
    def full(self) -> bool:
        return 3 * (self.used + 1) > 2 * len(self.slots)

    def put(self, slot: int) -> None:
        slots = self.slots
        mask = len(slots) - 1
        k = (slot >> _ROW) & mask
        while slots[k]:
            k = (k + 1) & mask
        slots[k] = slot
        self.used += 1

    def grow(self) -> None:
        old, self.slots, self.used = self.slots, array("Q", bytes(16 * len(self.slots))), 0
        for slot in old:
            if slot:
                self.put(slot)


class SeenKeys:
    """The keys of a file's rows read so far and the line of each, for finding duplicates.

    A dict of every key took ~150 bytes a row. Here a kept row's key is an 8-byte slot of an
    open-addressing table: the high 32 bits of the key's hash and the row. A slot whose hash
    matches is a duplicate only if that kept row has the very same key, so the answer is exact.
    A key seen whose row was not kept (the row that refused the dataset, by another of its keys)
    goes to a dict of its own.

    Memory is bounded: the table grows to SLOTS slots at most. The keys after that go to a young
    table of the same bound, which is emptied whenever it is full, and to a temporary file as
    (hash, row). Each key read is compared with the first table and the young one at once; the
    duplicates of a key filed in a young table since emptied are found by ``late_duplicates``,
    after the file, by sorting that file a part at a time (numpy).
    """

    SLOTS = 1 << 20  # 8 MiB a table, which holds 699,050 keys
    PART = 1 << 19  # (hash, row) pairs sorted at a time: 4 MiB of them
    _HASH = _MASK ^ _ROWS

    def __init__(self, store: RowStore, idx: list[int]):
        self._store, self._idx = store, idx
        self._first = _Slots(min(1024, self.SLOTS))
        self._young: _Slots | None = None
        self._emptied = 0
        self._late: _Spill | None = None
        self._late_buffer = array("Q")
        self._pending: tuple[tuple, int] | None = None  # the last key added, until its row is kept or not
        self._unkept: dict[tuple, int] = {}

    def get(self, key: tuple) -> int | None:
        """The line of a row read before with ``key``, or None (see ``find``)."""
        found = self.find(key)
        return None if found is None else found[0]

    def find(self, key: tuple) -> tuple[int, bool] | None:
        """The line of a row read before with ``key``, and whether it is surely the first such
        row (not when the young table found it, once one was emptied: ``late_duplicates`` then
        tells the first), or None if no table holds the key."""
        self._settle()
        if self._unkept and key in self._unkept:
            return self._unkept[key], True
        hashed = self._HASH
        high = hash(key) & hashed
        for table in (self._first, self._young):
            if table is None:
                break
            slots = table.slots
            mask = len(slots) - 1
            k = (high >> _ROW) & mask
            while slot := slots[k]:  # inline: a call or generator per key costs more than the search
                if slot & hashed == high:
                    i = (slot & _ROWS) - 1
                    if self._store.key(i, self._idx) == key:
                        return self._store.line(i), table is self._first or not self._emptied
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
        if self._store.last_line() != line:
            self._unkept[key] = line
            return
        hashed = hash(key) & _MASK
        row = len(self._store) - 1
        slot = (hashed & self._HASH) | (row + 1)
        table = self._young if self._young is not None else self._first
        if table.full:
            if len(table.slots) < self.SLOTS:
                table.grow()
            elif table is self._first:
                table = self._young = _Slots(min(1024, self.SLOTS))
            else:
                table = self._young = _Slots(min(1024, self.SLOTS))
                self._emptied += 1
        table.put(slot)
        if table is self._young:
            self._late_buffer.extend((hashed, row))
            if len(self._late_buffer) >= 1 << 16:
                self._flush()

    def _flush(self) -> None:
        if self._late is None:
            self._late = _Spill()
        self._late.write(self._late_buffer.tobytes())
        self._late_buffer = array("Q")

    def late_duplicates(self, limit: int) -> tuple[int, list[tuple[int, int]]]:
        """The duplicates no table could show when their rows were read: how many, and the first
        ``limit`` of them as (row, the row of the key's first occurrence), in row order."""
        if self._pending is not None:
            self._settle()
        if not self._emptied:
            return 0, []
        import numpy as np  # pandas' own dependency; only a file of millions of keys gets here

        self._flush()
        late, self._late = self._late, None
        pairs = late._end // 16
        parts = 1
        while pairs > parts * self.PART:
            parts *= 2
        spills = [_Spill() for _ in range(parts)] if parts > 1 else []
        whole = None
        step = 16 * self.PART
        for at in range(0, late._end, step):
            chunk = np.frombuffer(late.read(at, min(step, late._end - at)), dtype=np.uint64).reshape(-1, 2)
            hashed = chunk[:, 0]
            keys = (hashed & np.uint64(self._HASH)) | chunk[:, 1]  # sorted, a run of one hash is in row order
            if not spills:
                whole = keys  # one chunk: ``pairs`` is at most PART
                continue
            part = hashed & np.uint64(parts - 1)
            del chunk, hashed
            for p, spill in enumerate(spills):
                spill.write(keys[part == p].tobytes())
        late.close()
        count, found = 0, []
        sources = [whole] if whole is not None else (np.frombuffer(bytearray(s.read(0, s._end)), dtype=np.uint64) for s in spills)
        for keys in sources:
            keys.sort()
            high = keys >> np.uint64(_ROW)
            marks = np.flatnonzero(high[1:] == high[:-1])
            if not len(marks):
                continue
            for run in np.split(marks, np.flatnonzero(np.diff(marks) != 1) + 1):
                first: dict[tuple, int] = {}
                for row in (keys[run[0] : run[-1] + 2] & np.uint64(_ROWS)).tolist():
                    seen = first.setdefault(self._store.key(row, self._idx), row)
                    if seen != row:
                        count += 1
                        found.append((row, seen))
                if len(found) > 2 * limit:
                    found.sort()
                    del found[limit:]
        for spill in spills:
            spill.close()
        found.sort()
        return count, found[:limit]
