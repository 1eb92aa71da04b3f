"""Ready for psql and BI users: the reader role, logins, serve, export, tidy views, worked examples."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from loader import db, resources, roles
from loader.cli import main


@pytest.fixture
def reader_login(databases, loaded_db):
    """A copy of the loaded database and a reader login on it; the login is dropped afterwards."""
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    name = f"reader_{uuid.uuid4().hex[:8]}"
    engine = db.make_engine(url)
    with db.begin(engine) as conn:
        assert roles.create_reader_login(conn, name, "s3cret") is True
    yield url, name
    with db.begin(engine) as conn:
        conn.exec_driver_sql(f'drop owned by "{name}"')
    engine.dispose()
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(f'drop role if exists "{name}"')


def _as(url: str, user: str) -> str:
    return sa.engine.make_url(url).set(username=user, password="s3cret").render_as_string(hide_password=False)


def test_a_reader_login_reads_everything(reader_login):
    # Every column information_schema lists for the login, as a BI tool selects them: all of them
    # but dwh.load_history.data_source, a folder of the server (see the next test).
    url, name = reader_login
    with psycopg.connect(_as(url, name)) as conn:
        relations = conn.execute(
            "select table_schema || '.' || table_name, string_agg(quote_ident(column_name), ', ' order by ordinal_position) "
            "from information_schema.columns where table_schema in ('dwh', 'report') group by 1"
        ).fetchall()
        assert len(relations) >= 40
        for relation, columns in relations:
            conn.execute(f"select {columns} from {relation} limit 1").fetchall()
        hidden = conn.execute(
            "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns c "
            "where table_schema in ('dwh', 'report') and not has_column_privilege(format('%I.%I', table_schema, table_name), column_name, 'select')"
        ).fetchall()
        assert hidden == []


def test_a_reader_does_not_see_server_paths(reader_login):
    url, name = reader_login
    with psycopg.connect(_as(url, name)) as conn:
        listed = conn.execute("select column_name from information_schema.columns where table_schema = 'dwh' and table_name = 'load_history'").fetchall()
        assert ("load_id",) in listed and ("data_source",) not in listed
        assert conn.execute("select count(*) from dwh.load_history where outcome = 'loaded'").fetchone()[0] >= 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select data_source from dwh.load_history")
    with psycopg.connect(url) as owner:  # the owner still sees where the data came from
        assert owner.execute("select data_source from dwh.load_history limit 1").fetchone()[0]


@pytest.mark.parametrize("command", [["status"], ["show", "T2c_project"], ["show", "--all", "--format", "json"], ["tables"], ["reconcile"]])
def test_a_reader_login_runs_the_reading_commands(reader_login, command, capsys):
    url, name = reader_login
    assert main([*command, "--database-url", _as(url, name)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out
    if command == ["status"]:
        assert "loaded" in out and "not readable by this read-only login" in out
        assert str(resources.data_dir()) not in out and "/" not in out.split("rows", 1)[1]


def test_a_reader_login_exports(reader_login, tmp_path, capsys):
    url, name = reader_login
    assert main(["export", str(tmp_path / "out.xlsx"), "--database-url", _as(url, name)]) == 0
    assert (tmp_path / "out.xlsx").is_file()


@pytest.mark.parametrize("command", [["load"], ["load", "--force"], ["migrate"], ["grant-reader", "another", "--password-env", "HOME"]])
def test_a_reader_login_may_not_load_or_migrate_exit_3_in_one_line(reader_login, command, capsys):
    url, name = reader_login
    assert main([*command, "--database-url", _as(url, name)]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"dwh: error: login {name} may only read this warehouse")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into dwh.measure (measure_id, name, label, sort_order) values ('X', 'x', 'x', 9)",
        "update dwh.doorstroom set value = value + 1",
        "delete from dwh.payment",
        "truncate dwh.sec_nec_sec",
        "create table dwh.mine (x int)",
        "create table report.mine (x int)",
        "create table public.mine (x int)",
        "create temporary table mine (x int)",
        "create view report.mine as select 1 as x",
        "create schema mine",
        "alter table dwh.measure add column x int",
        "drop view report.t1_totaal",
    ],
)
def test_a_reader_login_changes_nothing(reader_login, statement):
    url, name = reader_login
    with psycopg.connect(_as(url, name)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_reader_rights_survive_reload_and_migration_round_trip(reader_login, shipped_dataset):
    from loader import migrate
    from loader.load import load

    url, name = reader_login
    engine = db.make_engine(url)
    try:
        with db.begin(engine) as conn:
            load(conn, shipped_dataset, force=True)
        with db.begin(engine) as conn:
            migrate.downgrade(conn, "0001")
        with db.begin(engine) as conn:
            load(conn, shipped_dataset)
    finally:
        engine.dispose()
    with psycopg.connect(_as(url, name)) as conn:
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)
        assert conn.execute("select count(*) from dwh.payment").fetchone() == (156,)


def test_grant_reader_command(databases, loaded_db, capsys, monkeypatch):
    url = databases.create(template=sa.engine.make_url(loaded_db).database)
    name = f"bi_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("BI_PASSWORD", "pw")
    try:
        assert main(["grant-reader", name, "--password-env", "BI_PASSWORD", "--database-url", url]) == 0
        role = roles.reader_role(sa.engine.make_url(url).database)
        assert capsys.readouterr().out == f"created login {name} in role {role} (read-only)\n"
        assert main(["grant-reader", "postgres", "--password-env", "BI_PASSWORD", "--database-url", url]) == 2
        assert "reserved" in capsys.readouterr().err
    finally:
        with psycopg.connect(databases.admin_url, autocommit=True) as admin:
            admin.execute(f'drop role if exists "{name}"')


def test_serve_is_reachable_by_psql_as_the_reader_and_stops_on_sigterm(tmp_path):
    from loader.embedded import server_pid_alive
    from loader.unchanged import bundled_psql

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DWH_HOME"] = str(tmp_path / "home")
    load = subprocess.run([sys.executable, "-m", "loader", "load"], env=env, capture_output=True, text=True, timeout=300)
    assert load.returncode == 0, load.stderr
    serve = subprocess.Popen([sys.executable, "-m", "loader", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = serve.stdout.readline()
        assert first.startswith(f"serving database dwh of the embedded server in {tmp_path / 'home'} on 127.0.0.1:"), first + serve.stderr.read()
        fields = serve.stdout.readline().strip()
        password = fields.split("password ")[1].split(",")[0]
        command = serve.stdout.readline().strip()
        assert command.startswith('psql "postgresql://reader@127.0.0.1:')
        url = command.split('"')[1].replace("reader@", f"reader:{password}@")
        # psql as a user would run it (the real binary that ships in the pgserver wheel).
        psql = subprocess.run([str(bundled_psql()), command.split('"')[1], "-X", "-At", "-c", 'select "CMW" from report.t1_totaal'],
                              capture_output=True, text=True, timeout=60, env={**env, "PGPASSWORD": password})  # fmt: skip
        assert psql.stdout.strip() == "1010", psql.stderr
        with psycopg.connect(url) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("delete from dwh.payment")
    finally:
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err
    assert out.strip().endswith("stopped")
    assert not server_pid_alive(tmp_path / "home")


def test_export_xlsx_reads_back(loaded_db, tmp_path, capsys):
    import openpyxl

    assert main(["export", str(tmp_path), "--database-url", loaded_db]) == 0
    workbook = openpyxl.load_workbook(tmp_path / "doorstroom-sv221-2024.xlsx")
    assert len(workbook.sheetnames) == 19  # the source sheet and a sheet per table
    assert workbook.sheetnames[:2] == ["Bron", "T1_totaal"]
    sheet = workbook["T2e_betalingen"]
    assert sheet["A1"].value.startswith("T2e_betalingen: Hieronder een overzicht van de betalingen")
    assert [c.value for c in sheet[3]][:3] == ["Project", "VCF-2018", "VCF-2019"]
    assert sheet["A4"].value == "7738 Doorstroom Sociale Economie (Stad Gent)"
    assert sheet["C4"].value == pytest.approx(27313.55)
    t1 = workbook["T1_provincie"]
    assert [c.value for c in t1[4]] == ["Antwerpen", 279, 790]


def test_export_csv(loaded_db, tmp_path, capsys):
    assert main(["export", str(tmp_path), "--format", "csv", "--database-url", loaded_db]) == 0
    files = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert len(files) == 19  # a file per table and cellen.csv
    with open(tmp_path / "T3_provincie.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["provincie", "CMW", "LDE"]  # the caption is in datapackage.json
    assert rows[3] == ["Buiten Brussel/Vlaanderen", "1", ""]


def test_tidy_payments_add_up_to_the_printed_totals(loaded_engine):
    # Totaal row of answer 2e as printed (line 385 and 432).
    printed = [
        "136567.75", "163881.30", "173860.73", "43344.00", "96010.51", "177025.39",
        "247879.38", "181860.00", "-7193.98", "23640.40", "46546.20", "34707.20",
    ]  # fmt: skip
    with loaded_engine.connect() as conn:
        total = conn.execute(sa.text("select sum(bedrag_euro) from report.betalingen where not is_totaal")).scalar_one()
        labelled = conn.execute(
            sa.text("select count(*) from report.trajecten_beeindigd where provincie is null or maatregel is null or fase is null")
        ).scalar_one()
    assert total == sum(Decimal(p) for p in printed)
    assert labelled == 0


def _example(conn, name: str) -> list[tuple]:
    text = (resources.sql_dir() / "examples" / f"{name}.sql").read_text(encoding="utf-8")
    return [tuple(r) for r in conn.exec_driver_sql(text)]


def test_every_example_is_tested():
    names = {p.stem for p in (resources.sql_dir() / "examples").glob("*.sql")}
    assert names == {
        "sustained_share_2022", "payments_per_project", "stop_rate_per_province", "screening_vs_doorstroom_2023",
        "doorstroom_2023_per_province", "trajectories_started_per_year",
    }  # fmt: skip


def test_examples_read_the_tidy_views():
    """Worked examples show the BI user's way in: the tidy report views, not the dwh tables."""
    for path in (resources.sql_dir() / "examples").glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        assert "from report." in text and "dwh." not in text, path.name


def test_example_sustained_share_2022(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = _example(conn, "sustained_share_2022")
    # Answer 4, 2022: CMW 1238 595 426 292; LDE 377 261 209 172; Totaal 1615 856 635 464.
    pct = lambda part, whole: round(Decimal(100) * part / whole, 1)  # noqa: E731
    assert rows == [
        ("CMW", 1238, 292, pct(595, 1238), pct(426, 1238), pct(292, 1238)),
        ("LDE", 377, 172, pct(261, 377), pct(209, 377), pct(172, 377)),
        ("Totaal", 1615, 464, pct(856, 1615), pct(635, 1615), pct(464, 1615)),
    ]
    assert rows[0][5] == Decimal("23.6") and rows[2][3] == Decimal("53.0")


def test_example_payments_per_project(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = _example(conn, "payments_per_project")
    assert len(rows) == 12
    # Project 7738 as printed (lines 340-343 and 389-391): VCF 0,00 27.313,55 25.704,00 0,00 21.103,86 0,00 0,00;
    # ESF 17.136,00 8.958,00 14.895,20 0,00 0,00.
    vcf = Decimal("27313.55") + Decimal("25704.00") + Decimal("21103.86")
    esf = Decimal("17136.00") + Decimal("8958.00") + Decimal("14895.20")
    assert rows[0] == ("7738 Doorstroom Sociale Economie (Stad Gent)", esf, vcf, esf + vcf)
    # 7878 got its 2018-2021 payments back in part: VCF-2023 -13.416,67.
    jomi = next(r for r in rows if r[0].startswith("7878"))
    assert jomi[2] == Decimal("27313.55") + Decimal("6134.42") - Decimal("13416.67")


def test_example_stop_rate_per_province(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = {r[0]: r[1:] for r in _example(conn, "stop_rate_per_province")}
    # T2c_provincie as printed: Totaal ANTWERPEN 28 30 3 35 12 19, Stopgezet 3 4 7 2 1;
    # Totaal WEST-VLAANDEREN 5 14 27 2 8, Stopgezet 4 8 16 1 3.
    assert rows["Antwerpen"] == ("BE-VAN", 127, 17, round(Decimal(1700) / 127, 1))
    assert rows["West-Vlaanderen"] == ("BE-VWV", 56, 32, round(Decimal(3200) / 56, 1))
    assert len(rows) == 5


def test_example_screening_vs_doorstroom_2023(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = _example(conn, "screening_vs_doorstroom_2023")
    # Answer 6: "In 2023 werden 224 doelgroepwerknemers gescreend ... terwijl er in totaal 3330 personen doorstroomden."
    assert rows == [("CMW", 176, 1010), ("LDE", 48, 2320), ("Totaal", 224, 3330)]


def test_example_doorstroom_2023_per_province(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = _example(conn, "doorstroom_2023_per_province")
    # Answer 1, lines 85-91, in printed order.
    assert rows == [
        ("Antwerpen", "BE-VAN", 279, 790, 279 + 790),
        ("Limburg", "BE-VLI", 135, 540, 135 + 540),
        ("Oost-Vlaanderen", "BE-VOV", 219, 427, 219 + 427),
        ("Vlaams-Brabant", "BE-VBR", 108, 255, 108 + 255),
        ("West-Vlaanderen", "BE-VWV", 256, 271, 256 + 271),
        ("Brussel", "BE-BRU", 8, 31, 8 + 31),
        ("Buiten Brussel/Vlaanderen", None, 5, 6, 5 + 6),
    ]
    assert sum(r[4] for r in rows) == 3330  # answer 6, line 493


def test_example_trajectories_started_per_year(loaded_engine):
    with loaded_engine.connect() as conn:
        rows = _example(conn, "trajectories_started_per_year")
    # T2ab_project, line 163: Totaal 7 92 289 96 119 83 686.
    assert rows == [(2018, 7), (2019, 92), (2020, 289), (2021, 96), (2022, 119), (2023, 83)]


def test_the_reader_cannot_read_alembic_version_as_the_docs_say(reader_login):
    # docs/connecting.md: public holds only alembic_version, which the reader login may not select.
    url, name = reader_login
    with psycopg.connect(_as(url, name)) as conn:
        public = conn.execute("select table_name from information_schema.tables where table_schema = 'public'").fetchall()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from public.alembic_version")
    assert public == []  # what the login may not read is not listed to it


def test_the_docs_list_every_tidy_view(loaded_engine):
    docs = (Path(__file__).parent.parent / "docs" / "connecting.md").read_text(encoding="utf-8")
    with loaded_engine.connect() as conn:
        tidy = conn.execute(
            sa.text("select distinct view_name from information_schema.view_table_usage where table_schema = 'report' and table_name = 'cijfers'")
        ).scalars().all()
    assert len(tidy) == 8
    for view in tidy:
        assert f"`report.{view}`" in docs, view
