"""The `dwh` command: parses arguments, calls the library, renders results and errors.

Errors from the library are rendered here once, as one line on stderr, with the exit codes of
contract.md: 0 done, 2 bad input or arguments, 3 database unreachable or not as expected, 1 other.
"""

from __future__ import annotations

import argparse
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
    print(f"{dataset.folder}: {len(dataset.tables)} files, {rows} rows, every check passed")
    return 0


def cmd_load(args) -> int:
    from loader import settings
    from loader.outcome import load_outcome
    from loader.unchanged import record_if_unchanged

    folder = _data_dir(args)
    with load_outcome() as outcome:  # what the user is told when the server dies mid-way
        with settings.resolved_url(args.database_url) as url:
            digest = None if args.force else record_if_unchanged(url, folder)
            if digest is not None:
                outcome.committed(None)
            else:
                outcome.committed(_full_load(url, folder, args.force))
    result = outcome.result
    if result is None:
        print(f"unchanged: the database already holds this data ({digest[:12]}); nothing done (--force reloads)")
    elif result.outcome == "unchanged":
        print("unchanged: the database already holds this data; nothing done (--force reloads)")
    else:
        total = sum(result.row_counts.values())
        migrated = f", schema {result.migrated_from or 'empty'} -> {result.migrated_to}" if result.migrated_from != result.migrated_to else ""
        print(f"loaded {total} rows in {len(result.row_counts)} tables from {folder}{migrated}")
    if outcome.warning:
        print(f"dwh: warning: {outcome.warning}", file=sys.stderr)
    return 0


def _full_load(url: str, folder: Path, force: bool):
    from loader import db
    from loader.load import commit, load_folder, note_failure

    engine = db.make_engine(url)
    try:
        try:
            with db.connect(engine) as conn:
                transaction = conn.begin()
                result = load_folder(conn, folder, force=force)
                commit(transaction)
                return result
        except Exception as exc:
            note_failure(engine, folder, exc)
            raise
    finally:
        engine.dispose()


def cmd_migrate(args) -> int:
    from loader import db, load, views

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        load.lock(conn)
        before, after = load.migrate_schema(conn, args.revision)
        views.create_views(conn)
    print(f"schema at {after} (was {before or 'empty'})")
    return 0


def cmd_tables(args) -> int:
    from loader.dataset import read_dataset

    catalogue = read_dataset(_data_dir(args)).tables["source_table"]
    header = catalogue.spec.header
    rows = sorted((dict(zip(header, r)) for r in catalogue.rows), key=lambda r: r["position"])
    width = max(len(r["table_id"]) for r in rows)
    for r in rows:
        print(f"{r['table_id'].ljust(width)}  {r['answer'].ljust(4)}  {r['caption']}")
    return 0


def cmd_show(args) -> int:
    from loader import db, report
    from loader.render import render

    if not args.all and not args.table_id:
        raise InputError("give a table id or --all (see `dwh tables`)")
    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        entries = report.catalog(conn)
        chosen = entries if args.all else [report.find(entries, args.table_id)]
        outputs = [render(report.read_table(conn, e), args.format) for e in chosen]
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
        verdicts = reconcile(conn)
    failed = 0
    for check, verdict in verdicts:
        if verdict == "ok" and not args.verbose and check.kind not in ("sum", "prose"):
            continue
        mark = {"ok": "ok  ", "source inconsistency": "SRC ", "FAIL": "FAIL"}[verdict]
        print(f"{mark} {check.subject} {belgian(check.total.value)} {check.relation} {check.description} {belgian(check.computed)}")
        failed += verdict == "FAIL"
    counts = {v: sum(1 for _, x in verdicts if x == v) for v in ("ok", "source inconsistency", "FAIL")}
    print(
        f"{len(verdicts)} identities: {counts['ok']} hold, {counts['source inconsistency']} recorded source "
        f"inconsistencies, {counts['FAIL']} fail"
    )
    return 2 if failed else 0


def cmd_status(args) -> int:
    from loader import db, load, migrate

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        revision = migrate.current_revision(conn)
        history = load.status(conn, args.limit) if revision else []
    print(f"schema revision: {revision or 'none (run dwh load)'} (head: {migrate.head_revision()})")
    if not history:
        print("no loads recorded")
        return 0
    for h in history:
        rows = sum(h["row_counts"].values()) if h["row_counts"] else 0
        detail = f"{rows} rows" if h["outcome"] == "loaded" else (h["message"] or "")
        print(
            f"#{h['load_id']} {h['started_at']:%Y-%m-%d %H:%M:%S%z} {h['outcome']:<9} data {h['data_hash'][:12]} "
            f"{detail} from {h['data_source']}"
        )
    return 0


def cmd_grant_reader(args) -> int:
    import getpass
    import os

    from loader import db, roles

    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and password is None:
        raise InputError(f"environment variable {args.password_env} is not set (expected the new login's password)")
    if password is None:
        if not sys.stdin.isatty():
            raise InputError("no password: give --password-env VAR, or run in a terminal to be asked")
        password = getpass.getpass(f"password for {args.name}: ")
    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        created = roles.create_reader_login(conn, args.name, password)
    print(f"{'created' if created else 'updated'} login {args.name} in role dwh_reader (read-only)")
    return 0


def cmd_serve(args) -> int:
    import asyncio

    from loader import db, report, roles, settings
    from loader.serve import READER_LOGIN, READER_PASSWORD, forward_tcp, socket_path

    if settings.database_url(args.database_url):
        raise InputError("dwh serve serves the embedded server; with --database-url or DATABASE_URL connect to that server directly")
    with db.open_engine(None) as engine:
        with db.begin(engine) as conn:
            report.catalog(conn)  # says "run dwh load" when nothing is loaded
            roles.create_reader_login(conn, READER_LOGIN, READER_PASSWORD)
        database = engine.url.database
        target = socket_path(engine.url.render_as_string(hide_password=False))

        def ready(port: int) -> None:
            print(f"serving the doorstroom warehouse on 127.0.0.1:{port} (Ctrl-C or SIGTERM stops it)")
            print(f'  psql "postgresql://{READER_LOGIN}:{READER_PASSWORD}@127.0.0.1:{port}/{database}"')
            print(f"  host 127.0.0.1, port {port}, database {database}, user {READER_LOGIN}, password {READER_PASSWORD}, SSL off")
            print("  the login may read the report views and the dwh tables, nothing else")
            sys.stdout.flush()

        asyncio.run(forward_tcp(target, args.port, ready))
    print("stopped")
    return 0


def cmd_export(args) -> int:
    from loader import db, export, report

    with db.open_engine(args.database_url) as engine, db.begin(engine) as conn:
        tables = [report.read_table(conn, e) for e in report.catalog(conn)]
    written = export.export(tables, Path(args.directory), args.format)
    print(f"wrote {len(tables)} tables to {written}")
    return 0


# ------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    from loader.render import FORMATS

    # Defaults are SUPPRESSed on the shared options so `dwh --debug load` and `dwh load --debug`
    # both work: a subcommand's parser would otherwise overwrite what the top level parsed.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", default=argparse.SUPPRESS, help="postgresql://user:pass@host:port/db (default: $DATABASE_URL, else the embedded server under $DWH_HOME)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data", metavar="DIR", help="a curated dataset folder of the same shape (default: the shipped one)")

    parser = argparse.ArgumentParser(
        prog="dwh",
        description="Warehouse of written question 221 (2024) on doorstroom from the social economy to the NEC.",
        parents=[common],
    )
    parser.set_defaults(database_url=None, debug=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("load", parents=[common, data], help="validate, migrate to head and load everything in one transaction")
    p.add_argument("--force", action="store_true", help="reload even when the data is unchanged")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("validate", parents=[common, data], help="check the curated CSVs without a database")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("tables", parents=[common, data], help="list the document's tables: id, answer, caption")
    p.set_defaults(func=cmd_tables)

    p = sub.add_parser("show", parents=[common], help="print one report view as the document's table")
    p.add_argument("table_id", nargs="?", help="table id, e.g. T1_provincie (see `dwh tables`)")
    p.add_argument("--all", action="store_true", help="every table, in document order")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("reconcile", parents=[common], help="every printed total against the sum of its cells")
    p.add_argument("--verbose", "-v", action="store_true", help="also list the equalities that hold between tables")
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("status", parents=[common], help="what is loaded, when, from which data")
    p.add_argument("--limit", type=int, default=10, help="how many loads to list (default 10)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("serve", parents=[common], help="run the embedded server on 127.0.0.1 for psql and BI tools")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("grant-reader", parents=[common], help="create a read-only login for psql or a BI tool")
    p.add_argument("name", help="login name, e.g. metabase")
    p.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable (default: ask)")
    p.set_defaults(func=cmd_grant_reader)

    p = sub.add_parser("export", parents=[common], help="write every report table to a workbook or CSV files")
    p.add_argument("directory", help="folder to write to (created if missing)")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("migrate", parents=[common], help="alembic upgrade (head by default) and rebuild the views")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors are exit 2 already, --help is 0
        return int(exc.code or 0)
    try:
        return args.func(args)
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
        from loader.db import database_error

        translated = database_error(exc)
        if translated is not None:
            print(f"dwh: error: {translated}", file=sys.stderr)
            return DatabaseUnavailable.exit_code
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"dwh: unexpected error: {type(exc).__name__}: {text} (run with --debug for the traceback)", file=sys.stderr)
        return 1
