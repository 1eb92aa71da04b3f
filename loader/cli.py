"""The `dwh` command: parses arguments, calls the library, renders results and errors.

Errors from the library are rendered here once, as one line on stderr, with the exit codes of
contract.md: 0 done, 2 bad input or arguments, 3 database unreachable or not as expected, 1 other.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from pathlib import Path

from loader.errors import DatabaseUnavailable, DwhError, InputError


def _data_dir(args) -> Path:
    from loader import resources

    return Path(args.data) if args.data else resources.data_dir()


def _read(args):
    from loader.dataset import read_dataset

    return read_dataset(_data_dir(args))


# ------------------------------------------------------------------ commands


def cmd_validate(args) -> int:
    dataset = _read(args)
    rows = sum(len(t.rows) for t in dataset.tables.values())
    if args.source:
        from loader import provenance

        provenance.check(dataset, Path(args.source))
    checked = f"; every figure is printed on its source line of {args.source}" if args.source else ""
    print(f"{dataset.folder}: {len(dataset.tables)} files, {rows} rows, every check passed{checked}")
    return 0


def cmd_placements(args) -> int:
    from loader import placements

    folder = _data_dir(args)
    grids = placements.search_grids(Path(args.source), folder)
    results = placements.search(Path(args.source), folder)
    for line in placements.summary_grids(grids) + placements.summary(results) + placements.summary_cells(placements.open_cells(results)):
        print(line)
    wrong = [r.table_id for r in [*grids, *results] if not r.chosen_is_placement]
    if wrong:  # ranges relative to a choice the document rules out would mislead: write nothing
        raise InputError(f"the curated figures of {', '.join(wrong)} are not a placement that fits the document (see data/CURATION.md)")
    if args.write:
        written = placements.write_range_file(folder, placements.render_csv(placements.open_cells(results)))
        print(f"wrote {written}")
    elif (problem := placements.check_range_file(results, folder)) is not None:
        raise InputError(problem)
    return 0


def cmd_load(args) -> int:
    from loader import settings
    from loader.outcome import load_outcome
    from loader.unchanged import record_if_unchanged

    folder = _data_dir(args)
    target = settings.describe_target(args.database_url)
    source = Path(args.source) if args.source else None
    if source is not None:
        from loader import provenance

        provenance.read_source(source)  # an unreadable extraction is said before anything starts
    with load_outcome() as outcome:  # what the user is told when the server dies mid-way
        with settings.resolved_url(args.database_url) as url:
            # With --source the load checks provenance on the bytes it reads, so it always reads them.
            digest = None if args.force or source is not None else record_if_unchanged(url, folder)
            if digest is not None:
                outcome.committed(None)
            else:
                outcome.committed(_full_load(url, folder, args.force, source))
    result = outcome.result
    if result is None:
        print(f"unchanged: {target} already holds this data ({digest[:12]}); nothing done (--force reloads)")
    elif result.outcome == "unchanged":
        print(f"unchanged: {target} already holds this data; nothing done (--force reloads)")
    else:
        total = sum(result.row_counts.values())
        migrated = f", schema {result.migrated_from or 'empty'} -> {result.migrated_to}" if result.migrated_from != result.migrated_to else ""
        print(f"loaded {total} rows in {len(result.row_counts)} tables from {folder} into {target}{migrated}")
    if outcome.warning:
        print(f"dwh: warning: {outcome.warning}", file=sys.stderr)
    return 0


def _full_load(url: str, folder: Path, force: bool, source: Path | None = None):
    from loader import db
    from loader.load import commit, load_folder, note_failure

    engine = db.make_engine(url)
    try:
        try:
            with db.connect(engine) as conn:
                transaction = conn.begin()
                result = load_folder(conn, folder, force=force, source=source)
                commit(transaction)
                return result
        except Exception as exc:
            note_failure(engine, folder, exc)
            raise
    finally:
        engine.dispose()


def cmd_migrate(args) -> int:
    from loader import db, grants, load, migrate, settings, views

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        load.lock(conn)
        with grants.kept(conn):  # the grants a DBA gave on the views that come back, the rest named
            before, after = load.migrate_schema(conn, args.revision)
            # The views in sql/ are written against the newest schema; below head they are left out
            # (migrate_schema dropped them) and come back with the upgrade to head.
            at_head = after == migrate.head_revision()
            if at_head:
                views.create_views(conn)
    views_note = "" if at_head else "; report views are created at head"
    print(f"schema of {settings.describe_target(args.database_url)} at {after} (was {before or 'empty'}){views_note}")
    return 0


def cmd_tables(args) -> int:
    from loader import textlayout
    from loader.dataset import read_dataset

    catalogue = read_dataset(_data_dir(args)).tables["source_table"]
    header = catalogue.spec.header
    rows = sorted((dict(zip(header, r)) for r in catalogue.rows), key=lambda r: r["position"])
    lines = textlayout.layout(
        ["id", "answer", "grain", "caption"],
        [[r["table_id"], r["answer"], r["grain"], r["caption"]] for r in rows],
        label_columns=4,
        width=args.width or textlayout.terminal_width(),
    )
    print("\n".join(lines))
    return 0


def cmd_show(args) -> int:
    from loader import readdb, report
    from loader.render import render

    if not args.all and not args.table_id:
        raise InputError("give a table id or --all (see `dwh tables`)")
    many_csv = args.all and args.format == "csv"
    if many_csv and not args.output:
        # One CSV has one header: 18 tables back to back on stdout would be no CSV at all.
        raise InputError("--format csv --all writes one file per table: give a folder with --output DIR (or `dwh export DIR --format csv` for a data package)")
    if args.output and not many_csv:
        raise InputError("--output DIR is for --format csv --all (one file per table); other formats print to stdout")
    if many_csv:
        from loader import export

        export.check_target(Path(args.output))
    with readdb.read_only(args.database_url) as conn:  # psycopg only: no SQLAlchemy to import
        entries = report.catalog(conn)
        if args.all:
            _left_out(conn)
        chosen = entries if args.all else [report.find(entries, args.table_id)]
        tables = [report.read_table(conn, e) for e in chosen]
    if many_csv:
        written = export.write_tables_csv(tables, Path(args.output))
        print(f"wrote {len(tables)} tables to {written}")
        return 0
    outputs = [render(t, args.format, args.width) for t in tables]
    if args.all and args.format == "json":
        import json

        # One JSON document keyed by table id, each value the document `dwh show ID --format json` prints.
        document = {t.table_id: json.loads(text) for t, text in zip(tables, outputs)}
        outputs = [json.dumps(document, ensure_ascii=False, indent=2) + "\n"]
    separator = "\n" if args.format in ("text", "markdown") else ""
    sys.stdout.write(separator.join(outputs))
    return 0


def cmd_reconcile(args) -> int:
    from loader import db
    from loader.reconcile import reconcile
    from loader.render import belgian

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        from loader import report

        report.catalog(conn)  # says "run dwh load" when nothing is loaded
        counts = {"ok": 0, "source inconsistency": 0, "FAIL": 0}
        for check, verdict in reconcile(conn):  # printed as they come: a document's figures at a time
            counts[verdict] += 1
            if verdict == "ok" and not args.verbose and check.kind not in ("sum", "prose"):
                continue
            mark = {"ok": "ok  ", "source inconsistency": "SRC ", "FAIL": "FAIL"}[verdict]
            print(f"{mark} {check.subject} {belgian(check.total.value)} {check.relation} {check.description} {belgian(check.computed)}")
    print(
        f"{sum(counts.values())} identities: {counts['ok']} hold, {counts['source inconsistency']} recorded source "
        f"inconsistencies, {counts['FAIL']} fail"
    )
    return 2 if counts["FAIL"] else 0


def cmd_status(args) -> int:
    import sqlalchemy as sa

    from loader import db, load, migrate, report

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        readable = migrate.readable_revision(conn)
        revision = migrate.current_revision(conn) if readable else None
        loaded = conn.execute(sa.text("select to_regclass('dwh.load_history') is not null")).scalar()
        history = load.status(conn, args.limit) if revision or (loaded and not readable) else []
        required = report.load_required(conn) if loaded else []
    if readable:
        print(f"schema revision: {revision or 'none (run dwh load)'} (head: {migrate.head_revision()})")
    else:
        print(f"schema revision: not readable by this read-only login (head: {migrate.head_revision()})")
    for reason in required:
        print(f"must be loaded again before it is read (dwh show, export and reconcile refuse): {reason}; run dwh load")
    if not history:
        print("no loads recorded")
        return 0
    for h in history:
        rows = sum(h["row_counts"].values()) if h["row_counts"] else 0
        detail = f"{rows} rows" if h["outcome"] == "loaded" else (h["message"] or "")
        print(
            f"#{h['load_id']} {h['started_at']:%Y-%m-%d %H:%M:%S%z} {h['outcome']:<9} data {h['data_hash'][:12]} "
            f"{detail}" + (f" from {h['data_source']}" if h["data_source"] is not None else "")
        )
    return 0


def cmd_grant_reader(args) -> int:
    import getpass
    import os

    from loader import db, roles

    roles.check_login_name(args.name)  # before asking for a password
    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and password is None:
        raise InputError(f"environment variable {args.password_env} is not set (expected the new login's password)")
    if password is None:
        if not sys.stdin.isatty():
            raise InputError("no password: give --password-env VAR, or run in a terminal to be asked")
        password = getpass.getpass(f"password for {args.name}: ")
    warnings: list[str] = []
    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        created = roles.create_reader_login(conn, args.name, password, warnings)
        role = roles.current_reader_role(conn)
    print(f"{'created' if created else 'updated'} login {args.name} in role {role} (read-only)")
    for warning in warnings:
        _warn(warning)
    return 0


def cmd_serve(args) -> int:
    import asyncio
    import os

    from loader import db, report, roles, serve, settings, warden

    if settings.database_url(args.database_url):
        raise InputError("dwh serve serves the embedded server; with --database-url or DATABASE_URL connect to that server directly")
    password = os.environ.get(args.password_env) if args.password_env else serve.new_password()
    if not password:
        raise InputError(f"environment variable {args.password_env} is not set or empty (expected the reader login's password)")
    with db.open_engine(None) as engine, serve.only_serve(settings.dwh_home()) as note_port:
        # Bound before the reader login is touched: a port in use leaves everything as it was.
        with contextlib.closing(serve.listen(args.port)) as listener:
            warnings: list[str] = []
            with db.begin(engine) as conn:
                report.catalog(conn)  # says "run dwh load" when nothing is loaded
                cap = serve.connection_cap(conn)
                # A failing statement is logged with its text, and this one holds the password.
                conn.exec_driver_sql("set local log_min_error_statement = panic")
                roles.create_reader_login(conn, serve.READER_LOGIN, password, warnings)
            database = engine.url.database
            forwarder = serve.Forwarder(serve.socket_path(engine.url.render_as_string(hide_password=False)), serve.READER_LOGIN, database, cap, _warn)
            for warning in warnings:
                _warn(warning)

            def ready(port: int) -> None:
                note_port(port)
                print(
                    f"serving database {database} of {settings.describe_target(None)} on 127.0.0.1:{port} "
                    "(Ctrl-C or SIGTERM stops it)"
                )
                print(f"  host 127.0.0.1, port {port}, database {database}, user {serve.READER_LOGIN}, password {password}, SSL off")
                print(f'  psql "postgresql://{serve.READER_LOGIN}@127.0.0.1:{port}/{database}" (asks for the password)')
                print(f"  the login may read the report views and the dwh tables of database {database}, nothing else")
                sys.stdout.flush()

            # The reader may set its own timeouts and memory aside; the warden holds it to them.
            with warden.watching(engine, serve.READER_LOGIN, _warn):
                asyncio.run(serve.forward_tcp(listener, forwarder, ready))
    print("stopped")
    return 0


def _left_out(conn) -> None:
    """Say which catalogued tables have no report view, so that they are left out."""
    from loader import report

    missing = report.unviewed(conn)
    if missing:
        first = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        _warn(f"{len(missing)} catalogued tables have no report view (sql/report/) and are left out: {first}")


def _warn(message: str) -> None:
    print(f"dwh: warning: {message}", file=sys.stderr, flush=True)


def cmd_export(args) -> int:
    from loader import db, export, report

    target = Path(args.directory)
    export.check_target(target, args.format)
    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        entries = report.catalog(conn)
        _left_out(conn)
        tables = [report.read_table(conn, e) for e in entries]
        cells = export.cells(conn) if args.format in ("csv", "html") else None
        about = export.about(conn) if args.format in ("xlsx", "html") else None
        published = None
        if args.format == "html":
            from loader import site

            published = site.collect(conn, entries, tables)
    written = export.export(tables, target, args.format, cells, about, say=lambda line: print(f"dwh: {line}", file=sys.stderr), published=published)
    print(f"wrote {len(tables)} tables to {written}")
    return 0


# ------------------------------------------------------------------ parser


def _width(text: str) -> int:
    from loader.textlayout import MIN_WIDTH

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of characters, got {text!r}") from None
    if value < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"at least {MIN_WIDTH} characters, got {value}")
    return value


def _port(text: str) -> int:
    """A TCP port for --port: 0 (any free one) up to 65535; anything else is a usage error (exit 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (expected a whole number from 0 to 65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (expected 0 to 65535; 0 picks a free one)")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (expected 1 or more)") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small (expected 1 or more)")
    return number


def _version() -> str:
    """The version, written once in loader/__init__.py (pyproject.toml reads it from there)."""
    from loader import __version__

    return __version__


class _Version(argparse.Action):
    """--version (`dwh --version` alone is answered by loader.entry, before this parser is built)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, help="print the version of dwh and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"dwh {_version()}")  # on stdout, as argparse's own version action does
        parser.exit(0)


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command shares, accepted before and after the command name.

    Each parser gets its own option objects: argparse copies a subcommand's values over the top
    level's, so the subcommands' defaults are SUPPRESSed (an option not given after the command
    leaves the one given before it alone), and only the top level holds the real defaults.
    Sharing one set of option objects through ``parents=`` would make the top level's defaults
    the subcommands' too, and `dwh --database-url URL load` would silently use the default.
    """
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default(None),
        help="postgresql://user:pass@host:port/db (default: $DATABASE_URL, else the embedded server under $DWH_HOME)",
    )
    parser.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks")


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the contract's one line on stderr, exit 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


#: The commands that read a curated dataset and so take --data.
DATA_COMMANDS = ("load", "validate", "placements", "tables")
_DATA_HELP = "a curated dataset folder of the same shape (default: the shipped one)"


_SOURCE_HELP = "also check that every figure's source_line in this text extraction prints it (see data/CURATION.md)"


def build_parser() -> argparse.ArgumentParser:
    from loader.render import FORMATS

    parser = _Parser(
        prog="dwh",
        description="Warehouse of written question 221 (2024) on doorstroom from the social economy to the NEC.",
        epilog="--database-url, --debug and --data may be given before or after the command.",
    )
    _global_options(parser, top=True)
    parser.add_argument("--data", metavar="DIR", help=f"for {', '.join(DATA_COMMANDS)}: {_DATA_HELP}")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, *, data: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        _global_options(p, top=False)
        if data:
            p.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS, help=_DATA_HELP)
        return p

    p = command("load", "validate, migrate to head and load everything in one transaction", data=True)
    p.add_argument("--force", action="store_true", help="reload even when the data is unchanged")
    p.add_argument("--source", metavar="FILE", help=_SOURCE_HELP)
    p.set_defaults(func=cmd_load)

    p = command("validate", "check the curated CSVs without a database", data=True)
    p.add_argument("--source", metavar="FILE", help=_SOURCE_HELP)
    p.set_defaults(func=cmd_validate)

    p = command("placements", "every placement of the T2c tables' printed numbers that fits the document", data=True)
    p.add_argument("--source", metavar="FILE", required=True, help="the text extraction the source lines refer to (see data/CURATION.md)")
    p.add_argument("--write", action="store_true", help="write the open cells to trajectory_end_range.csv in the data folder")
    p.set_defaults(func=cmd_placements)

    p = command("tables", "list the document's tables: id, answer, grain, caption", data=True)
    p.add_argument("--width", type=_width, metavar="N", help="wrap to N characters (default: $COLUMNS, else the terminal's width, else 100)")
    p.set_defaults(func=cmd_tables)

    p = command("show", "print one report view as the document's table, open cells marked")
    p.add_argument("table_id", nargs="?", help="table id, e.g. T1_provincie (see `dwh tables`)")
    p.add_argument("--all", action="store_true", help="every table, in document order (json: one document keyed by table id)")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument(
        "--width",
        type=_width,
        metavar="N",
        help="text: split tables wider than N characters into column blocks (default: $COLUMNS, else the session terminal's width, also when piped, else 100)",
    )
    p.add_argument("--output", "-o", metavar="DIR", help="with --all --format csv: write <table id>.csv per table into DIR (created if missing)")
    p.set_defaults(func=cmd_show)

    p = command("reconcile", "every printed total against the sum of its cells")
    p.add_argument("--verbose", "-v", action="store_true", help="also list the equalities that hold between tables")
    p.set_defaults(func=cmd_reconcile)

    p = command("status", "what is loaded, when, from which data")
    p.add_argument("--limit", type=_positive, default=10, help="how many loads to list (default 10)")
    p.set_defaults(func=cmd_status)

    p = command("serve", "run the embedded server on 127.0.0.1 for psql and BI tools")
    p.add_argument("--port", type=_port, default=0, help="TCP port on 127.0.0.1, 0 to 65535 (default 0: a free one)")
    p.add_argument("--password-env", metavar="VAR", help="the reader login's password is in this environment variable (default: a random one, printed)")
    p.set_defaults(func=cmd_serve)

    p = command("grant-reader", "create a read-only login for psql or a BI tool")
    p.add_argument("name", help="login name, e.g. metabase")
    p.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable (default: ask)")
    p.set_defaults(func=cmd_grant_reader)

    p = command("export", "write every report table to a workbook, to CSV files with a datapackage.json, or to a static site")
    p.add_argument("directory", metavar="TARGET", help="folder to write to (created if missing; files of the same name are replaced), or for xlsx the workbook FILE.xlsx itself")
    p.add_argument(
        "--format",
        choices=("xlsx", "csv", "html"),
        default="xlsx",
        help="xlsx: one workbook; csv: a Frictionless data package; html: a site to publish (index.html, with the workbook and the package beside it)",
    )
    p.set_defaults(func=cmd_export)

    p = command("migrate", "alembic upgrade (head by default) and rebuild the views")
    p.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    p.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(argv)
        # Flushed here, not at interpreter exit, so that a reader that went away is seen below.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        return _disk_full(exc)


#: Write errors that are the machine's state, not a defect: no space, over quota, an I/O error.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


def _disk_full(exc: OSError) -> int:
    print(f"dwh: error: cannot write: {exc.strerror}; free some space or write elsewhere", file=sys.stderr)
    if exc.filename is None:  # stdout itself: do not let Python fail again flushing it at exit
        _stdout_to_devnull()
    return DatabaseUnavailable.exit_code  # 3: the environment is not in the expected state


def _stdout_to_devnull() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _stdout_closed() -> int:
    """The reader of our output went away (`dwh reconcile | head -1`): end quietly, like a Unix tool.

    Python would report the closed pipe again when it flushes stdout at exit, so stdout is pointed
    at /dev/null first (Python docs, "Note on SIGPIPE"). 141 = 128 + SIGPIPE, what the shell
    reports for any command that a closed pipe ends.
    """
    import signal

    _stdout_to_devnull()
    return 128 + signal.SIGPIPE


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors are exit 2 already, --help and --version 0
        return int(exc.code or 0)
    if args.data is not None and args.command not in DATA_COMMANDS:
        try:  # given before a command that reads no dataset: say so rather than ignore it
            parser.error(f"--data applies to {', '.join(DATA_COMMANDS)}, not to {args.command}")
        except SystemExit as exc:
            return int(exc.code)
    try:
        return args.func(args)
    except BrokenPipeError:
        raise
    except DwhError as exc:
        if args.debug:
            raise
        problems = getattr(exc, "problems", [])
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"dwh: error: {exc}" + ("; nothing was loaded" if problems and args.command == "load" else ""), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dwh: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
            return _disk_full(exc)
        from loader.db import database_error

        translated = database_error(exc)
        if translated is not None:
            print(f"dwh: error: {translated}", file=sys.stderr)
            return DatabaseUnavailable.exit_code
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"dwh: unexpected error: {type(exc).__name__}: {text} (run with --debug for the traceback)", file=sys.stderr)
        return 1
