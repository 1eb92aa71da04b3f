"""Provenance: every figure's ``source_line`` must print that figure in the text extraction.

The extraction (data/CURATION.md says which one) is garbled, so "prints" needs a rule:

1. A line's *number tokens* are its maximal runs of digits, dots and commas that start and end
   with a digit, with a minus sign in front when one stands right before the first digit and
   after a space, a bracket or the start of the line. Letters, brackets and spaces separate tokens:
   "BLM)15.100,56" holds 15.100,56, "96CMW" holds 96, "(1070" holds 1070.
2. An amount wrapped over two lines inside its cents ("17.136,0" ends a line, "0" starts the
   next) is also a token of the line it starts on: the line's last token joined to the next's first.
3. A figure's *printed forms*: a count as plain digits (1238) or with Belgian thousands dots
   (1.238); an amount in Belgian notation (27.313,55; 0,00; -10.637,67), and, when its cents are
   zero, also without decimals ("43.344" is 43344.00).
4. A figure is printed on a line when one of its forms is a token of that line, or one of two
   numbers glued into a token: the token starts or ends with the form and the rest is itself a
   well-formed number ("9100" prints 9 and 100, "8114" prints 8 and 114, "25.704,0017.136,00"
   prints 25.704,00 and 17.136,00, "714.516,26" prints 14.516,26 after the 7 of "West 7").

A one-digit figure thus matches any line with a token starting or ending in that digit: the rule
catches a figure pointed at a line that does not print it, not every slip of one line.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from loader import schema
from loader.csvfile import Problem
from loader.dataset import Dataset, raise_problems
from loader.errors import InputError

_TOKEN = re.compile(r"(?:(?<=[\s(\[])|^)-?[0-9](?:[0-9.,]*[0-9])?|[0-9](?:[0-9.,]*[0-9])?")
# A number standing alone: plain digits, Belgian thousands, optional Belgian decimals.
_WELL_FORMED = re.compile(r"-?(?:0|[1-9][0-9]*|[1-9][0-9]{0,2}(?:\.[0-9]{3})+)(?:,[0-9]{2})?")
#: Tables whose rows cite a line of the extraction: every fact table and the prose figures.
CITING_TABLES = (*schema.FACT_TABLES, "prose_figure")


def tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def line_tokens(lines: list[str], number: int) -> list[str]:
    """The number tokens of 1-based line ``number``, with a number wrapped onto the next line."""
    found = tokens(lines[number - 1])
    if found and number < len(lines):
        following = tokens(lines[number])
        cut_in_cents = re.search(r",[0-9]$", found[-1])
        if cut_in_cents and following and lines[number - 1].rstrip().endswith(found[-1]) and lines[number].lstrip().startswith(following[0]):
            found.append(found[-1] + following[0])
    return found


def _thousands(digits: str) -> str:
    groups = []
    while len(digits) > 3:
        digits, tail = digits[:-3], digits[-3:]
        groups.insert(0, tail)
    return ".".join([digits, *groups])


def printed_forms(value: int | Decimal) -> set[str]:
    """How the document may print a figure (rule 3)."""
    sign = "-" if value < 0 else ""
    if isinstance(value, int):
        digits = str(abs(value))
        return {sign + digits, sign + _thousands(digits)}
    whole, cents = f"{abs(value):.2f}".split(".")
    forms = {f"{sign}{_thousands(whole)},{cents}"}
    if cents == "00":
        forms.add(sign + _thousands(whole))
    return forms


def prints(token: str, forms: set[str]) -> bool:
    """Does a token print one of the forms, alone or glued to one other number (rule 4)?"""
    for form in forms:
        if token == form:
            return True
        if token.startswith(form) and _WELL_FORMED.fullmatch(token[len(form):]):
            return True
        if token.endswith(form) and _WELL_FORMED.fullmatch(token[: len(token) - len(form)]):
            return True
    return False


#: The largest text extraction read: the answer's is 19,823 bytes. It is read whole, so a larger
#: file (the wrong one, or a hostile one) is refused before it is held in memory.
SOURCE_BYTES = 16 << 20


def read_source(path: Path) -> list[str]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(SOURCE_BYTES + 1)
        if len(data) > SOURCE_BYTES:
            raise InputError(f"{path}: the text extraction is larger than {SOURCE_BYTES:,} bytes (expected the text of one answer; it is read whole)")
        return data.decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise InputError(f"{path}: cannot read the text extraction ({reason})") from None


def problems(dataset: Dataset, source: Path) -> list[Problem]:
    """Every figure whose source line does not print it, at the ``source_line`` field of its CSV row."""
    found: list[Problem] = []
    _check(_dataset_figures(dataset), Path(source), found)
    return found


def check(dataset: Dataset, source: Path) -> None:
    """Raise InputError listing every figure its source line does not print."""
    found = problems(dataset, Path(source))
    if found:
        raise_problems(found)


def check_snapshot(snapshot, source: Path) -> None:
    """check() on the bytes a load read (loader.snapshot), which loader.dataset's checks or the
    streamed route's have passed: what is committed is what was checked, even when a file changes
    during the load. A file at a time, a chunk at a time: memory stays flat."""
    from loader.dataset import _Collector

    out = _Collector()
    _check(_snapshot_figures(snapshot), Path(source), out)
    if out.count:
        raise_problems(out.problems, out.count)


def _dataset_figures(dataset: Dataset):
    """(path, line, column of source_line, figure, source_line) of every citing row of a dataset."""
    for name in CITING_TABLES:
        data = dataset.tables[name]
        value_column = "amount" if "amount" in data.spec.header else "value"
        j_value, j_line = data.column_index(value_column), data.column_index("source_line")
        for i, row in enumerate(data.rows):
            yield (*data.where(i, "source_line"), row[j_value], row[j_line])


def _snapshot_figures(snapshot):
    from loader.csvfile import records, stream_lines
    from loader.dataset import SPECS, _parse

    for name in CITING_TABLES:
        spec = SPECS[name]
        handle = snapshot.open(spec.file_name)
        if handle is None:
            raise AssertionError(f"{spec.file_name} was not read by the load")  # the load reads every file
        path = str(snapshot.folder / spec.file_name)
        value_column = "amount" if "amount" in spec.header else "value"
        j_value, j_line = spec.header.index(value_column), spec.header.index("source_line")
        unexpected: list[Problem] = []
        rows = records(stream_lines(handle, path, unexpected), path, unexpected)
        next(rows, None)  # the header
        for record in rows:
            value = _parse(record.values[j_value], spec.columns[j_value])
            number = _parse(record.values[j_line], spec.columns[j_line])
            yield path, record.line, record.column(j_line), value, number
        if unexpected:  # the load's checks passed these bytes: a defect, not the user's input
            raise AssertionError(f"provenance read {path} otherwise than the load's checks: {unexpected[0]}")


def _check(figures, source: Path, found) -> None:
    """Append to ``found`` a problem for every figure its source line does not print."""
    lines = read_source(source)
    cache: dict[int, list[str]] = {}
    for path, line, column, value, number in figures:
        if not 1 <= number <= len(lines):
            found.append(Problem(path, line, column, f"source_line {number} is beyond the end of {source} ({len(lines)} lines)"))
            continue
        if number not in cache:
            cache[number] = line_tokens(lines, number)
        if not any(prints(t, printed_forms(value)) for t in cache[number]):
            shown = " ".join(cache[number]) or "no numbers"
            found.append(
                Problem(path, line, column, f"source_line {number} does not print {value} (line {number} of {source.name} prints: {shown})")
            )
