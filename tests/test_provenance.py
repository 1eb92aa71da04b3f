"""Provenance: every figure's source_line prints it in the text extraction (shared/seed beside the clone)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal

import pytest

from loader import provenance, resources

from extraction import source_text


@pytest.mark.parametrize(
    ("value", "forms"),
    [
        (7, {"7"}),
        (1238, {"1238", "1.238"}),
        (Decimal("27313.55"), {"27.313,55"}),
        (Decimal("0.00"), {"0,00", "0"}),
        (Decimal("43344.00"), {"43.344,00", "43.344"}),
        (Decimal("-10637.67"), {"-10.637,67"}),
        (Decimal("136567.75"), {"136.567,75"}),
    ],
)
def test_printed_forms(value, forms):
    assert provenance.printed_forms(value) == forms


@pytest.mark.parametrize(
    ("line", "value", "printed"),
    [
        ("(consort. Emino Vlaams-Brabant) 4 18 48 10 11 9100", 9, True),  # 9100 = 9 | 100
        ("(consort. Emino Vlaams-Brabant) 4 18 48 10 11 9100", 100, True),
        ("(consort. Emino Vlaams-Brabant) 4 18 48 10 11 9100", 91, False),  # the rest "00" is not a number
        ("25 tot en met 59 jaar Voltooid 37 58 8114 16 56", 114, True),
        ("Totaal 136.567,75 163.881,30 173.860,73 43.344 96.010,51 177.025,39", Decimal("43344.00"), True),
        ("BLM)15.100,56 18.012,80 0,00 0,00 16.173,90 12.620,80", Decimal("15100.56"), True),
        ("consortium West 714.516,26 5.888,80 0,00 0,00 2.253,90 3.340,80", Decimal("14516.26"), True),
        ("(Buurtservice)18.792,92 24.074,80 -10.637,67 4.454,40 0,00 0,00", Decimal("-10637.67"), True),
        ("(Buurtservice)18.792,92 24.074,80 -10.637,67 4.454,40 0,00 0,00", Decimal("10637.67"), False),
        ("2021 8 88 96CMW LDE", 96, True),
        ("In totaal (over alle jaren heen sinds 2018) tellen we 1140 (1070 binnen CMW en 70", 1070, True),
        ("Totaal 7 92 289 96 119 83 686", 27, False),
        ("Totaal 7 92 289 96 119 83 686", 28, True),  # 289 could be 28 | 9 glued
    ],
)
def test_a_line_prints_a_figure(line, value, printed):
    forms = provenance.printed_forms(value)
    assert any(provenance.prints(t, forms) for t in provenance.line_tokens([line], 1)) is printed


def test_an_amount_wrapped_over_two_lines_is_printed_where_it_starts():
    lines = ["(Stad Gent) 0,00 27.313,55 25.704,0017.136,0", "0 0,00 8.958,00"]
    forms = provenance.printed_forms(Decimal("17136.00"))
    assert any(provenance.prints(t, forms) for t in provenance.line_tokens(lines, 1))
    assert not any(provenance.prints(t, forms) for t in provenance.line_tokens(lines, 2))


def test_every_shipped_figure_is_printed_on_its_source_line(shipped_dataset):
    assert provenance.problems(shipped_dataset, source_text()) == []


def _dwh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loader", *args], capture_output=True, text=True, timeout=300)


def test_validate_with_the_source(tmp_path):
    result = _dwh("validate", "--source", str(source_text()))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(f"every check passed; every figure is printed on its source line of {source_text()}\n")


def test_a_figure_pointed_at_the_wrong_line_is_an_error_at_its_csv_position(tmp_path, empty_db):
    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    path = copy / "trajectory_end.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # 7738 Voltooid 2022 LDE is the 18 glued into "118" on line 204; line 205 prints "1 1".
    row = "T2c_project,2022,LDE,VOLTOOID,_T,_T,7738,18,printed,204\n"
    index = lines.index(row)
    lines[index] = row.replace(",204", ",205")
    path.write_text("".join(lines), encoding="utf-8")
    column = len(row) - len("204\n") + 1
    for command in ("validate", "load"):
        # The load checks provenance on the bytes it reads, inside its transaction: it needs the database.
        result = _dwh(command, "--data", str(copy), "--source", str(source_text()), "--database-url", empty_db)
        assert result.returncode == 2
        assert result.stderr.splitlines()[0] == (
            f"{path}:{index + 1}:{column}: source_line 205 does not print 18 (line 205 of {source_text().name} prints: 1 1)"
        )
    assert result.stderr.splitlines()[-1] == "dwh: error: the curated data has 1 problem; nothing was loaded"
    assert _loaded(empty_db) is None


def _loaded(url: str):
    """The rows of sec_nec_sec committed in ``url`` (measure -> source_line), or None when nothing is loaded."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('dwh.sec_nec_sec')").fetchone()[0] is None:
            return None
        rows = conn.execute("select measure_id, source_line from dwh.sec_nec_sec").fetchall()
        return dict(rows) or None


LINE3 = "T4_sec_nec_sec,2018,CMW,1070,printed,476"  # line 476 of the answer prints 1140, 1070 CMW and 70 LDE


def test_load_checks_provenance_on_the_bytes_it_commits(tmp_path, empty_db, monkeypatch, capsys):
    """A file changed after `dwh load --source` checked the files and before it read them was
    committed unchecked: the check read the files apart from the load. Here sec_nec_sec.csv gets a
    source_line that does not print its figure (which every other check accepts) just before the
    load reads it; the load must refuse it, as it read it."""
    from loader import snapshot
    from loader.cli import main

    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    path = copy / "sec_nec_sec.csv"
    text = path.read_text(encoding="utf-8")
    assert LINE3 in text
    original = snapshot.Snapshot.stream
    swapped = []

    def stream(self, file_name, spec):
        if not swapped:  # the load's first read: the checks before it, if any, have read the good file
            path.write_text(text.replace(LINE3, LINE3.replace(",476", ",1")), encoding="utf-8")
            swapped.append(file_name)
        return original(self, file_name, spec)

    monkeypatch.setattr(snapshot.Snapshot, "stream", stream)
    code = main(["load", "--data", str(copy), "--source", str(source_text()), "--database-url", empty_db])
    err = capsys.readouterr().err
    assert swapped
    assert code == 2, err
    column = len(LINE3) - len("476") + 1
    assert err.splitlines()[0].startswith(f"{path}:3:{column}: source_line 1 does not print 1070 (line 1 of {source_text().name} prints:")
    assert _loaded(empty_db) is None


@pytest.mark.parametrize("route", ["streamed", "checked in Python"])
def test_provenance_is_not_read_again_from_the_files(tmp_path, empty_db, monkeypatch, capsys, route):
    """The other way round: the file the load reads does not print its figure, and the good one is
    back on disk by the time provenance is checked. A check that read the files again would pass
    and commit the bad bytes; one on the load's own bytes refuses them, on either route (a quoted
    field sends the load to loader.dataset's checks in Python)."""
    from loader import load, provenance
    from loader.cli import main

    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    path = copy / "sec_nec_sec.csv"
    good = path.read_text(encoding="utf-8")
    bad_line = LINE3.replace(",476", ",1")
    if route == "checked in Python":
        bad_line = '"' + bad_line.replace(",", '",', 1)
    path.write_text(good.replace(LINE3, bad_line), encoding="utf-8")
    routes, checked = [], []

    def good_again():  # the good file is back once the load has read the files, before the check
        path.write_text(good, encoding="utf-8")
        checked.append(True)

    def first(module, name, action):  # ``action`` before each call of module.name
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, **kwargs: (action(), original(*args, **kwargs))[1])

    first(load, "_check_provenance", good_again)
    first(provenance, "check_snapshot", good_again)
    first(load, "_checked_copy", lambda: routes.append("checked in Python"))
    code = main(["load", "--data", str(copy), "--source", str(source_text()), "--database-url", empty_db])
    err = capsys.readouterr().err
    assert checked and routes == ([] if route == "streamed" else ["checked in Python"])
    assert code == 2, err
    column = len(bad_line)  # the last field, "1"
    assert err.splitlines()[0].startswith(f"{path}:3:{column}: source_line 1 does not print 1070 (line 1 of {source_text().name} prints:")
    assert _loaded(empty_db) is None


def test_load_with_the_source_commits_the_figures_it_checked(tmp_path, empty_db, capsys):
    """The same load on the shipped data commits the document's figures with their source lines."""
    from loader.cli import main

    code = main(["load", "--source", str(source_text()), "--database-url", empty_db])
    assert code == 0, capsys.readouterr().err
    assert _loaded(empty_db) == {"_T": 476, "CMW": 476, "LDE": 476}
    # Unchanged data is checked all the same: the load reads the files, it does not skip them.
    assert main(["load", "--source", str(source_text()), "--database-url", empty_db]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("unchanged: ")


def test_a_line_beyond_the_end_of_the_extraction(tmp_path, shipped_dataset):
    short = tmp_path / "short.txt"
    short.write_text("\n".join(source_text().read_text(encoding="utf-8").splitlines()[:100]) + "\n", encoding="utf-8")
    found = provenance.problems(shipped_dataset, short)
    assert found and all("is beyond the end of" in p.message for p in found)  # lines up to 100 still print their figures
    assert any(p.message == f"source_line 204 is beyond the end of {short} (100 lines)" for p in found)


def test_an_unreadable_extraction_is_bad_input(tmp_path):
    result = _dwh("validate", "--source", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert result.stderr == f"dwh: error: {tmp_path / 'missing.txt'}: cannot read the text extraction (No such file or directory)\n"


def test_a_text_extraction_too_large_to_hold_is_bad_input(tmp_path, monkeypatch, capsys):
    """The extraction is read whole; one larger than SOURCE_BYTES (16 MiB; the answer's is 19,823
    bytes) is refused before it is held, by validate and load alike."""
    from loader.cli import main

    monkeypatch.setattr(provenance, "SOURCE_BYTES", 19_822)
    assert main(["validate", "--source", str(source_text())]) == 2
    assert capsys.readouterr().err == f"dwh: error: {source_text()}: the text extraction is larger than 19,822 bytes (expected the text of one answer; it is read whole)\n"
    monkeypatch.setattr(provenance, "SOURCE_BYTES", 19_823)  # exactly the answer's: read
    assert main(["validate", "--source", str(source_text())]) == 0
