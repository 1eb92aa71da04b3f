"""`dwh reconcile`: every printed total of the loaded data against the sum of its cells."""

from __future__ import annotations

import sqlalchemy as sa

from loader import schema
from loader.identities import Check, Obs, all_checks, dims_of, judge, recorded_inconsistencies, value_column


def observations(conn: sa.Connection) -> list[Obs]:
    st = schema.source_table
    document_of = dict(conn.execute(sa.select(st.c.table_id, st.c.document_id)).all())
    out = []
    for fact, table in schema.FACT_TABLES.items():
        dims = dims_of(fact)
        value = value_column(fact)
        columns = [table.c.table_id, *(table.c[d] for d in dims), table.c[value], table.c.status_id]
        for row in conn.execute(sa.select(*columns)):
            out.append(Obs(fact, row[0], dims, tuple(row[1 : 1 + len(dims)]), row[-2], row[-1], document=document_of[row[0]]))
    return out


def reconcile(conn: sa.Connection) -> list[tuple[Check, str]]:
    """Each identity with its verdict: ok, source inconsistency (recorded), or FAIL."""
    prose = [dict(r) for r in conn.execute(sa.select(schema.prose_figure)).mappings()]
    recorded = recorded_inconsistencies([dict(r) for r in conn.execute(sa.select(schema.source_inconsistency)).mappings()])
    checks, errors = all_checks(observations(conn), prose)
    verdicts, _ = judge(checks, recorded)
    if errors:
        raise RuntimeError("; ".join(errors))
    return verdicts
