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

Nor may a stranger without the password exhaust what the owner needs: the forwarder opens at most
a few server connections at once (below the server's slots, room kept for the owner's own
commands over the socket), gives each client LOGIN_TIMEOUT seconds to log in, and bounds the
sockets it accepts. What a logged-in reader may use (disk for temporary files, sessions, time) is
bounded by the settings of its login (loader.roles.READER_SETTINGS); loader.warden holds its
sessions to the timeouts among them, which a session may change for itself, and bounds the server
memory they hold. One serve at a time per DWH_HOME: a second one would set the reader's password
anew under the clients of the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import secrets
import signal
import socket
import struct
from collections.abc import Callable, Iterator
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

#: Seconds from connecting to being logged in (startup message, password exchange, server ready).
#: Until then a client holds a server slot without having proved anything; PostgreSQL's own
#: authentication_timeout is 60 s. A client asking its user for a password does so between two
#: connections (libpq's "no password supplied", then a retry), not during one.
LOGIN_TIMEOUT = 10.0
#: Server slots kept free of served connections for the owner's own commands (load, status, the
#: watch process), beyond those PostgreSQL keeps for superusers. A connection that has not logged
#: in holds a slot even of those (the server learns who it is only after the password), so only a
#: cap on what the forwarder opens keeps the owner's slots free.
OWNER_ROOM = 5
#: Clients accepted beyond the cap on served connections: until they send their startup message
#: (within LOGIN_TIMEOUT), or to be told "too many" and closed; past that, clients wait in the
#: listen backlog. Bounds the file descriptors the forwarder uses (about 60, under the 128 of a
#: tight `ulimit -n`).
_OVERFLOW = 32
#: After running out of file descriptors: seconds before accepting again.
_ACCEPT_RETRY = 1.0
#: Seconds between two warnings of the same kind on serve's stderr (here and loader.warden's).
WARN_EVERY = 60.0
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


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


async def _relay_login(server_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> bool:
    """Pass the server's messages to the client until it is ready for queries (True) or refuses (False)."""
    while True:
        head = await server_reader.readexactly(5)  # type byte and length (protocol 3)
        (length,) = struct.unpack("!i", head[1:])
        if length < 4:
            raise ValueError("not a PostgreSQL message")
        client_writer.write(head + await server_reader.readexactly(length - 4))
        await client_writer.drain()
        if head[:1] == b"Z":  # ReadyForQuery: logged in
            return True
        if head[:1] == b"E":  # an error before login is always FATAL: the server closes
            return False


def _refusal(message: str, code: str = "28000") -> bytes:
    """An ErrorResponse (FATAL; invalid_authorization_specification unless ``code``), as the server sends one."""
    fields = b"SFATAL\0VFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


class Forwarder:
    """Forwards clients of a TCP port to the server's Unix socket, for one login on one database.

    What a client that never proves anything can take is bounded: at most ``cap`` server
    connections (below the server's slots, OWNER_ROOM kept free), each for at most LOGIN_TIMEOUT
    seconds until it has logged in, and at most ``cap`` + _OVERFLOW client sockets.
    """

    def __init__(self, socket_path: str, login: str, database: str, cap: int, warn: Callable[[str], None]):
        self.socket_path, self.login, self.database, self.cap, self.warn = socket_path, login, database, cap, warn
        #: Clients with a server connection (logging in or logged in).
        self.sessions = 0

    async def serve(self, listener: socket.socket, stop: asyncio.Event) -> None:
        """Accept clients on ``listener`` until ``stop`` is set; then end every forwarded connection."""
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        room = asyncio.Semaphore(self.cap + _OVERFLOW)
        clients: set[asyncio.Task] = set()

        def done(task: asyncio.Task) -> None:
            clients.discard(task)
            room.release()

        async def accept() -> None:
            warned = None
            while True:
                await room.acquire()
                try:
                    client, _ = await loop.sock_accept(listener)
                except OSError as exc:
                    room.release()
                    if exc.errno not in _OUT_OF_RESOURCES:
                        raise
                    # asyncio's own accept loop logs a traceback for every try here (100 a tick,
                    # and more every second): say it once a minute and wait for a descriptor.
                    if warned is None or loop.time() - warned >= WARN_EVERY:
                        warned = loop.time()
                        self.warn(f"cannot accept a connection: {exc.strerror}; new clients wait until connections close")
                    await asyncio.sleep(_ACCEPT_RETRY)
                    continue
                task = asyncio.create_task(self._client(client))
                clients.add(task)
                task.add_done_callback(done)

        accepting, stopping = asyncio.create_task(accept()), asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([accepting, stopping], return_when=asyncio.FIRST_COMPLETED)
            if accepting.done():
                accepting.result()  # an unexpected accept error
        finally:
            stopping.cancel()
            accepting.cancel()
            for task in list(clients):
                task.cancel()
            await asyncio.gather(accepting, *clients, return_exceptions=True)

    async def _client(self, client: socket.socket) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=client)
        except OSError:
            client.close()
            return
        try:
            await self._forward(reader, writer)
        except OSError:
            pass  # the client or the server went away, or no descriptor was left: this client only
        finally:
            writer.close()

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        """Forward one client to the server if it asks for the login on the database, within the limits.

        The server checks the password; turning away every other login and database here as well
        keeps the port from being a way in for any other role, should one ever lack a password.
        """
        deadline = asyncio.get_running_loop().time() + LOGIN_TIMEOUT
        try:
            async with asyncio.timeout_at(deadline):
                startup, params = await _startup(client_reader, client_writer)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError):
            return
        if params is not None and (params.get("user") != self.login or params.get("database", params.get("user")) != self.database):
            await self._refuse(client_writer, _refusal(f'dwh serve admits only the login "{self.login}" to database "{self.database}"'))
            return
        if self.sessions >= self.cap:
            message = f"sorry, dwh serve has {self.cap} connections open, as many as it serves; try again when one closes"
            await self._refuse(client_writer, _refusal(message, "53300"))  # too_many_connections
            return
        self.sessions += 1
        try:
            await self._session(startup, deadline, client_reader, client_writer)
        finally:
            self.sessions -= 1

    async def _session(self, startup: bytes, deadline: float, client_reader, client_writer) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                server_reader, server_writer = await asyncio.open_unix_connection(self.socket_path)
        except (TimeoutError, OSError):
            return
        server_writer.write(startup)
        upstream = asyncio.create_task(_pipe(client_reader, server_writer))
        try:
            async with asyncio.timeout_at(deadline):
                logged_in = await _relay_login(server_reader, client_writer)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError, ConnectionError):
            logged_in = False
        if not logged_in:
            upstream.cancel()
            await asyncio.gather(upstream, return_exceptions=True)
            server_writer.close()
            return
        await asyncio.gather(upstream, _pipe(server_reader, client_writer))

    @staticmethod
    async def _refuse(writer: asyncio.StreamWriter, message: bytes) -> None:
        writer.write(message)
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(1.0):  # a client that reads nothing does not keep its socket
                await writer.drain()


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port (0: any free port).

    Bound before the reader login is touched, so that a port in use changes nothing.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio does: a restart need not wait for TIME_WAIT
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise DatabaseUnavailable(f"port {port} on 127.0.0.1 is in use; choose another with --port, or leave --port out for a free one") from exc
        raise DatabaseUnavailable(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another port with --port") from exc
    return listener


async def forward_tcp(listener: socket.socket, forwarder: Forwarder, ready: Callable[[int], None]) -> None:
    """Forward clients of ``listener`` until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ready(listener.getsockname()[1])
    await forwarder.serve(listener, stop)


def connection_cap(conn) -> int:
    """How many connections `dwh serve` forwards at once: the reader's limit, less where the server has fewer slots.

    Slots are max_connections less those PostgreSQL keeps for superusers and roles with
    pg_use_reserved_connections (PostgreSQL 16), less OWNER_ROOM for the owner's commands.
    """
    import sqlalchemy as sa

    from loader.roles import READER_CONNECTION_LIMIT

    slots = conn.execute(
        sa.text(
            "select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
            " - coalesce(current_setting('reserved_connections', true)::int, 0)"
        )
    ).scalar_one()
    if slots - OWNER_ROOM < 1:
        raise DatabaseUnavailable(
            f"the embedded server has {slots} connection slots for ordinary logins and dwh serve keeps {OWNER_ROOM} of them for "
            "your own commands; raise max_connections in its postgresql.conf"
        )
    return min(READER_CONNECTION_LIMIT, slots - OWNER_ROOM)


@contextlib.contextmanager
def only_serve(home: Path) -> Iterator[Callable[[int], None]]:
    """Hold ``serve.lock`` under DWH_HOME while serving; refuse (exit 3) when another `dwh serve` holds it.

    A second serve would set the reader's password anew and so lock out the clients of the one
    running. The lock is a flock, released by the kernel however serve ends. Yields a function
    that notes the served port in the file, for the message a second serve gives.
    """
    from loader.embedded import _private_file

    path = home / "serve.lock"
    fd = _private_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            held = os.pread(fd, 200, 0).decode("ascii", "replace").split()
            where = f" (pid {held[0]}, port {held[1]})" if len(held) == 2 else ""
            raise DatabaseUnavailable(
                f"dwh serve already runs for {home}{where}; connect with the login it printed, or stop it first"
            ) from None

        def note(port: int) -> None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {port}\n".encode(), 0)

        try:
            yield note
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def socket_path(libpq_url: str) -> str:
    """The Unix socket file of an embedded server URL (postgresql://user@/db?host=/dir&...)."""
    from sqlalchemy.engine import make_url

    directory = Path(make_url(libpq_url).query["host"])
    sockets = sorted(p for p in directory.glob(".s.PGSQL.*") if p.suffix != ".lock")
    if not sockets:
        raise FileNotFoundError(f"no PostgreSQL socket in {directory}")
    return str(sockets[0])
