"""The good-practice library, the landscape review survey and the work plan.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "library_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problem", sa.String(length=40), nullable=False),
        sa.Column("problem_detail", sa.Text(), nullable=False),
        sa.Column("age_band", sa.String(length=40), nullable=False),
        sa.Column("setting", sa.String(length=40), nullable=False),
        sa.Column("need_level", sa.String(length=40), nullable=False),
        sa.Column("mechanism", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("emmie", sa.JSON(), nullable=False),
        sa.Column("eif_level", sa.String(length=12), nullable=False),
        sa.Column("eif_rationale", sa.Text(), nullable=False),
        sa.Column("studies", sa.JSON(), nullable=False),
        sa.Column("implementation", sa.Text(), nullable=False),
        sa.Column("cost", sa.Text(), nullable=False),
        sa.Column("local_lead_organisation_id", sa.Integer(), nullable=True),
        sa.Column("local_contact", sa.String(length=300), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "in_review",
                "published",
                "returned",
                name="entrystatus",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["author_user_id"], ["users.id"], name=op.f("fk_library_entries_author_user_id_users")),
        sa.ForeignKeyConstraint(
            ["local_lead_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_library_entries_local_lead_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"], ["users.id"], name=op.f("fk_library_entries_submitted_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_entries")),
    )
    op.create_index(op.f("ix_library_entries_problem"), "library_entries", ["problem"], unique=False)
    op.create_index(op.f("ix_library_entries_status"), "library_entries", ["status"], unique=False)
    op.create_table(
        "plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_organisation_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("not_started", "in_progress", "done", "blocked", name="planstatus", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("barriers", sa.JSON(), nullable=False),
        sa.Column("practices", sa.JSON(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"], ["users.id"], name=op.f("fk_plan_items_created_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["owner_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_plan_items_owner_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("introduction", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "sent", "closed", name="surveystatus", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["users.id"], name=op.f("fk_surveys_created_by_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_table(
        "whatworks_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "approved", "removed", name="commentstatus", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("moderated_by_user_id", sa.Integer(), nullable=True),
        sa.Column("moderated_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.id"], name=op.f("fk_whatworks_comments_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by_user_id"], ["users.id"], name=op.f("fk_whatworks_comments_moderated_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_whatworks_comments_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatworks_comments")),
    )
    op.create_index("ix_whatworks_comments_target", "whatworks_comments", ["target_type", "target_id"], unique=False)
    op.create_table(
        "library_local_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["library_entries.id"], name=op.f("fk_library_local_evaluations_entry_id_library_entries")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"], ["users.id"], name=op.f("fk_library_local_evaluations_recorded_by_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_local_evaluations")),
    )
    op.create_index(
        op.f("ix_library_local_evaluations_entry_id"), "library_local_evaluations", ["entry_id"], unique=False
    )
    op.create_table(
        "library_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer_user_id", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("approve", "return", name="reviewdecision", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("comments", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["library_entries.id"], name=op.f("fk_library_reviews_entry_id_library_entries")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_user_id"], ["users.id"], name=op.f("fk_library_reviews_reviewer_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_reviews")),
        sa.UniqueConstraint("entry_id", "round", "reviewer_user_id", name="uq_library_reviews_entry_round_reviewer"),
    )
    op.create_index(op.f("ix_library_reviews_entry_id"), "library_reviews", ["entry_id"], unique=False)
    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("hint", sa.String(length=500), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("single", "multiple", "text", name="questionkind", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name=op.f("fk_survey_questions_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
    )
    op.create_index(op.f("ix_survey_questions_survey_id"), "survey_questions", ["survey_id"], unique=False)
    op.create_table(
        "survey_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("force_code", sa.String(length=20), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_survey_recipients_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name=op.f("fk_survey_recipients_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_recipients")),
        sa.UniqueConstraint("survey_id", "name", name="uq_survey_recipients_survey_name"),
    )
    op.create_index(op.f("ix_survey_recipients_survey_id"), "survey_recipients", ["survey_id"], unique=False)
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answered_by_user_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by_user_id"], ["users.id"], name=op.f("fk_survey_responses_answered_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["survey_recipients.id"], name=op.f("fk_survey_responses_recipient_id_survey_recipients")
        ),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("recipient_id", name=op.f("uq_survey_responses_recipient_id")),
    )
    op.create_index(op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_responses_survey_id"), table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_index(op.f("ix_survey_recipients_survey_id"), table_name="survey_recipients")
    op.drop_table("survey_recipients")
    op.drop_index(op.f("ix_survey_questions_survey_id"), table_name="survey_questions")
    op.drop_table("survey_questions")
    op.drop_index(op.f("ix_library_reviews_entry_id"), table_name="library_reviews")
    op.drop_table("library_reviews")
    op.drop_index(op.f("ix_library_local_evaluations_entry_id"), table_name="library_local_evaluations")
    op.drop_table("library_local_evaluations")
    op.drop_index("ix_whatworks_comments_target", table_name="whatworks_comments")
    op.drop_table("whatworks_comments")
    op.drop_table("surveys")
    op.drop_table("plan_items")
    op.drop_index(op.f("ix_library_entries_status"), table_name="library_entries")
    op.drop_index(op.f("ix_library_entries_problem"), table_name="library_entries")
    op.drop_table("library_entries")
