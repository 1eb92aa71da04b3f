"""What `dwh serve` enforces on the served reader's sessions that their own settings cannot.

The reader login's settings (loader.roles.READER_SETTINGS) bound its temporary files
(temp_file_limit, a superuser setting the reader cannot change), its statements' time and its idle
transactions. But statement_timeout, idle_in_transaction_session_timeout, work_mem and
hash_mem_multiplier are user settings: any session may change them for itself (``set
statement_timeout = 0; set work_mem = '8GB'``), and PostgreSQL cannot forbid that per role. A
reader with the password could then run for ever, hold a transaction open under a load's DDL, or
sort and hash in the server's memory until the machine has none left.

So while it serves, `dwh serve` looks at the reader login's server processes every INTERVAL
seconds over a connection of its own, as the owner, and
- cancels a statement that has run GRACE seconds past the login's statement_timeout;
- ends a session idle in a transaction GRACE seconds past the login's
  idle_in_transaction_session_timeout;
- cancels the statement of a process holding more than PROCESS_MEMORY of private memory
  (``RssAnon`` in /proc/<pid>/status: what sorts, hashes and caches allocate; the shared buffers
  every server process maps are not counted), and, while the login's processes together hold more
  than LOGIN_MEMORY, the statement of the largest; a session holding such memory between
  statements (not given back after one) is ended instead.

The timeouts are read from the login's settings at each look (those `dwh serve` gave it, or a
DBA's since), so the warden enforces what the login is told, and only steps in when the session
has put its own setting aside: left alone, PostgreSQL's timeout comes first with its own message.
A statement cancelled here gets "canceling statement due to user request"; serve says why on its
stderr (at most one line a minute, the others counted).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from loader.roles import READER_SETTINGS
from loader.serve import WARN_EVERY

#: Seconds between two looks at the reader's processes. Memory grows between them: a sort fills
#: about 1 GB a second on one core, so a process may pass its bound by a few hundred MB at most.
INTERVAL = 0.25
#: Seconds past the login's timeout before the warden steps in (PostgreSQL's own comes first).
GRACE = 1.0
#: Private memory one reader process may hold. A reader session over the report views holds a few
#: tens of MB with the login's work_mem (4 MB); the largest view of a million-row load sorts in it.
PROCESS_MEMORY = 256 << 20
#: Private memory the login's processes (sessions and their parallel workers) may hold together.
LOGIN_MEMORY = 1 << 30
#: Seconds before trying again after a look failed (the server restarting, or a defect here).
RETRY = 5.0

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_TIME = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?\s*")

_SESSIONS = sa.text(
    """
    select pid, coalesce(leader_pid, pid) as leader, state,
           extract(epoch from clock_timestamp() - query_start)::float8 as running,
           extract(epoch from clock_timestamp() - state_change)::float8 as unchanged
      from pg_stat_activity
     where usename = :login and pid <> pg_backend_pid()
    """
)

# The login's own settings, those for this database last (they win, as at login).
_SETTINGS = sa.text(
    """
    select unnest(s.setconfig)
      from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
     where r.rolname = :login and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
     order by s.setdatabase
    """
)


def seconds(value: str) -> float | None:
    """A time setting's seconds (no unit: milliseconds, as PostgreSQL reads it); None for 0 (no limit) or a value not understood."""
    match = _TIME.fullmatch(value)
    if not match:
        return None
    number = float(match.group(1)) * _UNITS[match.group(2) or "ms"]
    return number or None


def private_memory(pid: int) -> int | None:
    """Bytes of private (anonymous) memory process ``pid`` holds; None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"RssAnon:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass(frozen=True)
class Session:
    pid: int
    leader: int  # the session a parallel worker works for; its own pid otherwise
    state: str | None
    running: float | None  # seconds since its statement (or its last one) started
    unchanged: float | None  # seconds in its present state
    memory: int | None  # bytes of private memory


@dataclass(frozen=True)
class Step:
    action: str  # "cancel" (the statement) or "terminate" (the session)
    pid: int
    why: str


def steps(sessions: list[Session], statement: float | None, idle: float | None,
          process_memory: int = PROCESS_MEMORY, login_memory: int = LOGIN_MEMORY) -> list[Step]:
    """What to do about ``sessions``, given the login's timeouts in seconds (None: no limit)."""
    done: dict[int, Step] = {}

    def take(step: Step) -> None:
        if step.pid not in done or step.action == "terminate":
            done[step.pid] = step

    for s in sessions:
        if s.pid != s.leader:
            continue  # a parallel worker's time and state are its session's
        if statement is not None and s.state == "active" and s.running is not None and s.running > statement + GRACE:
            take(Step("cancel", s.pid, f"its statement ran {s.running:.0f} s, past the login's statement_timeout of {statement:g} s"))
        if idle is not None and s.state in ("idle in transaction", "idle in transaction (aborted)") \
                and s.unchanged is not None and s.unchanged > idle + GRACE:
            take(Step("terminate", s.pid, f"it sat {s.unchanged:.0f} s idle in a transaction, past the login's "
                                          f"idle_in_transaction_session_timeout of {idle:g} s"))
    # Memory: a running statement is cancelled (what it allocated goes with it); a session that
    # holds the memory between statements is ended, or it would be cancelled at every look.
    state = {s.pid: s.state for s in sessions}

    def free(leader: int, why: str) -> None:
        take(Step("cancel" if state.get(leader) == "active" else "terminate", leader, why))

    held: dict[int, int] = {}  # by session, its workers' memory with its own
    for s in sessions:
        if s.memory is None:
            continue
        held[s.leader] = held.get(s.leader, 0) + s.memory
        if s.memory > process_memory:
            free(s.leader, f"a process of it held {s.memory >> 20} MiB of memory, past the bound of {process_memory >> 20} MiB")
    total = sum(held.values())
    for leader, memory in sorted(held.items(), key=lambda item: -item[1]):
        if total <= login_memory:
            break
        free(leader, f"the login's processes held {total >> 20} MiB of memory together, past the bound of "
                     f"{login_memory >> 20} MiB, this session {memory >> 20} MiB of it")
        total -= memory
    return list(done.values())


class Warden:
    """The thread that looks after ``login``'s sessions on ``engine``'s database; ``stop()`` ends it."""

    def __init__(self, engine: sa.Engine, login: str, warn: Callable[[str], None], interval: float = INTERVAL,
                 process_memory: int = PROCESS_MEMORY, login_memory: int = LOGIN_MEMORY):
        self.engine, self.login, self.warn, self.interval = engine, login, warn, interval
        self.process_memory, self.login_memory = process_memory, login_memory
        self._stop = threading.Event()
        self._warned: float | None = None
        self._unsaid = 0
        self._thread = threading.Thread(target=self._run, name="dwh-serve-warden", daemon=True)

    def start(self) -> Warden:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("set application_name = 'dwh serve warden'")
                    while not self._stop.wait(self.interval):
                        self.look(conn)
            except Exception as exc:  # noqa: BLE001 - the server restarting, or a defect here: serve goes on, and says so
                reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
                self._say(f"cannot look after the reader's sessions: {reason}; trying again in {RETRY:g} s")
                self._stop.wait(RETRY)

    def look(self, conn: sa.Connection) -> list[Step]:
        """One look: the steps taken."""
        limits = dict(READER_SETTINGS)
        for entry in conn.execute(_SETTINGS, {"login": self.login}).scalars():
            name, _, value = entry.partition("=")
            limits[name] = value
        sessions = [
            Session(row.pid, row.leader, row.state, row.running, row.unchanged, private_memory(row.pid))
            for row in conn.execute(_SESSIONS, {"login": self.login})
        ]
        taken = steps(sessions, seconds(limits["statement_timeout"]), seconds(limits["idle_in_transaction_session_timeout"]),
                      self.process_memory, self.login_memory)
        for step in taken:
            function = "pg_cancel_backend" if step.action == "cancel" else "pg_terminate_backend"
            if conn.execute(sa.text(f"select {function}(:pid)"), {"pid": step.pid}).scalar():
                verb = "cancelled the statement of" if step.action == "cancel" else "ended"
                self._say(f"{verb} reader session {step.pid}: {step.why}")
        return taken

    def _say(self, message: str) -> None:
        now = time.monotonic()
        if self._warned is not None and now - self._warned < WARN_EVERY:
            self._unsaid += 1
            return
        more = f" (and {self._unsaid} more since the last such line)" if self._unsaid else ""
        self._warned, self._unsaid = now, 0
        self.warn(message + more)


@contextlib.contextmanager
def watching(engine: sa.Engine, login: str, warn: Callable[[str], None]):
    """The Warden of ``login`` runs while this is entered."""
    warden = Warden(engine, login, warn).start()
    try:
        yield warden
    finally:
        warden.stop()
