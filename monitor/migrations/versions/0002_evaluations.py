"""QA evaluations (versioned, beside the machine's scorecard) and agents' disputes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("evaluator_key_id", sa.String(length=32), nullable=False),
        sa.Column("evaluator_role", sa.String(length=16), nullable=False),
        sa.Column("evaluator_name", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("rubric", sa.String(length=128), nullable=True),
        sa.Column("rubric_version", sa.String(length=32), nullable=True),
        sa.Column("machine_overall", sa.Float(), nullable=True),
        sa.Column("human_overall", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "version", name="uq_evaluations_call_version"),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evaluations_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_disputes_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_disputes_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_disputes_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_status"))
        batch_op.drop_index(batch_op.f("ix_disputes_evaluation_id"))
        batch_op.drop_index(batch_op.f("ix_disputes_call_id"))
        batch_op.drop_index(batch_op.f("ix_disputes_agent_id"))
    op.drop_table("disputes")
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_published_at"))
        batch_op.drop_index(batch_op.f("ix_evaluations_call_id"))
    op.drop_table("evaluations")
