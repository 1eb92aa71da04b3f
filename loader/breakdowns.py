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


def check_breakdowns(tables) -> list[Problem]:
    """Problems where source_table_dimension.csv and the cells of a table disagree (parsed dataset, keys checked)."""
    catalogue = tables["source_table"]
    declared_data = tables["source_table_dimension"]
    declared: dict[str, dict[str, int]] = defaultdict(dict)  # table -> dimension -> row number in the file
    for i, row in enumerate(declared_data.rows):
        values = dict(zip(declared_data.spec.header, row))
        declared[values["table_id"]][values["dimension_id"]] = i

    members: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        columns = fact_dimensions(fact)
        for row in data.rows:
            values = dict(zip(data.spec.header, row))
            for dimension, column in columns.items():
                members[(fact, values["table_id"])][dimension].add(values[column])

    problems = []
    for i, row in enumerate(catalogue.rows):
        values = dict(zip(catalogue.spec.header, row))
        table_id, fact = values["table_id"], values["fact_table"]
        columns = fact_dimensions(fact)
        seen = members[(fact, table_id)]
        for dimension, j in sorted(declared[table_id].items()):
            where = declared_data.where(j, "dimension_id")
            if dimension not in columns:
                problems.append(Problem(*where, f"{table_id} is declared to break down by {dimension}, which {fact}.csv does not have (expected one of {', '.join(sorted(columns))})"))
            elif len(seen[dimension]) < 2:
                only = ", ".join(sorted(map(str, seen[dimension])))
                problems.append(Problem(*where, f"{table_id} is declared to break down by {dimension}, but all its cells have {columns[dimension]} {only} (expected more than one member)"))
        for dimension, column in sorted(columns.items()):
            if len(seen[dimension]) > 1 and dimension not in declared[table_id]:
                shown = ", ".join(sorted(map(str, seen[dimension])))
                problems.append(
                    Problem(
                        *catalogue.where(i, "table_id"),
                        f"{table_id} has cells with {column} {shown} but {declared_data.path.name} has no row {table_id},{dimension} "
                        "(expected every dimension the table breaks down by)",
                    )
                )
    return problems
