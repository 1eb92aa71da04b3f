"""The paths a new user takes: several first commands at once on a new embedded home."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from loader.embedded import embedded_server


def test_four_first_loads_at_once_on_a_new_embedded_home_all_succeed(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env["DWH_HOME"] = str(home)
    runs = [
        subprocess.Popen([sys.executable, "-m", "loader", "load"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    done = [(run.wait(timeout=600), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _, _ in done] == [0, 0, 0, 0], done
    outcomes = sorted(out.split(":")[0].split(" ")[0] for _, out, _ in done)
    # One of them loads; the others wait for its load lock and then find the same data in place.
    assert outcomes == ["loaded", "unchanged", "unchanged", "unchanged"], done
    with embedded_server(home) as url, psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from dwh.load_history where outcome = 'loaded'").fetchone() == (1,)
        assert conn.execute('select "CMW" from report.t1_totaal').fetchone() == (1010,)  # T1 of the document
