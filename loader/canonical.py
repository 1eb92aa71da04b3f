"""The canonical shape of a curated file, checked while its bytes stream into COPY.

A curated file can go straight into PostgreSQL's COPY (CSV) only where COPY reads it exactly as
loader.csvfile and loader.dataset do. They differ at the edges: COPY takes ``" 5"``, ``+5``,
``0x1F`` or ``1_000`` as whole numbers, ``t`` and ``yes`` as booleans, a quoted ``""`` as an empty
string where we read NULL, and an empty line as an error where we drop trailing ones. So a file is
streamed only when every line has the canonical shape below, in which the two readings agree; any
other file (or any line that breaks a rule the database enforces) is read and checked by
loader.dataset instead, which says where and why.

The canonical shape, per column kind:

* a code that is a foreign key: anything without a comma, quote, CR, LF or NUL (the foreign key
  then proves it is exactly a code of its table, whose own file is checked in full);
* other text: unquoted, or quoted with ``""`` for a quote; never empty when quoted, never with
  leading or trailing whitespace (as ``str.strip`` sees it), never a CR, LF or NUL;
* text of either kind no longer than its column takes (``longest`` of loader.dataset: what an
  index can hold, else loader.dataset.TEXT_MAX), counted in characters of the value;
* a whole number ``-?[0-9]+``, an amount ``-?[0-9]+\\.[0-9]{2}``, a number ``-?[0-9]+(\\.[0-9]+)?``,
  a date ``YYYY-MM-DD``, a boolean ``true``/``false``;
* any column may be empty (NULL to both; NOT NULL is the database's to enforce).

Lines end in LF or CRLF; the header is the expected one (after an optional byte order mark);
trailing blank lines are dropped, as loader.csvfile.lines drops them.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator
from typing import BinaryIO

from loader import csvfile

CHUNK = 1 << 20  # bytes read at a time: memory stays flat whatever the file's size

# {rest}: at most that many characters after the first (each "" is one); the look-behind: no trailing whitespace
_UNQUOTED_TEXT = r'[^\s,"\x00](?:[^,"\r\n\x00]{{0,{rest}}}+(?<!\s))?'
_QUOTED_TEXT = r'"(?:[^\s"\x00]|"")(?:(?:[^"\r\n\x00]|""){{0,{rest}}}+(?<!\s))?"'
_TEXT = rf"(?:{_UNQUOTED_TEXT}|{_QUOTED_TEXT})?"
_KIND = {
    "integer": r"(?:-?[0-9]++)?",
    "decimal": r"(?:-?[0-9]++\.[0-9]{2})?",
    "number": r"(?:-?[0-9]++(?:\.[0-9]++)?)?",
    "date": r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?",
    "boolean": r"(?:true|false)?",
}
_CODE = r'[^,"\r\n\x00]{{0,{longest}}}+'


class NotCanonical(Exception):
    """The file is not in the shape that COPY and loader.dataset read alike (it goes to loader.dataset)."""


def lines_pattern(spec) -> re.Pattern:
    """A pattern whose full match is any number of canonical lines (each ending in LF) of ``spec``'s file."""
    if len(spec.columns) < 2:
        raise NotImplementedError(f"{spec.name}: a one-column file has empty lines that are records; teach loader.canonical")
    fields = [_field(c) for c in spec.columns]
    return re.compile("(?:" + ",".join(fields) + "\n)*+")


def _field(column) -> str:
    if column.kind != "text":
        return _KIND[column.kind]
    longest = getattr(column, "longest", None)  # None: no bound
    if column.references:
        return _CODE.format(longest="" if longest is None else longest)
    return _TEXT.format(rest="" if longest is None else longest - 1)


def open_regular(path) -> BinaryIO:
    """loader.csvfile.open_regular, with NotCanonical for anything it refuses (loader.dataset then says why)."""
    try:
        return csvfile.open_regular(path)
    except (OSError, csvfile.NotRegularFile) as exc:
        raise NotCanonical(f"cannot be read: {exc}") from None


class Stream:
    """One curated file, read once in chunks: each chunk is hashed, kept in ``snapshot`` and, while
    the file is canonical, handed on (as COPY text) by :meth:`chunks`.

    When a chunk is not canonical, :meth:`chunks` raises NotCanonical; :meth:`drain` then reads the
    rest into the snapshot, so loader.dataset can check the very bytes that were hashed.
    """

    def __init__(self, handle: BinaryIO, spec, snapshot: BinaryIO, label: str = "the file"):
        self._handle = handle
        self._label = label  # the file, for a message
        self._spec = spec
        self._snapshot = snapshot
        self._hash = hashlib.sha256()
        self._done = False

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()

    def _read(self) -> bytes:
        raw = self._handle.read(CHUNK)
        if raw:
            self._hash.update(raw)
            try:
                self._snapshot.write(raw)
            except OSError as exc:  # the temporary folder, not the file: not the data's fault
                from loader.errors import temporary_file_error

                raise temporary_file_error(f"copy {self._label}", exc) from None
        else:
            self._done = True
        return raw

    def drain(self) -> None:
        while not self._done:
            self._read()
        self._handle.close()

    def close(self) -> None:
        self._handle.close()

    def chunks(self) -> Iterator[str]:
        """The file's records as COPY CSV text, a chunk at a time (no header, LF line ends)."""
        pattern = lines_pattern(self._spec)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        carry = ""
        header = None
        blank = 0  # blank lines seen at the end of what was handed on: an error unless the file ends
        while True:
            raw = self._read()
            try:
                text = carry + decoder.decode(raw, final=not raw)
            except UnicodeDecodeError:
                raise NotCanonical("not UTF-8") from None
            if raw:
                cut = text.rfind("\n") + 1
                text, carry = text[:cut], text[cut:]
                if len(carry) > csvfile.MAX_LINE:  # never held whole: loader.dataset says where it is
                    raise NotCanonical("a line too long")
            elif text and not text.endswith("\n"):
                text, carry = text + "\n", ""  # the last line, without a line break
            if header is None:
                if text.startswith("\ufeff"):
                    text = text[1:]
                if "\n" not in text:
                    if raw:
                        continue  # the header is longer than a chunk
                    raise NotCanonical("no header")
                first, text = text.split("\n", 1)
                header = first.removesuffix("\r")
                if header.split(",") != self._spec.header:
                    raise NotCanonical("not the expected header")
            if "\r" in text:
                text = text.replace("\r\n", "\n")  # any CR left is refused by the pattern
            body = text.rstrip("\n")
            if body:
                if blank:
                    raise NotCanonical("a blank line between records")
                body += "\n"
                if pattern.fullmatch(body) is None:
                    raise NotCanonical("a line not in canonical shape")
                blank = len(text) - len(body)
                yield body
            else:
                blank += len(text)
            if not raw:
                self._handle.close()
                return
