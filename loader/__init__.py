"""Doorstroom warehouse: curated tables of written question 221 (2024), loaded into PostgreSQL."""

__version__ = "0.1.0"


def frame(name: str, database_url: str | None = None):
    """A report view as a pandas DataFrame: nullable integers (Int64), exact euros (Decimal).

    ``name`` is a table id (``"T2e_betalingen"``) or a view (``"doorstroom"``,
    ``"report.doorstroom"``); ``database_url`` as ``dwh --database-url`` (default: DATABASE_URL,
    else the embedded server). pandas is imported here, not by ``import loader``: every `dwh`
    command imports this package and should not pay for pandas.
    """
    from loader.frames import frame as read

    return read(name, database_url)
