"""Operation Encompass notices, the email outbox and the street-triage log.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("child_name", sa.String(length=200), nullable=False),
        sa.Column("child_date_of_birth", sa.Date(), nullable=True),
        sa.Column("incident_reference", sa.String(length=64), nullable=True),
        sa.Column("incident_at", sa.DateTime(), nullable=True),
        sa.Column("child_present", sa.Boolean(), nullable=True),
        sa.Column("police_contact", sa.String(length=300), nullable=True),
        sa.Column("due_by", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_user_id"], ["users.id"], name=op.f("fk_notices_acknowledged_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_notices_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["work_item_id"], ["work_items.id"], name=op.f("fk_notices_work_item_id_work_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("work_item_id", name=op.f("uq_notices_work_item_id")),
    )
    op.create_index(op.f("ix_notices_person_id"), "notices", ["person_id"], unique=False)
    op.create_index("ix_notices_school", "notices", ["organisation_id", "acknowledged_at", "due_by"], unique=False)
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"], name=op.f("fk_outbox_messages_notice_id_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(op.f("ix_outbox_messages_notice_id"), "outbox_messages", ["notice_id"], unique=False)
    op.create_index("ix_outbox_messages_pending", "outbox_messages", ["sent_at", "next_attempt_at"], unique=False)
    op.create_table(
        "triage_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("incident_reference", sa.String(length=64), nullable=True),
        sa.Column("contacted_at", sa.DateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("setting", sa.String(length=40), nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("s136", sa.String(length=40), nullable=False),
        sa.Column("conveyance", sa.String(length=40), nullable=False),
        sa.Column("crisis_team_referral", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_triage_logs_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["users.id"], name=op.f("fk_triage_logs_recorded_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_logs")),
    )
    op.create_index(op.f("ix_triage_logs_person_id"), "triage_logs", ["person_id"], unique=False)
    op.create_index(
        "ix_triage_logs_organisation_contacted", "triage_logs", ["organisation_id", "contacted_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_triage_logs_organisation_contacted", table_name="triage_logs")
    op.drop_index(op.f("ix_triage_logs_person_id"), table_name="triage_logs")
    op.drop_table("triage_logs")
    op.drop_index("ix_outbox_messages_pending", table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_notice_id"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index("ix_notices_school", table_name="notices")
    op.drop_index(op.f("ix_notices_person_id"), table_name="notices")
    op.drop_table("notices")
