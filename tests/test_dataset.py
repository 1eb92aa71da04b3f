"""The curated data: checks, the document's identities, and cells typed from the document."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from loader import schema
from loader.identities import check_dataset, observations_from_tables


def _value(dataset, fact: str, table_id: str, **coords):
    found = [
        o
        for o in observations_from_tables(dataset.tables)
        if o.fact == fact and o.table_id == table_id and all(o.coordinate(d) == c for d, c in coords.items())
    ]
    assert len(found) == 1, (fact, table_id, coords, found)
    return found[0].value


def test_shipped_data_passes_every_check(shipped_dataset):
    assert check_dataset(shipped_dataset.tables) == []


# Cells typed from the document (shared/seed/000_b0f9d5d62dee0a8f.txt), including glued ones.
SAMPLE = [
    ("doorstroom", "T1_provincie", {"province_id": "BE-VAN", "measure_id": "CMW"}, 279),
    ("doorstroom", "T1_leeftijd", {"age_band_id": "Y25T59", "measure_id": "LDE"}, 1933),
    # line 162: "... 4 18 48 10 11 9100" is 2023 = 9 and Totaal = 100
    ("trajectory_start", "T2ab_project", {"esf_project_id": "7889", "start_year_id": "2023"}, 9),
    ("trajectory_start", "T2ab_project", {"esf_project_id": "7889", "start_year_id": "_T"}, 100),
    ("trajectory_start", "T2ab_provincie", {"start_year_id": "_T", "province_id": "_T"}, 686),
    ("trajectory_start", "T2ab_leeftijd", {"start_year_id": "_T", "age_band_id": "Y_GE60"}, 1),
    # line 194: "25 tot en met 59 jaar Voltooid 37 58 8114 16 56": 2022 CMW = 8, 2022 LDE = 114
    ("trajectory_end", "T2c_leeftijd", {"age_band_id": "Y25T59", "phase_id": "VOLTOOID", "end_year_id": "2022", "measure_id": "CMW"}, 8),
    ("trajectory_end", "T2c_leeftijd", {"age_band_id": "Y25T59", "phase_id": "VOLTOOID", "end_year_id": "2022", "measure_id": "LDE"}, 114),
    ("trajectory_end", "T2c_provincie", {"province_id": "_T", "phase_id": "_T", "end_year_id": "2022", "measure_id": "LDE"}, 142),
    ("doorstroom_after_evaluation", "T2d_project", {"doorstroom_year_id": "2022", "esf_project_id": "7882", "measure_id": "LDE"}, 25),
    ("doorstroom_after_evaluation", "T2d_provincie", {"doorstroom_year_id": "2023", "province_id": "_T", "measure_id": "_T"}, 163),
    # line 399: "Argos consortium West 714.516,26" is the project "... West 7" and 14.516,26
    ("payment", "T2e_betalingen", {"esf_project_id": "7875", "fund_id": "VCF", "payment_year_id": "2022"}, Decimal("14516.26")),
    # lines 342-343: "17.136,0" + "0" is 17.136,00
    ("payment", "T2e_betalingen", {"esf_project_id": "7738", "fund_id": "ESF", "payment_year_id": "2020"}, Decimal("17136.00")),
    ("payment", "T2e_betalingen", {"esf_project_id": "7876", "fund_id": "VCF", "payment_year_id": "2023"}, Decimal("-10637.67")),
    ("payment", "T2e_betalingen", {"esf_project_id": "_T", "fund_id": "ESF", "payment_year_id": "2020"}, Decimal("43344.00")),
    ("screening", "T3_provincie", {"province_id": "OUT", "measure_id": "CMW"}, 1),
    ("sustained_doorstroom", "T4_duurzaam", {"doorstroom_year_id": "2023", "measure_id": "LDE", "threshold_id": "M12"}, 1989),
    ("sustained_doorstroom", "T4_duurzaam", {"doorstroom_year_id": "_T", "measure_id": "_T", "threshold_id": "ANY"}, 4945),
    ("sec_nec_sec", "T4_sec_nec_sec", {"measure_id": "CMW"}, 1070),
]


@pytest.mark.parametrize(("fact", "table_id", "coords", "expected"), SAMPLE)
def test_cells_typed_from_the_document(shipped_dataset, fact, table_id, coords, expected):
    assert _value(shipped_dataset, fact, table_id, **coords) == expected


def test_an_empty_printed_cell_has_no_observation(shipped_dataset):
    # T3_provincie prints "Buiten Brussel/Vlaanderen 1": the LDE cell is empty, not zero.
    obs = [
        o
        for o in observations_from_tables(shipped_dataset.tables)
        if o.table_id == "T3_provincie" and o.coordinate("province_id") == "OUT"
    ]
    assert [(o.coordinate("measure_id"), o.value) for o in obs] == [("CMW", 1)]


def test_the_grand_total_is_the_same_in_the_province_age_and_project_versions(shipped_dataset):
    totals = {
        t: _value(shipped_dataset, "trajectory_start", t, start_year_id="_T", province_id="_T", age_band_id="_T", esf_project_id="_T")
        for t in ("T2ab_provincie", "T2ab_leeftijd", "T2ab_project")
    }
    assert set(totals.values()) == {686}


def test_stopgezet_is_totaal_minus_voltooid(shipped_dataset):
    obs = [o for o in observations_from_tables(shipped_dataset.tables) if o.table_id == "T2c_provincie"]
    by_key = {o.key: o.value for o in obs}
    dims = obs[0].dims
    phase = dims.index("phase_id")
    checked = 0
    for key, total in by_key.items():
        if key[phase] != "_T" or key[dims.index("province_id")] == "_T":
            continue
        voltooid = by_key.get(key[:phase] + ("VOLTOOID",) + key[phase + 1 :], 0)
        stopgezet = by_key.get(key[:phase] + ("STOPGEZET",) + key[phase + 1 :], 0)
        assert stopgezet == total - voltooid, key
        checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("figure_id", "value"),
    [("A6_SCREENED_2023", 224), ("A6_DOORSTROOM_2023", 3330), ("A6_DOORSTROOM_2022", 1615), ("A6_SUSTAINED_3M_2022", 856)],
)
def test_prose_figures_of_answer_6(shipped_dataset, figure_id, value):
    data = shipped_dataset.tables["prose_figure"]
    rows = {r[0]: r for r in data.rows}
    assert rows[figure_id][data.column_index("value")] == value


def _mutations(dataset):
    for fact in schema.FACT_TABLES:
        data = dataset.tables[fact]
        v = data.column_index("amount" if fact == "payment" else "value")
        for i, row in enumerate(data.rows):
            step = Decimal("0.01") if fact == "payment" else 1
            yield fact, i, v, step


def test_changing_any_single_figure_breaks_an_identity(shipped_dataset):
    """Every printed cell is tied to another by an identity: a one-off typo cannot pass."""
    unnoticed = []
    count = 0
    for fact, i, v, step in _mutations(shipped_dataset):
        data = shipped_dataset.tables[fact]
        rows = list(data.rows)
        row = list(rows[i])
        row[v] = row[v] + step
        rows[i] = tuple(row)
        tables = dict(shipped_dataset.tables)
        tables[fact] = dataclasses.replace(data, rows=rows)
        if not check_dataset(tables):
            unnoticed.append((fact, data.records[i].line))
        count += 1
    assert count > 600
    assert unnoticed == []


def test_a_recorded_source_inconsistency_is_accepted_and_reconciled(tmp_path, databases, capsys):
    """A printed total that disagrees with its cells is kept, flagged, recorded and reported."""
    import shutil

    from loader import resources
    from loader.cli import main

    folder = tmp_path / "data"
    shutil.copytree(resources.data_dir(), folder)
    # Pretend the document printed 71 for LDE: 1070 + 71 = 1141, but the total says 1140.
    text = (folder / "sec_nec_sec.csv").read_text()
    text = text.replace(",LDE,70,", ",LDE,71,").replace("2018,_T,1140,printed,", "2018,_T,1140,inconsistent,")
    (folder / "sec_nec_sec.csv").write_text(text)
    record = "T4_sec_nec_sec[since_year=2018] = the sum over measure,T4_sec_nec_sec,1140,1141,test: printed total kept\n"
    with open(folder / "source_inconsistency.csv", "a") as fh:
        fh.write(record)
    assert main(["validate", "--data", str(folder)]) == 0
    capsys.readouterr()

    url = databases.create()
    assert main(["load", "--data", str(folder), "--database-url", url]) == 0
    assert main(["reconcile", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "SRC  T4_sec_nec_sec[since_year=2018] 1140 = the sum over measure 1141" in out
    assert out.splitlines()[-1].endswith("1 recorded source inconsistencies, 0 fail")

    # Without the flag on the total, or with other figures, the record no longer fits.
    (folder / "sec_nec_sec.csv").write_text(text.replace("inconsistent", "printed"))
    assert main(["validate", "--data", str(folder)]) == 2
    assert "has status_id printed (expected status_id inconsistent)" in capsys.readouterr().err
    (folder / "sec_nec_sec.csv").write_text(text.replace(",LDE,71,", ",LDE,72,"))
    assert main(["validate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is 1140 but the sum over measure is 1142" in err
    assert "recorded inconsistency does not occur in the data" in err


def test_only_the_files_the_data_package_names_are_read_and_they_are_the_schema_tables():
    from loader import fingerprint
    from loader.dataset import SPECS

    assert fingerprint.data_files() == sorted(spec.file_name for spec in SPECS.values())


def test_the_recorded_hash_is_the_hash_of_the_files_read(shipped_dataset):
    import hashlib

    from loader import resources

    combined = hashlib.sha256()
    for path in sorted(resources.data_dir().glob("*.csv")):
        combined.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\0")
    assert shipped_dataset.data_hash == combined.hexdigest()
