"""Job leases, idempotent reports and a durable webhook outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:40:00

``jobs`` gain a lease: ``worker`` (already there) names the owner process and thread,
``lease_expires_at`` says until when it holds the job, ``heartbeat_at`` when it last said it is
alive. A running job is taken over only once its lease has expired; jobs left running by an
earlier version have no lease and are taken over at once (what that version did at start-up).

``reports.job_id`` names the job that wrote the report, so a retried job sees its work done.

``webhook_outbox`` holds the webhook events still to deliver, written in the transaction of
the report that raised them; ``dedupe_key`` is unique, so the same event is never queued twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_jobs_lease_expires_at"), ["lease_expires_at"], unique=False
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.String(length=64), nullable=True))

    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_webhook_outbox_dedupe_key"),
    )
    with op.batch_alter_table("webhook_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_outbox_state_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_outbox_state_due")
    op.drop_table("webhook_outbox")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("job_id")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_lease_expires_at"))
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("lease_expires_at")
