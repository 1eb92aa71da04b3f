"""The one place that decides which database `dwh`, Alembic and the tests talk to."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from loader.errors import InputError


def database_url(cli_value: str | None = None) -> str | None:
    """The URL the user asked for: ``--database-url``, else ``DATABASE_URL``, else None.

    None means: use the embedded PostgreSQL under :func:`dwh_home`.
    """
    value = cli_value or os.environ.get("DATABASE_URL") or None
    return value


@contextlib.contextmanager
def resolved_url(cli_value: str | None = None) -> Iterator[str]:
    """The libpq URL to use; with none configured, start (or join) the embedded server for the block."""
    url = database_url(cli_value)
    if url is not None:
        yield url
        return
    from loader.embedded import embedded_server

    with embedded_server(dwh_home()) as embedded_url:
        yield embedded_url


@contextlib.contextmanager
def connected(cli_value: str | None, connect: Callable[[str], object]) -> Iterator:
    """``connect(url)`` of the configured database, closed after the block; with none configured, of
    the embedded server, started (or joined) for the block, in one login (loader.embedded.embedded_connection)."""
    url = database_url(cli_value)
    if url is None:
        from loader.embedded import embedded_connection

        with embedded_connection(dwh_home(), connect) as conn:
            yield conn
        return
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()


def sqlalchemy_url(url: str):
    """Turn a libpq URL (``postgresql://`` or ``postgres://``) into the psycopg 3 dialect's URL."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a long text
        raise InputError(f"database URL {redact(url)!r} is not a URL (expected postgresql://user:pass@host:port/db)") from exc
    if parsed.get_backend_name() != "postgresql":
        raise InputError(f"database URL {redact(url)!r} is not PostgreSQL (expected postgresql://user:pass@host:port/db)")
    return parsed.set(drivername="postgresql+psycopg")


def libpq_url(url: str) -> str:
    """The URL as libpq (psycopg) takes it, checked as sqlalchemy_url checks it, without importing SQLAlchemy."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme or not rest:
        raise InputError(f"database URL {redact(url)!r} is not a URL (expected postgresql://user:pass@host:port/db)")
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise InputError(f"database URL {redact(url)!r} is not PostgreSQL (expected postgresql://user:pass@host:port/db)")
    return f"postgresql://{rest}"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return split_password(url)[0]
    except ValueError:
        return "<unparsable URL>"


def describe_target(cli_value: str | None = None) -> str:
    """Which database a command uses, for its output: the URL without its password, or the embedded
    server's data folder."""
    url = database_url(cli_value)
    if url is None:
        return f"the embedded server in {dwh_home()}"
    return redact(url)


def split_password(libpq_url: str) -> tuple[str, str | None]:
    """The URL without its password (given as user:password@ or ?password=), and the password.

    Standard library only: the unchanged-data check (loader.unchanged) and the messages of
    `dwh load` use it before SQLAlchemy is imported. The rest of the URL is kept as written.
    """
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(libpq_url)
    if not parts.scheme or not libpq_url.startswith(f"{parts.scheme}://"):
        raise ValueError("not a URL of the form scheme://...")  # nothing here to tell apart safely
    password = None
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, quoted = userinfo.partition(":")
    if at and colon:
        password = unquote(quoted)
    kept = []
    for segment in parts.query.split("&"):
        key, _, value = segment.partition("=")
        if key == "password":
            password = unquote(value)  # libpq decodes %XX only, not "+"
        elif segment:
            kept.append(segment)
    netloc = f"{user}@{hostport}" if at else hostport
    # By hand, not urlunsplit, which drops an empty host ("postgresql:///dwh").
    bare = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{'&'.join(kept)}" if kept else "")
    return bare, password


def dwh_home() -> Path:
    """Where the embedded PostgreSQL keeps its data: ``DWH_HOME`` or the user's data directory."""
    configured = os.environ.get("DWH_HOME")
    if configured:
        return Path(configured).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("dwh", appauthor=False))
