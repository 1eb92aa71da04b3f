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

    return cli_main()
