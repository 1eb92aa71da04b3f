"""`loader.frame`: a report view as a pandas DataFrame whose numbers are what the document prints.

``pandas.read_sql`` turns every integer column with a NULL in it into float64 (a year without a
printed total comes back as 7738.0) and every numeric column into float64 (the euros of
report.betalingen add up to 1318128.8800000001). Here the column types come from the view itself:
whole numbers become pandas' nullable ``Int64``, euro amounts (PostgreSQL numeric) stay
``decimal.Decimal`` objects, so sums are exact, text becomes the nullable ``string`` dtype and
flags the nullable ``boolean``. Blanks are ``pd.NA`` (``None`` in an amount column).
"""

from __future__ import annotations

import sqlalchemy as sa

from loader import schema
from loader.errors import DatabaseUnavailable, InputError

#: PostgreSQL type (information_schema.columns.data_type) -> pandas dtype; numeric is left out
#: on purpose: its values stay Decimal objects in an object column.
_DTYPES = {
    "smallint": "Int64",
    "integer": "Int64",
    "bigint": "Int64",
    "boolean": "boolean",
    "text": "string",
    "character varying": "string",
}


def view_name(conn: sa.Connection, name: str) -> str:
    """The report view a name stands for: a table id (``T2c_project``), a view (``doorstroom``) or
    ``report.<view>``, any case. Anything else is an InputError that lists the views."""
    bare = name.strip().lower()
    prefix = f"{schema.REPORT_SCHEMA}."
    if bare.startswith(prefix):
        bare = bare[len(prefix):]
    views = conn.execute(
        sa.text("select table_name from information_schema.views where table_schema = :s order by table_name"),
        {"s": schema.REPORT_SCHEMA},
    ).scalars().all()
    if not views:
        raise DatabaseUnavailable("the warehouse is not loaded in this database: run `dwh load` first")
    if bare not in views:
        raise InputError(f"unknown report view {name!r} (expected one of: {', '.join(views)})")
    return bare


def read_frame(conn: sa.Connection, name: str):
    import pandas as pd

    view = view_name(conn, name)
    types = conn.execute(
        sa.text(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = :s and table_name = :n order by ordinal_position"
        ),
        {"s": schema.REPORT_SCHEMA, "n": view},
    ).all()
    quoted = conn.dialect.identifier_preparer.quote(view)
    result = conn.execute(sa.text(f"select * from {schema.REPORT_SCHEMA}.{quoted}"))
    rows = result.all()
    columns = {}
    for i, (column, data_type) in enumerate(types):
        values = [row[i] for row in rows]
        dtype = _DTYPES.get(data_type)
        # Decimal values (numeric) and any type not listed stay Python objects, exactly as read.
        columns[column] = pd.array(values, dtype=dtype) if dtype else pd.array(values, dtype=object)
    frame = pd.DataFrame(columns, columns=[c for c, _ in types])
    frame.attrs["view"] = f"{schema.REPORT_SCHEMA}.{view}"
    return frame


def frame(name: str, database_url: str | None = None):
    """The report view ``name`` as a DataFrame (see the module docstring for the types).

    ``database_url`` works as ``dwh --database-url``: without it ``DATABASE_URL``, else the
    embedded server. A reader login is enough.
    """
    from loader import db

    with db.open_engine(database_url) as engine, db.begin(engine) as conn:
        return read_frame(conn, name)
