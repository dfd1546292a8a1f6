"""Idempotency keys of writes (``Idempotency-Key``; a hidden field of each form): a retry does nothing again; and
an index on sign-in attempts by email, which the per-account slowing down reads on every attempt.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("request", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=2000), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
    )
    # Sign-in slows down by email (known or unknown alike): its failures are read by email hash and time.
    op.create_index("ix_sign_in_attempts_email_hash_at", "sign_in_attempts", ["email_hash", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_attempts_email_hash_at", table_name="sign_in_attempts")
    op.drop_table("idempotency_keys")
