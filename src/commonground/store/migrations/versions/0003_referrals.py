"""Referrals: a person referred from a flag to a partner, and every step of it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.String(length=100), nullable=True),
        sa.Column("from_organisation_id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("consent", sa.String(length=40), nullable=False),
        sa.Column("consent_note", sa.Text(), nullable=True),
        sa.Column("lawful_basis", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"], ["organisations.id"], name=op.f("fk_referrals_from_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["from_user_id"], ["users.id"], name=op.f("fk_referrals_from_user_id_users")),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"], ["organisations.id"], name=op.f("fk_referrals_to_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"], name=op.f("fk_referrals_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(
        "ix_referrals_from_organisation_status", "referrals", ["from_organisation_id", "status"], unique=False
    )
    op.create_index(op.f("ix_referrals_person_id"), "referrals", ["person_id"], unique=False)
    op.create_index("ix_referrals_to_organisation_status", "referrals", ["to_organisation_id", "status"], unique=False)
    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_referral_events_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referral_events_to_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_referral_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    op.create_index(op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_referral_events_referral_id"), table_name="referral_events")
    op.drop_table("referral_events")
    op.drop_index("ix_referrals_to_organisation_status", table_name="referrals")
    op.drop_index(op.f("ix_referrals_person_id"), table_name="referrals")
    op.drop_index("ix_referrals_from_organisation_status", table_name="referrals")
    op.drop_table("referrals")
