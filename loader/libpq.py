"""A small libpq session through ctypes, for the commands that must answer at once (`dwh show`).

`import psycopg` costs about 0.15 s (its adapters, its asyncio and typing machinery, its C module),
three times what `dwh show` spends talking to the server. This module speaks to the same libpq
psycopg[binary] ships (psycopg_binary.libs; else the system's libpq.so.5) and reads results as
text, turning each into the Python value psycopg would give: int, Decimal, float, bool or str.
A column of any other type is refused rather than shown differently.

Errors are psycopg's own exceptions, built the way psycopg builds them (psycopg is imported then,
when the time no longer matters): the class named by the SQLSTATE, the message without its
severity. A refused connection is tried again through psycopg itself (``connect``). Callers and
the CLI's error handling see what psycopg would have raised.

Waits go through select() in Python, so Ctrl-C ends a command waiting on a silent server.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import time

_BAD = 1  # ConnStatusType
_POLL_FAILED, _POLL_READING, _POLL_WRITING, _POLL_OK = 0, 1, 2, 3  # PostgresPollingStatusType
_COMMAND_OK, _TUPLES_OK = 1, 2  # ExecStatusType
_DIAG_SQLSTATE = ord("C")
#: psycopg's default connection timeout (psycopg.conninfo._DEFAULT_CONNECT_TIMEOUT), when neither
#: the URL nor PGCONNECT_TIMEOUT sets one.
_DEFAULT_CONNECT_TIMEOUT = 130

_lib = None
#: libpq prints a server's NOTICE or WARNING on stderr unless told otherwise; psycopg passes them
#: to the handlers an application registers (dwh registers none), so they are dropped here too.
_NOTICE_PROCESSOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
_ignore_notice = _NOTICE_PROCESSOR(lambda argument, message: None)


def _library() -> ctypes.CDLL:
    """libpq: the copy psycopg[binary] bundles (the one psycopg itself would use), else the system's."""
    global _lib
    if _lib is not None:
        return _lib
    import importlib.util

    path = "libpq.so.5"
    spec = importlib.util.find_spec("psycopg_binary")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        bundled = os.path.join(os.path.dirname(list(spec.submodule_search_locations)[0]), "psycopg_binary.libs")
        with contextlib.suppress(OSError):
            found = sorted(name for name in os.listdir(bundled) if name.startswith("libpq-") and ".so" in name)
            if found:
                path = os.path.join(bundled, found[-1])
    lib = ctypes.CDLL(path)
    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures = {
        "PQlibVersion": ([], i),
        "PQconnectStartParams": ([ctypes.POINTER(s), ctypes.POINTER(s), i], p),
        "PQconnectPoll": ([p], i),
        "PQstatus": ([p], i),
        "PQsocket": ([p], i),
        "PQerrorMessage": ([p], s),
        "PQparameterStatus": ([p, s], s),
        "PQsetNoticeProcessor": ([p, _NOTICE_PROCESSOR, p], p),
        "PQfinish": ([p], None),
        "PQsetnonblocking": ([p, i], i),
        "PQsendQueryParams": ([p, s, i, p, ctypes.POINTER(s), p, p, i], i),
        "PQflush": ([p], i),
        "PQconsumeInput": ([p], i),
        "PQisBusy": ([p], i),
        "PQgetResult": ([p], p),
        "PQresultStatus": ([p], i),
        "PQresultErrorMessage": ([p], s),
        "PQresultErrorField": ([p, i], s),
        "PQntuples": ([p], i),
        "PQnfields": ([p], i),
        "PQfname": ([p, i], s),
        "PQftype": ([p, i], ctypes.c_uint),
        "PQgetvalue": ([p, i, i], ctypes.POINTER(ctypes.c_char)),
        "PQgetlength": ([p, i, i], i),
        "PQgetisnull": ([p, i, i], i),
        "PQclear": ([p], None),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = arguments, result
    _lib = lib
    return lib


def version() -> int:
    """libpq's version as a number (160000 for 16.0), as psycopg.pq.version() gives it."""
    return _library().PQlibVersion()


# ------------------------------------------------------------------ values

#: Result types by OID, as psycopg's default loaders read them. regclass, name, "char" and unknown
#: have no loader in psycopg and come back as text; every type not named here is refused.
_TYPES = {
    16: "bool",
    18: "text", 19: "text", 25: "text", 705: "text", 1042: "text", 1043: "text", 2205: "text",
    20: "int", 21: "int", 23: "int", 26: "int",
    700: "float", 701: "float",
    1700: "decimal",
}  # fmt: skip


def _converter(oid: int, encoding: str):
    """The function that turns one text value of type ``oid`` into psycopg's Python value."""
    kind = _TYPES.get(oid)
    if kind == "text":
        return lambda raw: raw.decode(encoding)
    if kind == "int":
        return int
    if kind == "float":
        return float
    if kind == "bool":
        return lambda raw: raw == b"t"
    if kind == "decimal":
        from decimal import Decimal

        return lambda raw: Decimal(raw.decode("ascii"))
    raise TypeError(f"loader.libpq reads no column of type oid {oid}; read it with psycopg")


# ------------------------------------------------------------------ errors


def is_operational_error(exc: BaseException) -> bool:
    """Whether ``exc`` is psycopg's OperationalError (a refused or lost connection), which this
    module raises as psycopg would; psycopg is imported only when there is an error to look at."""
    import psycopg

    return isinstance(exc, psycopg.OperationalError)


def _operational(message: str):
    import psycopg

    return psycopg.OperationalError(message)


def _clean(message: bytes | None, encoding: str) -> str:
    from psycopg.pq.misc import strip_severity

    text = (message or b"").decode(encoding, "replace")
    return strip_severity(text) if text else "no error details available"


def _result_error(result, encoding: str):
    """psycopg's exception for a failed statement: the class of its SQLSTATE, its message."""
    from psycopg import errors

    lib = _library()
    state = (lib.PQresultErrorField(result, _DIAG_SQLSTATE) or b"").decode("utf-8", "replace")
    try:
        cls = errors.lookup(state)
    except KeyError:
        cls = errors.get_base_exception(state)
    return cls(_clean(lib.PQresultErrorMessage(result), encoding))


# ------------------------------------------------------------------ the connection

_PARAMETER = re.compile(r"%\((\w+)\)s|%%")


class Column:
    def __init__(self, name: str):
        self.name = name


class Cursor:
    """The rows of one statement, as psycopg's cursor gives them (``description``, ``fetchall``, ``fetchone``)."""

    def __init__(self, description: list[Column] | None, rows: list[tuple]):
        self.description = description
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None


class Connection:
    """One libpq connection; ``execute`` takes psycopg's ``%(name)s`` parameters (text values)."""

    def __init__(self, url: str):
        self._lib = _library()
        self._encoding = "utf-8"
        keywords = (ctypes.c_char_p * 2)(b"dbname", None)  # dbname given a URL is the URL (expand_dbname)
        values = (ctypes.c_char_p * 2)(url.encode(), None)
        self._conn = self._lib.PQconnectStartParams(keywords, values, 1)
        if not self._conn:
            raise MemoryError("libpq could not allocate a connection")
        self._lib.PQsetNoticeProcessor(self._conn, _ignore_notice, None)
        try:
            self._connect(time.monotonic() + _connect_timeout(url))
        except BaseException:
            self.close()
            raise
        name = self._lib.PQparameterStatus(self._conn, b"client_encoding")
        if name and name.upper() not in (b"UTF8", b"UNICODE"):
            from psycopg._encodings import pg2pyenc

            self._encoding = pg2pyenc(name)

    def _connect(self, deadline: float) -> None:
        lib = self._lib
        while True:
            status = _POLL_FAILED if lib.PQstatus(self._conn) == _BAD else lib.PQconnectPoll(self._conn)
            if status == _POLL_OK:
                break
            if status == _POLL_FAILED:
                raise _Refused(lib.PQerrorMessage(self._conn))
            if not self._wait(status == _POLL_WRITING, deadline - time.monotonic()):
                raise _Refused(None)
        lib.PQsetnonblocking(self._conn, 1)

    def _wait(self, writing: bool, timeout: float | None = None) -> bool:
        """Wait until the socket is ready (False: the timeout ran out first)."""
        if timeout is not None and timeout <= 0:
            return False
        fd = self._lib.PQsocket(self._conn)
        ready = select.select([], [fd], [], timeout) if writing else select.select([fd], [], [], timeout)
        return any(ready)

    def execute(self, sql: str, params: dict | None = None) -> Cursor:
        lib, conn = self._lib, self._conn
        if not conn or lib.PQstatus(conn) == _BAD:
            raise _operational("the connection is lost" if conn else "the connection is closed")  # psycopg's words
        values: list[bytes | None] = []
        if params is not None:
            names: list[str] = []

            def number(match: re.Match) -> str:
                if match.group(1) is None:
                    return "%"
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            sql = _PARAMETER.sub(number, sql)
            values = [None if params[n] is None else str(params[n]).encode(self._encoding) for n in names]
        value_array = (ctypes.c_char_p * max(len(values), 1))(*values)
        if not lib.PQsendQueryParams(conn, sql.encode(self._encoding), len(values), None, value_array, None, None, 0):
            raise self._lost("sending query failed")
        while (flushed := lib.PQflush(conn)) == 1:
            self._wait(True)
        if flushed < 0:
            raise self._lost("sending query failed")
        cursor, error, lost = None, None, None
        while True:
            while lost is None and lib.PQisBusy(conn):
                self._wait(False)
                if not lib.PQconsumeInput(conn):
                    # The connection is gone; what the server said before it went (a FATAL error,
                    # e.g. AdminShutdown) is still among the results, and is what psycopg raises.
                    lost = self._lost("consuming input failed")
            result = lib.PQgetResult(conn)
            if not result:
                break
            try:
                status = lib.PQresultStatus(result)
                if status == _TUPLES_OK:
                    cursor = self._read(result)
                elif status == _COMMAND_OK:
                    cursor = Cursor(None, [])
                elif error is None:
                    error = _result_error(result, self._encoding)
            finally:
                lib.PQclear(result)
        if error is not None:
            raise error
        if lost is not None:
            raise lost
        return cursor or Cursor(None, [])

    def _read(self, result) -> Cursor:
        lib = self._lib
        fields = range(lib.PQnfields(result))
        names = [lib.PQfname(result, c).decode(self._encoding) for c in fields]
        convert = [_converter(lib.PQftype(result, c), self._encoding) for c in fields]
        rows = []
        for r in range(lib.PQntuples(result)):
            row = []
            for c in fields:
                if lib.PQgetisnull(result, r, c):
                    row.append(None)
                else:
                    row.append(convert[c](ctypes.string_at(lib.PQgetvalue(result, r, c), lib.PQgetlength(result, r, c))))
            rows.append(tuple(row))
        return Cursor([Column(n) for n in names], rows)

    def _lost(self, what: str):
        return _operational(f"{what}: {_clean(self._lib.PQerrorMessage(self._conn), self._encoding)}")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn:
            self._lib.PQfinish(conn)


def _connect_timeout(url: str) -> float | None:
    """Seconds a connection may take, by psycopg's rule (psycopg.conninfo.timeout_from_conninfo):
    connect_timeout, else PGCONNECT_TIMEOUT, else 130; none or 0 is 130, and at least 2."""
    from urllib.parse import parse_qs, urlsplit

    value = parse_qs(urlsplit(url).query).get("connect_timeout", [os.environ.get("PGCONNECT_TIMEOUT")])[-1]
    try:
        seconds = int(float(value)) if value is not None else _DEFAULT_CONNECT_TIMEOUT
    except ValueError:
        return None  # psycopg refuses such a value (libpq would not)
    return _DEFAULT_CONNECT_TIMEOUT if seconds <= 0 else max(seconds, 2)


class _Refused(Exception):
    """libpq did not connect: its message, or None when the time ran out."""


def connect(url: str):
    """A connection to the server of a libpq URL: a Connection, whose interface psycopg's shares.

    A connection libpq refuses is tried once more through psycopg, the reference for why a
    connection fails (it resolves host names and tries each address itself, and says so in its
    own words): its exception, or, if the server answers it after all, its connection in
    autocommit (the caller opens the transaction, as it does on a Connection). Only a timeout is
    not waited for twice: it raises what psycopg raises then.
    """
    if _connect_timeout(url) is not None:  # else psycopg refuses the URL: let it say how
        try:
            return Connection(url)
        except _Refused as refused:
            if refused.args[0] is None:
                import psycopg

                raise psycopg.errors.ConnectionTimeout("connection timeout expired") from None
    import psycopg

    return psycopg.connect(url, autocommit=True)
