"""docs/errors.md is produced by tests: every row's example is run here and compared with what the user gets.

Each table row of docs/errors.md is read (section, first column, exit code, the quoted lines of
its last column). A row is run by the runner of its section and first column below, and what the
command writes (stderr, with the dataset folder left out as the doc does, and backquotes dropped as
the doc's "as printed, with the command in backquotes" says) must match each quoted line, where
``<...>`` and ``...`` stand for any text; the exit code must be the row's. A row that stands for a
longer scenario (a server killed mid-load, two sessions at once) names the test that plays it in
ELSEWHERE. A row with neither fails, so a new row needs a test before it can be merged.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader import db, migrate, resources
from loader.cli import main

HERE = Path(__file__).parent
DOC = HERE.parent / "docs" / "errors.md"


@dataclass(frozen=True)
class Row:
    section: str
    name: str  # the first column, as written
    cells: tuple[str, ...]

    @property
    def exit(self) -> str:
        return self.cells[-2].strip()

    @property
    def examples(self) -> list[str]:
        """The quoted lines of the last column that are what a user reads (not `--debug`, file names, ...)."""
        spans = re.findall(r"`([^`]+)`", self.cells[-1])
        return [s for s in spans if s.startswith(("dwh", "...", "unchanged")) or re.match(r"[\w.]+\.csv:", s)]

    @property
    def id(self) -> str:
        return f"{self.section}: {self.name}"


def rows() -> list[Row]:
    section, found = "", []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith(("## ", "### ")):  # a ### table (Hostile files) is a section of its own
            section = line.lstrip("#").strip()
        elif line.startswith("|") and not re.match(r"\|\s*-", line):
            cells = tuple(c.strip().replace(r"\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1])
            if cells[-2] not in ("exit",):  # the header
                found.append(Row(section, cells[0], cells))
    return found


def pattern(example: str) -> re.Pattern:
    """The example as a regular expression: ``<...>`` and ``...`` stand for any text."""
    parts = re.split(r"(<[^<>]+>|\.\.\.)", example)
    return re.compile("".join(".+?" if i % 2 else re.escape(p) for i, p in enumerate(parts)))


@dataclass
class Got:
    exit: int
    text: str  # what the example is compared with: stderr, or stdout where the row says so


#: Sections whose last column is "first line on stderr": only that line is compared.
FIRST_LINE = ("Bad input", "Hostile files")


def check(row: Row, got: Got) -> None:
    if row.exit not in ("-", ""):
        assert str(got.exit) == row.exit.split(",")[0].strip(), row.id
    lines = got.text.replace("`", "").splitlines()
    first = row.section in FIRST_LINE  # "first line on stderr"
    for example in row.examples:
        regex = pattern(example)
        candidates = lines[:1] if first else lines
        assert any(regex.fullmatch(line) for line in candidates), f"{row.id}: no line of\n{got.text}\nis\n{example}"


# ------------------------------------------------------------------ runners


def _run(capsys, argv: list[str], *, strip: Path | None = None, out: bool = False) -> Got:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    text = captured.out if out else captured.err
    if strip is not None:
        text = text.replace(f"{strip}/", "")
    return Got(code, text)


def _bad_input(row: Row, ctx) -> Got:
    from test_bad_input import dataset_with

    fixture = re.fullmatch(r"`(tests/bad_input/[\w-]+)`", row.cells[1]).group(1)
    folder = dataset_with(ctx.tmp_path, HERE.parent / fixture)
    return _run(ctx.capsys, ["validate", "--data", str(folder)], strip=folder)


def _command(row: Row) -> list[str]:
    """The command a row of Arguments quotes in its first column (without the leading dwh)."""
    return shlex.split(re.match(r"`([^`]+)`", row.name).group(1))[1:]


def _arguments(row: Row, ctx) -> Got:
    return _run(ctx.capsys, _command(row))


def _on_empty(row: Row, ctx) -> Got:
    return _run(ctx.capsys, [*_command(row), "--database-url", ctx.request.getfixturevalue("empty_db")])


def _migrate_back(row: Row, ctx) -> Got:
    url = ctx.request.getfixturevalue("empty_db")
    engine = db.make_engine(url)
    try:
        with db.begin(engine) as conn:
            migrate.upgrade(conn, "0002")
    finally:
        engine.dispose()
    return _run(ctx.capsys, [*_command(row), "--database-url", url])


def _status_at(url: str) -> Callable:
    return lambda row, ctx: _run(ctx.capsys, ["status", "--database-url", url])


def _missing_database(row: Row, ctx) -> Got:
    server = ctx.request.getfixturevalue("server_url")
    url = sa.engine.make_url(server).set(database="dwh_no_such_database").render_as_string(hide_password=False)
    return _run(ctx.capsys, ["status", "--database-url", url])


def _nothing_loaded(row: Row, ctx) -> Got:
    url = ctx.request.getfixturevalue("empty_db")
    shown = _run(ctx.capsys, ["show", "T1_totaal", "--database-url", url])
    check(row, _run(ctx.capsys, ["reconcile", "--database-url", url]))
    return shown


def _unknown_table(row: Row, ctx) -> Got:
    return _run(ctx.capsys, ["show", "X", "--database-url", ctx.request.getfixturevalue("loaded_db")])


def _reserved_login(row: Row, ctx) -> Got:
    ctx.monkeypatch.setenv("DWH_TEST_PASSWORD", "x")
    return _run(ctx.capsys, ["grant-reader", "public", "--password-env", "DWH_TEST_PASSWORD", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"])


def _same_data(row: Row, ctx) -> Got:
    databases, loaded = ctx.request.getfixturevalue("databases"), ctx.request.getfixturevalue("loaded_db")
    url = databases.create(template=sa.engine.make_url(loaded).database)
    return _run(ctx.capsys, ["load", "--database-url", url], out=True)


def _wrong_line(row: Row, ctx) -> Got:
    from extraction import source_text

    folder = ctx.tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "trajectory_end.csv"
    # 7738 Voltooid 2022 LDE is the 18 glued into "118" on line 204; line 205 prints "1 1".
    row_text = "T2c_project,2022,LDE,VOLTOOID,_T,_T,7738,18,printed,204\n"
    path.write_text(path.read_text(encoding="utf-8").replace(row_text, row_text.replace(",204", ",205")), encoding="utf-8")
    got = _run(ctx.capsys, ["validate", "--data", str(folder), "--source", str(source_text())], strip=folder)
    assert got.text.splitlines()[-1] == "dwh: error: the curated data has 1 problem"
    return got


SEC = "sec_nec_sec.csv"
SEC_LINE3 = "T4_sec_nec_sec,2018,CMW,1070,printed,476"  # line 3 of sec_nec_sec.csv
HEADER = "table_id,since_year_id,measure_id,value,status_id,source_line"


def _hostile(change: Callable[[Path], None], *, load: bool = False) -> Callable:
    """A runner that validates the shipped data with one file changed by ``change``; with ``load``,
    `dwh load` on an empty database must say the same first line (the row says "alike")."""

    def run(row: Row, ctx) -> Got:
        folder = ctx.tmp_path / "data"
        shutil.copytree(resources.data_dir(), folder)
        change(folder)
        if load:
            url = ctx.request.getfixturevalue("empty_db")
            check(row, _run(ctx.capsys, ["load", "--data", str(folder), "--database-url", url], strip=folder))
        try:
            return _run(ctx.capsys, ["validate", "--data", str(folder)], strip=folder)
        finally:
            shutil.rmtree(folder)  # pytest keeps the last runs' tmp_path: not 100 MiB each on a shared disk

    return run


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def _long_name(folder: Path) -> None:
    path = folder / "measure.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[1] = "n" * 10_001
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _line_of_100_mb(folder: Path) -> None:
    """The row's own size: one value of 100 MiB (validate reads it in under a second, never whole)."""
    path = folder / SEC
    before, after = path.read_text(encoding="utf-8").split(SEC_LINE3 + "\n")
    chunk = "7" * (1 << 20)
    with open(path, "w", encoding="utf-8") as out:
        out.write(before + SEC_LINE3[: -len("476")])
        for _ in range(100):
            out.write(chunk)
        out.write("\n" + after)


def _utf16(folder: Path) -> None:
    path = folder / "fund.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


RUNNERS: dict[tuple[str, str], Callable] = {
    ("Hostile files", "a code longer than its index can hold (a 9,000-character `measure_id`)"): _hostile(
        _replace(SEC, SEC_LINE3, SEC_LINE3.replace(",CMW,", f",{'X' * 9000},")), load=True
    ),
    ("Hostile files", "a free text over 10,000 characters"): _hostile(_long_name),
    ("Hostile files", "a line over 1 MiB characters (say one 100 MB value)"): _hostile(_line_of_100_mb),
    ("Hostile files", "a count of 5,000 digits"): _hostile(_replace(SEC, SEC_LINE3, SEC_LINE3.replace(",1070,", f",{'9' * 5000},"))),
    ("Hostile files", "a file saved as UTF-16 (with or without a byte order mark) or UTF-32"): _hostile(_utf16),
    ("Hostile files", "a header with a trailing space"): _hostile(_replace(SEC, HEADER + "\n", HEADER + " \n")),
    ("Hostile files", "a header with a trailing comma"): _hostile(_replace(SEC, HEADER + "\n", HEADER + ",\n")),
    ("Faults", "`dwh show --all --format csv` without `--output DIR`"): (
        lambda row, ctx: _run(ctx.capsys, ["show", "--all", "--format", "csv", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"])
    ),
    ("Faults", "`dwh export FILE.xlsx --format csv`"): (
        lambda row, ctx: _run(
            ctx.capsys, ["export", str(ctx.tmp_path / "FILE.xlsx"), "--format", "csv", "--database-url", "postgresql://nobody@127.0.0.1:1/nothing"],
            strip=ctx.tmp_path,
        )
    ),
    ("Faults", "server unreachable (wrong host or port, server down)"): _status_at("postgresql://nobody@127.0.0.1:1/nothing"),
    ("Faults", "missing database"): _missing_database,
    ("Faults", "not PostgreSQL / unparsable URL"): _status_at("mysql://x/y"),
    ("Faults", "nothing loaded yet (`show`, `reconcile`)"): _nothing_loaded,
    ("Faults", "unknown table id (`show`)"): _unknown_table,
    ("Faults", "`dwh grant-reader` with a reserved name (public, none, current_user, session_user, pg_*, postgres, a reader role, a superuser)"): _reserved_login,
    ("Faults", "the same data loaded again"): _same_data,
    ("Arguments", "`dwh` (no command)"): _arguments,
    ("Arguments", "`dwh serve --port 70000` (or `-1`)"): _arguments,
    ("Arguments", "`dwh status --limit -1` (or `0`)"): _arguments,
    ("Arguments", "`dwh --database-url mysql://x/y status`"): _arguments,
    ("Arguments", "`dwh migrate no_such_revision`"): _on_empty,
    ("Arguments", "`dwh migrate 0001` on a database at 0002"): _migrate_back,
    ("Provenance (`dwh validate --source FILE`, `dwh load --source FILE`)", "a text extraction that cannot be read"): (
        lambda row, ctx: _run(ctx.capsys, ["validate", "--source", "/nonexistent"])
    ),
}

#: Rows played by a longer test elsewhere: row -> the test (file::function) that plays it.
ELSEWHERE: dict[tuple[str, str], str] = {
    ("Faults", "wrong password"): "test_faults.py::test_wrong_password_message_says_what_to_check",
    ("Faults", "connection lost during a command"): "test_faults.py::test_the_server_dying_during_a_load_is_reported_as_what_happened",
    ("Faults", "`dwh load` killed (SIGKILL) at any moment"): "test_faults.py::test_a_load_killed_at_any_moment_leaves_the_previous_load",
    ("Faults", "two `dwh load` at once"): "test_faults.py::test_two_loads_at_once_are_serialized",
    ("Faults", "another session holds the load lock (`load`, `migrate`)"): "test_load_lock.py::test_a_wait_for_the_load_lock_is_reported_and_ends",
    ("Faults", "`DWH_LOCK_TIMEOUT` not a positive number"): "test_load_lock.py::test_a_bad_lock_timeout_is_exit_2",
    ("Faults", "`dwh grant-reader` on a role with other rights"): "test_reader_role.py::test_grant_reader_refuses_the_reader_role_a_superuser_and_a_role_with_other_rights",
    ("Faults", "readers during a reload"): "test_faults.py::test_readers_see_a_complete_dataset_during_reloads",
    ("Faults", "a migration could not bring what it added up to date from the loaded data (`show`, `export`, `reconcile`; `status` says it too)"): (
        "test_upgrades.py::test_an_upgrade_that_cannot_fill_the_ranges_refuses_every_reader_path_until_the_next_load"
    ),
    ("Faults", "a load or migration that must replace a view (it differs from its file) waits for a reader's open transaction on it"): (
        "test_load_lock.py::test_a_migration_that_waits_for_a_reader_gives_up"
    ),
    ("Faults", "a view a user made on a report view that a new version of `dwh` must drop and create again (its columns changed, or it has no file any more) (`load`, `migrate`)"): (
        "test_views.py::test_a_users_view_on_a_report_view_is_never_dropped_silently"
    ),
    ("Faults", "a second `dwh serve` for the same `DWH_HOME` (any port)"): "test_serve.py::test_a_second_serve_changes_nothing_of_the_running_one",
    ("Faults", "`dwh serve --port N` with N in use"): "test_serve.py::test_a_serve_on_a_port_in_use_leaves_the_reader_login_as_it_was",
    ("Faults", "a client of `dwh serve` past its 10 connections"): "test_serve.py::test_served_connections_are_capped_below_the_servers_slots",
    ("Faults", "clients of `dwh serve` that do not log in (a flood of startup packets, or silence)"): (
        "test_serve.py::test_a_client_that_does_not_log_in_is_closed_after_the_login_timeout"
    ),
    ("Faults", "`dwh serve` out of file descriptors"): "test_serve.py::test_out_of_file_descriptors_serve_warns_once_and_recovers",
    ("Faults", "a reader's query that spills more than 64 MB to disk"): "test_serve.py::test_the_served_reader_cannot_fill_the_disk",
    ("Faults", "a reader of `dwh serve` that turns its timeouts off (`set statement_timeout = 0`) and runs a statement past the login's 30 s, or sits idle in a transaction past them"): "test_serve.py::test_a_reader_that_sets_its_statement_timeout_aside_is_held_to_its_logins",
    ("Faults", "a reader of `dwh serve` that raises `work_mem` and sorts or hashes in the server's memory"): "test_serve.py::test_a_reader_cannot_take_the_servers_memory",
    ("Faults", "`dwh grant-reader` by a login that may not set superuser settings"): (
        "test_reader_role.py::test_without_superuser_rights_the_superuser_limits_are_a_warning"
    ),
    ("Faults", "`DWH_HOME` of another account, writable by others, or inside a folder another account owns or others may write (not sticky)"): (
        "test_hostile_home.py::test_a_dwh_home_another_account_made_first_is_refused"
    ),
    ("Faults", "a symbolic link, or a file of another account, as `server.log`, `server.lock`, `users.lock` or `pgpass`"): (
        "test_hostile_home.py::test_no_file_in_dwh_home_is_opened_through_a_link"
    ),
    ("Faults", "`server.lock` held by another process (a start or stop that hangs)"): (
        "test_hostile_home.py::test_a_held_server_lock_is_named_within_2_s_and_given_up_on"
    ),
    ("Faults", "the disk under `DWH_HOME` full (at the first start, a start, CREATE DATABASE or during a load)"): (
        "test_disk_full.py::test_a_full_disk_names_itself_and_the_folder_to_free"
    ),
    ("Faults", "the disk of a server given by `--database-url` or `DATABASE_URL` full (SQLSTATE 53100 disk_full)"): (
        "test_disk_full.py::test_a_full_disk_on_a_server_reached_by_url_is_named_as_the_servers"
    ),
    ("Faults", "the temporary folder (`TMPDIR`, else `/tmp`) full while `dwh validate` or `dwh load` copies a file (past 8 MiB) or keeps a large dataset's rows"): (
        "test_rowstore.py::test_a_full_temporary_folder_is_not_the_datas_fault"
    ),
    ("Faults", "root where dwh cannot hand the server to `dwh-postgres` (no CAP_SYS_ADMIN, a user namespace)"): (
        "test_embedded.py::test_root_that_cannot_hand_the_server_to_its_account_is_one_line_exit_3"
    ),
    ("Faults", "`dwh load`, `migrate` or `grant-reader` with a reader login"): "test_bi.py::test_a_reader_login_may_not_load_or_migrate_exit_3_in_one_line",
    ("Faults", "`dwh export FILE.xlsx` over an existing workbook"): "test_workbook.py::test_export_to_a_workbook_file_writes_that_file_and_says_when_it_replaces_one",
    ("Hostile files", "10^7 rows, each well-formed with a key of its own, refused only by a check across files (an unknown `table_id` each)"): (
        "test_rowstore.py::test_keys_past_the_tables_bound_are_found_after_the_file"
    ),
    ("Hostile files", "one document whose tables of one fact table print more than 32,767 cells together (`printed_cells` in source_table.csv)"): (
        "test_document_figures.py::test_validate_refuses_a_document_past_the_bound_at_the_table_that_crosses_it"
    ),
    ("Hostile files", "more than 65,536 rows in prose_figure.csv or source_inconsistency.csv (files held whole while the identities are checked)"): (
        "test_document_figures.py::test_the_files_held_whole_have_a_bound_in_validate_and_load"
    ),
    ("Hostile files", "a text extraction (`--source`) over 16 MiB (the answer's is 19,823 bytes)"): (
        "test_provenance.py::test_a_text_extraction_too_large_to_hold_is_bad_input"
    ),
    ("Hostile files", "the tables that the prose derivations and the identities across facts name print more than 32,767 cells together (the document's name 32)"): (
        "test_document_figures.py::test_the_tables_the_expressions_name_have_a_bound_in_validate_and_load"
    ),
    ("Hostile files", "10^7 copies of one row"): "test_hostile_files.py::test_problems_past_the_first_are_counted_not_kept",
    ("Hostile files", "a file changed during `dwh load --source`"): "test_provenance.py::test_load_checks_provenance_on_the_bytes_it_commits",
    ("Arguments", "`dwh reconcile | head -1`"): "test_cli.py::test_reconcile_into_head_ends_quietly",
    ("Arguments", "`dwh tables > /dev/full` (no space left)"): "test_cli.py::test_output_to_a_full_disk_is_exit_3_in_one_line",
}


def _runner(row: Row) -> Callable | None:
    if row.section == "Bad input":
        return _bad_input
    if row.section.startswith("Provenance") and row.name.startswith("a figure whose"):
        return _wrong_line
    return RUNNERS.get((row.section, row.name))


@dataclass
class Context:
    request: pytest.FixtureRequest
    capsys: pytest.CaptureFixture
    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch


ROWS = rows()


def test_the_doc_has_its_tables():
    sections = {r.section for r in ROWS}
    assert {"Bad input", "Faults", "Arguments"} <= sections
    # Each row of the Bad input table names its fixture, and each fixture of tests/bad_input has
    # its row; the Hostile files table is generated by its runners (or played by the test it names).
    named = [re.fullmatch(r"`tests/bad_input/([\w-]+)`", r.cells[1]) for r in ROWS if r.section == "Bad input"]
    assert all(named), [r.id for r, m in zip([r for r in ROWS if r.section == "Bad input"], named) if not m]
    assert sorted(m.group(1) for m in named) == sorted(p.name for p in (HERE / "bad_input").iterdir() if p.is_dir())
    assert sum(r.section == "Hostile files" for r in ROWS) >= 7


@pytest.mark.parametrize("row", [r for r in ROWS if _runner(r) is not None], ids=lambda r: r.id)
def test_every_example_of_the_doc_is_what_the_user_gets(row, request, capsys, tmp_path, monkeypatch):
    assert row.examples, f"{row.id}: no quoted line to compare"
    got = _runner(row)(row, Context(request, capsys, tmp_path, monkeypatch))
    check(row, got)


def test_every_other_row_names_the_test_that_plays_it():
    unplayed = [r.id for r in ROWS if _runner(r) is None and (r.section, r.name) not in ELSEWHERE]
    assert not unplayed, f"rows of docs/errors.md that no test produces (add a runner in {Path(__file__).name}): {unplayed}"
    for key, test in ELSEWHERE.items():
        file, function = test.split("::")
        assert re.search(rf"^def {function}\(", (HERE / file).read_text(encoding="utf-8"), re.M), f"{key}: {test} is not there"
    stale = [k for k in ELSEWHERE if k not in {(r.section, r.name) for r in ROWS}]
    assert not stale, f"ELSEWHERE names rows docs/errors.md no longer has: {stale}"
