"""`dwh serve`: the embedded PostgreSQL on 127.0.0.1 for psql and BI tools.

The embedded server listens only on a Unix socket in a folder private to the account running
dwh (that is what lets several `dwh` commands share it). `serve` joins that server like any other
command and forwards a TCP port on 127.0.0.1 to the socket, so the server's life cycle stays
loader.embedded's: it stops when the last command using it, `serve` included, ends.

Anyone on the machine can reach the forwarded port, so the server itself must turn strangers
away: its pg_hba.conf asks every login for a password (scram-sha-256), the superuser's is random
and kept in a 0600 file under DWH_HOME, and the reader login's is random per serve unless the
user gives one. The forwarder also reads each client's startup message and passes on only the
reader login asking for the served database.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import secrets
import signal
import socket
import struct
from collections.abc import Callable
from pathlib import Path

from loader.errors import DatabaseUnavailable

READER_LOGIN = "reader"


def new_password() -> str:
    """A random password for the reader login (URL-safe, so it can stand in a connection URL)."""
    return secrets.token_urlsafe(18)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


# Codes of the first message a PostgreSQL client sends (protocol 3, "Message Formats").
_SSL_REQUEST, _GSSENC_REQUEST, _CANCEL_REQUEST = 80877103, 80877104, 80877102
_MAX_STARTUP = 10000


async def _startup(client_reader, client_writer) -> tuple[bytes, dict[str, str] | None]:
    """The client's startup message and its parameters (None for a cancel request).

    Encryption requests are declined here, as the server would: it has no certificate.
    """
    while True:
        head = await client_reader.readexactly(8)
        length, code = struct.unpack("!ii", head)
        if not 8 <= length <= _MAX_STARTUP:
            raise ValueError("not a PostgreSQL startup message")
        body = await client_reader.readexactly(length - 8)
        if code in (_SSL_REQUEST, _GSSENC_REQUEST):
            client_writer.write(b"N")
            await client_writer.drain()
            continue
        if code == _CANCEL_REQUEST:
            return head + body, None
        if code >> 16 != 3:
            raise ValueError("not protocol 3")
        items = [item.decode("utf-8", "replace") for item in body.split(b"\0")]
        return head + body, {key: value for key, value in zip(items[0::2], items[1::2]) if key}


def _refusal(message: str) -> bytes:
    """An ErrorResponse (FATAL, invalid_authorization_specification), as the server sends one."""
    fields = b"SFATAL\0VFATAL\0C28000\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


async def _forward(socket_path: str, login: str, database: str, client_reader, client_writer) -> None:
    """Forward one client to the server if it asks for ``login`` on ``database``.

    The server checks the password; turning away every other login and database here as well
    keeps the port from being a way in for any other role, should one ever lack a password.
    """
    try:
        startup, params = await _startup(client_reader, client_writer)
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        client_writer.close()
        return
    if params is not None and (params.get("user") != login or params.get("database", params.get("user")) != database):
        client_writer.write(_refusal(f'dwh serve admits only the login "{login}" to database "{database}"'))
        with contextlib.suppress(ConnectionError):
            await client_writer.drain()
        client_writer.close()
        return
    try:
        server_reader, server_writer = await asyncio.open_unix_connection(socket_path)
    except OSError:
        client_writer.close()
        return
    server_writer.write(startup)
    await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))


async def forward_tcp(socket_path: str, port: int, ready: Callable[[int], None], login: str, database: str) -> None:
    """Serve 127.0.0.1:port (0: any free port) for ``login`` on ``database`` until SIGINT or SIGTERM."""
    try:
        server = await asyncio.start_server(lambda r, w: _forward(socket_path, login, database, r, w), "127.0.0.1", port, family=socket.AF_INET)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DatabaseUnavailable(f"port {port} on 127.0.0.1 is in use; choose another with --port, or leave --port out for a free one") from exc
        raise DatabaseUnavailable(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another port with --port") from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()
    server.close()
    await server.wait_closed()


def socket_path(libpq_url: str) -> str:
    """The Unix socket file of an embedded server URL (postgresql://user@/db?host=/dir&...)."""
    from sqlalchemy.engine import make_url

    directory = Path(make_url(libpq_url).query["host"])
    sockets = sorted(p for p in directory.glob(".s.PGSQL.*") if p.suffix != ".lock")
    if not sockets:
        raise FileNotFoundError(f"no PostgreSQL socket in {directory}")
    return str(sockets[0])
