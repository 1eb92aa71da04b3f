"""The label columns of the wide report views are named by one rule, checked against the text extraction.

The rule (docs/connecting.md, "The wide views"): a label column is named as the document
prints the column's header; where the document prints no header over the row labels (T1 and T3 per
province and per age band: the header row holds only CMW and LDE), it takes the name of the
dimension in the tidy views (`provincie`, `leeftijd`). What is typed below is only where each
table's header row is printed in the extraction; the names come from the text and from
report.cijfers, never from a list of the views' own names.
"""

from __future__ import annotations

import re

import pytest

from extraction import source_text

#: Table id -> the lines (first, last) of the extraction that print the header over the row labels,
#: or ("none", line) where the header row on that line prints only the measured columns, or None
#: for a table without row labels (one row of totals, or the prose figure of answer 4).
HEADER_LINES = {
    "T1_totaal": None,
    "T1_provincie": ("none", 85),
    "T1_leeftijd": ("none", 129),  # printed inside answer 2's tables: "2021 8 88 96CMW LDE"
    "T2ab_provincie": (108, 110),
    "T2ab_leeftijd": (124, 125),
    "T2ab_project": (137, 137),
    "T2c_provincie": (167, 168),
    "T2c_leeftijd": (189, 190),
    "T2c_project": (200, 201),
    "T2d_project": (267, 267),
    "T2d_provincie": (309, 309),
    "T2d_leeftijd": (325, 325),
    "T2e_betalingen": (338, 339),
    "T3_totaal": None,
    "T3_provincie": ("none", 440),
    "T3_leeftijd": ("none", 449),
    "T4_duurzaam": (463, 468),
    "T4_sec_nec_sec": None,
}

#: Views that break the rule and keep their name (tests/golden and users rely on it); a rename
#: makes the test pass and the strict xfail fail, so this list is mended then.
KNOWN_EXCEPTIONS = {
    "T2ab_provincie": "the header prints 'Startjaar Doorstroom-traject'; the view says Startjaar",
    "T2ab_leeftijd": "the header prints 'Startjaar Doorstroom(traject)'; the view says Startjaar",
}


def _compact(text: str) -> str:
    """The header without its line breaks and spaces: the extraction glues neighbouring cells
    ('provinciedoorstroom') and breaks words at hyphens ('doorstroom-' + 'traject', '-traject'),
    so only the letters in order can be compared, case and all."""
    return re.sub(r"\s+", "", re.sub(r"-\n|\n-", "", text))


def _columns(conn, table_id: str) -> tuple[list[str], list[str]]:
    """The view's label columns (text) and measured columns (numbers), in order."""
    rows = conn.exec_driver_sql(
        "select attname, format_type(atttypid, atttypmod) = 'text' from pg_attribute "
        "where attrelid = %(v)s::regclass and attnum > 0 and not attisdropped order by attnum",
        {"v": f"report.{table_id.lower()}"},
    ).fetchall()
    return [name for name, is_text in rows if is_text], [name for name, is_text in rows if not is_text]


def _cases() -> list:
    return [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason=KNOWN_EXCEPTIONS[t]) if t in KNOWN_EXCEPTIONS else (), id=t)
        for t in HEADER_LINES
    ]


def test_every_wide_view_is_listed(loaded_engine):
    with loaded_engine.connect() as conn:
        views = {v for (v,) in conn.exec_driver_sql("select table_id from dwh.source_table")}
    assert views == set(HEADER_LINES)


@pytest.mark.parametrize("table_id", _cases())
def test_label_columns_are_named_as_the_document_prints_their_header(loaded_engine, table_id):
    lines = source_text().read_text(encoding="utf-8").splitlines()
    spec = HEADER_LINES[table_id]
    with loaded_engine.connect() as conn:
        labels, measured = _columns(conn, table_id)
        if spec is None:
            assert labels == []
            return
        if spec[0] == "none":
            # No header over the row labels: the line holds the measured columns' headers only.
            assert lines[spec[1] - 1].rstrip().endswith(" ".join(measured)), lines[spec[1] - 1]
            (label,) = labels
            values = {v for (v,) in conn.exec_driver_sql(f'select "{label}" from report.{table_id.lower()}')}
            canonical = [
                dimension
                for dimension in ("provincie", "leeftijd")
                if values == {v for (v,) in conn.exec_driver_sql(f"select distinct {dimension}_gedrukt from report.cijfers where tabel = %(t)s", {"t": table_id})}
            ]
            assert canonical == [label]
            return
    first, last = spec
    header = _compact("\n".join(lines[first - 1 : last]))
    named = _compact("".join(labels))
    assert header.startswith(named), (header, labels)
    # The label header ends where the first measured column's header begins (for a two-row header
    # such as T2c's, its lower part: 'CMW' of '2021 CMW').
    rest = header[len(named) :]
    assert any(rest.startswith(_compact(word)) for word in measured[0].split()), (rest[:40], labels)
