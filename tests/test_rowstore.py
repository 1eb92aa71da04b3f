"""The compact rows loader.dataset keeps (loader.rowstore): the same rows, the same duplicates."""

from __future__ import annotations

import random
import shutil

import pytest

from loader import resources
from loader.dataset import read_dataset
from loader.errors import InputError
from loader.rowstore import Budget, Column, RowStore, SeenKeys


def _append(store: RowStore, line: int, values: tuple) -> None:
    codes = []
    for column, value in zip(store.columns, values):
        code = None if column.known is None else column.known.get(str(value))
        codes.append(column.code(str(value), value) if code is None else code)
    store.append(line, codes, values, list(range(1, 2 * len(values), 2)))


class _Colliding(SeenKeys):
    """Every key's hash looks alike: only the comparison of the keys themselves can tell them apart."""

    _HASH = 0


def _small_blocks(monkeypatch, rows: int = 7) -> None:
    """Blocks of a few rows: every store of more rows writes blocks out and reads them back."""
    monkeypatch.setattr(RowStore, "BLOCK", rows)
    monkeypatch.setattr(RowStore, "CACHED", 2)


@pytest.mark.parametrize("seen_keys", [SeenKeys, _Colliding])
@pytest.mark.parametrize("blocks", [False, True])
def test_seen_keys_answer_as_a_dict_of_every_key(seen_keys, blocks, monkeypatch):
    monkeypatch.setattr(Column, "DISTINCT", 40)  # the first column turns plain on the way
    if blocks:
        _small_blocks(monkeypatch)
    store = RowStore(2)
    seen = seen_keys(store, [0, 1])
    first: dict[tuple, int] = {}
    rows: list[tuple] = []
    rng = random.Random(20)
    duplicates = 0
    for line in range(2, 3000 if seen_keys is SeenKeys else 800):
        key = (f"T{rng.randrange(100)}", rng.randrange(30))
        assert seen.get(key) == first.get(key), (line, key)
        if key in first:
            duplicates += 1
            continue
        seen.add(key, line)
        first[key] = line
        if rng.random() < 0.99:  # now and then a row is refused by another check: its key still counts
            _append(store, line, key)
            rows.append(key)
    assert duplicates > 100
    assert store.columns[0].plain and not store.columns[1].plain
    assert [store.row(i) for i in range(len(store))] == rows == list(store)
    assert seen.late_duplicates(50) == (0, [])
    if blocks:
        assert store._places  # blocks were written out, and read back above


@pytest.mark.parametrize("seen_keys", [SeenKeys, _Colliding])
def test_keys_past_the_tables_bound_are_found_after_the_file(seen_keys, monkeypatch):
    """With tables of 16 slots (10 keys), most keys go to young tables emptied again and again;
    every duplicate is still found: at once, or by late_duplicates with the first row."""
    monkeypatch.setattr(SeenKeys, "SLOTS", 16)
    monkeypatch.setattr(SeenKeys, "PART", 8 if seen_keys is SeenKeys else 1 << 20)  # sorted in several parts
    _small_blocks(monkeypatch)
    store = RowStore(2)
    seen = seen_keys(store, [0, 1])
    rng = random.Random(7)
    first: dict[tuple, int] = {}  # key -> row of its first occurrence
    at_once, expected_late = [], []
    for row in range(600 if seen_keys is SeenKeys else 200):
        key = (f"K{rng.randrange(150)}", rng.randrange(2))
        line = row + 2
        found = seen.find(key)
        if found is not None:  # a duplicate seen at once: the line found is an earlier row of the key
            earlier, surely = found
            assert key in first and store.key(store.index_of_line(earlier), [0, 1]) == key
            if surely:
                assert earlier == store.line(first[key])
            at_once.append(row)
            continue
        seen.add(key, line)
        _append(store, line, key)
        if key in first:
            expected_late.append((len(store) - 1, first[key]))
        else:
            first[key] = len(store) - 1
    assert seen._emptied > 3 and at_once and expected_late
    count, found = seen.late_duplicates(5)
    assert count == len(expected_late)
    assert found == sorted(expected_late)[:5]


def test_a_column_of_many_values_keeps_each_rows_own(monkeypatch):
    monkeypatch.setattr(Column, "DISTINCT", 3)
    _small_blocks(monkeypatch, 2)
    store = RowStore(1)
    for line, value in enumerate([5, 6, 5, 7, 8, 5, 9], start=2):
        _append(store, line, (value,))
    assert [store.row(i) for i in range(len(store))] == [(5,), (6,), (5,), (7,), (8,), (5,), (9,)] == list(store)
    assert [store.line(i) for i in range(len(store))] == [2, 3, 4, 5, 6, 7, 8]
    assert [store.index_of_line(line) for line in (1, 2, 5, 8, 9)] == [None, 0, 3, 6, None]


def test_a_column_of_long_texts_stops_coding_at_the_budget(monkeypatch):
    """Coded texts cost characters of the dataset's Budget: past it, each row keeps its own, and a
    block of long plain texts is written out before it is full of rows."""
    monkeypatch.setattr(Budget, "CHARACTERS", 10_000)
    monkeypatch.setattr(RowStore, "BLOCK_CHARACTERS", 5_000)
    store = RowStore(2)
    texts = [f"{n:04d}" + "x" * 1_000 for n in range(40)]
    for line, text in enumerate(texts, start=2):
        _append(store, line, (text, line % 3))
    assert store.columns[0].plain and not store.columns[1].plain
    assert len(store.columns[0].distinct) < 10 and store.columns[0].known is None
    assert len(store._places) >= 5  # blocks cut short by their characters, not their rows
    assert list(store) == [(t, line % 3) for line, t in enumerate(texts, start=2)]


def _duplicated(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "payment.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # Line 158 repeats line 11's key with another amount; line 159 repeats line 2 exactly.
    path.write_text("\n".join([*lines, lines[10].replace(".", "1.", 1), lines[1]]) + "\n", encoding="utf-8")
    return folder, path


def test_duplicates_are_found_at_their_lines_with_the_first(tmp_path):
    folder, path = _duplicated(tmp_path)
    with pytest.raises(InputError) as caught:
        read_dataset(folder)
    found = [p for p in caught.value.problems if "duplicate" in p]
    assert found[0].startswith(f"{path}:158:1: duplicate row for table_id=T2e_betalingen, ")
    assert found[0].endswith("(first at line 11; expected each key once)")
    assert found[1].startswith(f"{path}:159:1: ") and "(first at line 2;" in found[1]
    assert len(found) == 2


@pytest.mark.parametrize("bounds", ["distinct", "characters", "blocks and slots"])
def test_a_column_turned_plain_reads_the_same_dataset(bounds, tmp_path, monkeypatch, shipped_dataset):
    """The same problems, rows and records, whatever the store and the key tables do at their bounds."""
    folder, _ = _duplicated(tmp_path)
    with pytest.raises(InputError) as coded:
        read_dataset(folder)
    if bounds == "distinct":
        monkeypatch.setattr(Column, "DISTINCT", 4)
    elif bounds == "characters":
        monkeypatch.setattr(Budget, "CHARACTERS", 300)
    else:
        _small_blocks(monkeypatch, 5)
        monkeypatch.setattr(SeenKeys, "SLOTS", 1 << 12)  # the largest file has fewer keys: found at once
    with pytest.raises(InputError) as plain:
        read_dataset(folder)
    assert plain.value.problems == coded.value.problems
    again = read_dataset(resources.data_dir())
    for name, table in shipped_dataset.tables.items():
        assert again.tables[name].rows == table.rows, name
        assert [r.line for r in again.tables[name].records] == [r.line for r in table.records], name


def test_a_kept_record_writes_its_values_for_copy(shipped_dataset):
    # The shipped payment.csv has no quoted field: each kept record writes out its line as read.
    data = shipped_dataset.tables["payment"]
    lines = (resources.data_dir() / "payment.csv").read_text(encoding="utf-8").splitlines()
    assert [r.text for r in data.records] == lines[1:]
    assert [r.columns for r in data.records][:1] == [[1, 16, 21, 25, 30, 35, 43]]


def _two_documents_interleaved(target):
    """The shipped data and a copy of its document under new ids, each fact file's rows of the two
    documents alternating; in each document one figure of sec_nec_sec raised by one (the
    original's LDE, the copy's total)."""
    import csv

    from loader import schema
    from loader.dataset import SPECS

    shutil.copytree(resources.data_dir(), target)
    for name in ["source_document", "source_table", "source_table_dimension", *schema.FACT_TABLES]:
        path = target / SPECS[name].file_name
        with open(path, newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        copies = [[row[0] + "~2", *row[1:]] for row in rows]
        if name == "source_table":
            document, position = header.index("document_id"), header.index("position")
            last = max(int(row[position]) for row in rows)
            for row in copies:
                row[document] += "~2"
                row[position] = str(int(row[position]) + last)
        if name == "sec_nec_sec":
            value = header.index("value")
            for changed in (rows[2], copies[0]):  # T4_sec_nec_sec LDE 70, T4_sec_nec_sec~2 _T 1140
                changed[value] = str(int(changed[value]) + 1)
        mixed = [row for pair in zip(rows, copies) for row in pair] + rows[len(copies):] + copies[len(rows):]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *mixed])
    return target


def test_identities_read_the_same_from_blocks_written_out(tmp_path, monkeypatch):
    """Two documents whose figures alternate in every fact file, so that each document's
    figures lie in every block: the identity problems are the same whether the rows stay in
    memory or are read back from blocks of 5 rows, and name both changed figures."""
    folder = _two_documents_interleaved(tmp_path / "two")
    with pytest.raises(InputError) as in_memory:
        read_dataset(folder)
    _small_blocks(monkeypatch, 5)
    with pytest.raises(InputError) as written_out:
        read_dataset(folder)
    assert written_out.value.problems == in_memory.value.problems
    # The document prints 1140 = 1070 + 70: the original's LDE is now 71 (line 6), the copy's total 1141 (line 3).
    shown = [p.split(":", 1)[1] for p in in_memory.value.problems]
    assert shown == [
        "2:24: T4_sec_nec_sec[since_year=2018] is 1140 but the sum over measure is 1141 (expected them equal, or the disagreement recorded in source_inconsistency.csv)",
        "3:26: T4_sec_nec_sec~2[since_year=2018] is 1141 but the sum over measure is 1140 (expected them equal, or the disagreement recorded in source_inconsistency.csv)",
    ]


def test_large_referenced_tables_are_read_in_batches_with_the_same_answer(tmp_path, monkeypatch):
    """Foreign keys checked with every referenced table 'large' (read again for each 3 rows of
    the referencing file) name the same rows, keys and samples as with sets held at once."""
    import loader.dataset as dataset

    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    path = folder / "doorstroom.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    p = header.index("province_id")
    for n in (3, 4, 9):  # three rows name a province the dimension does not have
        fields = lines[n].split(",")
        fields[p] = f"X{n}"
        lines[n] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as held:
        read_dataset(folder)
    monkeypatch.setattr(dataset, "FOREIGN_KEYS_HELD", 3)
    with pytest.raises(InputError) as batched:
        read_dataset(folder)
    assert batched.value.problems == held.value.problems
    unknown = [q for q in held.value.problems if "unknown province_id" in q]
    assert [q.split(":")[1] for q in unknown] == ["4", "5", "10"]
    assert all("(expected one of province.csv: " in q for q in unknown)


def test_a_full_temporary_folder_is_one_line(monkeypatch, capsys):
    """A dataset large enough to write blocks out, with no room left in TMPDIR: one line that
    names the folder and what to do, exit 1 (the environment, not the data)."""
    import errno

    import loader.rowstore as rowstore
    from loader.cli import main

    _small_blocks(monkeypatch, 5)

    def full(fd, data, at):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rowstore, "_pwrite", full)
    assert main(["validate", "--data", str(resources.data_dir())]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "cannot write the rows being checked to a temporary file in " in err[0]
    assert err[0].endswith("No space left on device (set TMPDIR to a folder with room)"), err


def test_interleaved_documents_gathered_a_few_at_a_time_give_the_same_problems(tmp_path, monkeypatch):
    """With room for the row numbers of 3 figures at a time, each document of the interleaved
    pair is gathered in a read of the rows of its own: the same identity problems."""
    import loader.identities as identities

    assert identities._gathered({"A": 5, "B": 4, "C": 1}) == [{"A", "B", "C"}]
    monkeypatch.setattr(identities, "GATHERED", 5)
    assert identities._gathered({"A": 5, "B": 4, "C": 1}) == [{"A"}, {"B", "C"}]
    assert identities._gathered({"A": 9}) == [{"A"}]  # a document larger than the room: alone

    folder = _two_documents_interleaved(tmp_path / "two")
    monkeypatch.setattr(identities, "GATHERED", 1 << 20)
    with pytest.raises(InputError) as at_once:
        read_dataset(folder)
    monkeypatch.setattr(identities, "GATHERED", 3)
    plans = []
    real = identities._gathered
    monkeypatch.setattr(identities, "_gathered", lambda counts: plans.append(real(counts)) or plans[-1])
    with pytest.raises(InputError) as in_batches:
        read_dataset(folder)
    assert in_batches.value.problems == at_once.value.problems
    assert plans and all(len(plan) == 2 for plan in plans)  # every fact's two documents, a read each


def test_the_lines_handed_to_the_load_are_bounded_by_their_characters(monkeypatch):
    """A load checked in Python gets each file's lines in batches of at most BATCH_CHARACTERS
    (and the line that passes them): 10,000 lines of 9,000 characters were 90 MB a batch."""
    import loader.dataset as dataset

    monkeypatch.setattr(dataset, "BATCH_CHARACTERS", 1_000)
    batches: dict[str, list[list[str]]] = {}
    read_dataset(resources.data_dir(), on_lines=lambda name, lines: lines is not None and batches.setdefault(name, []).append(lines))
    longest = max(len(line) for lines in batches["payment"] for line in lines)
    assert len(batches["payment"]) > 5  # 155 lines of about 60 characters
    assert all(sum(map(len, lines)) < 1_000 + longest for lines in batches["payment"])
    expected = (resources.data_dir() / "payment.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert [line for lines in batches["payment"] for line in lines] == expected


@pytest.mark.parametrize("command", ["validate", "load"])
def test_a_full_temporary_folder_is_not_the_datas_fault(command, databases, tmp_path, monkeypatch, capsys):
    """The private copy of a file that does not fit in memory goes to TMPDIR: there, no space left
    is one line naming the file and the folder, exit 1, where it was 'sec_nec_sec.csv:1:1: cannot be
    read: No space left on device (expected a readable CSV file)', exit 2, blaming the file."""
    import errno
    import tempfile

    class Full(tempfile.SpooledTemporaryFile):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Full)
    from loader.cli import main

    args = ["load", "--database-url", databases.create()] if command == "load" else ["validate"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"dwh: error: cannot copy {resources.data_dir() / 'source_document.csv'} to a temporary file in "), err
    assert err[0].endswith(": No space left on device (set TMPDIR to a folder with room)"), err
