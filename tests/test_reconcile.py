"""`dwh reconcile` reads the warehouse one document at a time (loader.reconcile): the same
verdicts as every figure judged at once, in the same order for one document; memory holds one
document's figures (a million figures took 1.1 GB before, bench: 66 MiB after)."""

from __future__ import annotations

import sqlalchemy as sa
from test_reload_merge import COPY, _with_a_second_document
from test_streamed import _load

from loader import db, schema
from loader import reconcile as rec
from loader.identities import all_checks, judge, recorded_inconsistencies


def _lines(verdicts) -> list[str]:
    return [f"{v} {c.kind} {c.subject} {c.total.value!r} {c.relation} {c.description} {c.computed!r}" for c, v in verdicts]


def _all_at_once(conn: sa.Connection) -> list[str]:
    """Every figure of the warehouse judged at once, as reconcile did before."""
    prose = [dict(r) for r in conn.execute(sa.select(schema.prose_figure)).mappings()]
    recorded = recorded_inconsistencies([dict(r) for r in conn.execute(sa.select(schema.source_inconsistency)).mappings()])
    checks, errors = all_checks(rec.observations(conn), prose)
    assert not errors
    return _lines(judge(checks, recorded)[0])


def test_one_document_at_a_time_gives_the_same_verdicts(databases, loaded_db, tmp_path, monkeypatch):
    monkeypatch.setattr(rec, "FETCH", 7)  # every cursor is fetched from many times, between the others
    with db.make_engine(loaded_db).connect() as conn:
        one = _lines(rec.reconcile(conn))
        assert one == _all_at_once(conn)  # one document: the very order of before
    assert one[-1].startswith("ok prose ")  # the expressions come last

    url = databases.create()
    _load(url, _with_a_second_document(tmp_path / "more"), force=False)
    with db.make_engine(url).connect() as conn:
        documents = [{o.document for o in figures} for figures in rec._documents(conn)]
        two = _lines(rec.reconcile(conn))
        before = _all_at_once(conn)
    assert [len(d) for d in documents] == [1, 1] and documents[0] != documents[1]
    assert any(COPY in d for d in documents[0] | documents[1])
    assert sorted(two) == sorted(before)
    # The copy's tables hold the same figures: each identity of the document holds in both, but the
    # expressions, which name the document's own tables.
    expressions = sum(1 for line in one if " prose " in line or " cross " in line)
    assert len(two) == 2 * len(one) - expressions


def test_a_fact_table_without_the_first_documents_figures(databases, tmp_path):
    """When the fact tables' cursors stand at different documents, the first in the database's
    own order is read first: here sec_nec_sec holds only the copy's figures (the original's
    deleted in a transaction that is rolled back), so its cursor starts at the second document."""
    url = databases.create()
    _load(url, _with_a_second_document(tmp_path / "more"), force=False)
    with db.make_engine(url).connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text("delete from dwh.sec_nec_sec where table_id = 'T4_sec_nec_sec'"))
        documents = [sorted({(o.document, o.fact) for o in figures}) for figures in rec._documents(conn)]
        assert [len({d for d, _ in pairs}) for pairs in documents] == [1, 1]
        assert ("SV-221-2024", "sec_nec_sec") not in documents[0] and any(f == "sec_nec_sec" for _, f in documents[1])
        prose = [dict(r) for r in conn.execute(sa.select(schema.prose_figure)).mappings()]
        recorded = recorded_inconsistencies([])
        checks = [c for c in all_checks(rec.observations(conn), prose)[0] if c.kind not in ("prose", "cross")]
        streamed = [(c, v) for c, v in rec._verdicts(conn, [], recorded)]
        assert sorted(_lines(streamed)) == sorted(_lines(judge(checks, recorded)[0]))
        transaction.rollback()
