"""The peers of `dwh load` in bench/run.py: general tools that load the same CSVs into the same migrated tables.

Each loads every file of a dataset into a migrated, empty database (keys and foreign keys in
place, as `dwh load` has them), in load order, with none of dwh's checks, and then counts the rows
each table holds, so that a tool that skips rows it cannot load (pgloader logs them and exits 0)
does not pass for fast:

- pgloader (Debian package `pgloader`): one `LOAD CSV` command per file, its defaults otherwise
  (batches over two threads, triggers on, so every foreign key is checked row by row);
- pandas `DataFrame.to_sql`, as a notebook would use it: `read_csv` of each file (every column as
  text, an empty field as NULL) and `to_sql(..., if_exists="append")` with each column's SQL type
  from loader.schema (what a user who knows the schema passes as `dtype`), either with pandas' default
  method (INSERT ... VALUES, one statement per batch of rows) or with a COPY callable, the fastest
  method pandas' documentation shows (`method=` a function that writes the frame to COPY).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from loader import schema
from loader.dataset import SPECS


def _counts(folder: Path) -> dict[str, int]:
    """Rows per table of the dataset in ``folder`` (records of each file, its header left out)."""
    return {name: sum(1 for _ in open(folder / SPECS[name].file_name, encoding="utf-8")) - 1 for name in schema.LOAD_ORDER}


#: Run after a peer, in a Python process of its own: every table holds what its file holds.
CHECK = """
import json, sys
import psycopg
url, expected = sys.argv[1], json.load(open(sys.argv[2]))
with psycopg.connect(url) as conn:
    wrong = {}
    for name, n in expected.items():
        got = conn.execute(f"select count(*) from dwh.{name}").fetchone()[0]
        if got != n:
            wrong[name] = (got, n)
if wrong:
    sys.exit(f"rows missing after the load (table: got, expected): {wrong}")
"""


def check_command(work: Path, folder: Path) -> list[str]:
    """A command (URL as the placeholder ``URL``) that fails unless every table holds its file's rows."""
    expected = work / f"counts-{folder.name}.json"
    expected.write_text(json.dumps(_counts(folder)))
    script = work / "peer_check.py"
    script.write_text(CHECK)
    return [sys.executable, str(script), "URL", str(expected)]


def pgloader_available() -> bool:
    return shutil.which("pgloader") is not None


def pgloader_command(work: Path, folder: Path, url: str) -> list[str]:
    """pgloader with one LOAD CSV command per file, into ``url``'s migrated tables."""
    folder = folder.resolve()  # pgloader reads a relative path from the command file's folder
    commands = []
    for name in schema.LOAD_ORDER:
        spec = SPECS[name]
        fields = ", ".join(f"{c} [null if blanks]" for c in spec.header)
        columns = ", ".join(spec.header)
        commands.append(
            f"LOAD CSV FROM '{folder / spec.file_name}' ({fields})\n"
            f"  INTO {url}\n"
            f'  TARGET TABLE "{schema.SCHEMA}"."{name}" ({columns})\n'
            "  WITH skip header = 1, fields optionally enclosed by '\"', fields escaped by double-quote, fields terminated by ','\n;\n"
        )
    path = work / f"pgloader-{folder.name}-{abs(hash(url))}.load"
    path.write_text("\n".join(commands))
    return ["pgloader", "--quiet", str(path)]


#: pandas to_sql of every file, in load order, in one transaction: argv URL FOLDER METHOD (default|copy).
PANDAS = """
import csv, io, sys
import pandas as pd
import sqlalchemy as sa
from loader import schema
url, folder, method, order = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")

def copy(table, conn, keys, data_iter):
    # The COPY method of pandas' documentation (io.sql "Insertion method"), for psycopg 3.
    buffer = io.StringIO()
    csv.writer(buffer).writerows(data_iter)
    columns = ", ".join(f'"{k}"' for k in keys)
    with conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.schema}"."{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv)') as c:
            c.write(buffer.getvalue())

engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
with engine.begin() as conn:
    for name in order:
        frame = pd.read_csv(f"{folder}/{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        # The columns' SQL types, as a user who knows the schema gives them (text would not go into integers).
        types = {c.name: c.type for c in schema.metadata.tables[f"dwh.{name}"].columns if c.name in frame.columns}
        frame.to_sql(name, conn, schema="dwh", if_exists="append", index=False, chunksize=10_000, dtype=types,
                     method=copy if method == "copy" else None)
"""


def pandas_command(work: Path, folder: Path, method: str) -> list[str]:
    """A Python process that loads ``folder`` with pandas to_sql (URL as the placeholder ``URL``)."""
    script = work / "peer_pandas.py"
    script.write_text(PANDAS)
    order = ",".join(SPECS[name].file_name.removesuffix(".csv") for name in schema.LOAD_ORDER)
    assert order.split(",") == list(schema.LOAD_ORDER)  # the script names the tables by their files
    return [sys.executable, str(script), "URL", str(folder), method, order]
