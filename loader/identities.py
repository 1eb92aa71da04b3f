"""The arithmetic identities of the document, checked on the curated CSVs and on the database.

A printed total must equal the sum of the cells it totals; the same figure printed in two tables
(the grand total of the province, age and project versions of one table) must be the same; figures
quoted in the prose must follow from the tables. Totals are the dimension member ``_T``
(see loader.schema), so most identities are found by one rule instead of being listed by hand:

* within a table, a cell with ``_T`` in a dimension the table breaks down by is the sum of the
  cells that differ from it in that dimension only (row and column totals, Voltooid + Stopgezet =
  Totaal); a grand total whose marginal cells are not printed is the sum of all detail cells;
* a total that its own table does not break down (T1_totaal) is checked against each other table
  of the same fact that breaks it down (T1_provincie, T1_leeftijd);
* a cell printed in several tables of one fact must have one value;
* the province, age and project versions of a table count the same people: their detail cells
  add up to the same number for every year, measure and phase, printed or not (this is what
  places some cells of T2c);
* workers still in the NEC after 12 months are among those after 6, after 3, and all doorstroom.

All of them hold within one source document. Figures of different facts (answer 1 against
answer 4) and the prose figures are tied by the expressions in CROSS_FACT and prose_figure.csv.

A failed identity is a problem unless the source itself disagrees there; such a disagreement is
recorded in ``source_inconsistency.csv`` with both figures and reported by ``dwh reconcile``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from loader import schema
from loader.csvfile import Problem

TOTAL = schema.TOTAL


@dataclass(frozen=True)
class Obs:
    """One printed figure: its fact table, source table, coordinates and value."""

    fact: str
    table_id: str
    dims: tuple[str, ...]
    key: tuple[str, ...]
    value: int | Decimal
    status: str = "printed"
    # Where the value is printed in the CSV: a function giving (file, line, column), called only
    # for an error message (working out a column costs more than the check itself).
    where: Callable[[], tuple[str, int, int]] | None = field(default=None, compare=False, repr=False)
    document: str = ""  # identities hold within one source document
    # Its place among all figures (fact by fact, row by row): check_dataset puts the problems of
    # one (fact, document) at a time back in the order a check of all figures at once finds them.
    position: int = field(default=0, compare=False, repr=False)

    def coordinate(self, dim: str) -> str:
        return self.key[self.dims.index(dim)]

    def label(self) -> str:
        shown = [f"{d.removesuffix('_id')}={c}" for d, c in zip(self.dims, self.key) if c != TOTAL]
        return f"{self.table_id}[{', '.join(shown) or 'total'}]"


@dataclass
class Check:
    """One identity: ``total`` printed, ``computed`` from other printed figures."""

    kind: str  # sum | same | across | prose | cross | order
    total: Obs
    computed: int | Decimal
    description: str
    parts: list[Obs] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.kind == "order":
            return self.total.value >= self.computed
        return self.total.value == self.computed

    @property
    def relation(self) -> str:
        return ">=" if self.kind == "order" else "="

    @property
    def subject(self) -> str:
        """The left-hand side in words: a printed figure, or (across) a table's cells added up."""
        return f"{self.total.label()} added up" if self.kind == "across" else self.total.label()

    def identity_key(self) -> str:
        return f"{self.subject} {self.relation} {self.description}"


def value_column(fact: str) -> str:
    return "amount" if fact == "payment" else "value"


def dims_of(fact: str) -> tuple[str, ...]:
    table = schema.FACT_TABLES[fact]
    return tuple(c.name for c in table.primary_key.columns if c.name != "table_id")


def observations_from_tables(tables) -> list[Obs]:
    """Observations of every fact table of a parsed dataset (loader.dataset.TableData)."""
    return list(_figures(tables, lambda fact, table_id, status: True))


# ------------------------------------------------------------------ the rules


def _by_table(observations: Iterable[Obs]) -> dict[tuple[str, str, str], list[Obs]]:
    grouped: dict[tuple[str, str, str], list[Obs]] = defaultdict(list)
    for o in observations:
        grouped[(o.fact, o.document, o.table_id)].append(o)
    return grouped


class _Table:
    """The figures of one printed table, indexed for finding the cells a total adds up.

    A cell is a part of the total over dimension d when putting _T in its d coordinate gives the
    total's key; so the cells are indexed by that key, once per dimension (one pass, no search).
    """

    def __init__(self, table_id: str, obs: list[Obs]):
        self.table_id = table_id
        self.obs = obs
        dims = obs[0].dims
        self.breakdown = {d for i, d in enumerate(dims) if any(o.key[i] != TOTAL for o in obs)}
        self.parts: dict[str, dict[tuple, list[Obs]]] = {}
        for d in self.breakdown:
            i = dims.index(d)
            index: dict[tuple, list[Obs]] = defaultdict(list)
            for o in obs:
                if o.key[i] != TOTAL:
                    index[o.key[:i] + (TOTAL,) + o.key[i + 1 :]].append(o)
            self.parts[d] = index

    def sum_checks(self, total: Obs, total_dims: set[str]) -> list[Check]:
        """Checks of ``total`` against the cells of this table (which may be its own)."""
        breakdown = self.breakdown & total_dims
        dims = total.dims
        where = "" if self.table_id == total.table_id else f" of {self.table_id}"
        checks = []
        for d in sorted(breakdown, key=dims.index):
            parts = self.parts[d].get(total.key)
            if parts:
                checks.append(Check("sum", total, sum(o.value for o in parts), f"the sum over {d.removesuffix('_id')}{where}", parts))
        if not checks and len(breakdown) > 1:
            # A grand total whose marginal cells are not printed (T2c_project's Eindtotaal).
            idx = [dims.index(d) for d in breakdown]
            fixed = [i for i, d in enumerate(dims) if d not in breakdown]
            parts = [
                o
                for o in self.obs
                if all(o.key[i] != TOTAL for i in idx) and all(o.key[i] == total.key[i] for i in fixed)
            ]
            if parts:
                names = " and ".join(d.removesuffix("_id") for d in sorted(breakdown, key=dims.index))
                checks.append(Check("sum", total, sum(o.value for o in parts), f"the sum over {names}{where}", parts))
        return checks


def marginal_checks(observations: Iterable[Obs]) -> list[Check]:
    tables: dict[tuple[str, str], list[_Table]] = defaultdict(list)
    for (fact, document, table_id), obs in _by_table(observations).items():
        tables[(fact, document)].append(_Table(table_id, obs))
    checks: list[Check] = []
    for siblings in tables.values():
        for table in siblings:
            for total in table.obs:
                total_dims = {d for d, c in zip(total.dims, total.key) if c == TOTAL}
                if not total_dims:
                    continue
                own = table.sum_checks(total, total_dims)
                if own:
                    checks.extend(own)
                    continue
                # A total its own table does not break down (T1_totaal): the other versions do.
                for other in siblings:
                    if other is not table:
                        checks.extend(other.sum_checks(total, total_dims))
    return checks


def same_figure_checks(observations: Iterable[Obs]) -> list[Check]:
    """A figure printed in several tables of one fact (same coordinates) has one value."""
    first: dict[tuple, Obs] = {}
    checks = []
    for o in observations:
        k = (o.fact, o.document, o.key)
        if k in first:
            f = first[k]
            checks.append(Check("same", o, f.value, f"the same figure in {f.table_id}", [f]))
        else:
            first[k] = o
    return checks


BREAKDOWNS = ("province_id", "age_band_id", "esf_project_id")


def breakdown_agreement_checks(observations: Iterable[Obs]) -> list[Check]:
    """The province, age and project versions of one table count the same people.

    For every combination of the other dimensions (year, measure, phase), the detail cells of each
    version add up to the same number, whether or not the document prints that total (it prints
    no "all provinces, Voltooid" row, yet the sums must agree; this places cells of T2c).
    """
    return [check for _, check in _breakdown_agreement(observations)]


def _breakdown_agreement(observations: Iterable[Obs]) -> list[tuple[int, Check]]:
    """breakdown_agreement_checks, each with the position of the first figure of its sums."""
    sums: dict[tuple, dict[str, tuple[int | Decimal, list[Obs]]]] = defaultdict(dict)
    first_position: dict[tuple, int] = {}
    for o in observations:
        varying = [d for d, c in zip(o.dims, o.key) if d in BREAKDOWNS and c != TOTAL]
        if len(varying) != 1:
            continue
        rest = tuple((d, c) for d, c in zip(o.dims, o.key) if d not in BREAKDOWNS)
        if any(c == TOTAL for _, c in rest):
            continue
        value, parts = sums[(o.fact, o.document, rest)].get(o.table_id, (0, []))
        parts.append(o)
        sums[(o.fact, o.document, rest)][o.table_id] = (value + o.value, parts)
        first_position.setdefault((o.fact, o.document, rest), o.position)
    checks = []
    for (fact, document, rest), by_table in sums.items():
        tables = sorted(by_table)
        if len(tables) < 2:
            continue
        first_value, first_parts = by_table[tables[0]]
        for other in tables[1:]:
            value, parts = by_table[other]
            anchor = parts[0]
            summary = Obs(fact, other, tuple(d for d, _ in rest), tuple(c for _, c in rest), value, where=anchor.where)
            checks.append((first_position[(fact, document, rest)], Check("across", summary, first_value, f"the cells of {tables[0]} added up", parts + first_parts)))
    return checks


#: Answer 4's thresholds from the shortest time in the NEC to the longest: each counts at least as many workers as the next.
SUSTAINED_ORDER = ("ANY", "M03", "M06", "M12")


def sustained_order_checks(observations: Iterable[Obs]) -> list[Check]:
    """Answer 4: workers still at work after 12 months are among those after 6, after 3, and all doorstroom."""
    return [check for _, check in _sustained_order(observations)]


def _sustained_order(observations: Iterable[Obs]) -> list[tuple[int, Check]]:
    """sustained_order_checks, each with the position of the first figure of its cell."""
    order = SUSTAINED_ORDER
    cells: dict[tuple, dict[str, Obs]] = defaultdict(dict)
    for o in observations:
        if o.fact == "sustained_doorstroom":
            k = tuple(c for d, c in zip(o.dims, o.key) if d != "threshold_id")
            cells[(o.document, o.table_id, k)][o.coordinate("threshold_id")] = o
    checks = []
    for by_threshold in cells.values():
        first = min(o.position for o in by_threshold.values())
        for longer, shorter in zip(order, order[1:]):
            if longer in by_threshold and shorter in by_threshold:
                a, b = by_threshold[longer], by_threshold[shorter]
                checks.append((first, Check("order", a, b.value, f"the workers still in the NEC after {shorter}", [b])))
    return checks


# ------------------------------------------------------------------ expressions (prose, across facts)


def evaluate(expression: str, observations: list[Obs]) -> tuple[int | Decimal, list[Obs]]:
    """Evaluate ``fact table_id dim=code ... + ...``: each term must match exactly one figure."""
    total: int | Decimal = 0
    used = []
    for term in expression.split(" + "):
        words = term.split()
        if len(words) < 2:
            raise ValueError(f"term {term!r} (expected: fact table_id dim=code ...)")
        fact, table_id, *conditions = words
        wanted = dict(c.split("=", 1) for c in conditions)
        matches = [
            o
            for o in observations
            if o.fact == fact and o.table_id == table_id and all(o.coordinate(d) == c for d, c in wanted.items())
        ]
        if len(matches) != 1:
            raise ValueError(f"term {term!r} matches {len(matches)} figures (expected exactly one)")
        total += matches[0].value
        used.extend(matches)
    return total, used


#: Identities between different facts, as (figure, figures it must equal).
CROSS_FACT = [
    # Answer 1 counts doorstroom in 2023 with the same method as answer 4's 2023 row.
    ("doorstroom T1_totaal measure_id=CMW", "sustained_doorstroom T4_duurzaam doorstroom_year_id=2023 measure_id=CMW threshold_id=ANY"),
    ("doorstroom T1_totaal measure_id=LDE", "sustained_doorstroom T4_duurzaam doorstroom_year_id=2023 measure_id=LDE threshold_id=ANY"),
]


def expression_checks(observations: list[Obs], prose_rows: list[dict]) -> tuple[list[Check], list[str]]:
    checks, errors = [], []
    for left, right in CROSS_FACT:
        try:
            (_, [lhs]), (value, parts) = evaluate(left, observations), evaluate(right, observations)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        checks.append(Check("cross", lhs, value, parts[0].label(), parts))
    for row in prose_rows:
        try:
            value, parts = evaluate(row["derivation"], observations)
        except ValueError as exc:
            errors.append(f"prose figure {row['figure_id']}: {exc}")
            continue
        quoted = Obs("prose_figure", f"answer {row['answer']}", ("figure_id",), (row["figure_id"],), row["value"], where=row.get("where"))
        checks.append(Check("prose", quoted, value, row["derivation"], parts))
    return checks, errors


def all_checks(observations: list[Obs], prose_rows: list[dict]) -> tuple[list[Check], list[str]]:
    checks = (
        marginal_checks(observations)
        + same_figure_checks(observations)
        + breakdown_agreement_checks(observations)
        + sustained_order_checks(observations)
    )
    more, errors = expression_checks(observations, prose_rows)
    return checks + more, errors


# ------------------------------------------------------------------ recorded source inconsistencies


def recorded_inconsistencies(rows: list[dict]) -> dict[str, dict]:
    return {row["identity"]: row for row in rows}


def judge(checks: list[Check], recorded: dict[str, dict]) -> tuple[list[tuple[Check, str]], list[str]]:
    """Each check with its verdict (ok, recorded, FAIL), and records that match no failing check."""
    used: set[str] = set()
    verdicts = [(check, verdict(check, recorded, used)) for check in checks]
    stale = [key for key in recorded if key not in used]
    return verdicts, stale


def verdict(check: Check, recorded: dict[str, dict], used: set[str]) -> str:
    """ok, source inconsistency (its record's key added to ``used``) or FAIL."""
    if check.ok:
        return "ok"
    record = recorded.get(check.identity_key())
    if record is not None and record["printed"] == check.total.value and record["computed"] == check.computed:
        used.add(check.identity_key())
        return "source inconsistency"
    return "FAIL"


def check_dataset(tables, out=None) -> list[Problem]:
    """The identity problems of a parsed dataset (called by loader.dataset.read_dataset), in the
    order all_checks and judge find them.

    The identities hold within one (fact, document), so the figures are made Obs one (fact,
    document) at a time: memory grows with the largest such group, not with the dataset. With
    ``out`` (loader.dataset's collector) the problems go there, and past its cap they are
    counted, not kept; without, they are returned.
    """
    from loader.dataset import MAX_PROBLEMS

    sink = out if out is not None else _Everything()
    limit = MAX_PROBLEMS if out is not None else None
    prose = _rows(tables["prose_figure"])
    recorded = recorded_inconsistencies(_rows(tables["source_inconsistency"]))
    named = _expression_tables(prose)
    past = _named_past_bound(tables, prose)
    if past is not None:
        sink.append(past)
        named = set()  # the expressions are not evaluated
    used: set[str] = set()
    disagreeing: set[Obs] = set()
    failing = [_Failing(limit) for _ in range(4)]  # marginal, same, breakdown, order: all_checks' order
    expression_figures: list[Obs] = []
    for group in _groups(tables):
        start = group[0].position
        ranked = (
            [((start, n), c) for n, c in enumerate(marginal_checks(group))],
            [((c.total.position,), c) for c in same_figure_checks(group)],
            [((first, n), c) for n, (first, c) in enumerate(_breakdown_agreement(group))],
            [((first, n), c) for n, (first, c) in enumerate(_sustained_order(group))],
        )
        for kept, checks in zip(failing, ranked):
            for key, check in checks:
                found = verdict(check, recorded, used)
                if found == "FAIL":
                    kept.add(key, _failure(check))
                elif found == "source inconsistency":
                    disagreeing.add(check.total)
        expression_figures.extend(o for o in group if (o.fact, o.table_id) in named)
    expression_figures.sort(key=lambda o: o.position)  # the groups came as they were whole
    more, errors = expression_checks(expression_figures, prose) if past is None else ([], [])
    del expression_figures
    expressions = _Failing(limit)
    for n, check in enumerate(more):
        found = verdict(check, recorded, used)
        if found == "FAIL":
            expressions.add((n,), _failure(check))
        elif found == "source inconsistency":
            disagreeing.add(check.total)

    for message in errors:
        sink.append(Problem(str(tables["prose_figure"].path), 1, 1, message))
    for kept in [*failing, expressions]:
        kept.report(sink)
    data = tables["source_inconsistency"]
    for i, row in enumerate(data.rows):
        if row[data.column_index("identity")] in used:
            continue
        path, line, column = data.where(i, "identity")
        sink.append(Problem(path, line, column, "recorded inconsistency does not occur in the data (expected a failing identity with these figures)"))
    _check_status_flags(tables, disagreeing, sink)
    return sink.problems


def _failure(check: Check) -> Problem:
    path, line, column = check.total.where() if check.total.where else ("<data>", 1, 1)
    expected = (
        "(expected at least as many)"
        if check.kind == "order"
        else "(expected them equal, or the disagreement recorded in source_inconsistency.csv)"
    )
    return Problem(path, line, column, f"{check.subject} is {check.total.value} but {check.description} is {check.computed} {expected}")


def _check_status_flags(tables, disagreeing: set[Obs], sink) -> None:
    """The status flag on a figure and the record of the disagreement must say the same thing."""
    suspects = {(o.fact, o.table_id) for o in disagreeing}
    for o in _figures(tables, lambda fact, table_id, status: status == "inconsistent" or (fact, table_id) in suspects):
        flagged = o.status == "inconsistent"
        if flagged != (o in disagreeing):
            path, line, column = o.where() if o.where else ("<data>", 1, 1)
            expected = "a recorded disagreement in source_inconsistency.csv" if flagged else "status_id inconsistent"
            sink.append(Problem(path, line, column, f"{o.label()} has status_id {o.status} (expected {expected})"))


class _Failing:
    """The failed checks of one rule: the first ``limit`` in the order all_checks gives (kept as
    problems, with their place in that order), and how many in all."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.count = 0
        self.found: list[tuple[tuple, Problem]] = []

    def add(self, key: tuple, problem: Problem) -> None:
        self.count += 1
        self.found.append((key, problem))
        if self.limit is not None and len(self.found) > 2 * self.limit:
            self._keep(self.limit)

    def _keep(self, limit: int | None) -> None:
        self.found.sort(key=lambda pair: pair[0])
        if limit is not None:
            del self.found[limit:]

    def report(self, sink) -> None:
        self._keep(self.limit)
        for _, problem in self.found:
            sink.append(problem)
        for _ in range(self.count - len(self.found)):
            sink.tally(self.found[-1][1].path)


class _Everything:
    """A sink that keeps every problem (check_dataset without a collector)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def append(self, problem: Problem) -> None:
        self.problems.append(problem)


def _expression_tables(prose: list[dict]) -> set[tuple[str, str]]:
    """(fact, table_id) of every table an expression (CROSS_FACT, a prose derivation) names."""
    return set(named_tables(prose))


def named_tables(prose) -> list[tuple[str, str]]:
    """(fact, table_id) of every table an expression names, in the order they are first named:
    CROSS_FACT's, then the prose derivations' (``prose``: rows with a "derivation")."""
    expressions = [e for pair in CROSS_FACT for e in pair] + [row["derivation"] for row in prose]
    found = (tuple(term.split()[:2]) for expression in expressions for term in str(expression).split(" + ") if len(term.split()) >= 2)
    return list(dict.fromkeys(found))


def _named_past_bound(tables, prose: list[dict]) -> Problem | None:
    """The problem, at the catalogue row of the table that crosses it, when the tables the
    expressions name print more than loader.dataset.EXPRESSION_FIGURES cells together (their
    figures are held together while the expressions are evaluated)."""
    from loader.dataset import EXPRESSION_FIGURES

    catalogue = tables["source_table"]
    t, f, c = (catalogue.column_index(name) for name in ("table_id", "fact_table", "printed_cells"))
    at = {(row[f], row[t]): i for i, row in enumerate(catalogue.rows)}
    total = 0
    for fact, table_id in named_tables(prose):
        i = at.get((fact, table_id))
        if i is None:
            continue  # a term that names no table: expression_checks says so
        cells = catalogue.rows[i][c]
        if total <= EXPRESSION_FIGURES < total + cells:
            path, line, column = catalogue.where(i, "printed_cells")
            return Problem(
                path, line, column,
                f"the tables the prose derivations and the identities across facts name print more than {EXPRESSION_FIGURES:,} "
                f"cells with table {table_id}'s {cells} (expected at most {EXPRESSION_FIGURES:,}; their figures are checked together)",
            )
        total += cells
    return None


def _documents(tables) -> dict[str, str]:
    catalogue = tables["source_table"]
    t, d = catalogue.column_index("table_id"), catalogue.column_index("document_id")
    return {r[t]: r[d] for r in catalogue.rows}


def _figures(tables, wanted):
    """The Obs of the rows ``wanted(fact, table_id, status)`` picks, in observation order."""
    document_of = _documents(tables)
    position = 0
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        make = _maker(fact, data, document_of, position)
        t_idx, s_idx = data.column_index("table_id"), data.column_index("status_id")
        for i, row in enumerate(data.rows):
            if wanted(fact, row[t_idx], row[s_idx]):
                yield make(i, row)
        position += len(data.rows)


def _maker(fact: str, data, document_of: dict[str, str], position: int):
    """Obs of row ``i`` of ``data`` (one fact table), as observations_from_tables makes it."""
    dims = dims_of(fact)
    header = data.spec.header
    t_idx = header.index("table_id")
    d_idx = [header.index(d) for d in dims]
    v_name = value_column(fact)
    v_idx = header.index(v_name)
    s_idx = header.index("status_id")

    def make(i: int, row: tuple) -> Obs:
        return Obs(
            fact, row[t_idx], dims, tuple(row[j] for j in d_idx), row[v_idx], row[s_idx],
            partial(data.where, i, v_name), document_of.get(row[t_idx], ""), position + i,
        )

    return make


#: Row numbers _groups holds at most while it gathers documents whose figures are interleaved.
GATHERED = 1 << 20


def _groups(tables):
    """The Obs of each (fact, document), one group at a time.

    A first read of each fact's rows, in file order (a row store's blocks each read once), counts
    each document's figures and tells whether each document's figures follow each other, as
    curated files have them. Then the groups are gathered by row number, as many documents at a
    time as make at most GATHERED rows (one read of the rows each time), and handed on as soon as
    each is whole: memory holds those row numbers and one group's Obs, however the rows are
    ordered and however many there are.
    """
    from array import array

    document_of = _documents(tables)
    position = 0
    for fact in schema.FACT_TABLES:
        data = tables[fact]
        t_idx = data.column_index("table_id")
        counts: dict[str, int] = {}
        interleaved, last = False, None
        for row in data.rows:
            document = document_of.get(row[t_idx], "")
            if document != last:
                interleaved = interleaved or document in counts
                last = document
            counts[document] = counts.get(document, 0) + 1
        batches = _gathered(counts) if interleaved else [None]  # None: every document in one read
        make = _maker(fact, data, document_of, position)
        rows = data.rows
        for batch in batches:
            members: dict[str, array] = {}
            for i, row in enumerate(rows):
                document = document_of.get(row[t_idx], "")
                if batch is not None and document not in batch:
                    continue
                indexes = members.get(document)
                if indexes is None:
                    indexes = members[document] = array("i")
                indexes.append(i)
                if len(indexes) == counts[document]:
                    del members[document]
                    yield [make(k, row if k == i else rows[k]) for k in indexes]
        position += len(rows)


def _gathered(counts: dict[str, int]) -> list[set[str]]:
    """The documents (``counts``: their figures, in first-seen order) gathered in one read of the
    rows each: as many as hold at most GATHERED figures together (one document at least)."""
    batches: list[set[str]] = [set()]
    size = 0
    for document, count in counts.items():
        if size and size + count > GATHERED:
            batches.append(set())
            size = 0
        batches[-1].add(document)
        size += count
    return batches


def _rows(data) -> list[dict]:
    header = data.spec.header
    out = []
    for i, row in enumerate(data.rows):
        d = dict(zip(header, row))
        d["where"] = partial(data.where, i, "value" if "value" in header else header[0])
        out.append(d)
    return out
