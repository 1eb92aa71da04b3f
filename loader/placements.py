"""The placement search: every way the printed numbers of the tables of answer 2 fit the document.

The text extraction of the PDF lost the empty cells and glued some neighbouring numbers ("8114"),
so a printed row is a sequence of tokens, not a set of cells. A *placement* of a row cuts every
token into one or more numbers and puts the numbers, in printed order, into distinct columns.
A placement of a table is a placement of each of its rows such that the document's identities
hold (a blank cell counts as 0 trajectories):

- within a table: Voltooid + Stopgezet = Totaal for every province or age band that prints a
  Totaal row, and the rows add up to the printed Eindtotaal;
- across the three T2c tables (the same trajectories counted by province, by age band and by
  project): the Voltooid rows and the Stopgezet rows have the same column totals in all three.

The tables of started trajectories (T2ab_*) print a Totaal column and a Totaal row, so their rows
must add up both ways (``search_grids``). The search reads nothing but the extraction's lines and, from the curated data, which line prints
which row (each figure's ``source_line``). It never looks at the curated values, so it can check
them: the curated figures of each table must be one of its placements. Exact counting by dynamic
programming over the rows (state = the column sums so far) keeps it to seconds.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from loader.errors import InputError

TOTAL = "_T"
VOLTOOID, STOPGEZET = "VOLTOOID", "STOPGEZET"
#: The columns of every T2c table, in printed order: (end year, measure).
COLUMNS = tuple((year, measure) for year in ("2021", "2022", "2023") for measure in ("CMW", "LDE"))
WIDTH = len(COLUMNS)
#: The T2c tables and the dimension that tells their rows apart.
GROUP_COLUMN = {"T2c_provincie": "province_id", "T2c_leeftijd": "age_band_id", "T2c_project": "esf_project_id"}
#: The table whose column totals per phase the others must share; it has one placement only.
REFERENCE = "T2c_provincie"

_NUMBER_TOKEN = re.compile(r"[0-9]+")

#: States handled at once by the counting; bounds its memory to tens of megabytes.
_CHUNK = 20_000

Cells = tuple  # one row's cells in COLUMNS order: an int, or None where the row leaves the cell blank


# ------------------------------------------------------------------ one row


def readings(token: str) -> list[tuple[int, ...]]:
    """Every way to read a printed token as one or more numbers glued together ("9100" -> 9|100).

    A number never starts with a 0 unless it is the number 0 itself.
    """
    out = []
    for cuts in range(len(token)):
        for positions in itertools.combinations(range(1, len(token)), cuts):
            bounds = (0, *positions, len(token))
            pieces = [token[a:b] for a, b in zip(bounds, bounds[1:])]
            if all(p == "0" or not p.startswith("0") for p in pieces):
                out.append(tuple(int(p) for p in pieces))
    return out


def row_placements(tokens: Iterable[str], width: int = WIDTH) -> list[Cells]:
    """Every placement of a printed row: cut the tokens, then put the numbers in order into columns."""
    found = set()
    for reading in itertools.product(*(readings(t) for t in tokens)):
        numbers = [n for piece in reading for n in piece]
        if len(numbers) > width:
            continue
        for columns in itertools.combinations(range(width), len(numbers)):
            cells: list[int | None] = [None] * width
            for column, number in zip(columns, numbers):
                cells[column] = number
            found.add(tuple(cells))
    return sorted(found, key=lambda c: tuple(-1 if v is None else v for v in c))


def printed_tokens(line: str) -> list[str]:
    """The numbers a table row prints: the run of number tokens that ends the line."""
    words = line.split()
    tokens: list[str] = []
    for word in reversed(words):
        if not _NUMBER_TOKEN.fullmatch(word):
            break
        tokens.append(word)
    return tokens[::-1]


def zeros(cells: Cells) -> tuple[int, ...]:
    return tuple(0 if v is None else v for v in cells)


def add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


# ------------------------------------------------------------------ the printed tables


@dataclass(frozen=True)
class PrintedRow:
    table_id: str
    group: str  # province, age band or project id; _T for the Eindtotaal row
    phase: str  # VOLTOOID, STOPGEZET, or _T for a Totaal row
    line: int  # 1-based line of the extraction
    tokens: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.phase)


@dataclass
class PrintedTable:
    table_id: str
    rows: list[PrintedRow]
    chosen: dict[tuple[str, str], Cells]  # the curated placement, row key -> cells

    def row(self, group: str, phase: str) -> PrintedRow | None:
        return next((r for r in self.rows if r.key == (group, phase)), None)

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(r.group for r in self.rows if r.group != TOTAL))


def read_printed_tables(source: Path, data: Path) -> dict[str, PrintedTable]:
    """The T2c tables as the extraction prints them, rows located by the curated ``source_line``."""
    from loader.provenance import read_source

    lines = read_source(source)
    cells: dict[str, dict[tuple[str, str], dict[tuple[str, str], int]]] = defaultdict(lambda: defaultdict(dict))
    where: dict[str, dict[tuple[str, str], set[int]]] = defaultdict(lambda: defaultdict(set))
    with open(data / "trajectory_end.csv", newline="", encoding="utf-8-sig") as handle:
        for record in csv.DictReader(handle):
            table_id = record["table_id"]
            if table_id not in GROUP_COLUMN:
                continue
            key = (record[GROUP_COLUMN[table_id]], record["phase_id"])
            cells[table_id][key][(record["end_year_id"], record["measure_id"])] = int(record["value"])
            where[table_id][key].add(int(record["source_line"]))
    tables = {}
    for table_id in GROUP_COLUMN:
        rows = []
        for key, line_numbers in where[table_id].items():
            if len(line_numbers) != 1:
                raise InputError(f"{table_id} row {' / '.join(key)} cites lines {sorted(line_numbers)} (expected one line per printed row)")
            (number,) = line_numbers
            if not 1 <= number <= len(lines):
                raise InputError(f"{source}: has {len(lines)} lines, but {table_id} row {' / '.join(key)} cites line {number}")
            rows.append(PrintedRow(table_id, key[0], key[1], number, tuple(printed_tokens(lines[number - 1]))))
        rows.sort(key=lambda r: r.line)
        chosen = {k: tuple(v.get(c) for c in COLUMNS) for k, v in cells[table_id].items()}
        tables[table_id] = PrintedTable(table_id, rows, chosen)
    return tables


# ------------------------------------------------------------------ exact counting


@dataclass
class Unit:
    """A part of a table placed as a whole: its options and what each adds to the running sums."""

    name: str
    options: list[dict[tuple[str, str], Cells]]  # row key -> cells
    adds: list[tuple[int, ...]]


@dataclass
class Count:
    """The placements of a set of units whose sums must reach a target."""

    units: list[Unit]
    total: int
    support: list[list[int]] = field(default_factory=list)  # per unit, per option: placements that use it

    def possible(self, unit: int) -> list[dict[tuple[str, str], Cells]]:
        return [o for o, n in zip(self.units[unit].options, self.support[unit]) if n]


def count(units: list[Unit], target: tuple[int, ...], weights: list[list[int]] | None = None) -> Count:
    """How many ways to pick one option per unit so that the sums equal ``target``, and per option how many use it.

    Forward: the number of ways to reach each partial sum, keeping only sums that stay within the
    target and from which the remaining units can still reach it (cells are counts, never
    negative). Backward: the number of ways to finish from each kept sum. An option's support is,
    over the sums before it, forward x backward after it. ``weights`` counts an option several times.
    """
    target_arr = np.array(target, dtype=np.int64)
    radix = np.cumprod(np.concatenate(([1], target_arr[:-1] + 1))).astype(np.int64)
    adds = [np.array(u.adds, dtype=np.int64).reshape(len(u.adds), len(target)) for u in units]
    weights = [np.array(w, dtype=np.int64) for w in weights] if weights else [np.ones(len(a), dtype=np.int64) for a in adds]
    reach = [np.zeros(len(target), dtype=np.int64)]  # most the units from i on can still add
    for a in reversed(adds):
        reach.insert(0, reach[0] + a.max(axis=0))

    states = [np.zeros((1, len(target)), dtype=np.int64)]
    ways = [np.ones(1, dtype=np.int64)]
    for i, a in enumerate(adds):
        kept_sums, kept_ways = [np.zeros((0, len(target)), dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for lo in range(0, len(states[-1]), _CHUNK):  # bounded memory: states x options x columns
            after = states[-1][lo:lo + _CHUNK, None, :] + a[None, :, :]
            w = ways[-1][lo:lo + _CHUNK, None] * weights[i][None, :]
            keep = np.all((after <= target_arr) & (after + reach[i + 1] >= target_arr), axis=2)
            kept_sums.append(after[keep])
            kept_ways.append(w[keep])
        after, w = np.concatenate(kept_sums), np.concatenate(kept_ways)
        keys = after @ radix
        order = np.argsort(keys, kind="stable")
        keys, after, w = keys[order], after[order], w[order]
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else np.array([], dtype=np.int64)
        states.append(after[first])
        ways.append(np.add.reduceat(w, first) if len(first) else w[:0])

    end = states[-1] @ radix
    goal = int(target_arr @ radix)
    back_keys = end[end == goal]
    back_ways = np.ones(len(back_keys), dtype=np.int64)
    support: list[list[int]] = [[] for _ in units]
    for i in range(len(units) - 1, -1, -1):
        uses = np.zeros(len(adds[i]), dtype=np.int64)
        previous = np.zeros(len(states[i]), dtype=np.int64)
        for lo in range(0, len(states[i]), _CHUNK):
            after = states[i][lo:lo + _CHUNK, None, :] + adds[i][None, :, :]
            keys = after @ radix
            inside = np.all(after <= target_arr, axis=2)
            if not len(back_keys):
                break
            pos = np.clip(np.searchsorted(back_keys, keys), 0, len(back_keys) - 1)
            found = inside & (back_keys[pos] == keys)
            finish = np.where(found, back_ways[pos], 0) * weights[i][None, :]
            uses += (ways[i][lo:lo + _CHUNK, None] * finish).sum(axis=0)
            previous[lo:lo + _CHUNK] = finish.sum(axis=1)
        support[i] = [int(n) for n in uses]
        alive = previous > 0
        back_keys = states[i][alive] @ radix
        back_ways = previous[alive]
        order = np.argsort(back_keys)
        back_keys, back_ways = back_keys[order], back_ways[order]
    total = int(back_ways.sum()) if len(back_ways) else 0
    return Count(units, total, support)


def _options(rows: list[PrintedRow], must_add_up: bool) -> list[dict[tuple[str, str], Cells]]:
    """Options of a group of rows; with ``must_add_up`` its Voltooid + Stopgezet equal its Totaal."""
    per_row = [row_placements(r.tokens) for r in rows]
    out = []
    for combo in itertools.product(*per_row):
        option = {r.key: cells for r, cells in zip(rows, combo)}
        if must_add_up:
            parts = [zeros(c) for k, c in option.items() if k[1] != TOTAL]
            total = zeros(option[(rows[0].group, TOTAL)])
            if tuple(map(sum, zip(*parts))) != total:
                continue
        out.append(option)
    return out


def _phase_sums(option: dict[tuple[str, str], Cells]) -> tuple[int, ...]:
    """What an option adds to (Voltooid column sums, Stopgezet column sums)."""
    v = [zeros(c) for k, c in option.items() if k[1] == VOLTOOID]
    s = [zeros(c) for k, c in option.items() if k[1] == STOPGEZET]
    empty = (0,) * WIDTH
    return tuple(map(sum, zip(empty, *v))) + tuple(map(sum, zip(empty, *s)))


def group_units(table: PrintedTable) -> list[Unit]:
    """The parts placed together: a province or age band with its Totaal row, else each row alone."""
    units = []
    for group in table.groups:
        rows = [r for r in table.rows if r.group == group]
        if any(r.phase == TOTAL for r in rows):
            blocks = [rows]
        else:  # nothing ties the rows of a project together: place each on its own
            blocks = [[r] for r in rows]
        for block in blocks:
            options = _options(block, must_add_up=len(block) > 1)
            name = " / ".join(dict.fromkeys(k for r in block for k in (r.group, r.phase)))
            units.append(Unit(name, options, [_phase_sums(o) for o in options]))
    return units


def grand_total_options(table: PrintedTable) -> list[Cells]:
    row = table.row(TOTAL, TOTAL)
    if row is None:
        raise InputError(f"{table.table_id}: no Eindtotaal row in the curated data")
    return row_placements(row.tokens)


def count_within(table: PrintedTable) -> int:
    """Placements allowed by the table's own identities only (its Totaal rows and its Eindtotaal).

    Cheap where Totaal rows tie a group's rows together. For T2c_project, whose only identity is
    its Eindtotaal, the sums grow to tens of millions of states; `search` does not count it.
    """
    units, weights = [], []
    for u in group_units(table):
        # Only Voltooid + Stopgezet meets the Eindtotaal: fold the halves, counting options that fold alike.
        folded: dict[tuple[int, ...], int] = defaultdict(int)
        for a in u.adds:
            folded[add(a[:WIDTH], a[WIDTH:])] += 1
        units.append(Unit(u.name, [{} for _ in folded], list(folded)))
        weights.append(list(folded.values()))
    return sum(count(units, zeros(grand), weights).total for grand in grand_total_options(table))


def phase_totals(table: PrintedTable) -> list[tuple[int, ...]]:
    """Every (Voltooid column sums, Stopgezet column sums) that some placement of the table gives."""
    units = group_units(table)
    grand = {zeros(g) for g in grand_total_options(table)}
    states = {(0,) * (2 * WIDTH)}
    bound = tuple(max(g[i] for g in grand) for i in range(WIDTH)) * 2
    for unit in units:
        states = {t for t in (add(s, a) for s in states for a in unit.adds) if all(x <= b for x, b in zip(t, bound))}
    return sorted(s for s in states if add(s[:WIDTH], s[WIDTH:]) in grand)


# ------------------------------------------------------------------ the search


@dataclass
class Part:
    """An independent part of a table's placements (e.g. its Voltooid rows) and how many there are."""

    table_id: str
    name: str
    count: Count


@dataclass
class TableResult:
    table_id: str
    table: PrintedTable
    within: int | None  # placements by the table's own identities (None: not counted, see count_within)
    parts: list[Part]  # placements once the cross-table identities hold, per independent part
    chosen_is_placement: bool

    @property
    def placements(self) -> int:
        n = 1
        for p in self.parts:
            n *= p.count.total
        return n


def _split_by_phase(units: list[Unit]) -> dict[str, list[Unit]] | None:
    """When every unit is a single Voltooid or Stopgezet row, the two phases are placed independently."""
    phases: dict[str, list[Unit]] = {VOLTOOID: [], STOPGEZET: []}
    for u in units:
        keys = set(u.options[0])
        if len(keys) != 1 or next(iter(keys))[1] not in phases:
            return None
        half = slice(0, WIDTH) if next(iter(keys))[1] == VOLTOOID else slice(WIDTH, 2 * WIDTH)
        phases[next(iter(keys))[1]].append(Unit(u.name, u.options, [a[half] for a in u.adds]))
    return phases


def search(source: Path, data: Path) -> list[TableResult]:
    """Search the T2c tables: counts within each table, then with the shared column totals."""
    tables = read_printed_tables(source, data)
    reference = phase_totals(tables[REFERENCE])
    if len(reference) != 1:
        raise InputError(f"{REFERENCE} allows {len(reference)} different column totals per phase (expected exactly one)")
    (shared,) = reference
    results = []
    for table_id, table in tables.items():
        units = group_units(table)
        split = _split_by_phase(units)
        if split is None:
            parts = [Part(table_id, "all rows", count(units, shared))]
        else:
            parts = [
                Part(table_id, phase.capitalize(), count(split[phase], shared[i * WIDTH:(i + 1) * WIDTH]))
                for i, phase in enumerate((VOLTOOID, STOPGEZET))
            ]
        grand = [g for g in grand_total_options(table) if zeros(g) == add(shared[:WIDTH], shared[WIDTH:])]
        within = count_within(table) if split is None else None
        results.append(TableResult(table_id, table, within, parts, _chosen_fits(table, parts, grand)))
    return results


def _chosen_fits(table: PrintedTable, parts: list[Part], grand: list[Cells]) -> bool:
    """Is the curated placement one of the placements found (every unit's chosen option has support)?"""
    if table.chosen.get((TOTAL, TOTAL)) not in grand:
        return False
    for part in parts:
        for i, unit in enumerate(part.count.units):
            keys = set(unit.options[0])
            chosen = {k: table.chosen.get(k) for k in keys}
            if not any(o == chosen and n for o, n in zip(unit.options, part.count.support[i])):
                return False
    return True


# ------------------------------------------------------------------ open cells


@dataclass(frozen=True)
class OpenCell:
    """A cell whose content differs between placements. Blank counts as 0 in the bounds."""

    table_id: str
    group: str
    phase: str
    end_year_id: str
    measure_id: str
    minimum: int
    maximum: int
    placements: int  # placements of the part of the table the cell is in
    as_chosen: int  # of those, how many give the cell the curated content (blank included)
    line: int  # where its row is printed
    column: int  # 0-based, in COLUMNS


def open_cells(results: list[TableResult]) -> list[OpenCell]:
    """Every cell, printed or blank, whose content is not the same in all placements, in printed order."""
    out = []
    for result in results:
        table = result.table
        for part in result.parts:
            c = part.count
            for i, unit in enumerate(c.units):
                for key in unit.options[0]:
                    chosen = table.chosen.get(key, (None,) * WIDTH)
                    for col, (year, measure) in enumerate(COLUMNS):
                        contents = defaultdict(int)
                        for option, n in zip(unit.options, c.support[i]):
                            if n:
                                contents[option[key][col]] += n
                        if len(contents) < 2:
                            continue
                        values = [0 if v is None else v for v in contents]
                        out.append(
                            OpenCell(
                                result.table_id, key[0], key[1], year, measure,
                                min(values), max(values), c.total, contents.get(chosen[col], 0),
                                table.row(*key).line, col,
                            )
                        )
    order = list(GROUP_COLUMN)
    return sorted(out, key=lambda cell: (order.index(cell.table_id), cell.line, cell.column))


# ------------------------------------------------------------------ which sums the printed numbers fix

#: Sums of a T2c table's cells a reader may take, each as the groups of columns (indexes into
#: COLUMNS) it adds up within one printed row, or None for the column totals over all rows of a phase.
SUMS = {
    "one cell": tuple((c,) for c in range(WIDTH)),
    "a row's cells of one end year (CMW + LDE)": ((0, 1), (2, 3), (4, 5)),
    "a row's cells of one measure (2021 to 2023)": ((0, 2, 4), (1, 3, 5)),
    "a row's six cells (its total over end years and measures)": (tuple(range(WIDTH)),),
    "a column over all rows of one phase (the column totals)": None,
}


@dataclass(frozen=True)
class SumVerdict:
    table_id: str
    name: str  # a key of SUMS
    open_rows: int  # printed rows where the sum differs between placements (0: the sum is fixed)

    @property
    def fixed(self) -> bool:
        return self.open_rows == 0


def sum_verdicts(results: list[TableResult]) -> list[SumVerdict]:
    """For every table and every sum of SUMS: in how many rows its value differs between the
    placements that fit the document. A sum over rows of one phase is what every placement must
    reach (the column totals the three T2c tables share), so it is fixed wherever a placement exists."""
    out = []
    for result in results:
        for name, groups in SUMS.items():
            if groups is None:
                out.append(SumVerdict(result.table_id, name, 0 if result.placements else len(result.table.rows)))
                continue
            open_rows = 0
            for part in result.parts:
                for i, unit in enumerate(part.count.units):
                    possible = part.count.possible(i)
                    for key in unit.options[0]:
                        sums = {tuple(sum(zeros(option[key])[c] for c in group) for group in groups) for option in possible}
                        open_rows += len(sums) > 1
            out.append(SumVerdict(result.table_id, name, open_rows))
    return out


#: Where the search's result lives in a curated dataset folder (the table dwh.trajectory_end_range).
RANGE_FILE = "trajectory_end_range.csv"
CSV_HEADER = (
    "table_id", "end_year_id", "measure_id", "phase_id", "province_id", "age_band_id", "esf_project_id",
    "minimum", "maximum", "placements", "placements_as_chosen",
)


def render_csv(cells: list[OpenCell]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for cell in cells:
        dims = {"province_id": TOTAL, "age_band_id": TOTAL, "esf_project_id": TOTAL}
        dims[GROUP_COLUMN[cell.table_id]] = cell.group
        writer.writerow((
            cell.table_id, cell.end_year_id, cell.measure_id, cell.phase, dims["province_id"], dims["age_band_id"],
            dims["esf_project_id"], cell.minimum, cell.maximum, cell.placements, cell.as_chosen,
        ))
    return out.getvalue()


def summary(results: list[TableResult]) -> list[str]:
    """One line per table: how many placements its own identities allow, and how many remain."""
    lines = []
    for r in results:
        within = "not counted (only its Eindtotaal constrains it)" if r.within is None else f"{r.within}"
        parts = "; ".join(f"{p.name} rows {p.count.total}" for p in r.parts) if len(r.parts) > 1 else f"{r.placements}"
        chosen = "the curated placement is one of them" if r.chosen_is_placement else "the curated placement is NOT one of them"
        lines.append(f"{r.table_id}: by its own identities {within}; with the column totals shared by the T2c tables {parts}; {chosen}")
    return lines


def write_range_file(data: Path, text: str) -> Path:
    """Replace ``data``'s range file with ``text`` at once: written to a new file beside it, then renamed.

    The rename replaces the name itself, whatever it is, a symbolic link included, without
    following it: a link in the data folder never makes dwh overwrite the file it points to. A
    reader sees the old file or the new one, never part of either; a failure leaves the old one.
    """
    import contextlib
    import os
    import stat
    import tempfile

    path = data / RANGE_FILE
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        before = None
    if before is not None and stat.S_ISDIR(before.st_mode):
        raise InputError(f"{path}: is a folder (expected the range file, or nothing, there)")
    mode = stat.S_IMODE(before.st_mode) if before is not None and stat.S_ISREG(before.st_mode) else 0o644
    fd, temporary = tempfile.mkstemp(prefix=f".{RANGE_FILE}.", suffix=".tmp", dir=data)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path

def summary_cells(cells: list[OpenCell]) -> list[str]:
    """One line per open cell: its range over the placements (a blank counted as 0) and how many
    placements agree with the curated content. Numbers without a thousands separator: the
    document's own would be a dot, an English reader's a comma."""
    if not cells:
        return ["open cells: none (every cell is the same in every placement)"]
    lines = [f"open cells ({len(cells)}): the least and the most each can hold over the placements, a blank counted as 0"]
    for c in cells:
        lines.append(
            f"  {c.table_id} {c.group} {c.phase.capitalize()} {c.end_year_id} {c.measure_id}: {c.minimum} to {c.maximum}"
            f" (as curated in {c.as_chosen} of {c.placements} placements; line {c.line})"
        )
    return lines


def check_range_file(results: list[TableResult], data: Path) -> str | None:
    """None when ``data``'s range file is what the search gives, else what differs."""
    path = data / RANGE_FILE
    fresh = render_csv(open_cells(results))
    stored = path.read_text(encoding="utf-8") if path.is_file() else None
    if stored == fresh:
        return None
    if stored is None:
        return f"{path}: missing (run `dwh placements --source FILE --write`)"
    old, new = stored.splitlines(), fresh.splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    return f"{path}:{line + 1}:1: differs from a fresh placement search (run `dwh placements --source FILE --write`)"


# ------------------------------------------------------------------ the tables of started trajectories

#: Answer 2a-b: table id -> (row dimension, column dimension, the columns as printed, Totaal last).
GRIDS = {
    "T2ab_provincie": ("start_year_id", "province_id", ("BE-VAN", "BE-BRU", "BE-VLI", "BE-VOV", "BE-VBR", "BE-VWV", TOTAL)),
    "T2ab_leeftijd": ("start_year_id", "age_band_id", ("Y_LT25", "Y25T59", "Y_GE60", TOTAL)),
    "T2ab_project": ("esf_project_id", "start_year_id", ("2018", "2019", "2020", "2021", "2022", "2023", TOTAL)),
}


@dataclass
class GridResult:
    table_id: str
    placements: int  # placements where every row adds up to its Totaal cell and the rows to the Totaal row
    chosen_is_placement: bool


def _grid_tokens(line: str, row: str, names: dict[str, str]) -> list[str]:
    """The numbers of a grid row: the line's number tokens after its label (a year, or a project's number and name)."""
    from loader.provenance import tokens

    name = names.get(row)
    if name and name in line:  # "Argos consortium West 7": the 7 is part of the name
        line = line[line.index(name) + len(name):]
    found = tokens(line)
    if found and found[0] == row:
        found = found[1:]
    return found


def search_grids(source: Path, data: Path) -> list[GridResult]:
    """Count the placements of the answer 2a-b tables, whose rows and columns both have printed totals."""
    from loader.provenance import read_source

    lines = read_source(source)
    with open(data / "esf_project.csv", newline="", encoding="utf-8-sig") as handle:
        names = {r["esf_project_id"]: r["name"] for r in csv.DictReader(handle)}
    with open(data / "trajectory_start.csv", newline="", encoding="utf-8-sig") as handle:
        records = [r for r in csv.DictReader(handle) if r["table_id"] in GRIDS]
    results = []
    for table_id, (row_dim, column_dim, columns) in GRIDS.items():
        line_of: dict[str, set[int]] = defaultdict(set)
        chosen: dict[str, dict[str, int]] = defaultdict(dict)
        for r in (r for r in records if r["table_id"] == table_id):
            line_of[r[row_dim]].add(int(r["source_line"]))
            chosen[r[row_dim]][r[column_dim]] = int(r["value"])
        options = {}
        for row, numbers in line_of.items():
            if len(numbers) != 1:
                raise InputError(f"{table_id} row {row} cites lines {sorted(numbers)} (expected one line per printed row)")
            printed = _grid_tokens(lines[min(numbers) - 1], row, names)
            # A row's cells add up to its Totaal cell (the last column); blank counts as 0.
            options[row] = [c for c in row_placements(printed, len(columns)) if sum(zeros(c)[:-1]) == zeros(c)[-1]]
        rows = [r for r in line_of if r != TOTAL]
        units = [Unit(r, [{(r, ""): c} for c in options[r]], [zeros(c) for c in options[r]]) for r in rows]
        total, fits = 0, False
        as_chosen = {r: tuple(chosen[r].get(c) for c in columns) for r in line_of}
        for grand in options.get(TOTAL, []):
            found = count(units, zeros(grand))
            total += found.total
            if grand == as_chosen[TOTAL] and found.total:
                fits = all(
                    any(o[(r, "")] == as_chosen[r] and n for o, n in zip(u.options, found.support[i]))
                    for i, (r, u) in enumerate(zip(rows, units))
                )
        results.append(GridResult(table_id, total, fits))
    return results


def summary_grids(results: list[GridResult]) -> list[str]:
    return [
        f"{r.table_id}: {r.placements} placement{'s' if r.placements != 1 else ''} by its row and column totals; "
        f"the curated placement is {'one of them' if r.chosen_is_placement else 'NOT one of them'}"
        for r in results
    ]
