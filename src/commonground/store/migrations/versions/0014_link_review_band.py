"""Link reviews offered by the linkage model's review band (issue #15): the second record's person, the pair's
weight and probability, each comparison's level and weight; a band pair has nobody who raised it.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot drop NOT NULL in place (the table is copied there; PostgreSQL alters it).
    with op.batch_alter_table("link_reviews") as batch:
        batch.add_column(sa.Column("pair_person_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("match_weight", sa.Float(), nullable=True))
        batch.add_column(sa.Column("match_probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("comparison_levels", sa.JSON(), nullable=True))
        batch.alter_column("raised_by_user_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM link_reviews WHERE source = 'band'")
    with op.batch_alter_table("link_reviews") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("raised_by_user_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("comparison_levels")
        batch.drop_column("match_probability")
        batch.drop_column("match_weight")
        batch.drop_column("pair_person_id")
