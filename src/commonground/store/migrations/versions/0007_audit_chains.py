"""The audit log in several hash chains, each with its own head, so that appends need not queue for one lock.

Every entry written before this revision stays where it was, in chain 1 at the position its sequence number gave
it, with its hash unchanged. Sequence numbers now come from the database (a PostgreSQL sequence, SQLite's rowid)
and only order the log; an entry's place in its chain is ``(chain, chain_seq)``, which the hash covers.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHAINS = 8
GENESIS = "0" * 64


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("audit_events", sa.Column("chain", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column("audit_events", sa.Column("chain_seq", sa.Integer(), server_default=sa.text("0"), nullable=False))
    # The log is append-only; its triggers stand aside for the one statement that places the old entries.
    if postgres:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        op.execute("UPDATE audit_events SET chain_seq = seq")
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.execute("CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute("SELECT setval('audit_events_seq_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events), false)")
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("UPDATE audit_events SET chain_seq = seq")
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    op.create_index("ix_audit_events_chain", "audit_events", ["chain", "chain_seq"], unique=True)
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": chain, "seq": 0, "hash": GENESIS} for chain in range(2, CHAINS + 1)],
    )


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE chain > 1")).scalar_one():
        raise RuntimeError("the audit log has entries in chains after the first; one chain cannot hold them")
    op.execute(f"DELETE FROM audit_head WHERE id > 1 AND seq = 0 AND hash = '{GENESIS}'")
    op.drop_index("ix_audit_events_chain", table_name="audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_events_seq_seq")
    op.drop_column("audit_events", "chain_seq")
    op.drop_column("audit_events", "chain")
