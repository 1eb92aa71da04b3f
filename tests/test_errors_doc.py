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
        if line.startswith("## "):
            section = line[3:].strip()
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


def check(row: Row, got: Got) -> None:
    if row.exit not in ("-", ""):
        assert str(got.exit) == row.exit.split(",")[0].strip(), row.id
    lines = got.text.replace("`", "").splitlines()
    first = row.section == "Bad input"  # "first line on stderr"
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


RUNNERS: dict[tuple[str, str], Callable] = {
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
    ("Faults", "a migration waits for a reader's open transaction on a view"): "test_load_lock.py::test_a_migration_that_waits_for_a_reader_gives_up",
    ("Faults", "`DWH_LOCK_TIMEOUT` not a positive number"): "test_load_lock.py::test_a_bad_lock_timeout_is_exit_2",
    ("Faults", "`dwh grant-reader` on a role with other rights"): "test_reader_role.py::test_grant_reader_refuses_the_reader_role_a_superuser_and_a_role_with_other_rights",
    ("Faults", "readers during a reload"): "test_faults.py::test_readers_see_a_complete_dataset_during_reloads",
    ("Faults", "a migration could not bring what it added up to date from the loaded data (`show`, `export`, `reconcile`; `status` says it too)"): (
        "test_upgrades.py::test_an_upgrade_that_cannot_fill_the_ranges_refuses_every_reader_path_until_the_next_load"
    ),
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
    assert sum(r.section == "Bad input" for r in ROWS) == len([p for p in (HERE / "bad_input").iterdir() if p.is_dir()])


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
