"""A strict CSV reader that knows where every field starts, so errors can say ``file:line:column``.

Curated files are hand-edited in spreadsheets: a UTF-8 byte order mark, CRLF line endings and
trailing blank lines are accepted; everything else that is not plain RFC 4180 on one line per
record is reported, never guessed at.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"

#: What a curated file may be instead of a regular file, for the message (never opened for reading).
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, at a place in a file (line and column are 1-based)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class Record:
    """One record: its line number, its field values, and (worked out when an error needs them) columns."""

    __slots__ = ("line", "values", "_text")

    def __init__(self, line: int, values: list[str], text: str):
        self.line = line
        self.values = values
        self._text = text

    @property
    def text(self) -> str:
        """The line as read, without its line break."""
        return self._text

    @property
    def columns(self) -> list[int]:
        """The 1-based column where each field starts."""
        return split_line(self._text)[1]


class CsvSyntaxError(Exception):
    def __init__(self, column: int, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def split_line(text: str) -> tuple[list[str], list[int]]:
    """Split one physical line into fields; returns the values and the 1-based column of each."""
    values: list[str] = []
    columns: list[int] = []
    i, n = 0, len(text)
    while True:
        start = i
        if i < n and text[i] == '"':
            i += 1
            chunk: list[str] = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise CsvSyntaxError(start + 1, "unterminated quoted field (expected a closing \")")
                chunk.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    chunk.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and text[i] != ",":
                raise CsvSyntaxError(i + 1, f"unexpected {text[i]!r} after a closing quote (expected , or end of line)")
            values.append("".join(chunk))
        else:
            j = text.find(",", i)
            end = n if j < 0 else j
            field = text[i:end]
            quote = field.find('"')
            if quote >= 0:
                raise CsvSyntaxError(i + quote + 1, 'quote inside an unquoted field (expected the whole field in "...")')
            values.append(field)
            i = end
        columns.append(start + 1)
        if i >= n:
            return values, columns
        i += 1  # the comma
        if i == n:  # a trailing comma means one more, empty field
            values.append("")
            columns.append(i + 1)
            return values, columns


class NotRegularFile(Exception):
    """A curated file's name is a folder, a FIFO, a device ...: ``str()`` says which."""


def open_regular(path: Path):
    """The file opened for reading in binary, if it is a regular file; never blocks.

    It is opened without waiting and checked on the open descriptor, so a FIFO, a device or a
    folder put in its place between a look and the read is refused, not waited on. Raises
    OSError (missing, permission, ...) or NotRegularFile.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind != stat.S_IFREG:
        os.close(fd)
        raise NotRegularFile(_KINDS.get(kind, "not a regular file"))
    return os.fdopen(fd, "rb")


def read_bytes(path: Path, label: str, problems: list[Problem]) -> bytes | None:
    """The bytes of a regular file, or None with a problem recorded; never blocks, never quotes them.

    Read once (open_regular): whatever is hashed, checked and copied comes from these bytes.
    """
    try:
        handle = open_regular(path)
    except FileNotFoundError:
        if os.path.islink(path):
            problems.append(Problem(label, 1, 1, "is a symbolic link to a file that does not exist (expected a CSV file)"))
        else:
            problems.append(Problem(label, 1, 1, "file is missing (expected it in the dataset folder)"))
        return None
    except OSError as exc:
        problems.append(Problem(label, 1, 1, _unreadable(exc)))
        return None
    except NotRegularFile as exc:
        problems.append(Problem(label, 1, 1, f"is {exc} (expected a regular CSV file)"))
        return None
    with handle:
        try:
            return handle.read()
        except OSError as exc:
            problems.append(Problem(label, 1, 1, _unreadable(exc)))
            return None


def _unreadable(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied (expected a file the user running dwh may read)"
    if exc.errno == errno.ELOOP:
        return "is a loop of symbolic links (expected a CSV file)"
    return f"cannot be read: {exc.strerror or type(exc).__name__} (expected a readable CSV file)"


def decode(raw: bytes, label: str, problems: list[Problem]) -> str | None:
    """The text of a file's bytes without a leading BOM, or None with a problem (binary, not UTF-8)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _position(raw, nul)
        problems.append(Problem(label, line, col, "binary data: NUL byte (expected a UTF-8 text CSV file)"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(raw, exc.start)
        problems.append(Problem(label, line, col, f"invalid UTF-8 byte 0x{raw[exc.start]:02x} (expected UTF-8 text)"))
        return None
    return text[1:] if text.startswith(BOM) else text


def read_text(path: Path, label: str, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem recorded (missing, not a regular file, binary, not UTF-8)."""
    raw = read_bytes(path, label, problems)
    return None if raw is None else decode(raw, label, problems)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return line, offset - line_start + 1


def lines(text: str) -> Iterator[tuple[int, str]]:
    """Each physical line of ``text`` with its 1-based number, without its line break (LF or CRLF).

    Trailing blank lines (and the final newline) are dropped. Both the checks and COPY read a file
    through this, so they agree on what its lines are.
    """
    split = text.split("\n")
    while split and split[-1].strip("\r") == "":
        split.pop()
    for number, line in enumerate(split, start=1):
        yield number, line[:-1] if line.endswith("\r") else line


def records(text: str, label: str, problems: list[Problem]) -> Iterator[Record]:
    """Yield each record of ``text``; syntax errors are recorded and the record skipped."""
    for number, line in lines(text):
        if line == "":
            problems.append(Problem(label, number, 1, "empty line (expected a record)"))
            continue
        if "\r" in line:
            # COPY's CSV refuses a bare CR (and a spreadsheet shows it as a line break): refuse it here.
            problems.append(Problem(label, number, line.index("\r") + 1, "carriage return inside a line (expected line breaks as LF or CRLF only)"))
            continue
        if '"' not in line:  # the common case, at C speed
            yield Record(number, line.split(","), line)
            continue
        try:
            values, _ = split_line(line)
        except CsvSyntaxError as exc:
            problems.append(Problem(label, number, exc.column, exc.message))
            continue
        yield Record(number, values, line)
