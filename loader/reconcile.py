"""`dwh reconcile`: every printed total of the loaded data against the sum of its cells.

The identities hold within one document (loader.identities), so the figures are read one
document at a time, each fact table through a server-side cursor in (document, storage) order:
memory holds one document's figures and checks, not the warehouse's (a million figures took
1.1 GB). The expressions that name tables (CROSS_FACT, the prose figures' derivations) are
evaluated first, on the figures of the tables they name, so that a broken one stops the command
before anything is printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from loader import schema
from loader.identities import (
    Check,
    Obs,
    _expression_tables,
    breakdown_agreement_checks,
    dims_of,
    expression_checks,
    marginal_checks,
    recorded_inconsistencies,
    same_figure_checks,
    sustained_order_checks,
    value_column,
    verdict,
)

#: Rows fetched from a server-side cursor at a time.
FETCH = 2000


def _query(fact: str, table_ids: list[str] | None = None) -> sa.Select:
    """(document, table_id, dimensions..., value, status) of a fact's figures, by document and
    then in storage order (the order a plain scan reads, as the checks' wording follows it)."""
    table, st = schema.FACT_TABLES[fact], schema.source_table
    columns = [st.c.document_id, table.c.table_id, *(table.c[d] for d in dims_of(fact)), table.c[value_column(fact)], table.c.status_id]
    query = sa.select(*columns).join_from(table, st, table.c.table_id == st.c.table_id)
    if table_ids is not None:
        query = query.where(table.c.table_id.in_(table_ids))
    return query.order_by(st.c.document_id, sa.literal_column(f"{table.fullname}.ctid"))


def _obs(fact: str, row) -> Obs:
    dims = dims_of(fact)
    return Obs(fact, row[1], dims, tuple(row[2 : 2 + len(dims)]), row[-2], row[-1], document=row[0])


def observations(conn: sa.Connection) -> list[Obs]:
    """Every figure of the warehouse, fact by fact (for tests and small warehouses)."""
    return [_obs(fact, row) for fact in schema.FACT_TABLES for row in conn.execute(_query(fact))]


def _documents(conn: sa.Connection) -> Iterator[list[Obs]]:
    """Each document's figures, fact by fact, one document at a time."""
    streams = {fact: iter(conn.execute(_query(fact), execution_options={"yield_per": FETCH})) for fact in schema.FACT_TABLES}
    ahead = {fact: next(stream, None) for fact, stream in streams.items()}
    while any(row is not None for row in ahead.values()):
        # The document that comes first in the database's own order is at the head of some stream.
        document = _first_document(conn, [row[0] for row in ahead.values() if row is not None])
        figures: list[Obs] = []
        for fact, stream in streams.items():
            row = ahead[fact]
            while row is not None and row[0] == document:
                figures.append(_obs(fact, row))
                row = next(stream, None)
            ahead[fact] = row
        yield figures


def _first_document(conn: sa.Connection, heads: list[str]) -> str:
    if len(set(heads)) == 1:
        return heads[0]
    return conn.execute(sa.select(sa.func.min(sa.column("d"))).select_from(sa.values(sa.column("d", sa.Text), name="heads").data([(h,) for h in set(heads)]))).scalar_one()


def reconcile(conn: sa.Connection) -> Iterator[tuple[Check, str]]:
    """Each identity with its verdict: ok, source inconsistency (recorded), or FAIL; document by
    document (within one, as loader.identities.all_checks orders them), then the expressions."""
    prose = [dict(r) for r in conn.execute(sa.select(schema.prose_figure)).mappings()]
    recorded = recorded_inconsistencies([dict(r) for r in conn.execute(sa.select(schema.source_inconsistency)).mappings()])
    named: dict[str, list[str]] = {}
    for fact, table_id in _expression_tables(prose):
        if fact in schema.FACT_TABLES:
            named.setdefault(fact, []).append(table_id)
    figures = [_obs(fact, row) for fact, table_ids in named.items() for row in conn.execute(_query(fact, table_ids))]
    expressions, errors = expression_checks(figures, prose)
    if errors:
        raise RuntimeError("; ".join(errors))
    return _verdicts(conn, expressions, recorded)


def _verdicts(conn, expressions: list[Check], recorded: dict) -> Iterator[tuple[Check, str]]:
    used: set[str] = set()
    for figures in _documents(conn):
        for kind in (marginal_checks, same_figure_checks, breakdown_agreement_checks, sustained_order_checks):
            for check in kind(figures):
                yield check, verdict(check, recorded, used)
    for check in expressions:
        yield check, verdict(check, recorded, used)
