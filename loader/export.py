"""`dwh export`: every report table as a sheet of one workbook, or as one CSV file each."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from loader.render import Table

WORKBOOK = "doorstroom-sv221-2024.xlsx"


def export(tables: list[Table], directory: Path, fmt: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        for table in tables:
            with open(directory / f"{table.table_id}.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow([f"{table.table_id}: {table.caption}"])
                writer.writerow(table.columns)
                for row in table.rows:
                    writer.writerow(["" if v is None else (f"{v:.2f}" if isinstance(v, Decimal) else v) for v in row])
        return directory
    return _workbook(tables, directory / WORKBOOK)


def _workbook(tables: list[Table], path: Path) -> Path:
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for table in tables:
            frame = pd.DataFrame([[float(v) if isinstance(v, Decimal) else v for v in row] for row in table.rows], columns=table.columns)
            frame.to_excel(writer, sheet_name=table.table_id, startrow=2, index=False)
            sheet = writer.sheets[table.table_id]
            sheet["A1"] = f"{table.table_id}: {table.caption}"
            for column in sheet.iter_cols(min_row=4, min_col=table.label_columns + 1):
                for cell in column:
                    if isinstance(cell.value, float):
                        cell.number_format = "#,##0.00"
    return path
