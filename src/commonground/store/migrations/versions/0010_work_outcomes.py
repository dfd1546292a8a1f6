"""Coded outcomes of closed work items, and link reviews (a practitioner's word that linked records are not the
same person): closed work teaches the rules (issue #20) and the linkage (issue #15). Agreements that restrict
fields, not only feeds, and accounts whose record access waits for a second person (issue #16).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agreements") as batch:
        batch.add_column(sa.Column("fields", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("access_pending", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("access_changed_by_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_users_access_changed_by_user_id_users"), "users", ["access_changed_by_user_id"], ["id"]
        )
    with op.batch_alter_table("work_items") as batch:
        batch.add_column(sa.Column("outcome_code", sa.String(length=40), nullable=True))
    op.create_table(
        "link_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("raised_by_user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("kept_with", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_link_reviews_decided_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_link_reviews_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_user_id"], ["users.id"], name=op.f("fk_link_reviews_raised_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_link_reviews_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_reviews")),
    )
    op.create_index(op.f("ix_link_reviews_person_id"), "link_reviews", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_link_reviews_person_id"), table_name="link_reviews")
    op.drop_table("link_reviews")
    with op.batch_alter_table("work_items") as batch:
        batch.drop_column("outcome_code")
    with op.batch_alter_table("agreements") as batch:
        batch.drop_column("fields")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("fk_users_access_changed_by_user_id_users"), type_="foreignkey")
        batch.drop_column("access_changed_by_user_id")
        batch.drop_column("access_pending")
