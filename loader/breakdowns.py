"""Which dimensions each printed table breaks down by (source_table_dimension.csv), checked against its cells.

The declaration is what the tidy report views derive their totals flag from, so it must say what the
cells say: a table breaks down by a dimension exactly when its cells take more than one member of
it (the detail members and, where printed, the total _T). A dimension the table does not break down
by has one member in all its cells: _T (T1_provincie is not split by age) or a fixed one (it is all
2023).
"""

from __future__ import annotations

from collections import defaultdict

from loader import schema
from loader.csvfile import Problem


def fact_dimensions(fact: str) -> dict[str, str]:
    """Dimension id -> column of the fact table that holds it (the dimension id is the table it references)."""
    table = schema.FACT_TABLES[fact]
    out = {}
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target not in ("source_table", "observation_status"):
                out[target] = column.name
    return out


_MANY = object()  # a dimension in which a table's cells take more than one member


def _first_members(tables) -> dict[tuple[str, str], list]:
    """(fact, table_id) -> per dimension of the fact (fact_dimensions order): the member its cells
    take, or _MANY. A few values a table, not a set per table and dimension (25,000 tables at a
    million cells took 40 MB as sets); the members themselves are gathered only for a message."""
    firsts: dict[tuple[str, str], list] = {}
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        t = data.column_index("table_id")
        idx = [data.column_index(c) for c in fact_dimensions(fact).values()]
        for row in data.rows:
            seen = firsts.get((fact, row[t]))
            if seen is None:
                firsts[(fact, row[t])] = [row[j] for j in idx]
                continue
            for n, j in enumerate(idx):
                if seen[n] is not _MANY and seen[n] != row[j]:
                    seen[n] = _MANY
    return firsts


def _members(tables, wanted: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], set]:
    """The members the cells of each (fact, table_id, dimension) ``wanted`` take (for messages): one pass a fact."""
    found: dict[tuple[str, str, str], set] = {key: set() for key in wanted}
    for fact in {fact for fact, _, _ in wanted}:
        data = tables[fact]
        t = data.column_index("table_id")
        columns = fact_dimensions(fact)
        by_table = defaultdict(list)
        for f, table_id, dimension in wanted:
            if f == fact:
                by_table[table_id].append((dimension, data.column_index(columns[dimension])))
        for row in data.rows:
            for dimension, j in by_table.get(row[t], ()):
                found[(fact, row[t], dimension)].add(row[j])
    return found


def check_breakdowns(tables) -> list[Problem]:
    """Problems where source_table_dimension.csv and the cells of a table disagree (parsed dataset, keys checked)."""
    catalogue = tables["source_table"]
    declared_data = tables["source_table_dimension"]
    declared: dict[str, dict[str, int]] = defaultdict(dict)  # table -> dimension -> row number in the file
    t, d = declared_data.column_index("table_id"), declared_data.column_index("dimension_id")
    for i, row in enumerate(declared_data.rows):
        declared[row[t]][row[d]] = i

    firsts = _first_members(tables)
    problems = []
    for i, row in enumerate(catalogue.rows):
        values = dict(zip(catalogue.spec.header, row))
        table_id, fact = values["table_id"], values["fact_table"]
        columns = fact_dimensions(fact)
        seen = dict(zip(columns, firsts[(fact, table_id)])) if (fact, table_id) in firsts else {}
        many = {dimension for dimension, first in seen.items() if first is _MANY}
        for dimension, j in sorted(declared[table_id].items()):
            where = declared_data.where(j, "dimension_id")
            if dimension not in columns:
                problems.append(Problem(*where, f"{table_id} is declared to break down by {dimension}, which {fact}.csv does not have (expected one of {', '.join(sorted(columns))})"))
            elif dimension not in many:
                only = str(seen[dimension]) if dimension in seen else ""
                problems.append(Problem(*where, f"{table_id} is declared to break down by {dimension}, but all its cells have {columns[dimension]} {only} (expected more than one member)"))
        for dimension, column in sorted(columns.items()):
            if dimension in many and dimension not in declared[table_id]:
                problems.append((i, fact, table_id, dimension, column))  # its message once the members are known
    members = _members(tables, {(fact, table_id, dimension) for p in problems if isinstance(p, tuple) for _, fact, table_id, dimension, _ in [p]})
    for n, p in enumerate(problems):
        if isinstance(p, tuple):
            i, fact, table_id, dimension, column = p
            shown = ", ".join(sorted(map(str, members[(fact, table_id, dimension)])))
            problems[n] = Problem(
                *catalogue.where(i, "table_id"),
                f"{table_id} has cells with {column} {shown} but {declared_data.path.name} has no row {table_id},{dimension} "
                "(expected every dimension the table breaks down by)",
            )
    return problems
