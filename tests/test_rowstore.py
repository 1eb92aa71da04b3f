"""The compact rows loader.dataset keeps (loader.rowstore): the same rows, the same duplicates."""

from __future__ import annotations

import random
import shutil

import pytest

from loader import resources
from loader.dataset import read_dataset
from loader.errors import InputError
from loader.rowstore import Column, RowStore, SeenKeys


def _append(store: RowStore, line: int, values: tuple) -> None:
    codes = []
    for column, value in zip(store.columns, values):
        code = None if column.known is None else column.known.get(str(value))
        codes.append(column.code(str(value), value) if code is None else code)
    store.append(line, codes, values, list(range(1, 2 * len(values), 2)))


class _Colliding(SeenKeys):
    """Every key's hash looks alike: only the comparison of the keys themselves can tell them apart."""

    _HASH = 0


@pytest.mark.parametrize("seen_keys", [SeenKeys, _Colliding])
def test_seen_keys_answer_as_a_dict_of_every_key(seen_keys, monkeypatch):
    monkeypatch.setattr(Column, "DISTINCT", 40)  # the first column turns plain on the way
    store = RowStore(2)
    seen = seen_keys(store, [0, 1])
    first: dict[tuple, int] = {}
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
    assert duplicates > 100
    assert store.columns[0].plain is not None and store.columns[1].plain is None
    assert [store.row(i) for i in range(len(store))] == list(zip(*store.columns))


def test_a_column_of_many_values_keeps_each_rows_own(monkeypatch):
    monkeypatch.setattr(Column, "DISTINCT", 3)
    store = RowStore(1)
    for line, value in enumerate([5, 6, 5, 7, 8, 5, 9], start=2):
        _append(store, line, (value,))
    assert [store.row(i) for i in range(len(store))] == [(5,), (6,), (5,), (7,), (8,), (5,), (9,)]
    assert list(store.lines) == [2, 3, 4, 5, 6, 7, 8]


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


def test_a_column_turned_plain_reads_the_same_dataset(tmp_path, monkeypatch, shipped_dataset):
    folder, _ = _duplicated(tmp_path)
    with pytest.raises(InputError) as coded:
        read_dataset(folder)
    monkeypatch.setattr(Column, "DISTINCT", 4)
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
