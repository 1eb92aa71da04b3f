"""The placement search against the counts and possibilities data/CURATION.md gives, and report.open_cellen."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from loader import placements, resources
from loader.cli import main

from extraction import source_text

CURATION = Path(__file__).resolve().parents[1] / "data" / "CURATION.md"
ABBREVIATIONS = {f"{y[2:]}{m[0]}": (y, m) for y, m in placements.COLUMNS}  # 21C -> ("2021", "CMW")


@pytest.fixture(scope="module")
def results():
    return {r.table_id: r for r in placements.search(source_text(), resources.data_dir())}


def curation_possibilities() -> dict[tuple[str, str], set[frozenset]]:
    """Per (project, phase): the placements CURATION.md lists for T2c_project, as sets of (column, value)."""
    text = CURATION.read_text(encoding="utf-8")
    section = text[text.index("## T2c_project"):text.index("CHOSEN Stopgezet placement")]
    phase = "STOPGEZET"  # the Stopgezet list comes first, then "(Voltooid rows, per row, ...)"
    out: dict[tuple[str, str], set[frozenset]] = {}
    for line in section.splitlines():
        if "(Voltooid rows, per row" in line:
            phase = "VOLTOOID"
        match = re.match(r"\s+- (\d{4}) \((\d+) possible\): (.*)$", line)
        if not match:
            continue
        options = set()
        for body in re.findall(r"\{([^}]*)\}", match.group(3)):
            cells = (part.split("=") for part in body.split(", "))
            options.add(frozenset((ABBREVIATIONS[k], int(v)) for k, v in cells))
        assert len(options) == int(match.group(2))
        out[(match.group(1), phase)] = options
    return out


def test_a_glued_token_reads_every_way():
    assert set(placements.readings("9100")) == {
        (9100,), (9, 100), (91, 0, 0), (9, 1, 0, 0), (910, 0), (91, 0, 0), (9, 10, 0),
    }  # "0" alone is a number; "00" is not
    assert set(placements.readings("105")) == {(105,), (10, 5), (1, 0, 5)}  # never "05"


def test_a_row_of_two_numbers_has_fifteen_placements_in_six_columns():
    found = placements.row_placements(["6", "3"])
    assert len(found) == 15  # 6 choose 2: the numbers keep their printed order
    assert (6, None, None, 3, None, None) in found and (3, None, None, None, None, 6) not in found


def test_counts_are_those_of_the_curation_log(results):
    # CURATION.md: T2c_provincie "Exhaustive search ...: 1 solution"; T2c_leeftijd two possibilities
    # (a) and (b), resolved by the cross-table identity; T2c_project "exactly 3 joint solutions" for
    # the Voltooid rows and "21,691 placements" for the Stopgezet rows.
    assert (results["T2c_provincie"].within, results["T2c_provincie"].placements) == (1, 1)
    assert (results["T2c_leeftijd"].within, results["T2c_leeftijd"].placements) == (2, 1)
    project = results["T2c_project"]
    assert [(p.name, p.count.total) for p in project.parts] == [("Voltooid", 3), ("Stopgezet", 21691)]


def test_the_started_trajectory_tables_have_one_placement_each():
    found = placements.search_grids(source_text(), resources.data_dir())
    assert [(r.table_id, r.placements, r.chosen_is_placement) for r in found] == [
        ("T2ab_provincie", 1, True), ("T2ab_leeftijd", 1, True), ("T2ab_project", 1, True),
    ]


def test_a_grid_row_keeps_the_digits_of_its_label_out():
    names = {"7875": "Argos consortium West 7"}
    line = "7875 Argos consortium West 7 1 3 17 5 7 1 34"
    assert placements._grid_tokens(line, "7875", names) == ["1", "3", "17", "5", "7", "1", "34"]
    assert placements._grid_tokens("2021 8 88 96CMW LDE", "2021", names) == ["8", "88", "96"]


def test_the_curated_placement_is_one_of_them(results):
    assert all(r.chosen_is_placement for r in results.values())


def test_every_row_has_the_possibilities_the_curation_log_lists(results):
    expected = curation_possibilities()
    assert len(expected) == 23  # 11 Stopgezet rows and 12 Voltooid rows
    found = {}
    for part in results["T2c_project"].parts:
        for i, unit in enumerate(part.count.units):
            ((project, phase),) = unit.options[0].keys()
            found[(project, phase)] = {
                frozenset((col, v) for col, v in zip(placements.COLUMNS, option[(project, phase)]) if v is not None)
                for option in part.count.possible(i)
            }
    assert found == expected


def test_the_range_file_is_what_a_fresh_search_gives(results, tmp_path):
    assert placements.check_range_file(list(results.values()), resources.data_dir()) is None
    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    path = copy / placements.RANGE_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",21691,", ",21690,")
    path.write_text("".join(lines), encoding="utf-8")
    assert placements.check_range_file(list(results.values()), copy) == (
        f"{path}:4:1: differs from a fresh placement search (run `dwh placements --source FILE --write`)"
    )


def test_placements_command(capsys):
    assert main(["placements", "--source", str(source_text())]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"{table_id}: 1 placement by its row and column totals; the curated placement is one of them"
        for table_id in ("T2ab_provincie", "T2ab_leeftijd", "T2ab_project")
    ]  # CURATION.md: "Unique (exhaustive search: 1 solution)" for each
    assert out[5] == (
        "T2c_project: by its own identities not counted (only its Eindtotaal constrains it); with the column totals "
        "shared by the T2c tables Voltooid rows 3; Stopgezet rows 21691; the curated placement is one of them"
    )  # no English thousands separator (was 21,691)


def test_placements_command_prints_the_range_of_every_open_cell(capsys):
    """Each open cell's range as data/CURATION.md's placements give it (curation_possibilities),
    in printed order: one line per cell, none left out."""
    assert main(["placements", "--source", str(source_text())]) == 0
    out = capsys.readouterr().out.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("open cells ("))
    listed = out[start + 1:]
    expected = []
    for (project, phase), options in curation_possibilities().items():
        for column in placements.COLUMNS:
            values = {dict(option).get(column) for option in options}
            if len(values) > 1:
                bounds = [0 if v is None else v for v in values]
                expected.append((project, phase.capitalize(), *column, min(bounds), max(bounds)))
    assert out[start].startswith(f"open cells ({len(expected)}):")
    found = [re.match(r"  T2c_project (\d+) (\w+) (\d{4}) (CMW|LDE): (\d+) to (\d+) \(as curated in \d+ of (\d+) placements", line) for line in listed]
    assert all(found), listed
    got = [(m[1], m[2], m[3], m[4], int(m[5]), int(m[6])) for m in found]
    assert sorted(got) == sorted(expected) and len(got) == len(expected) == 73
    assert "  T2c_project 7738 Stopgezet 2021 CMW: 0 to 1 (as curated in" in listed[0]
    assert all(int(m[7]) in (3, 21691) for m in found) and not any("," in line.split(":")[1].split("(")[0] for line in listed)


def test_a_choice_that_breaks_the_totals_is_not_a_placement(tmp_path, capsys):
    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    path = copy / "trajectory_end.csv"
    text = path.read_text(encoding="utf-8")
    # 7877 Voltooid prints one "4"; the curation puts it in 2022 LDE. In 2023 CMW the Voltooid
    # column totals (2023 CMW 16) no longer hold.
    before = "T2c_project,2022,LDE,VOLTOOID,_T,_T,7877,4,open,221"
    assert before in text
    path.write_text(text.replace(before, "T2c_project,2023,CMW,VOLTOOID,_T,_T,7877,4,open,221"), encoding="utf-8")
    before_ranges = (copy / placements.RANGE_FILE).read_bytes()
    assert main(["placements", "--source", str(source_text()), "--data", str(copy), "--write"]) == 2
    captured = capsys.readouterr()
    assert "T2c_project: " in captured.out and "the curated placement is NOT one of them" in captured.out
    assert captured.err == (
        "dwh: error: the curated figures of T2c_project are not a placement that fits the document (see data/CURATION.md)\n"
    )
    assert (copy / placements.RANGE_FILE).read_bytes() == before_ranges  # nothing written


@pytest.mark.parametrize("view", ["open_cellen", "onzekere_cellen"])  # the old name reads the new view
def test_open_cells_view(loaded_engine, view):
    expected = curation_possibilities()
    with loaded_engine.connect() as conn:
        rows = conn.execute(sa.text(f"select * from report.{view}")).mappings().all()
        chosen = conn.execute(
            sa.text("select count(*) from dwh.trajectory_end where status_id = 'open'")
        ).scalar_one()
        labels = dict(conn.execute(sa.text("select esf_project_id, label from dwh.esf_project")).all())
    by_key = {(r["rij"], r["kolom"]): r for r in rows}
    assert len(by_key) == len(rows)
    # One word for every open cell; every figure placed by choice is one, with its value as the chosen one.
    assert {r["status"] for r in rows} == {"open"}
    assert sum(1 for r in rows if r["gekozen_waarde"] is not None) == chosen == 35
    # The bounds and the placement counts follow from the possibilities the curation log lists.
    listed = 0
    for (project, phase), options in expected.items():
        row = f"{labels[project]} / {phase.capitalize()}"
        for column in placements.COLUMNS:
            values = {dict(option).get(column) for option in options}
            kolom = " ".join(column)
            if len(values) == 1:
                assert (row, kolom) not in by_key
                continue
            listed += 1
            cell = by_key[(row, kolom)]
            bounds = [0 if v is None else v for v in values]
            assert (cell["tabel"], cell["minimum"], cell["maximum"]) == ("T2c_project", min(bounds), max(bounds))
            assert cell["plaatsingen"] == (3 if phase == "VOLTOOID" else 21691)
            assert cell["gekozen_waarde"] in values
            assert 0 < cell["plaatsingen_zoals_gekozen"] < cell["plaatsingen"]
    assert listed == len(rows)
    cell = by_key[("7738 Doorstroom Sociale Economie (Stad Gent) / Stopgezet", "2022 CMW")]
    assert (cell["gekozen_waarde"], cell["minimum"], cell["maximum"]) == (1, 0, 1)


def test_write_replaces_the_range_file_without_following_a_link(tmp_path, capsys):
    """`--write` followed a symbolic link in the data folder and overwrote its target. It now
    replaces the name itself, at once: the link's target is untouched, the name becomes the file."""
    copy = tmp_path / "data"
    shutil.copytree(resources.data_dir(), copy)
    fresh = (copy / placements.RANGE_FILE).read_bytes()  # the shipped file is what the search gives (test above)
    victim = tmp_path / "victim.txt"
    victim.write_text("not to be touched\n", encoding="utf-8")
    (copy / placements.RANGE_FILE).unlink()
    (copy / placements.RANGE_FILE).symlink_to(victim)
    assert main(["placements", "--source", str(source_text()), "--data", str(copy), "--write"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {copy / placements.RANGE_FILE}"
    assert victim.read_text(encoding="utf-8") == "not to be touched\n"
    path = copy / placements.RANGE_FILE
    assert not path.is_symlink() and path.read_bytes() == fresh
    assert [p.name for p in copy.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_a_write_that_fails_partway_leaves_the_old_range_file_whole(tmp_path, monkeypatch):
    """"At once": a failure while the new text is written (here the disk fills after its first
    bytes) leaves the old file as it was and no temporary file, never part of either."""
    import os

    data = tmp_path / "data"
    data.mkdir()
    path = data / placements.RANGE_FILE
    path.write_text("old ranges\n", encoding="utf-8")

    def full(fd):  # the written bytes reach the disk here, and the disk is full
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched, pytest.raises(OSError, match="No space left"):
        patched.setattr(os, "fsync", full)
        placements.write_range_file(data, "new ranges\n" * 1000)
    assert path.read_text(encoding="utf-8") == "old ranges\n"
    assert [p.name for p in data.iterdir()] == [placements.RANGE_FILE]
    placements.write_range_file(data, "new ranges\n")
    assert path.read_text(encoding="utf-8") == "new ranges\n"


def test_the_curation_log_says_which_sums_are_fixed_as_the_search_finds(results):
    """CURATION.md's table of fixed and open sums is what the placement search gives, not a list typed by hand."""
    text = CURATION.read_text(encoding="utf-8")
    section = text[text.index("**Which sums the printed numbers fix.**"):text.index("## Conventions")]
    documented = dict(re.findall(r"^\| ((?:one|a) [^|]+?) \| ((?:fixed|open in \d+ of \d+ rows)) \|$", section, flags=re.M))
    project = results["T2c_project"]
    rows = len(project.table.rows) - 1  # the Eindtotaal row is not placed
    found = {
        v.name: "fixed" if v.fixed else f"open in {v.open_rows} of {rows} rows"
        for v in placements.sum_verdicts([project])
    }
    assert documented == found
    # What the issue relied on: each project x phase total is fixed, its split over years and measures is not.
    assert found["a row's six cells (its total over end years and measures)"] == "fixed"
    assert all(v.fixed for v in placements.sum_verdicts([results["T2c_provincie"], results["T2c_leeftijd"]]))
