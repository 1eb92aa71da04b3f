"""Commands that answer at once import only what they need (bench/quick.py measures how fast)."""

from __future__ import annotations

import json
import subprocess
import sys

from loader import report, schema

_MODULES = "import json, sys; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic', 'pandas', 'argparse', 'psycopg'))))"


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_version_imports_nothing_but_the_version():
    done = _run(f"import sys; sys.argv[1:] = ['--version']\nfrom loader.entry import main\nassert main() == 0\n{_MODULES}")
    assert done.returncode == 0, done.stderr
    version, modules = done.stdout.splitlines()
    assert version == f"dwh {__import__('loader').__version__}"
    assert json.loads(modules) == []


def test_show_reads_with_libpq_alone(loaded_db):
    done = _run(
        f"import sys\nfrom loader.cli import main\nassert main(['show', 'T1_provincie', '--database-url', sys.argv[1]]) == 0\n{_MODULES}",
        loaded_db,
    )
    assert done.returncode == 0, done.stderr
    *table, modules = done.stdout.splitlines()
    assert "Antwerpen                  279  790" in table  # T1_provincie's first row, as the document prints it
    assert [m for m in json.loads(modules) if m.split(".")[0] in ("sqlalchemy", "alembic", "pandas", "psycopg")] == []


def test_the_read_path_names_the_warehouse_schema_as_the_schema_does():
    assert report.WAREHOUSE_SCHEMA == schema.SCHEMA
    assert report.REPORT_SCHEMA == schema.REPORT_SCHEMA


def test_show_on_an_unreachable_server_is_exit_3_in_one_line(capsys):
    from loader.cli import main

    assert main(["show", "T1_provincie", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dwh: error: cannot connect to postgresql://nobody@127.0.0.1:1/nothing: ")
    assert err.endswith("; check that the server is running and the host and port in the URL\n")


def test_show_with_a_url_that_is_not_postgresql_is_exit_2(capsys):
    from loader.cli import main

    assert main(["show", "T1_provincie", "--database-url", "mysql://x@localhost/db"]) == 2
    assert capsys.readouterr().err == "dwh: error: database URL 'mysql://x@localhost/db' is not PostgreSQL (expected postgresql://user:pass@host:port/db)\n"


def test_a_read_joins_a_running_embedded_server_with_one_login(tmp_path, monkeypatch):
    """`dwh show` without a URL, while a server runs under DWH_HOME (as `dwh serve` keeps it): it is
    joined, not started again, and read in one login; the database is made only when missing."""
    from loader import embedded, readdb

    home = tmp_path / "home"
    made: list[str] = []
    ensure = embedded.ensure_database
    monkeypatch.setattr(embedded, "ensure_database", lambda admin_url, database: (made.append(database), ensure(admin_url, database)))
    logins: list[str] = []

    def connect(url: str):
        logins.append(url)
        return readdb._connect(url)

    with embedded.embedded_server(home, database="postgres"):  # the running server
        running = embedded.Cluster(home).postmaster()
        made.clear()
        with embedded.embedded_connection(home, connect, database="fresh") as conn:
            assert conn.execute("select current_database()").fetchone() == ("fresh",)
        assert (made, len(logins)) == (["fresh"], 2)  # missing: made, then logged in again
        logins.clear()
        with embedded.embedded_connection(home, connect, database="fresh") as conn:
            assert conn.execute("select current_database()").fetchone() == ("fresh",)
        assert (made, len(logins)) == (["fresh"], 1)  # there: one login, nothing looked for
        assert embedded.Cluster(home).postmaster() == running  # joined, never started again
    assert not embedded.server_pid_alive(home)
