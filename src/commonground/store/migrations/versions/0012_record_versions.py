"""A record's life (#16): work withdrawn when its flag no longer holds (a partner retracted or corrected a record, a
reviewer rejected a link, or the rule no longer holds), with the reason the worker reads; and the correction that
follows a school notice already made. Record versions and retractions themselves live in the analytical ingest
store (``history_<feed>``, ``retractions``), not here.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_item_withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column(
            "cause",
            sa.Enum(
                "retracted",
                "corrected",
                "link_rejected",
                "link_in_review",
                "rule_no_longer_holds",
                name="withdrawalcause",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("feed", sa.String(length=64), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_work_item_withdrawals_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_item_withdrawals")),
        sa.UniqueConstraint("work_item_id", name=op.f("uq_work_item_withdrawals_work_item_id")),
    )
    op.create_table(
        "notice_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_notice_corrections_notice_id_notices")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_notice_corrections_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_notice_corrections_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_corrections")),
        sa.UniqueConstraint("work_item_id", name=op.f("uq_notice_corrections_work_item_id")),
    )
    op.create_index(op.f("ix_notice_corrections_notice_id"), "notice_corrections", ["notice_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_corrections_notice_id"), table_name="notice_corrections")
    op.drop_table("notice_corrections")
    op.drop_table("work_item_withdrawals")
