"""`dwh serve` under a hostile client on the same machine: what the reader and strangers can take.

Each test reproduces one finding of issue 20 against a real `dwh serve` on the embedded server in
a DWH_HOME of this module's own: the reader filling the disk, turning its timeouts off or raising
work_mem to take the server's memory, a flood of logins that never answer, running out of file
descriptors, and a second serve resetting the first one's password.
Floods are bounded and go to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from loader import roles, serve, warden
from loader.embedded import embedded_server

#: Clients of a flood: more than the server's 100 slots, as in the finding (200).
FLOOD = 200


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A DWH_HOME with the shipped data loaded; its server stops when the last command leaves."""
    home = tmp_path_factory.mktemp("serve") / "home"
    result = subprocess.run([sys.executable, "-m", "loader", "load"], env=_env(home), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return home


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "DWH_HOME": str(home), **extra}


class Served:
    """A running `dwh serve`: its process, port and printed password."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loader", "serve", *args], env=env or _env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        first = self.process.stdout.readline()
        assert first.startswith("serving database dwh"), first + self.process.stderr.read()
        self.port = int(first.split("127.0.0.1:")[1].split()[0])
        self.password = self.process.stdout.readline().split("password ")[1].split(",")[0]

    def url(self, password: str | None = None) -> str:
        return f"postgresql://{serve.READER_LOGIN}:{password or self.password}@127.0.0.1:{self.port}/dwh"

    def stop(self) -> tuple[str, str]:
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return out, err


@pytest.fixture
def served(home):
    running = Served(home)
    yield running
    if running.process.poll() is None:
        running.stop()


def _startup_message(user: str = serve.READER_LOGIN, database: str = "dwh") -> bytes:
    body = struct.pack("!i", 3 << 16) + b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    return struct.pack("!i", len(body) + 4) + body


def _flood(port: int, count: int, silent_every: int = 4) -> list[socket.socket]:
    """``count`` clients of 127.0.0.1:port that send a startup message (every ``silent_every``-th: nothing) and never answer.

    Connects without waiting: past what the forwarder accepts, clients wait in the listen
    backlog or for the SYN to be answered, as a flood's do.
    """
    clients = []
    for _ in range(count):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        clients.append(client)
    talking = [c for i, c in enumerate(clients) if i % silent_every]
    deadline = time.monotonic() + 2
    while talking and time.monotonic() < deadline:
        _, writable, _ = select.select([], talking, [], 0.2)
        for client in writable:
            if client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                client.send(_startup_message())
            talking.remove(client)
    return clients


def _server_backends(home: Path, user: str) -> int:
    """Server processes of ``user`` (logging in or logged in), by their process titles."""
    postmaster = (home / "pgdata" / "postmaster.pid").read_text().split()[0]
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().rpartition(")")[2].split()[1] != postmaster:
                continue
            title = (stat.parent / "cmdline").read_bytes().split(b"\0")[0].decode()
        except (OSError, IndexError):
            continue
        count += title.startswith(f"postgres: {user} ")
    return count


def _closed_by_forwarder(client: socket.socket, within: float) -> bool:
    """Whether the forwarder ended this client's connection (EOF, after any message) within ``within`` seconds."""
    client.settimeout(within)
    try:
        while client.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ disk


def test_the_served_reader_cannot_fill_the_disk(served, home):
    """The finding: 40 `declare ... cursor with hold` with a tiny work_mem filled DWH_HOME's file system."""
    with psycopg.connect(served.url(), autocommit=True) as conn:
        conn.execute("set work_mem = '64kB'")
        with pytest.raises(psycopg.errors.ConfigurationLimitExceeded, match="temp_file_limit"):
            for i in range(40):  # each holds about 30 MB of temporary file once materialized
                conn.execute(f"declare c{i} cursor with hold for select g, repeat('x', 120) from generate_series(1, 200000) g")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("set temp_file_limit = -1")
        assert conn.execute("select current_setting('statement_timeout')").fetchone() == ("30s",)
    assert i < 3  # 64 MB: the third cursor is refused at the latest


def test_a_readers_failing_statements_stay_out_of_the_server_log(served, home):
    """The server log is on the same disk; a reader chooses the text of its failing statements (up to 1 GB each)."""
    mark = "reader-chosen-" + "y" * 1000
    with psycopg.connect(served.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute(f"select '{mark}'::int")
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute(f'select * from "{mark[:60]}"')
    assert "reader-chosen-" not in (home / "server.log").read_text(errors="replace")


@contextlib.contextmanager
def _reader_login_set(home: Path, **settings: str):
    """The reader login's settings changed, as the owner (as a DBA might), and put back after."""
    with embedded_server(home) as url, psycopg.connect(url, autocommit=True) as owner:
        for name, value in settings.items():
            owner.execute(f"alter role {serve.READER_LOGIN} set {name} = '{value}'")
        try:
            yield
        finally:
            for name in settings:
                owner.execute(f"alter role {serve.READER_LOGIN} set {name} = '{roles.READER_SETTINGS[name]}'")


def test_a_reader_that_sets_its_statement_timeout_aside_is_held_to_its_logins(served, home):
    """statement_timeout is a user setting: the reader's `set statement_timeout = 0` turned off the
    login's 30 s. The login is given 2 s here (by its owner) so that the test does not wait 30 s."""
    with _reader_login_set(home, statement_timeout="2s"), psycopg.connect(served.url(), autocommit=True) as conn:
        conn.execute("set statement_timeout = 0")
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled, match="user request"):
            conn.execute("select pg_sleep(60)")
        assert 2 + warden.GRACE <= time.monotonic() - started < 2 + warden.GRACE + 5
        assert conn.execute("select 1").fetchone() == (1,)  # the session itself goes on
    _, err = served.stop()
    assert "past the login's statement_timeout of 2 s" in err


def test_a_reader_that_sets_its_idle_timeout_aside_is_held_to_its_logins(served, home):
    """idle_in_transaction_session_timeout is a user setting too; a transaction left open holds a load's DDL."""
    with _reader_login_set(home, idle_in_transaction_session_timeout="2s"), psycopg.connect(served.url()) as conn:
        conn.execute("set idle_in_transaction_session_timeout = 0")
        conn.execute("select count(*) from report.t1_totaal")  # a transaction is open, and left
        time.sleep(2 + warden.GRACE + 3)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("select 1")
    _, err = served.stop()
    assert "idle in a transaction, past the login's idle_in_transaction_session_timeout of 2 s" in err


def test_a_reader_cannot_take_the_servers_memory(served, home):
    """work_mem is a user setting: with 4 GB of it, one sort would hold 2 GB of the server's memory
    (and ten sessions twenty). The warden cancels the statement past warden.PROCESS_MEMORY."""
    with psycopg.connect(served.url(), autocommit=True) as conn:
        conn.execute("set work_mem = '4GB'")
        conn.execute("set statement_timeout = 0")
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled, match="user request"):
            conn.execute("select count(*) from (select g, md5(g::text) from generate_series(1, 20000000) g order by 2) s")
        assert time.monotonic() - started < 20  # not the 30 s statement_timeout
        time.sleep(1)  # four looks: the cancelled statement's memory went back, so the session is not ended
        assert conn.execute("select 1").fetchone() == (1,)
    _, err = served.stop()
    assert f"MiB of memory, past the bound of {warden.PROCESS_MEMORY >> 20} MiB" in err


# ------------------------------------------------------------------ connections


def test_a_flood_of_logins_that_never_answer_leaves_the_owner_its_slots(served, home):
    """The finding: 200 connections that send a startup packet and never answer took every server slot,
    the superuser's included; `dwh status` and `dwh load` got "sorry, too many clients already"."""
    flood = _flood(served.port, FLOOD)
    try:
        time.sleep(1)
        assert _server_backends(home, serve.READER_LOGIN) <= roles.READER_CONNECTION_LIMIT
        # Asked now, not after the owner's commands: the forwarder drops a client that has not logged
        # in after serve.LOGIN_TIMEOUT, so on a busy machine the flood may be gone by the time they end.
        with pytest.raises(psycopg.OperationalError):  # told "too many", or waiting in the backlog
            psycopg.connect(served.url(), connect_timeout=3)
        # The owner's own commands, over the socket, while the flood holds every connection it may.
        load = subprocess.run([sys.executable, "-m", "loader", "load", "--force"], env=_env(home), capture_output=True, text=True, timeout=120)
        assert load.returncode == 0, load.stderr
        status = subprocess.run([sys.executable, "-m", "loader", "status"], env=_env(home), capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        assert _server_backends(home, serve.READER_LOGIN) <= roles.READER_CONNECTION_LIMIT
    finally:
        for client in flood:
            client.close()
    # What the flood held is given back: its server connections end, and a reader logs in. Closed
    # clients still in the listen backlog are accepted one by one as room frees, each starting a
    # server connection that ends when the forwarder finds its client gone: the count passes
    # through zero before it stays there, so it must stay at zero for a while.
    deadline = time.monotonic() + serve.LOGIN_TIMEOUT + 10
    zero_since = None
    while time.monotonic() < deadline:
        if _server_backends(home, serve.READER_LOGIN):
            zero_since = None
        elif zero_since is None:
            zero_since = time.monotonic()
        elif time.monotonic() - zero_since >= 2:
            break
        time.sleep(0.1)
    assert _server_backends(home, serve.READER_LOGIN) == 0
    with psycopg.connect(served.url(), connect_timeout=10) as conn:
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)
    _, err = served.stop()
    assert err == ""


def test_a_client_that_does_not_log_in_is_closed_after_the_login_timeout(served, home):
    """The finding: the forwarder had no startup timeout, and 200 idle connections stayed open."""
    silent = socket.create_connection(("127.0.0.1", served.port))
    mute = socket.create_connection(("127.0.0.1", served.port))
    mute.sendall(_startup_message())  # the server asks for the password; no answer comes
    started = time.monotonic()
    try:
        assert not _closed_by_forwarder(mute, serve.LOGIN_TIMEOUT - 2)
        assert _server_backends(home, serve.READER_LOGIN) == 1
        assert _closed_by_forwarder(mute, 5) and _closed_by_forwarder(silent, 1)
        assert serve.LOGIN_TIMEOUT - 2 <= time.monotonic() - started <= serve.LOGIN_TIMEOUT + 5
    finally:
        silent.close()
        mute.close()
    deadline = time.monotonic() + 5
    while _server_backends(home, serve.READER_LOGIN) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _server_backends(home, serve.READER_LOGIN) == 0


def test_served_connections_are_capped_below_the_servers_slots(served, home):
    """Logged-in readers too: the eleventh session is refused by the forwarder, and the owner still connects."""
    sessions = [psycopg.connect(served.url()) for _ in range(roles.READER_CONNECTION_LIMIT)]
    try:
        with pytest.raises(psycopg.OperationalError, match=f"FATAL:  sorry, dwh serve has {roles.READER_CONNECTION_LIMIT} connections open"):
            psycopg.connect(served.url(), connect_timeout=5)
        status = subprocess.run([sys.executable, "-m", "loader", "status"], env=_env(home), capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
    finally:
        for session in sessions:
            session.close()
    with psycopg.connect(served.url(), connect_timeout=10) as conn:  # a closed session frees its place
        assert conn.execute("select 1").fetchone() == (1,)


def test_out_of_file_descriptors_serve_warns_once_and_recovers(served, home):
    """The finding: under `ulimit -n 128` asyncio printed a traceback 116,265 times (47 MB in 30 s) at 90% of a core."""
    pid = served.process.pid
    limit = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (24, limit[1]))  # fewer than the forwarder would use
    cpu = _cpu_seconds(pid)
    flood = _flood(served.port, FLOOD)
    try:
        time.sleep(5)
        assert _cpu_seconds(pid) - cpu < 2.0  # waits for a descriptor instead of trying again at once
    finally:
        for client in flood:
            client.close()
    resource.prlimit(pid, resource.RLIMIT_NOFILE, limit)
    deadline = time.monotonic() + 30
    while True:  # clients left in the listen backlog are still being turned away
        try:
            with psycopg.connect(served.url(), connect_timeout=5) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    _, err = served.stop()
    assert err.splitlines() == ["dwh: warning: cannot accept a connection: Too many open files; new clients wait until connections close"]


# ------------------------------------------------------------------ one serve at a time


def test_a_second_serve_changes_nothing_of_the_running_one(served, home):
    """The finding: a second `dwh serve` on a port in use exited 3 but had already reset the reader's password."""
    for args in (["--port", str(served.port)], []):
        second = subprocess.run(
            [sys.executable, "-m", "loader", "serve", *args], env=_env(home), capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 3
        assert second.stderr == f"dwh: error: dwh serve already runs for {home} (pid {served.process.pid}, port {served.port}); connect with the login it printed, or stop it first\n"
    with psycopg.connect(served.url()) as conn:
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)


def test_a_serve_on_a_port_in_use_leaves_the_reader_login_as_it_was(home):
    """Without another serve: the port is bound before the reader's password is set."""
    first = Served(home)
    first.stop()
    busy = socket.create_server(("127.0.0.1", 0))
    try:
        with subprocess.Popen(  # keeps the server up between the two serves
            [sys.executable, "-c", "import sys,time\nfrom pathlib import Path\nfrom loader.embedded import embedded_server\n"
             "with embedded_server(Path(sys.argv[1])) as url:\n print(url, flush=True); sys.stdin.read()", str(home)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        ) as holder:  # fmt: skip
            admin_url = holder.stdout.readline().strip()
            second = subprocess.run(
                [sys.executable, "-m", "loader", "serve", "--port", str(busy.getsockname()[1]), "--password-env", "DWH_TEST_PW"],
                env=_env(home, DWH_TEST_PW="second-password"), capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert second.returncode == 3
            assert second.stderr.startswith(f"dwh: error: port {busy.getsockname()[1]} on 127.0.0.1 is in use")
            reader_url = admin_url.replace("postgresql://postgres@", f"postgresql://{serve.READER_LOGIN}:{first.password}@")
            with psycopg.connect(reader_url) as conn:  # the first serve's password still logs in
                assert conn.execute("select current_user").fetchone() == (serve.READER_LOGIN,)
            holder.stdin.close()
    finally:
        busy.close()
