"""A warehouse that catalogues more than the document's tables (a dataset may hold more documents;
the report views show the document's own): the exports publish the document's tables, their
cells and the document itself, exactly as from the document alone, and say what they leave out.

Before, `dwh export` stopped with "unexpected error" (a table id with "~" made no view name), the
site took "the" document of several, and the data package's cells were every document's.
"""

from __future__ import annotations

import re
from pathlib import Path

from test_reload_merge import COPY, _with_a_second_document
from test_streamed import _load

from loader.cli import main


def _export(url: str, target: Path, fmt: str) -> int:
    return main(["--database-url", url, "export", str(target), "--format", fmt])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _page(path: Path) -> str:
    """A page without what differs from one load and export to the next: the times the figures
    were loaded and published, and the hash of the loaded files (the two warehouses hold
    different files)."""
    text = re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC", "(time)", path.read_text(encoding="utf-8"))
    return re.sub(r"<code>[0-9a-f]{12}</code>", "<code>(hash)</code>", text)


def test_the_exports_publish_the_documents_tables_only(databases, loaded_db, tmp_path, capsys):
    url = databases.create()
    _load(url, _with_a_second_document(tmp_path / "more"), force=False)
    capsys.readouterr()

    assert _export(url, tmp_path / "more-csv", "csv") == 0
    said = capsys.readouterr().err
    assert re.search(r"\d+ catalogued tables have no report view", said), said
    assert f"T1_totaal{COPY}" in said
    assert _export(loaded_db, tmp_path / "one-csv", "csv") == 0
    assert _files(tmp_path / "more-csv") == _files(tmp_path / "one-csv")  # the tables, the cells, the descriptor

    capsys.readouterr()
    assert main(["--database-url", url, "show", "--all"]) == 0
    shown = capsys.readouterr()
    assert re.search(r"\d+ catalogued tables have no report view", shown.err), shown.err
    assert main(["--database-url", loaded_db, "show", "--all"]) == 0
    assert shown.out == capsys.readouterr().out  # the document's 18 tables, as from the document alone

    assert _export(url, tmp_path / "more-site", "html") == 0
    assert _export(loaded_db, tmp_path / "one-site", "html") == 0
    for page in ("index.html", "bron.html"):
        assert _page(tmp_path / "more-site" / page) == _page(tmp_path / "one-site" / page), page
