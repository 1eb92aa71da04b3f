"""The `dwh` command as users run it: output, messages and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loader.cli import build_parser, main
from loader.fingerprint import SCHEMA_HEAD

COMMANDS = ["load", "validate", "tables", "show", "reconcile", "status", "migrate", "serve", "grant-reader", "export"]


def test_every_command_has_help(capsys):
    assert main(["--help"]) == 0
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)
    assert set(COMMANDS) <= subcommands
    for command in sorted(subcommands):
        assert main([command, "--help"]) == 0, command
        assert "usage: dwh " + command in capsys.readouterr().out


def test_python_dash_m_is_the_same_entry_point():
    done = subprocess.run([sys.executable, "-m", "loader", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "usage: dwh" in done.stdout


def test_validate_passes_on_the_shipped_data(capsys):
    assert main(["validate"]) == 0
    assert "every check passed" in capsys.readouterr().out


def test_tables_lists_the_document_tables_in_order(capsys):
    assert main(["tables", "--width", "1000"]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]  # below the header and its rule
    assert len(lines) == 18
    assert lines[0].split()[0] == "T1_totaal"
    assert lines[-1].split()[0] == "T4_sec_nec_sec"
    assert "Doorstroom per provincie:" in lines[1]


def test_show_prints_the_document_table(loaded_db, capsys):
    assert main(["show", "T1_provincie", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("T1_provincie: Doorstroom per provincie:")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[4:]}
    assert rows["Antwerpen"] == ["279", "790"]
    assert rows["Buiten"] == ["Brussel/Vlaanderen", "5", "6"]


def test_show_is_case_insensitive_and_prints_amounts_the_belgian_way(loaded_db, capsys):
    assert main(["show", "t2e_betalingen", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    assert "27.313,55" in out
    assert "-10.637,67" in out
    assert "43.344,00" in out


def test_show_formats(loaded_db, capsys):
    import csv
    import io
    import json

    assert main(["show", "T1_totaal", "--format", "csv", "--database-url", loaded_db]) == 0
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [["CMW", "LDE"], ["1010", "2320"]]
    assert main(["show", "T2e_betalingen", "--format", "json", "--database-url", loaded_db]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["rows"][-1]["Project"] == "Totaal"
    assert document["rows"][-1]["VCF-2023"] == "-7193.98"  # amounts as exact decimal strings
    assert main(["show", "T3_provincie", "--format", "markdown", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    assert "| provincie | CMW | LDE |" in out
    assert "| Buiten Brussel/Vlaanderen | 1 |  |" in out


def test_show_all_prints_every_table_in_document_order(loaded_db, capsys):
    assert main(["show", "--all", "--format", "markdown", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    ids = [line.split("**")[1] for line in out.splitlines() if line.startswith("**")]
    assert len(ids) == 18
    assert ids[0] == "T1_totaal" and ids[-1] == "T4_sec_nec_sec"


def test_show_unknown_table_is_exit_2_with_the_valid_ids(loaded_db, capsys):
    assert main(["show", "T9_nope", "--database-url", loaded_db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown table id 'T9_nope'" in err
    assert "T2ab_project" in err


def test_reconcile_passes_on_the_shipped_data(loaded_db, capsys):
    assert main(["reconcile", "--database-url", loaded_db]) == 0
    out = capsys.readouterr().out
    assert "0 fail" in out.splitlines()[-1]
    assert "ok   T2ab_project[esf_project=7889] 100 = the sum over start_year 100" in out


def test_load_twice_is_a_reported_no_op_and_status_shows_it(empty_db, capsys):
    assert main(["load", "--database-url", empty_db]) == 0
    assert capsys.readouterr().out.startswith("loaded ")
    assert main(["load", "--database-url", empty_db]) == 0
    assert capsys.readouterr().out.startswith("unchanged:")
    assert main(["load", "--force", "--database-url", empty_db]) == 0
    assert capsys.readouterr().out.startswith("loaded ")
    assert main(["status", "--database-url", empty_db]) == 0
    out = capsys.readouterr().out
    assert f"schema revision: {SCHEMA_HEAD} (head: {SCHEMA_HEAD})" in out
    outcomes = [line.split()[3] for line in out.splitlines() if line.startswith("#")]
    assert outcomes == ["loaded", "unchanged", "loaded"]


def test_unreachable_database_is_exit_3_in_one_line(capsys):
    code = main(["status", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1
    assert err.startswith("dwh: error: cannot connect to postgresql://nobody@127.0.0.1:1/nothing")


def test_a_url_that_is_not_postgresql_is_exit_2(capsys):
    assert main(["status", "--database-url", "mysql://x@localhost/db"]) == 2
    assert "is not PostgreSQL" in capsys.readouterr().err


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_both_url_schemes_work(loaded_db, scheme, capsys):
    url = loaded_db.replace("postgresql://", f"{scheme}://", 1)
    assert main(["show", "T1_totaal", "--format", "csv", "--database-url", url]) == 0
    assert "1010,2320" in capsys.readouterr().out


def test_two_commands_at_once_share_the_embedded_server_and_leave_none_running(tmp_path):
    """Without a URL each command starts (or joins) the embedded server and releases it."""
    import os

    from loader.embedded import server_pid_alive

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(tmp_path / "home")
    first = subprocess.run([sys.executable, "-m", "loader", "load"], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert f" into the embedded server in {tmp_path / 'home'}" in first.stdout
    commands = [
        subprocess.Popen([sys.executable, "-m", "loader", "show", "T1_totaal", "--format", "csv"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for command in commands:
        out, err = command.communicate(timeout=300)
        assert command.returncode == 0, err
        assert out == "CMW,LDE\n1010,2320\n"
    assert not server_pid_alive(tmp_path / "home")


# ------------------------------------------------------------------ the contract, run as a user would


def _dwh(*args: str, home, **kw) -> subprocess.CompletedProcess:
    """`python -m loader ARGS` in a clean environment: no DATABASE_URL, a private DWH_HOME."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(home)
    if "stdout" not in kw:
        kw["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "loader", *args], env=env, text=True, timeout=300, **kw)


def test_database_url_before_the_command_is_the_database_loaded(empty_db, tmp_path):
    import sqlalchemy as sa

    from loader import db

    home = tmp_path / "home"
    done = _dwh("--database-url", empty_db, "load", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    host = sa.engine.make_url(empty_db)
    assert f"/{host.database}" in done.stdout.splitlines()[0]
    assert " into postgresql://" in done.stdout
    assert not home.exists()  # the embedded server was never started
    engine = db.make_engine(empty_db)
    try:
        with engine.connect() as conn:
            # T1_totaal, LDE: 2320 (answer 1 of the document)
            assert conn.execute(sa.text('select "LDE" from report.t1_totaal')).scalar_one() == 2320
    finally:
        engine.dispose()


@pytest.mark.parametrize("position", ["before", "after"])
def test_a_url_that_is_not_postgresql_is_exit_2_wherever_the_option_stands(position, tmp_path):
    args = ["--database-url", "mysql://x/y", "status"] if position == "before" else ["status", "--database-url", "mysql://x/y"]
    done = _dwh(*args, home=tmp_path / "home")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "dwh: error: database URL 'mysql://x/y' is not PostgreSQL (expected postgresql://user:pass@host:port/db)\n"


def test_debug_before_the_command_shows_the_traceback(tmp_path):
    done = _dwh("--debug", "status", "--database-url", "mysql://x/y", home=tmp_path / "home")
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert done.stderr.rstrip().endswith("loader.errors.InputError: database URL 'mysql://x/y' is not PostgreSQL (expected postgresql://user:pass@host:port/db)")


@pytest.mark.parametrize(
    "command",
    [["load"], ["validate"], ["tables"], ["show", "T1_totaal"], ["reconcile"], ["status"], ["serve"], ["grant-reader", "bi"], ["export", "out"], ["migrate"]],
)
def test_global_options_are_taken_before_and_after_every_command(command):
    parser = build_parser()
    for argv in (["--database-url", "postgresql://h/db", "--debug", *command], [*command, "--database-url", "postgresql://h/db", "--debug"]):
        args = parser.parse_args(argv)
        assert (args.database_url, args.debug) == ("postgresql://h/db", True), argv
    args = parser.parse_args(command)
    assert (args.database_url, args.debug) == (None, False)
    # after the command wins over before it, as the later option does everywhere in argparse
    assert parser.parse_args(["--database-url", "postgresql://a/x", *command, "--database-url", "postgresql://b/y"]).database_url == "postgresql://b/y"


@pytest.mark.parametrize("position", ["before", "after"])
def test_data_is_taken_before_or_after_the_command(position, tmp_path):
    import shutil

    from loader import resources

    folder = tmp_path / "copy"
    shutil.copytree(resources.data_dir(), folder)
    args = ["--data", str(folder), "validate"] if position == "before" else ["validate", "--data", str(folder)]
    done = _dwh(*args, home=tmp_path / "home")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"{folder}: ")


def test_version_comes_from_the_package_metadata(tmp_path):
    from importlib import metadata

    done = _dwh("--version", home=tmp_path / "home")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"dwh {metadata.version('doorstroom-dwh')}\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["serve", "--port", "70000"], "dwh serve: error: argument --port: 70000 is not a port (expected 0 to 65535; 0 picks a free one); see dwh serve --help"),
        (["serve", "--port", "-1"], "dwh serve: error: argument --port: -1 is not a port (expected 0 to 65535; 0 picks a free one); see dwh serve --help"),
        (["serve", "--port", "http"], "dwh serve: error: argument --port: 'http' is not a port (expected a whole number from 0 to 65535); see dwh serve --help"),
        (["status", "--limit", "-1"], "dwh status: error: argument --limit: -1 is too small (expected 1 or more); see dwh status --help"),
        (["status", "--limit", "0"], "dwh status: error: argument --limit: 0 is too small (expected 1 or more); see dwh status --help"),
        ([], "dwh: error: the following arguments are required: COMMAND; see dwh --help"),
        (["--data", "elsewhere", "status"], "dwh: error: --data applies to load, validate, placements, tables, not to status; see dwh --help"),
        (["lod"], "dwh: error: argument COMMAND: invalid choice: 'lod' (choose from 'load', 'validate', 'placements', 'tables', 'show', 'reconcile', 'status', 'serve', 'grant-reader', 'export', 'migrate'); see dwh --help"),
    ],
)
def test_wrong_arguments_are_exit_2_in_one_line(args, line, tmp_path):
    done = _dwh(*args, home=tmp_path / "home")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")
    assert not (tmp_path / "home").exists()


def test_migrate_to_an_unknown_revision_is_exit_2_and_changes_nothing(empty_db, tmp_path):
    from alembic.script import ScriptDirectory

    from loader import db, migrate

    known = [r.revision for r in reversed(list(ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()))]
    assert known[:2] == ["0001", "0002"]
    done = _dwh("migrate", "no_such_revision", "--database-url", empty_db, home=tmp_path / "home")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "dwh: error: cannot migrate to 'no_such_revision': Can't locate revision identified by 'no_such_revision' "
        f"(expected head or one of: {', '.join(known)})\n"
    )
    engine = db.make_engine(empty_db)
    try:
        with engine.connect() as conn:
            assert migrate.current_revision(conn) is None
    finally:
        engine.dispose()


def test_migrate_says_which_database_without_its_password(empty_db, tmp_path):
    from sqlalchemy.engine import make_url

    from loader import migrate

    url = make_url(empty_db)
    # The embedded server checks passwords (its superuser's is in the passfile the URL names); a
    # trust-auth server takes any: either way the URL carries a real password the output must hide.
    passfile = url.query.get("passfile")
    secret = Path(passfile).read_text().strip().rsplit(":", 1)[1] if passfile else "s3cret-pw"
    with_password = url.set(password=secret).render_as_string(hide_password=False)
    done = _dwh("--database-url", with_password, "migrate", home=tmp_path / "home")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert secret not in done.stdout
    database = make_url(empty_db).database
    assert done.stdout.startswith("schema of postgresql://")
    userinfo = done.stdout.removeprefix("schema of postgresql://").split("@")[0]
    assert userinfo == make_url(empty_db).username  # no ":password" at all, not even a masked one
    assert f"/{database}" in done.stdout
    assert done.stdout.endswith(f" at {migrate.head_revision()} (was empty)\n")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://dwh:s3cret@db.example:5433/dwh", "postgresql://dwh@db.example:5433/dwh"),
        ("postgres://dwh:s3cret@db.example/dwh?sslmode=require", "postgres://dwh@db.example/dwh?sslmode=require"),
        ("postgresql://dwh@db.example/dwh?password=s3cret&sslmode=require", "postgresql://dwh@db.example/dwh?sslmode=require"),
    ],
)
def test_the_database_a_command_names_has_no_password(url, shown):
    from loader import settings

    assert settings.describe_target(url) == shown


def test_without_a_url_the_embedded_server_is_named_by_its_folder(tmp_path, monkeypatch):
    from loader import settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    assert settings.describe_target(None) == f"the embedded server in {tmp_path}"


def test_output_into_a_closed_pipe_ends_quietly(loaded_db, tmp_path):
    """The reader is gone before dwh writes a byte: no BrokenPipeError traceback, exit 141 (128 + SIGPIPE)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(tmp_path / "home")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "loader", "reconcile", "--database-url", loaded_db], stdout=write_end, stderr=subprocess.PIPE, env=env, text=True, timeout=300
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_reconcile_into_head_ends_quietly(loaded_db, tmp_path):
    import os
    import shlex

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(tmp_path / "home")
    command = f"{shlex.quote(sys.executable)} -m loader reconcile --database-url {shlex.quote(loaded_db)} | head -1; echo \"exit ${{PIPESTATUS[0]}}\""
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert done.stderr == ""
    first, status = done.stdout.splitlines()
    # the first identity of the document: T1_totaal's CMW cell (1010) is the sum of T1_provincie's
    assert first == "ok   T1_totaal[year=2023, measure=CMW] 1010 = the sum over province of T1_provincie 1010"
    assert status in ("exit 0", "exit 141")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("args", [["tables"], ["--version"]])
def test_output_to_a_full_disk_is_exit_3_in_one_line(args, tmp_path):
    with open("/dev/full", "w") as full:
        done = _dwh(*args, home=tmp_path / "home", stdout=full, stderr=subprocess.PIPE)
    assert (done.returncode, done.stderr) == (3, "dwh: error: cannot write: No space left on device; free some space or write elsewhere\n")


def test_migrate_step_by_step_and_never_silently_back(empty_db, tmp_path):
    from loader import db, migrate

    home = tmp_path / "home"
    first = _dwh("migrate", "0001", "--database-url", empty_db, home=home)
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout.endswith(" at 0001 (was empty); report views are created at head\n")
    second = _dwh("migrate", "--database-url", empty_db, home=home)
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout.endswith(f" at {migrate.head_revision()} (was 0001)\n")
    back = _dwh("migrate", "0001", "--database-url", empty_db, home=home)
    assert (back.returncode, back.stdout) == (2, "")
    assert back.stderr == (
        f"dwh: error: cannot migrate to '0001': the database is at {migrate.head_revision()}, which is newer; "
        "dwh migrate only upgrades (expected head or a revision after the current one)\n"
    )
    engine = db.make_engine(empty_db)
    try:
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "bare", "password"),
    [
        ("postgresql:///dwh", "postgresql:///dwh", None),
        ("postgresql://u:p%40x@h:5433/d?sslmode=require", "postgresql://u@h:5433/d?sslmode=require", "p@x"),
        ("postgresql://u@h/d?password=q%2B1+2&sslmode=require", "postgresql://u@h/d?sslmode=require", "q+1+2"),
        ("postgresql://postgres@/dwh?host=%2Ftmp%2Fs&passfile=%2Ftmp%2Fp", "postgresql://postgres@/dwh?host=%2Ftmp%2Fs&passfile=%2Ftmp%2Fp", None),
    ],
)
def test_split_password_keeps_the_rest_of_the_url_as_written(url, bare, password):
    from loader.settings import split_password

    assert split_password(url) == (bare, password)


def test_an_unparsable_url_is_never_quoted():
    from loader.settings import redact

    assert redact("not a url:s3cret@@") == "<unparsable URL>"
