"""A full disk under DWH_HOME names itself and the folder to free (issue 20).

Before, it was "database system is shut down", "check that the server is running" or "cannot
connect", with the cause only in server.log. Each case runs dwh in a private mount namespace
(`unshare --mount`) with a small tmpfs as DWH_HOME, filled up at the moment under test; the
mount vanishes with the namespace. Needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"), reason="needs root to mount a small file system"
)

_SCRIPT = r"""
set -u
mount -t tmpfs -o size=80m,mode=0700 dwh-disk-full "$DWH_HOME"
dwh() { "$PY" -m loader "$@"; }
hold() {  # keep the server running while the disk fills, as another command would
    "$PY" -c "import sys, time; from pathlib import Path; from loader.embedded import embedded_server
with embedded_server(Path(sys.argv[1]), database=sys.argv[2]) as url:
    print('up', url, flush=True); time.sleep(300)" "$DWH_HOME" "$1" > "$DWH_HOME.holder" &
    while ! grep -q up "$DWH_HOME.holder" 2>/dev/null; do sleep 0.1; done
}
fill() {  # leave $1 KiB
    free=$(df --output=avail -k "$DWH_HOME" | tail -1)
    dd if=/dev/zero of="$DWH_HOME/fill" bs=1K count=$((free > $1 ? free - $1 : 0)) 2>/dev/null
    [ "$1" = 0 ] && dd if=/dev/zero of="$DWH_HOME/fill2" bs=1K 2>/dev/null
    true
}
case "$CASE" in
    initdb) fill 30000; dwh status ;;
    start) dwh status > /dev/null; fill 0; dwh status ;;
    create-database) hold postgres; fill 0; dwh status ;;
    load) dwh status > /dev/null; hold dwh; fill 2000; dwh load ;;
    # The same server reached by its URL, as any external server (DATABASE_URL) is.
    server) dwh status > /dev/null; hold dwh; fill 2000; dwh load --database-url "$(cut -d' ' -f2 "$DWH_HOME.holder")" ;;
esac
echo "exit=$?"
kill %1 2>/dev/null; wait
rm -f "$DWH_HOME/fill" "$DWH_HOME/fill2"
[ "$CASE" = load ] || [ "$CASE" = server ] && dwh status
true
"""


def _expected(home, then: str = "") -> str:
    return (
        f"the embedded server's data is in {home / 'pgdata'}) or set DWH_HOME to a folder on a disk with room, then run the command again{then}\n"
    )


@pytest.mark.parametrize(
    "case, cause",
    [
        ("initdb", 'FATAL: could not write to file "'),  # the first start makes the cluster
        ("start", "No space left on device: "),  # a cluster that exists, a disk full before the start
        ("create-database", 'ERROR: could not write to file "base/'),
        ("load", "ERROR: could not extend file "),  # the server runs; the load's own writes fill the disk
    ],
)
def test_a_full_disk_names_itself_and_the_folder_to_free(tmp_path, case, cause):
    home = tmp_path / "dwh"
    home.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(DWH_HOME=str(home), PY=sys.executable, CASE=case)
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert "exit=3\n" in done.stdout, done.stdout + done.stderr
    error = done.stderr.splitlines(keepends=True)[0]
    assert error.startswith(f"dwh: error: the disk holding {home} is full ({cause}"), done.stderr
    assert "No space left on device" in error and " MiB free): free space there (" in error
    assert error.endswith(_expected(home, "; nothing was loaded" if case == "load" else "")), error
    assert "Traceback" not in done.stderr
    if case == "load":  # all or nothing: with room again, no load is recorded
        assert done.stdout.endswith("no loads recorded\n"), done.stdout


def test_a_full_disk_on_a_server_reached_by_url_is_named_as_the_servers(tmp_path):
    """An external server (DATABASE_URL) that reports SQLSTATE 53100 disk_full: dwh cannot know its
    folders, but says it is the server's disk, not a connection failure. The server is the
    embedded one on a small tmpfs, reached by its URL like any other."""
    home = tmp_path / "dwh"
    home.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(DWH_HOME=str(home), PY=sys.executable, CASE="server")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert "exit=3\n" in done.stdout, done.stdout + done.stderr
    error = done.stderr.splitlines(keepends=True)[0]
    assert error.startswith("dwh: error: the database server's disk is full ("), done.stderr
    assert "No space left on device" in error and "connection failed" not in error and "running and reachable" not in error
    assert error.endswith("): free space on the server's disk, then run the command again; nothing was loaded\n"), error
    assert "Traceback" not in done.stderr
    assert done.stdout.endswith("no loads recorded\n"), done.stdout  # all or nothing
