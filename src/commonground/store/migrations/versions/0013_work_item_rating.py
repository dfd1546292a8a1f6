"""A work item's RAG rating (its priority: red, amber or green) and the reason for it in words, as the rules raised
it (issue #17): the queue colours and sorts by the rating, and shows the time left apart from it. Items made before
ratings existed have none.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("rating", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("rating_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("rating_reason")
        batch.drop_column("rating")
