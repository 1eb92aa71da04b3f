"""The embedded server on a shared machine: reachable by the account running dwh and nobody else.

Where a point is about other users, the attacker is a second OS account made for the test (the
tests run as root in CI); those tests are skipped when not root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

import loader
from loader.embedded import SERVER_ACCOUNT, Cluster, embedded_server, server_pid_alive
from loader.unchanged import bundled_psql

SOURCE_ROOT = Path(loader.__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DWH_HOME")}
    env.update(extra)
    return env


def _dwh(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader", *args], env=env, capture_output=True, text=True, timeout=timeout)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _world_traversable_dir() -> Path:
    """A folder of the test's own that other accounts may enter (as /tmp/p would be)."""
    folder = Path(tempfile.mkdtemp(prefix="dwh-shared-"))
    folder.chmod(0o755)
    return folder


class Account:
    """A second OS account, and how to run Python, dwh and psql as it."""

    def __init__(self, name: str, python: str):
        self.name = name
        self.python = python

    def run(self, command: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{SOURCE_ROOT}:{sysconfig.get_paths()['purelib']}", "HOME": "/nonexistent"}
        return subprocess.run(
            ["runuser", "-u", self.name, "--", "env", "-i", *[f"{k}={v}" for k, v in {**base, **(env or {})}.items()], *command],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def dwh(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        return self.run([self.python, "-m", "loader", *args], env=env, timeout=300)


@pytest.fixture(scope="session")
def other_account():
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("needs root to make a second OS account")
    name = f"dwht{uuid.uuid4().hex[:8]}"
    for attempt in range(10):  # useradd fails while another process holds /etc/passwd's lock
        made = subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name], capture_output=True, text=True)
        if made.returncode == 0:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"useradd {name}: {made.stderr}")
    try:
        # The account needs a Python that can import dwh: ours may live in a folder only root enters.
        candidates = [sys.executable, os.path.realpath(sys.executable), f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
        for python in candidates:
            account = Account(name, python)
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                if account.run([python, "-c", "import loader.cli, psycopg, sqlalchemy"]).returncode == 0:
                    yield account
                    break
        else:
            pytest.skip("no Python that the second account may run")
    finally:
        for attempt in range(10):
            if subprocess.run(["userdel", name], capture_output=True).returncode in (0, 6):  # 6: no such user
                break
            time.sleep(0.5)


def _socket_dir(home: Path) -> Path:
    return Path((home / "pgdata" / "postmaster.pid").read_text().splitlines()[4])


def _server_uid() -> int:
    """Who runs the server: the account running dwh, or as root the unprivileged dwh-postgres."""
    return pwd.getpwnam(SERVER_ACCOUNT).pw_uid if os.geteuid() == 0 else os.geteuid()


# ------------------------------------------------------------------ folders


def test_dwh_home_is_private_and_folders_it_did_not_create_keep_their_mode(tmp_path):
    parent = tmp_path / "p"
    parent.mkdir(mode=0o700)
    home = parent / "s" / "dwh"
    done = _dwh("status", env=_env(DWH_HOME=str(home)))
    assert done.returncode == 0, done.stderr
    assert _mode(parent) == 0o700 and parent.stat().st_uid == os.geteuid()
    assert _mode(parent / "s") == 0o700 and _mode(home) == 0o700
    for entry in home.iterdir():
        assert _mode(entry) == (0o700 if entry.is_dir() else 0o600), entry
    assert not server_pid_alive(home)


def test_default_dwh_home_leaves_the_home_folder_as_it_was(tmp_path):
    """As root the default DWH_HOME is under /root; /root must stay 0700."""
    user_home = tmp_path / "root"
    user_home.mkdir(mode=0o700)
    env = _env(HOME=str(user_home))
    env.pop("XDG_DATA_HOME", None)
    done = _dwh("status", env=env)
    assert done.returncode == 0, done.stderr
    assert _mode(user_home) == 0o700
    assert _mode(user_home / ".local") == 0o700 and _mode(user_home / ".local" / "share" / "dwh" / "pgdata") == 0o700
    assert not server_pid_alive(user_home / ".local" / "share" / "dwh")


@pytest.mark.parametrize("length", [20, 200])
def test_socket_is_private_and_there_is_no_tcp_listener(length):
    """A DWH_HOME too long for a socket path gets a private 0700 socket folder, removed at the end."""
    import psutil

    base = _world_traversable_dir()
    home = base / ("h" * length) / "dwh"
    try:
        with embedded_server(home) as url:
            folder = _socket_dir(home)
            assert _mode(folder) == 0o700 and folder.stat().st_uid == _server_uid()
            if os.geteuid() == 0:  # the sandbox's own folder, whatever DWH_HOME's length
                assert folder.parent.name.startswith("dwh-server-") and _mode(folder.parent) == 0o711 and folder.parent.stat().st_uid == 0
            else:
                assert folder == home / "run" if length == 20 else not folder.is_relative_to(home)
            pid = int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
            assert psutil.Process(pid).net_connections(kind="inet") == []
            with psycopg.connect(url) as conn:
                assert conn.execute("show listen_addresses").fetchone() == ("",)
        assert not server_pid_alive(home)
        assert not folder.exists() or folder == home / "run"
    finally:
        shutil.rmtree(base)


def test_dwh_home_that_is_a_file_is_one_line_exit_3(tmp_path):
    (tmp_path / "file").write_text("x")
    for home in (tmp_path / "file", tmp_path / "file" / "dwh"):
        done = _dwh("status", env=_env(DWH_HOME=str(home)))
        assert done.returncode == 3
        assert done.stderr == f"dwh: error: DWH_HOME {home} cannot be used: {tmp_path / 'file'} is not a folder; set DWH_HOME to a folder or give --database-url\n"


def test_dwh_home_with_an_unwritable_parent_is_one_line_exit_3(other_account):
    base = _world_traversable_dir()
    (base / "closed").mkdir(mode=0o700)
    try:
        done = other_account.dwh("status", env={"DWH_HOME": str(base / "dwh")})
        assert done.returncode == 3, done.stderr
        assert done.stderr == (
            f"dwh: error: cannot create DWH_HOME {base / 'dwh'}: Permission denied ({base / 'dwh'}); "
            "set DWH_HOME to a folder you may write or give --database-url\n"
        )
        done = other_account.dwh("status", env={"DWH_HOME": str(base / "closed" / "dwh")})
        assert done.returncode == 3, done.stderr
        assert done.stderr == (
            f"dwh: error: cannot reach DWH_HOME {base / 'closed' / 'dwh'}: Permission denied ({base / 'closed' / 'dwh'}); "
            "set DWH_HOME to a folder you may write or give --database-url\n"
        )
    finally:
        shutil.rmtree(base)


def test_root_that_cannot_hand_the_server_to_its_account_is_one_line_exit_3(tmp_path):
    """PostgreSQL refuses root and dwh lends it no root: where the server's account cannot be used, dwh says so.

    Root of a user namespace that maps only uid 0 cannot give pgdata to dwh-postgres.
    (It used to be: a system that refuses user namespaces, the way root's server dropped root then.)
    """
    inside = ["unshare", "--user", "--map-root-user"]
    if os.geteuid() != 0 or not shutil.which("unshare") or subprocess.run([*inside, "true"], capture_output=True).returncode != 0:
        pytest.skip("needs root and a user namespace")
    Cluster(tmp_path).account  # the account exists before: inside, useradd could not make it
    done = subprocess.run([*inside, sys.executable, "-m", "loader", "status"], env=_env(DWH_HOME=str(tmp_path / "dwh")), capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stderr == (
        f"dwh: error: PostgreSQL does not run as root and dwh could not give {tmp_path / 'dwh' / 'pgdata'} to the account dwh-postgres "
        "that runs it: Invalid argument; run dwh as an ordinary user or give --database-url\n"
    )
    assert not (tmp_path / "dwh" / "pgdata" / "PG_VERSION").exists()


# ------------------------------------------------------------------ other accounts


@pytest.mark.parametrize("length", [20, 200])
def test_another_account_cannot_reach_the_server(other_account, length):
    base = _world_traversable_dir()
    home = base / ("h" * length) / "dwh"
    probe = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print(type(e).__name__)"
    try:
        with embedded_server(home):
            socket_file = _socket_dir(home) / ".s.PGSQL.5432"
            assert socket_file.is_socket()
            done = other_account.run([other_account.python, "-c", probe, str(socket_file)])
            assert done.stdout.strip() == "PermissionError", done.stdout + done.stderr
            psql = other_account.run([str(bundled_psql()), "-X", "-h", str(socket_file.parent), "-U", "postgres", "-d", "dwh", "-c", "select 1"])
            assert psql.returncode != 0 and "Permission denied" in psql.stderr, psql.stderr
            for entry in [home, *home.iterdir()]:
                assert _mode(entry) & 0o077 == 0, entry
    finally:
        shutil.rmtree(base)


@pytest.mark.parametrize("length", [20, 200])
def test_another_accounts_dwh_runs_beside_ours_with_locks_of_its_own(other_account, length):
    """The wheel's one /tmp/.lockfile, made 0644 by whoever came first, stopped the second account."""
    base = _world_traversable_dir()
    theirs = base / "theirs"
    theirs.mkdir()
    theirs.chmod(0o755)
    shutil.chown(theirs, other_account.name)
    home = theirs / ("t" * length) / "dwh"
    try:
        with embedded_server(base / "ours" / "dwh"):
            done = other_account.dwh("status", env={"DWH_HOME": str(home)})
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("schema revision: none (run dwh load)")
        owner = theirs.stat().st_uid
        for name in ("server.lock", "users.lock", "pgpass"):
            lock = home / name
            assert lock.stat().st_uid == owner and _mode(lock) == 0o600
        assert _mode(home) == 0o700 and _mode(theirs) == 0o755
        assert not server_pid_alive(home)
    finally:
        shutil.rmtree(base)


def test_the_server_asks_every_login_for_its_password(tmp_path):
    """What `dwh serve` forwards to is refused by the server itself without the right password."""
    home = tmp_path / "dwh"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}  # no ~/.pgpass, no PGPASSFILE
    with embedded_server(home) as url:
        folder = str(_socket_dir(home))
        for user, password in [("postgres", None), ("postgres", "postgres"), ("postgres", "")]:
            extra = {"PGPASSWORD": password} if password is not None else {}
            done = subprocess.run([str(bundled_psql()), "-X", "-w", "-h", folder, "-U", user, "-d", "dwh", "-c", "select 1"],
                                  env={**env, **extra}, capture_output=True, text=True, timeout=60)  # fmt: skip
            assert done.returncode == 2, done.stdout
            assert 'password authentication failed for user "postgres"' in done.stderr or "no password supplied" in done.stderr, done.stderr
        with psycopg.connect(url) as conn:  # dwh itself gets in with the password of its 0600 file
            assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)
        assert "password" not in url.split("passfile=")[0]
        hba = [line.split() for line in (home / "pgdata" / "pg_hba.conf").read_text().splitlines() if line.strip() and not line.startswith("#")]
        assert hba == [["local", "all", "all", "scram-sha-256"]]


def test_a_cluster_made_without_passwords_gets_one(tmp_path):
    """Data folders made by the wheel's life cycle trust every local connection: dwh closes that."""
    home = tmp_path / "dwh"
    home.mkdir(mode=0o700)
    cluster = Cluster(home)
    cluster._check_pgdata()  # as dwh does: pgdata made for the account that runs the server
    cluster.initdb("--auth=trust")
    (home / "server.log").unlink()
    with embedded_server(home) as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("select rolpassword like 'SCRAM-SHA-256$%' from pg_authid where rolname = 'postgres'").fetchone() == (True,)
        done = subprocess.run([str(bundled_psql()), "-X", "-w", "-h", str(_socket_dir(home)), "-U", "postgres", "-d", "dwh", "-c", "select 1"],
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert "no password supplied" in done.stderr, done.stderr
    assert _mode(home / "pgpass") == 0o600


# ------------------------------------------------------------------ sharing one server


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_command_does_not_keep_the_server_running(tmp_path):
    home = tmp_path / "dwh"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time\nfrom pathlib import Path\nfrom loader.embedded import embedded_server\n"
         "with embedded_server(Path(sys.argv[1])):\n print('up', flush=True); time.sleep(600)", str(home)],
        stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "up\n"
        assert server_pid_alive(home)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30
        while server_pid_alive(home) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not server_pid_alive(home)  # the watch process stopped it ...
        watching = lambda: [p for p in Path("/proc").glob("[0-9]*") if f"loader.embedded {home}" in _cmdline(p)]  # noqa: E731
        while watching() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not watching()  # ... and ended with it
    finally:
        holder.kill()
        with contextlib.suppress(Exception):
            Cluster(home).stop()


# ------------------------------------------------------------------ no secret on a command line


class CommandLines:
    """Samples every process's command line while it runs, as `ps` shows them to any user."""

    def __init__(self):
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        self.seen.add((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def wait_for(self, fragment: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in list(self.seen) if fragment in c]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no process with {fragment!r} in its command line")


@contextlib.contextmanager
def _load_history_locked(url: str):
    """Make the unchanged-data check (psql) wait, so that its command line can be looked at."""
    with psycopg.connect(url) as conn:
        conn.execute("lock table dwh.load_history in access exclusive mode")
        yield
        conn.rollback()


def _run_while_psql_waits(command: list[str], env: dict[str, str], url: str, lines: CommandLines) -> subprocess.CompletedProcess:
    with _load_history_locked(url):
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # psql of the unchanged-data check (its first question, the last load's hash), waiting for
        # the lock; the URL it connects to is on its command line, the password must not be.
        lines.wait_for(" -A -t -d ")
        time.sleep(0.2)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def test_no_password_on_any_command_line_with_a_database_url(databases, loaded_db):
    """The password of DATABASE_URL goes to psql through its environment, never its arguments."""
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    parsed = sa.engine.make_url(url)
    if "passfile" in parsed.query:  # the embedded server: use its real password, in the URL
        secret = Path(parsed.query["passfile"]).read_text().strip().rsplit(":", 1)[1]
        parsed = parsed.difference_update_query(["passfile"])
    else:  # a server with trust authentication ignores it, but it must not show either
        secret = f"pw{uuid.uuid4().hex}"
    with_password = parsed.set(password=secret).render_as_string(hide_password=False)
    env = _env(DATABASE_URL=with_password)
    with CommandLines() as lines:
        reload = _run_while_psql_waits([sys.executable, "-m", "loader", "load"], env, url, lines)
        forced = _dwh("load", "--force", env=env)
        status = _dwh("status", env=env)
    assert reload.returncode == 0 and reload.stdout.startswith("unchanged"), reload.stderr
    assert forced.returncode == 0 and status.returncode == 0, forced.stderr + status.stderr
    assert [c for c in lines.seen if secret in c] == []


def test_no_password_on_any_command_line_with_the_embedded_server(tmp_path):
    home = tmp_path / "dwh"
    env = _env(DWH_HOME=str(home))
    with CommandLines() as lines:
        first = _dwh("load", env=env)
        assert first.returncode == 0, first.stderr
        with embedded_server(home) as url:
            reload = _run_while_psql_waits([sys.executable, "-m", "loader", "load"], env, url, lines)
        status = _dwh("status", env=env)
    secret = (home / "pgpass").read_text().strip().rsplit(":", 1)[1]
    assert len(secret) >= 32
    assert reload.returncode == 0 and reload.stdout.startswith("unchanged"), reload.stderr
    assert status.returncode == 0, status.stderr
    assert [c for c in lines.seen if secret in c] == []
    assert secret not in (home / "server.log").read_text()


# ------------------------------------------------------------------ dwh serve


@contextlib.contextmanager
def _serving(home: Path, *args: str, env_extra: dict[str, str] | None = None):
    env = _env(DWH_HOME=str(home), **(env_extra or {}))
    serve = subprocess.Popen([sys.executable, "-m", "loader", "serve", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [serve.stdout.readline() for _ in range(4)]
        assert lines[0].startswith(f"serving database dwh of the embedded server in {home} on 127.0.0.1:"), "".join(lines) + serve.stderr.read()
        yield lines
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=60)
    assert serve.returncode == 0
    assert not server_pid_alive(home)


def _fields(lines: list[str]) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in lines[1].split(","))


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("served") / "dwh"
    done = _dwh("load", env=_env(DWH_HOME=str(home)))
    assert done.returncode == 0, done.stderr
    return home


def test_serve_admits_only_its_reader_with_its_password(loaded_home, other_account):
    psql = str(bundled_psql())
    with _serving(loaded_home, "--password-env", "SERVE_PW", env_extra={"SERVE_PW": "only-this-one"}) as lines:
        fields = _fields(lines)
        assert fields["password"] == "only-this-one" and fields["user"] == "reader" and fields["database"] == "dwh"
        assert lines[3].strip() == "the login may read the report views and the dwh tables of database dwh, nothing else"
        port = fields["port"]

        def attempt(user: str, password: str | None, sql: str = "select current_user") -> subprocess.CompletedProcess:
            env = {"PGPASSWORD": password} if password is not None else {}
            return other_account.run([psql, "-X", "-At", "-w", "-h", "127.0.0.1", "-p", port, "-U", user, "-d", "dwh", "-c", sql], env=env)

        for user, password in [("postgres", None), ("postgres", ""), ("postgres", "anything"), ("dwh_reader", "x"), ("pg_monitor", "x")]:
            done = attempt(user, password)
            assert done.returncode == 2 and done.stdout == "", (user, password, done.stdout)
            assert 'FATAL:  dwh serve admits only the login "reader" to database "dwh"' in done.stderr, done.stderr
        for password in ("reader", "", None):  # the server itself checks the reader's password
            done = attempt("reader", password)
            assert done.returncode == 2 and done.stdout == "", (password, done.stdout)
            assert 'password authentication failed for user "reader"' in done.stderr or "no password supplied" in done.stderr, done.stderr
        other_database = other_account.run([psql, "-X", "-w", "-h", "127.0.0.1", "-p", port, "-U", "reader", "-d", "postgres", "-c", "select 1"], env={"PGPASSWORD": "only-this-one"})
        assert 'admits only the login "reader" to database "dwh"' in other_database.stderr, other_database.stderr
        done = attempt("reader", "only-this-one", 'select current_user, (select "CMW" from report.t1_totaal)')
        assert done.stdout.strip() == "reader|1010", done.stderr
        done = attempt("reader", "only-this-one", "copy (select 1) to program 'id'")
        assert "permission denied" in done.stderr, done.stderr
    assert "only-this-one" not in (loaded_home / "server.log").read_text()


def test_serve_makes_a_new_password_each_time(loaded_home):
    passwords = []
    for _ in range(2):
        with _serving(loaded_home) as lines:
            passwords.append(_fields(lines)["password"])
            port = _fields(lines)["port"]
            url = f"postgresql://reader:{passwords[-1]}@127.0.0.1:{port}/dwh"
            with psycopg.connect(url) as conn:
                assert conn.execute('select "LDE" from report.t1_totaal').fetchone() == (2320,)
    assert passwords[0] != passwords[1] and min(len(p) for p in passwords) >= 20


def test_serve_on_a_port_in_use_is_one_line_exit_3(loaded_home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _dwh("serve", "--port", str(port), env=_env(DWH_HOME=str(loaded_home)))
    assert done.returncode == 3
    assert done.stderr == f"dwh: error: port {port} on 127.0.0.1 is in use; choose another with --port, or leave --port out for a free one\n"
    assert not server_pid_alive(loaded_home)
