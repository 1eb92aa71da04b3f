"""Hostile input files: whatever their size or encoding, one clear line per problem, exit 2, flat memory.

Oversized values, numbers of any length, UTF-16 files, headers with a trailing space or comma,
files made of many bad rows: `dwh validate` and `dwh load` refuse each with exit 2 and
``file:line:column``, quote no value whole, and keep the problems past the first ones as a count.
The sizes here prove the behaviour in seconds; bench/hostile.py measures the large ones
(10^7 rows, a 100 MB value).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loader import csvfile, resources
from loader.cli import main
from loader.dataset import MAX_PROBLEMS, SPECS, TEXT_MAX

SEC = "sec_nec_sec.csv"
HEADER = "table_id,since_year_id,measure_id,value,status_id,source_line"
LINE3 = "T4_sec_nec_sec,2018,CMW,1070,printed,476"  # line 3 of sec_nec_sec.csv (answer line 476)


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(resources.data_dir(), target)
    return target


def _replace_line3(folder: Path, line: str) -> None:
    path = folder / SEC
    text = path.read_text(encoding="utf-8")
    assert LINE3 in text
    path.write_text(text.replace(LINE3, line), encoding="utf-8")


def _validate(folder: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["validate", "--data", str(folder)])
    return code, capsys.readouterr().err


# ------------------------------------------------------------------ oversized values


def test_a_code_longer_than_its_index_takes_is_exit_2_with_a_cut_quote(folder, capsys, empty_db):
    code_value = "X" * 9000
    _replace_line3(folder, f"T4_sec_nec_sec,2018,{code_value},1070,printed,476")
    limit = SPECS["sec_nec_sec"].columns[2].longest
    assert limit is not None and limit < 9000
    expected = (
        f"{folder / SEC}:3:21: measure_id 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'... (9,000 characters) is too long "
        f"(expected at most {limit:,} characters, what the database can index)\n"
        "dwh: error: the curated data has 1 problem\n"
    )
    assert _validate(folder, capsys) == (2, expected)
    # The load gave exit 3 ("index row requires 9032 bytes"): now the same message, and nothing loaded.
    assert main(["load", "--data", str(folder), "--database-url", empty_db]) == 2
    assert capsys.readouterr().err == expected.replace("1 problem\n", "1 problem; nothing was loaded\n")


def test_the_longest_code_the_index_takes_loads(folder, capsys, empty_db):
    """The limit is no lower than the index needs: a status_id of the limit's length is a key, not too long."""
    limit = SPECS["observation_status"].columns[0].longest
    status = "s" * limit
    path = folder / "observation_status.csv"
    path.write_text(path.read_text(encoding="utf-8") + f"{status},a status as long as its key may be\n", encoding="utf-8")
    assert main(["load", "--data", str(folder), "--database-url", empty_db]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("command", ["validate", "load"])
def test_a_free_text_longer_than_any_column_takes_is_exit_2(folder, capsys, empty_db, command):
    """No index holds measure.name: the database would store it, but neither route of the load
    (loader.canonical, loader.dataset) takes what validate refuses."""
    path = folder / "measure.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[1] = "n" * (TEXT_MAX + 1)
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    code = main([command, "--data", str(folder), *(["--database-url", empty_db] if command == "load" else [])])
    err = capsys.readouterr().err
    assert code == 2
    column = len(lines[1].split(",")[0]) + 2
    assert err.splitlines()[0] == (
        f"{folder / 'measure.csv'}:2:{column}: name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'... ({TEXT_MAX + 1:,} characters) "
        f"is too long (expected at most {TEXT_MAX:,} characters, the longest text a column takes)"
    )


@pytest.mark.parametrize("command", ["validate", "load"])
def test_a_line_of_several_megabytes_is_never_written_whole(folder, capsys, empty_db, command):
    """A value of 100 MB was written to stderr whole; a few MB prove the same path (bench/hostile.py: 100 MB)."""
    size = 3 * csvfile.MAX_LINE
    _replace_line3(folder, f"T4_sec_nec_sec,2018,CMW,1070,printed,{'7' * size}")
    args = ["--database-url", empty_db] if command == "load" else []
    capsys.readouterr()
    assert main([command, "--data", str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert len(err) < 1000, len(err)
    assert err.splitlines()[0] == (
        f"{folder / SEC}:3:1: line of {size + 37:,} characters is too long (expected a record of at most {csvfile.MAX_LINE:,}; "
        "it starts 'T4_sec_nec_sec,2018,CMW,1070,printed,777'...)"
    )


def _run(command: str, folder: Path, capsys, empty_db: str) -> tuple[int, str]:
    if command == "validate":
        return _validate(folder, capsys)
    capsys.readouterr()
    code = main(["load", "--data", str(folder), "--database-url", empty_db])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", ["validate", "load"])
def test_a_count_of_5000_digits_gets_our_own_message(folder, capsys, empty_db, command):
    _replace_line3(folder, f"T4_sec_nec_sec,2018,CMW,{'9' * 5000},printed,476")
    code, err = _run(command, folder, capsys, empty_db)
    assert code == 2
    assert err.splitlines()[0] == (
        f"{folder / SEC}:3:25: value '9999999999999999999999999999999999999999'... (5,000 characters) is too large "
        "(expected a whole number >= 0 up to 2147483647)"
    )
    assert "sys.set_int_max_str_digits" not in err


@pytest.mark.parametrize("command", ["validate", "load"])
def test_an_amount_of_5000_digits_gets_our_own_message(folder, capsys, empty_db, command):
    """A decimal column (payment.csv's amount, numeric(12, 2)): the same, with its own expectation."""
    path = folder / "payment.csv"
    line = "T2e_betalingen,7738,VCF,2018,0.00,printed,342"  # line 2 of payment.csv (answer line 342)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[1] == line
    path.write_text(text.replace(line, line.replace(",0.00,", f",{'9' * 5000}.00,")), encoding="utf-8")
    code, err = _run(command, folder, capsys, empty_db)
    assert code == 2
    assert err.splitlines()[0] == (
        f"{path}:2:30: amount '9999999999999999999999999999999999999999'... (5,003 characters) is too large "
        "(expected an amount with two decimals and a dot, e.g. 27313.55 or -10637.67 with at most 10 digits before the point)"
    )
    assert err.splitlines()[-1] == ("dwh: error: the curated data has 1 problem" + ("; nothing was loaded" if command == "load" else ""))


def test_a_negative_count_of_5000_digits_gets_our_own_message(folder, capsys):
    _replace_line3(folder, f"T4_sec_nec_sec,2018,CMW,-{'9' * 5000},printed,476")
    code, err = _validate(folder, capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(f"{folder / SEC}:3:25: value '-999999999999999999999999999999999999999'... (5,001 characters) is too small")


def test_an_unknown_long_code_is_quoted_cut(folder, capsys):
    """Not too long for its index, but unknown: the message quotes it cut, as every message does."""
    code_value = "Y" * 60
    _replace_line3(folder, f"T4_sec_nec_sec,2018,{code_value},1070,printed,476")
    code, err = _validate(folder, capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(f"{folder / SEC}:3:21: unknown measure_id 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY'... (60 characters) (expected")


# ------------------------------------------------------------------ encodings and headers


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_as_utf16(folder, capsys, encoding):
    """A spreadsheet's "Unicode text" is UTF-16, with a byte order mark ("utf-16") or without."""
    path = folder / "fund.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    code, err = _validate(folder, capsys)
    assert (code, err) == (
        2,
        f"{path}:1:1: is UTF-16 text, not UTF-8 (expected a UTF-8 text CSV file: save it as CSV UTF-8)\n"
        "dwh: error: the curated data has 1 problem\n",
    )


def test_a_header_with_a_trailing_space_says_so(folder, capsys):
    path = folder / SEC
    path.write_text(path.read_text(encoding="utf-8").replace(HEADER, HEADER + " ", 1), encoding="utf-8")
    code, err = _validate(folder, capsys)
    assert (code, err) == (
        2,
        f"{path}:1:{HEADER.rindex(',') + 2}: header column name 'source_line ' has a leading or trailing space (expected {HEADER})\n"
        "dwh: error: the curated data has 1 problem\n",
    )


@pytest.mark.parametrize("commas", [1, 2])
def test_a_header_with_a_trailing_comma_says_so(folder, capsys, commas):
    path = folder / SEC
    path.write_text(path.read_text(encoding="utf-8").replace(HEADER, HEADER + "," * commas, 1), encoding="utf-8")
    code, err = _validate(folder, capsys)
    said = "a comma" if commas == 1 else f"{commas} commas"
    assert (code, err) == (
        2,
        f"{path}:1:{len(HEADER) + 2}: header ends in {said} after source_line: an empty column name (expected {HEADER})\n"
        "dwh: error: the curated data has 1 problem\n",
    )


# ------------------------------------------------------------------ many problems, flat memory


def _duplicates(folder: Path, rows: int) -> None:
    with open(folder / SEC, "a", encoding="utf-8") as f:
        f.write((LINE3 + "\n") * rows)


def test_problems_past_the_first_are_counted_not_kept(folder, capsys):
    rows = 20_000
    _duplicates(folder, rows)
    code, err = _validate(folder, capsys)
    lines = err.splitlines()
    assert code == 2
    assert len(lines) == MAX_PROBLEMS + 2
    assert lines[0] == (
        f"{folder / SEC}:5:1: duplicate row for table_id=T4_sec_nec_sec, since_year_id=2018, measure_id=CMW "
        "(first at line 3; expected each key once)"
    )
    assert lines[-2] == f"... and {rows - MAX_PROBLEMS} more problems"
    assert lines[-1] == f"dwh: error: the curated data has {rows} problems"


def _peak_rss_mib(folder: Path) -> float:
    """Peak resident memory of `dwh validate` on ``folder``, in a process of its own (exit 2 expected)."""
    code = (
        "import resource, sys\nfrom loader.cli import main\n"
        f"assert main(['validate', '--data', {str(folder)!r}]) == 2\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return float(done.stdout.strip())


def test_memory_stays_flat_on_many_bad_rows(folder):
    """Before, every row was kept until the key checks ran: about 1 kB a row (283 MiB for 200,000
    rows, 12 GB for 10^7). Now nothing is kept past the first problem, and 10x the rows cost at
    most the private copy of the file that stays in memory (csvfile.IN_MEMORY) more."""

    def peak(rows: int) -> float:
        target = folder.parent / f"data-{rows}"
        shutil.copytree(folder, target)
        _duplicates(target, rows)
        return _peak_rss_mib(target)

    small, large = peak(20_000), peak(200_000)
    assert large - small < (csvfile.IN_MEMORY >> 20) + 8, (small, large)


def test_a_good_value_is_read_alike_by_the_quick_path_and_by_parse():
    """dataset._parser takes a shortcut for good values: it must agree with _parse on every input."""
    from loader.dataset import _parse, _parser

    values = st.one_of(
        st.text(alphabet="0123456789- x\t", max_size=25),
        st.sampled_from(["", "0", "-0", "2147483647", "2147483648", "-2147483648", "32767", "32768", "-1", " a", "a ", "_T"]),
    )

    @settings(max_examples=400, deadline=None)
    @given(values)
    def agree(value):
        for spec in (c for table in SPECS.values() for c in table.columns):
            try:
                expected = ("ok", _parse(value, spec))
            except ValueError as exc:
                expected = ("refused", str(exc))
            try:
                got = ("ok", _parser(spec)(value))
            except ValueError as exc:
                got = ("refused", str(exc))
            assert got == expected, (spec.name, value)

    agree()


# ------------------------------------------------------------------ reading a file a chunk at a time


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab,\r\n \ufeff\u00e9\u20ac", max_size=60), st.integers(1, 7))
def test_streamed_lines_are_the_lines_of_the_whole_text(text, chunk):
    """stream_lines (a chunk at a time, any chunk size) yields what lines() yields for the whole text."""
    whole = text[1:] if text.startswith("\ufeff") else text
    problems: list = []
    with mock.patch.object(csvfile, "CHUNK", chunk):
        streamed = list(csvfile.stream_lines(io.BytesIO(text.encode("utf-8")), "f.csv", problems))
    assert streamed == list(csvfile.lines(whole))
    assert problems == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(1, 7))
def test_the_place_of_a_bad_byte_does_not_depend_on_the_chunks(raw, chunk):
    """scan() names the first NUL byte, else the first invalid UTF-8 byte, at its line and byte column."""
    problems: list = []
    with mock.patch.object(csvfile, "CHUNK", chunk):
        scanned = csvfile.scan(io.BytesIO(raw), "f.csv", problems)
    nul = raw.find(b"\x00")
    try:
        raw.decode("utf-8")
        bad = None if nul < 0 else nul
    except UnicodeDecodeError as exc:
        bad = nul if nul >= 0 else exc.start
    if bad is None:
        assert problems == [] and scanned.text
        return
    assert not scanned.text
    (problem,) = problems
    if "UTF-16" in problem.message or "UTF-32" in problem.message:
        assert (problem.line, problem.column) == (1, 1)  # named by its byte order mark or pattern
        return
    line = raw.count(b"\n", 0, bad) + 1
    column = bad - (raw.rfind(b"\n", 0, bad) + 1) + 1
    assert (problem.line, problem.column) == (line, column)
