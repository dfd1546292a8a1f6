"""Referrals that share item by item (#16, #17): the records a referral carries, its response deadline, and the
shares that open exactly those records to the partner it is with, for its purpose, while it lasts.

An open referral made before this revision carried everything behind its flag, through an "own case" relationship
without a purpose: that relationship ends here, and the referral shares its flag's evidence instead (what its
sender had chosen it for), for its purpose, until 90 days after its last step.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

REFERRAL_ACCESS = dt.timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("shared_items", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("respond_by", sa.Date(), nullable=True))
    op.create_table(
        "record_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_record_shares_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_shares")),
        sa.UniqueConstraint(
            "organisation_id", "source", "source_ref", "feed", "record_id", name="uq_record_shares_org_source_record"
        ),
    )
    op.create_index("ix_record_shares_person_org", "record_shares", ["person_id", "organisation_id"], unique=False)
    _carry_open_referrals()


def _carry_open_referrals() -> None:
    """Open referrals share their flag's evidence; the purposeless relationships referrals made end now."""
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    referrals = sa.table(
        "referrals",
        sa.column("id", sa.Integer()),
        sa.column("person_id", sa.String()),
        sa.column("work_item_id", sa.Integer()),
        sa.column("to_organisation_id", sa.Integer()),
        sa.column("purpose", sa.String()),
        sa.column("status", sa.String()),
        sa.column("updated_at", sa.DateTime()),
        sa.column("shared_items", sa.JSON()),
    )
    items = sa.table("work_items", sa.column("id", sa.Integer()), sa.column("evidence", sa.JSON()))
    shares = sa.table(
        "record_shares",
        *(sa.column(c) for c in ("person_id", "organisation_id", "purpose", "feed", "record_id", "source")),
        sa.column("source_ref"),
        sa.column("valid_from", sa.DateTime()),
        sa.column("valid_until", sa.DateTime()),
    )
    relationships = sa.table(
        "person_relationships",
        sa.column("source", sa.String()),
        sa.column("valid_until", sa.DateTime()),
    )
    rows = bind.execute(
        sa.select(referrals, items.c.evidence).select_from(
            referrals.outerjoin(items, items.c.id == referrals.c.work_item_id)
        )
    ).all()
    for row in rows:
        evidence = sorted(set(row.evidence or []))
        bind.execute(referrals.update().where(referrals.c.id == row.id).values(shared_items=evidence))
        if row.status not in ("sent", "accepted") or row.updated_at + REFERRAL_ACCESS <= now:
            continue
        for item in evidence:
            feed, _, record_id = item.partition(":")
            bind.execute(
                shares.insert().values(
                    person_id=row.person_id,
                    organisation_id=row.to_organisation_id,
                    purpose=row.purpose,
                    feed=feed,
                    record_id=record_id,
                    source="referrals",
                    source_ref=str(row.id),
                    valid_from=now,
                    valid_until=row.updated_at + REFERRAL_ACCESS,
                )
            )
    bind.execute(
        relationships.update()
        .where(
            relationships.c.source == "referrals",
            sa.or_(relationships.c.valid_until.is_(None), relationships.c.valid_until > now),
        )
        .values(valid_until=now)
    )


def downgrade() -> None:
    op.drop_index("ix_record_shares_person_org", table_name="record_shares")
    op.drop_table("record_shares")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("respond_by")
        batch.drop_column("shared_items")
