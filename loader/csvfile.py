"""A strict CSV reader that knows where every field starts, so errors can say ``file:line:column``.

Curated files are hand-edited in spreadsheets: a UTF-8 byte order mark, CRLF line endings and
trailing blank lines are accepted; everything else that is not plain RFC 4180 on one line per
record is reported, never guessed at.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"

CHUNK = 1 << 20  # bytes read at a time: memory stays flat whatever the file's size
#: Kept in memory up to this size; a larger file's private copy goes to an anonymous temporary file.
IN_MEMORY = 8 << 20
#: The longest line read as a record. Far above any curated record (the longest field any column
#: takes is loader.dataset.TEXT_MAX), and low enough that a line of 100 MB is never held whole.
MAX_LINE = 1 << 20
#: How much of a value a message quotes (a value longer than that is cut and its length said).
QUOTED = 40


def quote(value: str, limit: int = QUOTED) -> str:
    """``repr(value)``, cut to its first ``limit`` characters with its length when it is longer.

    Every message that shows a value goes through this, so that a value of 100 MB is never
    written to stderr whole.
    """
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"

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

    def column(self, i: int) -> int:
        """The 1-based column where field ``i`` starts (worked out from the values when nothing is quoted)."""
        if '"' in self._text:
            return self.columns[i]
        return sum(len(v) for v in self.values[:i]) + i + 1


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


def copy_regular(path: Path, label: str, problems: list[Problem]):
    """A private copy of a regular file's bytes (a binary file at its start), or None with a problem.

    Read once, a chunk at a time (open_regular: never blocks): whatever is hashed, checked and
    copied comes from this copy, never from the file again. Small files stay in memory, larger
    ones go to an anonymous temporary file, so memory stays flat; the caller closes it.
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
    from loader.errors import temporary_file_error

    copy = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
    with handle:
        while True:
            try:
                chunk = handle.read(CHUNK)
            except OSError as exc:
                copy.close()
                problems.append(Problem(label, 1, 1, _unreadable(exc)))
                return None
            if not chunk:
                break
            try:
                copy.write(chunk)
            except OSError as exc:  # the temporary folder, not the file: not the data's fault
                copy.close()
                raise temporary_file_error(f"copy {label}", exc) from None
    copy.seek(0)
    return copy


def _unreadable(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied (expected a file the user running dwh may read)"
    if exc.errno == errno.ELOOP:
        return "is a loop of symbolic links (expected a CSV file)"
    return f"cannot be read: {exc.strerror or type(exc).__name__} (expected a readable CSV file)"


@dataclass
class Scanned:
    """What one pass over a file's bytes found: its SHA-256, whether it is UTF-8 text, whether it holds any."""

    digest: str
    text: bool  # UTF-8 without a NUL byte
    blank: bool  # nothing but whitespace (after a byte order mark)


#: Byte order marks of the encodings a spreadsheet's "Unicode text" may be saved in, longest first.
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def scan(handle, label: str, problems: list[Problem]) -> Scanned:
    """Hash a file's bytes and check that they are UTF-8 text, a chunk at a time; the handle ends at its start.

    As decode() did on the whole file: a NUL byte anywhere is reported before an invalid UTF-8
    byte (the first of each, with its line and byte column), and a file in UTF-16 or UTF-32 is
    named as such.
    """
    digest = hashlib.sha256()
    offset = 0  # of the chunk in the file
    lines_before, line_start = 0, 0  # newlines before the chunk, offset where the current line starts
    nul = bad = None  # (line, column, byte) of the first NUL byte / invalid UTF-8 byte
    tail = b""  # an unfinished UTF-8 sequence at the end of the previous chunk
    blank = True
    first = b""
    while True:
        chunk = handle.read(CHUNK)
        digest.update(chunk)
        if offset == 0:
            first = chunk[:64]

        def where(at: int) -> tuple[int, int]:  # at: offset in the chunk, may be negative (in the tail)
            if at < 0:
                return lines_before + 1, offset + at - line_start + 1
            before = chunk.rfind(b"\n", 0, at)
            return lines_before + chunk.count(b"\n", 0, at) + 1, (at - before if before >= 0 else offset + at - line_start + 1)

        if nul is None and (at := chunk.find(b"\x00")) >= 0:
            nul = where(at)
        if bad is None and nul is None:
            data = tail + chunk
            try:
                text = data.decode("utf-8")
                tail = b""
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data" and exc.end == len(data):
                    text, tail = data[: exc.start].decode("utf-8"), data[exc.start :]
                else:
                    text = ""
                    bad = (*where(exc.start - len(tail)), data[exc.start])
            if blank and text:
                blank = (text[1:] if offset == 0 and text.startswith(BOM) else text).strip() == ""
        if not chunk:
            break
        newlines = chunk.count(b"\n")
        if newlines:
            lines_before += newlines
            line_start = offset + chunk.rfind(b"\n") + 1
        offset += len(chunk)
    handle.seek(0)
    other = next((name for bom, name in _OTHER_BOMS if first.startswith(bom)), None)
    if other is None and nul is not None and _looks_like_utf16(first):
        other = "UTF-16"
    if other is not None:
        problems.append(Problem(label, 1, 1, f"is {other} text, not UTF-8 (expected a UTF-8 text CSV file: save it as CSV UTF-8)"))
    elif nul is not None:
        problems.append(Problem(label, *nul, "binary data: NUL byte (expected a UTF-8 text CSV file)"))
    elif bad is not None:
        problems.append(Problem(label, bad[0], bad[1], f"invalid UTF-8 byte 0x{bad[2]:02x} (expected UTF-8 text)"))
    return Scanned(digest.hexdigest(), other is None and nul is None and bad is None, blank)


def _looks_like_utf16(first: bytes) -> bool:
    """Text of ASCII letters saved as UTF-16 without a byte order mark: every other byte NUL, the others not."""
    pairs = [first[i : i + 2] for i in range(0, len(first) - 1, 2)]
    if len(pairs) < 2:
        return False
    return all(p[0] == 0 and p[1] != 0 for p in pairs) or all(p[1] == 0 and p[0] != 0 for p in pairs)


def stream_lines(handle, label: str, problems: list[Problem], max_line: int = MAX_LINE) -> Iterator[tuple[int, str]]:
    """lines() over a file's UTF-8 bytes read a chunk at a time (scan() has checked them).

    The same lines as lines(text) of the whole text without its byte order mark: LF or CRLF, and
    trailing blank lines dropped (blank lines are held, as runs, until a line that is not blank
    shows they are not trailing). A line longer than ``max_line`` characters is never held whole:
    it is reported with its start quoted, and skipped, as an empty line is.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    held: list[list] = []  # runs of blank lines that may still turn out to be trailing: [text, count]
    parts: list[str] = []  # the line read so far, while it is not too long
    size = 0  # its length in characters
    start: str | None = None  # the start of a line found too long
    number = 0

    def add(fragment: str) -> None:
        nonlocal size, start, parts
        size += len(fragment)
        if start is None:
            if size <= max_line:
                parts.append(fragment)
            else:
                start, parts = ("".join(parts) + fragment)[:QUOTED], []

    def finish() -> Iterator[tuple[int, str]]:
        nonlocal size, start, parts, number
        number += 1
        line, long, length = "".join(parts), start, size
        parts, size, start = [], 0, None
        if long is not None:
            yield from _release(held, number)
            problems.append(
                Problem(label, number, 1, f"line of {length:,} characters is too long (expected a record of at most {max_line:,}; it starts {long[:QUOTED]!r}...)")
            )
        elif line.strip("\r") == "":
            if held and held[-1][0] == line:
                held[-1][1] += 1
            else:
                held.append([line, 1])
        else:
            yield from _release(held, number)
            yield number, line[:-1] if line.endswith("\r") else line

    first = True
    while True:
        raw = handle.read(CHUNK)
        text = decoder.decode(raw, final=not raw)
        if first and text:
            first = False
            text = text.removeprefix(BOM)
        pieces = text.split("\n")
        last = pieces.pop()
        if pieces and (parts or size):  # the line that began in the previous chunk ends here
            add(pieces[0])
            yield from finish()
            del pieces[0]
        for piece in pieces:  # the common case inline: a whole line of this chunk
            if piece and piece[0] != "\r" and len(piece) <= max_line:
                number += 1
                if held:
                    yield from _release(held, number)
                yield number, piece[:-1] if piece[-1] == "\r" else piece
            else:
                add(piece)
                yield from finish()
        add(last)
        if not raw:  # what follows the last line break is a line too (blank, and dropped, when empty)
            yield from finish()
            return


def _release(held: list[list], number: int) -> Iterator[tuple[int, str]]:
    """The blank lines before line ``number``, which are not trailing after all."""
    count = sum(c for _, c in held)
    at = number - count
    for text, c in held:
        for _ in range(c):
            yield at, text[:-1] if text.endswith("\r") else text
            at += 1
    held.clear()


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


def records(text, label: str, problems: list[Problem]) -> Iterator[Record]:
    """Yield each record of ``text`` (a str, or its numbered lines from stream_lines); syntax errors
    are recorded and the record skipped."""
    for number, line in lines(text) if isinstance(text, str) else text:
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
