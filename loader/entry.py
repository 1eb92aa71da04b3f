"""The `dwh` entry point: `dwh --version` answers before anything else is imported.

Everything else goes to loader.cli, whose argument parser (argparse, pathlib, re) costs more
than the whole answer to `dwh --version` may take.
"""

import sys


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        from loader import __version__

        try:
            print(f"dwh {__version__}")
            sys.stdout.flush()
            return 0
        except OSError:
            pass  # a full disk, a closed pipe: loader.cli says what happened, as for any command
    from loader.cli import main as cli_main

    status = cli_main()
    # The interpreter's last garbage collections, as the process exits, visit every object that
    # SQLAlchemy, Alembic and psycopg made: 0.15-0.25 s after a `dwh load` (measured), as long as
    # the migrations. By now dwh has closed its connections and files and needs nothing of them;
    # frozen, they are not visited and their memory goes back with the process. Here, not in
    # loader.cli.main: a process that calls that (the tests) goes on and must collect as usual.
    import gc

    gc.freeze()
    return status
