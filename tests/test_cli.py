"""The `dwh` command as users run it: output, messages and exit codes."""

from __future__ import annotations

import subprocess
import sys

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
    assert main(["tables"]) == 0
    lines = capsys.readouterr().out.splitlines()
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
    assert document["rows"][-1]["VCF-2023"] == -7193.98
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
    assert f"schema revision: {SCHEMA_HEAD}" in out
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
    commands = [
        subprocess.Popen([sys.executable, "-m", "loader", "show", "T1_totaal", "--format", "csv"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for command in commands:
        out, err = command.communicate(timeout=300)
        assert command.returncode == 0, err
        assert out == "CMW,LDE\n1010,2320\n"
    assert not server_pid_alive(tmp_path / "home")
