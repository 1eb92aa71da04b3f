"""loader.warden's decisions, apart from a server: which reader sessions it cancels or ends, and why.

tests/test_serve.py plays the same against a real `dwh serve` (a reader that sets its timeouts
aside, or raises work_mem to take the server's memory).
"""

from __future__ import annotations

import os

from loader import warden
from loader.warden import Session, private_memory, seconds, steps

MiB = 1 << 20


def test_time_settings_read_as_postgresql_reads_them():
    # PostgreSQL: a time setting without a unit is in milliseconds; 0 turns the timeout off.
    assert seconds("30s") == 30
    assert seconds("30000") == 30
    assert seconds("1min") == 60
    assert seconds("250ms") == 0.25
    assert seconds("2h") == 7200
    assert seconds("0") is None
    assert seconds("soon") is None


def _session(pid, state="active", running=0.0, unchanged=0.0, memory=10 * MiB, leader=None):
    return Session(pid, leader or pid, state, running, unchanged, memory)


def test_a_statement_past_the_timeout_and_its_grace_is_cancelled():
    sessions = [_session(1, running=30 + warden.GRACE - 0.1), _session(2, running=30 + warden.GRACE + 0.1), _session(3, state="idle", running=500)]
    assert [(s.action, s.pid) for s in steps(sessions, statement=30, idle=30)] == [("cancel", 2)]


def test_no_timeout_set_means_no_time_bound():
    assert steps([_session(1, running=10_000)], statement=None, idle=None) == []


def test_a_session_idle_in_a_transaction_past_the_timeout_is_ended():
    sessions = [
        _session(1, state="idle in transaction", unchanged=40),
        _session(2, state="idle in transaction (aborted)", unchanged=40),
        _session(3, state="idle in transaction", unchanged=20),
        _session(4, state="idle", unchanged=4000),  # idle outside a transaction holds nothing up
    ]
    assert sorted((s.action, s.pid) for s in steps(sessions, statement=30, idle=30)) == [("terminate", 1), ("terminate", 2)]


def test_a_process_past_its_memory_bound_has_its_session_cancelled():
    sessions = [_session(1, memory=300 * MiB), _session(2, memory=200 * MiB)]
    [step] = steps(sessions, statement=None, idle=None, process_memory=256 * MiB, login_memory=1 << 40)
    assert (step.action, step.pid) == ("cancel", 1)
    assert "held 300 MiB of memory, past the bound of 256 MiB" in step.why


def test_a_session_that_holds_the_memory_between_statements_is_ended():
    """Cancelling an idle session frees nothing, and would be done again at every look."""
    sessions = [_session(1, state="idle", memory=300 * MiB), _session(2, state="idle in transaction", memory=300 * MiB)]
    assert sorted((s.action, s.pid) for s in steps(sessions, statement=30, idle=30, process_memory=256 * MiB)) == [
        ("terminate", 1), ("terminate", 2)
    ]


def test_a_parallel_workers_memory_cancels_its_leaders_statement():
    sessions = [_session(1, memory=20 * MiB), _session(7, memory=300 * MiB, leader=1)]
    assert [(s.action, s.pid) for s in steps(sessions, statement=None, idle=None, process_memory=256 * MiB)] == [("cancel", 1)]


def test_past_the_logins_memory_the_largest_sessions_are_cancelled_until_under():
    # Sessions (workers counted with their leader): 1 holds 250, 2 holds 240 + 200, 3 holds 100, 4 holds 50.
    sessions = [
        _session(1, memory=250 * MiB), _session(2, memory=240 * MiB), _session(8, memory=200 * MiB, leader=2),
        _session(3, memory=100 * MiB), _session(4, memory=50 * MiB),
    ]
    taken = steps(sessions, statement=None, idle=None, process_memory=256 * MiB, login_memory=600 * MiB)
    # 840 MiB in all: 2 (440) is cancelled first, leaving 400, under the bound.
    assert [(s.action, s.pid) for s in taken] == [("cancel", 2)]
    assert "held 840 MiB of memory together, past the bound of 600 MiB, this session 440 MiB of it" in taken[0].why


def test_memory_that_cannot_be_read_is_no_reason():
    assert steps([_session(1, memory=None)], statement=None, idle=None, process_memory=1, login_memory=1) == []


def test_ending_a_session_outranks_cancelling_its_statement():
    sessions = [_session(1, state="idle in transaction", unchanged=40, memory=300 * MiB)]
    assert [(s.action, s.pid) for s in steps(sessions, statement=30, idle=30, process_memory=256 * MiB)] == [("terminate", 1)]


def test_private_memory_is_read_from_proc():
    mine = private_memory(os.getpid())
    assert mine is not None and mine > MiB  # this interpreter holds more than a MiB of its own
    assert private_memory(2**22 + 12345) is None  # no such process


def test_a_failing_look_is_said_and_tried_again():
    """The warden's thread outlives a failure (the server restarting, or a defect here): it says so
    on serve's stderr and tries again, rather than leaving serve unguarded without a word."""
    import threading

    said: list[str] = []
    tried = threading.Event()

    class Engine:
        def connect(self):
            tried.set()
            raise RuntimeError("")  # not even a message

    guard = warden.Warden(Engine(), "reader", said.append).start()
    assert tried.wait(5)
    guard.stop()
    assert said == ["cannot look after the reader's sessions: RuntimeError; trying again in 5 s"]
