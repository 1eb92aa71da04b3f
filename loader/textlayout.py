"""Laying a table out for a terminal of a given width.

A table wider than the terminal is split into column blocks that each repeat the row labels, the
way the document prints T2e_betalingen in two halves. Labels and headers that still do not fit are
wrapped inside their column; figures are never cut.
"""

from __future__ import annotations

import os
import sys
import textwrap

GAP = "  "
DEFAULT_WIDTH = 100
MIN_WIDTH = 30
_MIN_LABEL = 8  # narrower label columns would cut most words in half


def terminal_width() -> int:
    """COLUMNS, else the width of the session's terminal, else 100 (no terminal at all, e.g. cron).

    Piped output (`dwh show T2c_project | less`) still has a terminal: stdout is the pipe, but
    stderr or the controlling terminal (/dev/tty) is the screen the pager writes to, so the
    width comes from there rather than from the fallback."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            width = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            continue
        if width > 0:
            return width
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return DEFAULT_WIDTH
    try:
        width = os.get_terminal_size(fd).columns
    except OSError:
        width = 0
    finally:
        os.close(fd)
    return width if width > 0 else DEFAULT_WIDTH


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _block_width(widths: list[int]) -> int:
    return sum(widths) + len(GAP) * max(len(widths) - 1, 0)


def _fit_labels(natural: list[int], budget: int, floors: list[int]) -> list[int]:
    """Shrink the widest label columns, one character at a time, until they fit in budget or
    every column is down to its floor."""
    widths = list(natural)
    while widths and _block_width(widths) > budget:
        shrinkable = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _blocks(widths: list[int], available: int) -> list[list[int]]:
    """Figure columns (by index) in consecutive blocks that each fit in available characters."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, w in enumerate(widths):
        if current and _block_width([widths[j] for j in current] + [w]) > available:
            blocks.append(current)
            current = []
        current.append(i)
    if current:
        blocks.append(current)
    return blocks


def _physical_lines(cells: list[str], widths: list[int], right: list[bool]) -> list[str]:
    """One logical row as one or more printed lines, each cell wrapped inside its column."""
    wrapped = [wrap(c, w) if len(c) > w else [c] for c, w in zip(cells, widths)]
    height = max((len(w) for w in wrapped), default=1)
    lines = []
    for n in range(height):
        parts = []
        for pieces, w, r in zip(wrapped, widths, right):
            piece = pieces[n] if n < len(pieces) else ""
            parts.append(piece.rjust(w) if r else piece.ljust(w))
        lines.append(GAP.join(parts).rstrip())
    return lines


def layout(header: list[str], rows: list[list[str]], label_columns: int, width: int) -> list[str]:
    """The table as lines of at most width characters (unless a single figure is wider).

    Narrower label columns leave room for more figure columns per block but wrap long labels over
    more lines: of every label width that fits, the one that prints the fewest lines wins.
    """
    labels = [[h] + [r[i] for r in rows] for i, h in enumerate(header[:label_columns])]
    natural = [max(len(v) for v in column) for column in labels]
    # A label column first keeps its longest word whole; only when that cannot fit are words cut.
    longest_word = [min(n, max(_MIN_LABEL, *(len(w) for v in column for w in v.split()))) for n, column in zip(natural, labels)]
    widest_figure = max([len(r[i]) for r in rows for i in range(label_columns, len(header))], default=0)
    top = min(_block_width(natural), width - (len(GAP) + widest_figure if len(header) > label_columns else 0))
    for floors in (longest_word, [min(n, _MIN_LABEL) for n in natural]):
        best: list[str] | None = None
        tried = set()
        for budget in range(top, 0, -1):
            widths = tuple(_fit_labels(natural, budget, floors))
            if widths in tried or _block_width(list(widths)) > top:
                continue
            tried.add(widths)
            lines = _layout(header, rows, list(widths), width)
            if best is None or len(lines) < len(best):
                best = lines
        if best is not None:
            return best
    return _layout(header, rows, [min(n, _MIN_LABEL) for n in natural], width)


def _layout(header: list[str], rows: list[list[str]], label_widths: list[int], width: int) -> list[str]:
    label_columns = len(label_widths)
    figures = [[r[i] for r in rows] for i in range(label_columns, len(header))]
    figure_min = [max([1] + [len(v) for v in column]) for column in figures]
    figure_natural = [max(m, len(h)) for m, h in zip(figure_min, header[label_columns:])]
    label_part = _block_width(label_widths) + (len(GAP) if label_widths else 0)
    available = max(width - label_part, max(figure_min, default=0))
    figure_widths = [min(n, max(m, available)) for n, m in zip(figure_natural, figure_min)]

    out: list[str] = []
    for number, block in enumerate(_blocks(figure_widths, available) or [[]]):
        if number:
            out.append("")
        widths = label_widths + [figure_widths[i] for i in block]
        right = [False] * label_columns + [True] * len(block)
        pick = list(range(label_columns)) + [label_columns + i for i in block]
        out += _physical_lines([header[i] for i in pick], widths, right)
        out.append(GAP.join("-" * w for w in widths))
        for row in rows:
            out += _physical_lines([row[i] for i in pick], widths, right)
    return out
