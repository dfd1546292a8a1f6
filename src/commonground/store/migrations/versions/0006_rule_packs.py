"""Which rule packs are in use, with history.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_pack_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=100), nullable=False),
        sa.Column("pack_version", sa.String(length=40), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("build_id", sa.String(length=64), nullable=False),
        sa.Column("in_use_from", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_pack_versions")),
    )
    op.create_index(op.f("ix_rule_pack_versions_pack"), "rule_pack_versions", ["pack"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rule_pack_versions_pack"), table_name="rule_pack_versions")
    op.drop_table("rule_pack_versions")
