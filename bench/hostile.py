"""Benchmark: hostile files, large ones. Time, peak memory and stderr size of `dwh validate` and
`dwh load` on files no test can afford, beside a valid scaled load for the time a good row takes.

    python bench/hostile.py [--rows 10000000] [--line-mb 100] [--valid-rows 1000000 ...]
                            [--baseline DIR] [--database-url URL]

- ``--rows`` copies of one row of sec_nec_sec.csv (each after the first a duplicate key);
- ``--distinct-rows`` rows of sec_nec_sec.csv, each well-formed with a key of its own (a table_id
  of its own), so that every one is kept until the foreign-key check after the files refuses
  them all;
- ``--dimension-rows`` rows of province.csv, each a province of its own (the referenced table of
  a foreign key far larger than any set the check may hold);
- ``--long-texts`` rows of source_table.csv whose captions are each 9,000 characters of their own;
- one line of ``--line-mb`` MB (a source_line of that many digits);
- the valid scaled dataset of bench/run.py with ``--valid-rows`` observations (the schema's
  smallint table positions cap a valid dataset near 1.3 million), to compare time per row:
  validated, loaded (the streamed route), and loaded with one field quoted, which the streamed
  route does not take, so that loader.dataset checks and copies it ("checked in Python");
- with ``--baseline DIR`` (another version's tree, e.g. ``git archive main | tar -x -C DIR``),
  the valid dataset's commands also run with that version's ``loader``, side by side.

Without --database-url it starts a throwaway embedded PostgreSQL. It prints figures and asserts
nothing; CI does not run it (tests/test_hostile_files.py proves the same behaviour at small sizes).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import DWH, Server, dwh_env, scale_dataset  # noqa: E402

from loader import resources  # noqa: E402

LINE3 = "T4_sec_nec_sec,2018,CMW,1070,printed,476"


def measure(command: list[str], cwd: Path | None = None) -> dict:
    """Wall seconds, peak resident memory (MiB, VmHWM read until exit), exit code and stderr size.
    ``cwd``: a version's tree, whose ``loader`` ``python -m loader`` then runs."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=dwh_env(), cwd=cwd)
        status = Path(f"/proc/{process.pid}/status")
        peak = 0
        while process.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        seconds = time.perf_counter() - start
        err.seek(0)
        text = err.read()
    first = text.decode("utf-8", "replace").splitlines()[:1]
    return {"seconds": seconds, "mib": peak / 1024, "exit": process.returncode, "stderr_bytes": len(text), "first": first[0][:160] if first else ""}


def duplicates(work: Path, rows: int) -> Path:
    folder = work / "duplicates"
    shutil.copytree(resources.data_dir(), folder)
    block = (LINE3 + "\n") * 100_000
    with open(folder / "sec_nec_sec.csv", "a", encoding="utf-8") as f:
        for _ in range(rows // 100_000):
            f.write(block)
        f.write((LINE3 + "\n") * (rows % 100_000))
    return folder


def distinct(work: Path, rows: int) -> Path:
    folder = work / "distinct"
    shutil.copytree(resources.data_dir(), folder)
    with open(folder / "sec_nec_sec.csv", "a", encoding="utf-8") as f:
        for start in range(0, rows, 100_000):
            f.write("".join(f"X{n:09d},2018,CMW,{n % 5000},printed,{n + 2}\n" for n in range(start, min(rows, start + 100_000))))
    return folder


def large_dimension(work: Path, rows: int) -> Path:
    folder = work / "large-dimension"
    shutil.copytree(resources.data_dir(), folder)
    with open(folder / "province.csv", "a", encoding="utf-8") as f:
        for start in range(0, rows, 100_000):
            f.write("".join(f"P{n:09d},Provincie {n},{10000 + n},BE{n % 100:02d},{n % 30000 + 1}\n" for n in range(start, min(rows, start + 100_000))))
    return folder


def long_texts(work: Path, rows: int) -> Path:
    folder = work / "long-texts"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "source_table.csv"
    header, first, rest = path.read_text(encoding="utf-8").split("\n", 2)
    fields = first.split(",")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{header}\n{first}\n{rest}")
        for n in range(rows):  # table_id, document_id, answer, position, caption, ...
            caption = f"{n:08d} " + "caption " * 1124
            f.write(",".join([f"L{n:08d}", fields[1], fields[2], str(-32768 + n), caption[:9000], *fields[5:]]) + "\n")
    return folder


def long_line(work: Path, megabytes: int) -> Path:
    folder = work / "long-line"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "sec_nec_sec.csv"
    text = path.read_text(encoding="utf-8")
    head, tail = text.split(LINE3, 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + LINE3[: -len("476")])
        for _ in range(megabytes):
            f.write("7" * (1 << 20))
        f.write(tail)
    return folder


def quoted_copy(valid: Path, work: Path) -> Path:
    """The valid dataset with its first sec_nec_sec record's table_id quoted: the same data, in a
    shape the streamed load does not read (loader.canonical), so the load checks it in Python."""
    folder = work / "valid-quoted"
    shutil.copytree(valid, folder)
    path = folder / "sec_nec_sec.csv"
    header, first, rest = path.read_text(encoding="utf-8").split("\n", 2)
    table_id, others = first.split(",", 1)
    path.write_text(f'{header}\n"{table_id}",{others}\n{rest}', encoding="utf-8")
    return folder


def report(name: str, result: dict, rows: int | None = None) -> None:
    per = f", {result['seconds'] / rows * 1e6:.1f} us/row" if rows else ""
    print(
        f"{name}: exit {result['exit']}, {result['seconds']:.1f} s{per}, peak {result['mib']:.0f} MiB, "
        f"stderr {result['stderr_bytes']:,} bytes; {result['first']}"
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--line-mb", type=int, default=100)
    parser.add_argument("--distinct-rows", type=int, default=10_000_000)
    parser.add_argument("--long-texts", type=int, default=20_000)
    parser.add_argument("--dimension-rows", type=int, default=3_000_000)
    parser.add_argument("--valid-rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--baseline", type=Path, help="another version's tree, measured beside this one on the valid dataset")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    server = Server(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="dwh-hostile-"))
    try:
        url = server.create()
        done = measure([*DWH, "load", "--database-url", url])  # migrated, with the document's data
        assert done["exit"] == 0, done
        print(f"machine: {sys.version.split()[0]}, {work}")

        versions = [("", None)] + ([(f" [{args.baseline}]", args.baseline.resolve())] if args.baseline else [])
        for rows in args.valid_rows:
            valid = work / "valid"
            observations = scale_dataset(rows, valid)
            quoted = quoted_copy(valid, work)
            scaled_url = server.create()
            assert measure([*DWH, "load", "--database-url", scaled_url])["exit"] == 0
            name = f"valid scaled dataset, {observations:,} observations"
            for version, cwd in versions:
                report(f"{name}: dwh validate{version}", measure([*DWH, "validate", "--data", str(valid)], cwd), observations)
                report(f"{name}: dwh load{version}", measure([*DWH, "load", "--data", str(valid), "--database-url", scaled_url, "--force"], cwd), observations)
                load = [*DWH, "load", "--data", str(quoted), "--database-url", scaled_url, "--force"]
                report(f"{name}, one field quoted: dwh load (checked in Python){version}", measure(load, cwd), observations)
            shutil.rmtree(valid)
            shutil.rmtree(quoted)

        for label, folder, rows in [
            (f"{args.distinct_rows:,} distinct rows", distinct(work, args.distinct_rows), args.distinct_rows),
            (f"{args.long_texts:,} captions of 9,000 characters", long_texts(work, args.long_texts), args.long_texts),
            (f"{args.dimension_rows:,} provinces", large_dimension(work, args.dimension_rows), args.dimension_rows),
        ]:
            for version, cwd in versions:
                report(f"{label}: dwh validate{version}", measure([*DWH, "validate", "--data", str(folder)], cwd), rows)
                report(f"{label}: dwh load{version}", measure([*DWH, "load", "--data", str(folder), "--database-url", url], cwd), rows)
            shutil.rmtree(folder)

        folder = long_line(work, args.line_mb)
        report(f"one line of {args.line_mb} MB: dwh validate", measure([*DWH, "validate", "--data", str(folder)]))
        report(f"one line of {args.line_mb} MB: dwh load", measure([*DWH, "load", "--data", str(folder), "--database-url", url]))
        shutil.rmtree(folder)

        folder = duplicates(work, args.rows)
        size = (folder / "sec_nec_sec.csv").stat().st_size
        print(f"{args.rows:,} duplicate rows: sec_nec_sec.csv is {size / 2**20:.0f} MiB")
        report(f"{args.rows:,} duplicate rows: dwh validate", measure([*DWH, "validate", "--data", str(folder)]), args.rows)
        report(f"{args.rows:,} duplicate rows: dwh load", measure([*DWH, "load", "--data", str(folder), "--database-url", url]), args.rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.close()


if __name__ == "__main__":
    main()
