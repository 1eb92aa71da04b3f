"""The workbook of `dwh export` on paper and as a file: print setup, fonts, total rows, the source
sheet, document properties, the file it is written to and its mode. Expected texts come from the
document (tests/golden, data/source_document.csv, data/source_table.csv)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from loader import __version__

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent.parent / "data"


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


CATALOGUE = sorted(_csv(DATA / "source_table.csv"), key=lambda r: int(r["position"]))
DOCUMENT = _csv(DATA / "source_document.csv")[0]


def _golden(table_id: str) -> list[list[str]]:
    with open(GOLDEN / f"{table_id}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _label_count(header: list[str], rows: list[list[str]]) -> int:
    """Leading columns that hold a word somewhere: the row labels."""
    return next(i for i in range(len(header) + 1) if i == len(header) or all(re.fullmatch(r"(-?\d+(\.\d\d)?)?", r[i]) for r in rows))


def _dwh(*args: str, umask: int = 0o022) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loader", *args], capture_output=True, text=True, preexec_fn=lambda: os.umask(umask)
    )


@pytest.fixture(scope="module")
def workbook_file(loaded_db, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("workbook") / "report.xlsx"
    done = _dwh("export", str(path), "--database-url", loaded_db)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing replaced
    return path


@pytest.fixture(scope="module")
def workbook(workbook_file):
    return openpyxl.load_workbook(workbook_file)


def test_export_to_a_workbook_file_writes_that_file_and_says_when_it_replaces_one(loaded_db, tmp_path):
    path = tmp_path / "report.xlsx"
    first = _dwh("export", str(path), "--database-url", loaded_db)
    assert first.returncode == 0 and first.stderr == "" and path.is_file()  # a file, not a folder named report.xlsx
    assert first.stdout == f"wrote 18 tables to {path}\n"
    second = _dwh("export", str(path), "--database-url", loaded_db)
    assert second.returncode == 0 and second.stderr == f"dwh: replacing {path}\n"
    folder = tmp_path / "old.xlsx"  # an existing folder of that name stays a folder to export into
    folder.mkdir()
    assert _dwh("export", str(folder), "--database-url", loaded_db).returncode == 0
    assert (folder / "doorstroom-sv221-2024.xlsx").is_file()
    refused = _dwh("export", str(tmp_path / "x.xlsx"), "--format", "csv", "--database-url", loaded_db)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "give a folder" in refused.stderr


@pytest.mark.parametrize("umask, mode", [(0o027, 0o640), (0o002, 0o664)])
def test_written_files_follow_the_umask(loaded_db, tmp_path, umask, mode):
    assert _dwh("export", str(tmp_path / "w.xlsx"), "--database-url", loaded_db, umask=umask).returncode == 0
    assert _dwh("export", str(tmp_path / "pkg"), "--format", "csv", "--database-url", loaded_db, umask=umask).returncode == 0
    files = [tmp_path / "w.xlsx", *(tmp_path / "pkg").iterdir()]
    assert len(files) == 21
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {mode}


def test_every_table_sheet_prints_landscape_one_page_wide_with_titles_repeated(workbook):
    for entry in CATALOGUE:
        table_id = entry["table_id"]
        sheet = workbook[table_id]
        header, *rows = _golden(table_id)
        setup = sheet.page_setup
        assert setup.orientation == "landscape", table_id
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, table_id
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), table_id
        assert sheet.print_title_rows.replace("$", "") == "3:3", table_id  # the header row on every page
        assert [c.value for c in sheet[3]] == header
        label_count = _label_count(header, rows)
        if label_count:
            last = openpyxl.utils.get_column_letter(label_count)
            assert sheet.print_title_cols.replace("$", "") == f"A:{last}", table_id  # the row labels on every page
        caption = f"{table_id}: {entry['caption']}".replace("&", "&&")
        assert caption in sheet.oddHeader.left.text, table_id  # the caption heads every printed page
        assert sheet.print_area is not None


def test_every_cell_has_a_named_font_and_columns_are_as_wide_as_their_headers(workbook):
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert cell.font.name, (sheet.title, cell.coordinate)
    for entry in CATALOGUE:
        sheet = workbook[entry["table_id"]]
        header, *rows = _golden(entry["table_id"])
        for c, name in enumerate(header, start=1):
            letter = openpyxl.utils.get_column_letter(c)
            assert sheet.column_dimensions[letter].width >= len(name) * 1.2, (entry["table_id"], name)
            if c > _label_count(header, rows):  # a figure's header stays on one line ("2021 CMW", not "CM/W")
                assert not sheet.cell(row=3, column=c).alignment.wrap_text, (entry["table_id"], name)


def test_total_rows_are_set_apart(workbook):
    for entry in CATALOGUE:
        table_id = entry["table_id"]
        header, *rows = _golden(table_id)
        sheet = workbook[table_id]
        for r, row in enumerate(rows, start=4):
            is_total = any(v.split()[:1] and v.split()[0] in ("Totaal", "Eindtotaal") for v in row if not re.fullmatch(r"-?[\d.]*", v))
            cell = sheet.cell(row=r, column=len(header))
            assert bool(cell.font.bold) == is_total, (table_id, row[0])
            assert (cell.border.top.style == "thin") == is_total, (table_id, row[0])
    # the document's totals are there: T1_provincie prints a Totaal row, T2e_betalingen one too
    assert workbook["T2e_betalingen"].cell(row=len(_golden("T2e_betalingen")) + 2, column=1).font.bold


def test_the_first_sheet_says_where_the_figures_come_from(workbook):
    assert workbook.sheetnames[0] == "Bron"
    texts = "\n".join(str(c.value) for row in workbook["Bron"].iter_rows() for c in row if c.value is not None)
    assert "Schriftelijke vraag nr. 221 van 2 februari 2024" in texts
    assert DOCUMENT["author"] in texts and DOCUMENT["minister"] in texts
    assert DOCUMENT["page_url"] in texts and DOCUMENT["pdf_url"] in texts
    links = [c.hyperlink.target for row in workbook["Bron"].iter_rows() for c in row if c.hyperlink]
    assert DOCUMENT["page_url"] in links
    assert "twee keer onafhankelijk" in texts  # how the figures were curated
    assert "open" in texts and "35 cijfers en 38 lege cellen in dit bestand" in texts  # what open means, with the counts of open cells
    assert re.search(r"Geladen\n20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", texts)  # the load time
    assert f"dwh {__version__}" in texts


#: Words of English sentences that no Dutch text uses ("of" and "is" are Dutch too); the legend and notes were English.
_ENGLISH = re.compile(r"\b(the|and|are|with|cells?|figures?|shaded|blank|placements?|printed|here|put|other)\b", re.I)


def test_the_reader_facing_text_is_dutch_like_the_source_sheet(workbook):
    """Captions and labels are the document's (Dutch); what dwh adds around them, the legend under
    each table, the cell notes and the source sheet, is Dutch too."""
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    texts.append((sheet.title, cell.value))
                if cell.comment is not None:
                    texts.append((sheet.title, cell.comment.text))
    english = [(title, text) for title, text in texts if _ENGLISH.search(text.replace("dwh.", "").replace("report.", ""))]
    assert english == []
    sheet = workbook["T2c_project"]  # the table with open cells (data/CURATION.md, "Open cells: 73")
    legend = sheet.cell(row=4 + len(_golden("T2c_project")), column=1).value
    assert legend.startswith("Gearceerde cellen met een notitie (35 cijfers, 38 lege cellen) zijn open:"), legend
    assert "report.open_cellen" in legend
    notes = [c.comment.text for row in sheet.iter_rows() for c in row if c.comment is not None]
    assert len(notes) == 73 and all(n.startswith("open: ") for n in notes)
    assert sum("leeg in onze plaatsing" in n for n in notes) == 38


def test_document_properties_are_filled(workbook):
    props = workbook.properties
    assert props.title.startswith("Schriftelijke vraag nr. 221 van 2 februari 2024")
    assert props.creator == f"dwh {__version__}" and "openpyxl" not in (props.creator, props.lastModifiedBy)
    assert props.subject and props.keywords and DOCUMENT["page_url"] in props.description


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdfinfo") and shutil.which("pdffonts")), reason="needs LibreOffice and poppler-utils")
def test_libreoffice_prints_a_page_per_sheet_in_one_sans_font(workbook_file, tmp_path):
    """Printed by LibreOffice headless: a page per sheet (was 35 pages for 18 tables, with labels
    and figures on separate pages and pages holding only a caption fragment), no serif font."""
    profile = tmp_path / "profile"  # a private LibreOffice profile: no clash with another instance
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(workbook_file)],
        capture_output=True, text=True, timeout=300,
    )
    pdf = tmp_path / "report.pdf"
    assert pdf.is_file(), done.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+19$", info, re.M), info
    assert re.search(r"^Title:\s+Schriftelijke vraag nr\. 221", info, re.M), info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in fonts}
    assert names and all(n.startswith("LiberationSans") for n in names), names
