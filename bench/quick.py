"""How fast the quick commands answer: `dwh --version` and `dwh show T1_provincie` against a running server.

    python bench/quick.py --database-url postgresql://postgres@127.0.0.1:5432/DB [--runs 21]

The database must hold a load (`dwh load --database-url ...`). Each command runs --runs times as a
new process, as a user starts it (the `dwh` console script of this venv); prints the median and
the range, beside `python -c pass` (the interpreter's own start on this machine) and psql's
`select` of the same view (the floor for an answer from the server). Asserts nothing.

Python runs as on a user's machine: with its bytecode cache. PYTHONDONTWRITEBYTECODE, if set
here, is left out (the warm-up run writes the cache); without a cache every run compiles dwh's
modules anew.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

DWH = str(Path(sys.executable).with_name("dwh"))


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "dwh --version": [DWH, "--version"],
        "dwh show T1_provincie": [DWH, "show", "T1_provincie", "--database-url", args.database_url],
    }
    psql = shutil.which("psql")
    if psql:
        commands["psql select * from report.t1_provincie"] = [psql, "-X", "-q", "-d", args.database_url, "-c", "select * from report.t1_provincie"]
    for name, command in commands.items():
        timed(command, 1)  # warm-up: files in the page cache, bytecode compiled
        times = timed(command, args.runs)
        print(f"{name:<42} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)")


if __name__ == "__main__":
    main()
