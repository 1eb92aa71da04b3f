"""The comment of dwh.trajectory_end_range says "open cell", the project's one word for a cell the printed numbers leave open.

0005 wrote "uncertain cell"; the views, outputs and docs say "open" (0007 renamed the status). The
comment is part of the product (BI tools and the data package show it), so it changes with a
migration, and loader/schema.py holds the same text so that autogenerate sees no difference.
Static SQL, so that `alembic upgrade --sql` prints it. Downgrade puts 0005's comment back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:30:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COMMENT = (
    "Cells of answer 2c (printed or blank) whose content differs between the placements of the printed "
    "numbers that fit the document, with the range over all of them; written by `dwh placements --write` from "
    "the text extraction and the document's identities. One row per {} cell"
)


def _set(word: str) -> None:
    text = _COMMENT.format(word).replace("'", "''")
    op.execute(f"COMMENT ON TABLE dwh.trajectory_end_range IS '{text}'")


def upgrade() -> None:
    _set("open")


def downgrade() -> None:
    _set("uncertain")
