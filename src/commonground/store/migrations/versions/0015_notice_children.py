"""One Operation Encompass notice per incident and school, each child named (#17, #20): the children move from
``notices`` to ``notice_children``.

Each existing notice keeps its number and becomes a notice naming its one child (named on the incident when it was
recorded as present, at home otherwise). ``notices.work_item_id`` stays: the work item the notice was made from (its
first child's). The child's columns are dropped with ``ALTER TABLE ... DROP COLUMN`` (SQLite 3.35 and later, and
PostgreSQL), not by copying the table: other tables refer to notices, and SQLite checks foreign keys during a
migration. The downgrade makes one notice per child again, as before.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CHILD_COLUMNS = ("person_id", "child_name", "child_date_of_birth", "child_present")


def upgrade() -> None:
    op.create_table(
        "notice_children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("child_name", sa.String(length=200), nullable=False),
        sa.Column("child_date_of_birth", sa.Date(), nullable=True),
        sa.Column("involvement", sa.String(length=20), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_notice_children_notice_id_notices")),
        sa.ForeignKeyConstraint(
            ["work_item_id"], ["work_items.id"], name=op.f("fk_notice_children_work_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_children")),
        sa.UniqueConstraint("work_item_id", name=op.f("uq_notice_children_work_item_id")),
    )
    op.create_index(op.f("ix_notice_children_notice_id"), "notice_children", ["notice_id"], unique=False)
    op.create_index(op.f("ix_notice_children_person_id"), "notice_children", ["person_id"], unique=False)
    op.execute(
        "INSERT INTO notice_children "
        "(notice_id, work_item_id, person_id, child_name, child_date_of_birth, involvement, added_at) "
        "SELECT id, work_item_id, person_id, child_name, child_date_of_birth, "
        "CASE WHEN child_present THEN 'named' ELSE 'at_home' END, created_at FROM notices ORDER BY id"
    )
    op.drop_index(op.f("ix_notices_person_id"), table_name="notices")
    for column in CHILD_COLUMNS:
        op.execute(f"ALTER TABLE notices DROP COLUMN {column}")
    op.create_index("ix_notices_incident", "notices", ["organisation_id", "incident_reference"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notices_incident", table_name="notices")
    op.add_column("notices", sa.Column("person_id", sa.String(length=64), nullable=False, server_default=""))
    op.add_column("notices", sa.Column("child_name", sa.String(length=200), nullable=False, server_default=""))
    op.add_column("notices", sa.Column("child_date_of_birth", sa.Date(), nullable=True))
    op.add_column("notices", sa.Column("child_present", sa.Boolean(), nullable=True))
    op.execute(  # every child but the one the notice was made from: a notice of their own again
        "INSERT INTO notices (work_item_id, organisation_id, person_id, child_name, child_date_of_birth, "
        "incident_reference, incident_at, child_present, police_contact, due_by, created_at, sent_at, "
        "acknowledged_at, acknowledged_by_user_id) "
        "SELECT c.work_item_id, n.organisation_id, c.person_id, c.child_name, c.child_date_of_birth, "
        "n.incident_reference, n.incident_at, CASE WHEN c.involvement = 'named' THEN TRUE END, n.police_contact, "
        "n.due_by, c.added_at, n.sent_at, n.acknowledged_at, n.acknowledged_by_user_id "
        "FROM notice_children c JOIN notices n ON n.id = c.notice_id WHERE c.work_item_id <> n.work_item_id "
        "ORDER BY c.id"
    )
    for column in ("person_id", "child_name", "child_date_of_birth"):
        op.execute(
            f"UPDATE notices SET {column} = (SELECT c.{column} FROM notice_children c "
            "WHERE c.work_item_id = notices.work_item_id)"
        )
    op.execute(
        "UPDATE notices SET child_present = (SELECT CASE WHEN c.involvement = 'named' THEN TRUE END "
        "FROM notice_children c WHERE c.work_item_id = notices.work_item_id)"
    )
    op.create_index(op.f("ix_notices_person_id"), "notices", ["person_id"], unique=False)
    op.drop_index(op.f("ix_notice_children_person_id"), table_name="notice_children")
    op.drop_index(op.f("ix_notice_children_notice_id"), table_name="notice_children")
    op.drop_table("notice_children")
