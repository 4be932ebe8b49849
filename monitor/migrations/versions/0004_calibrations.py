"""Calibration sessions (several evaluators score one call independently) and agents' teams

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 15:30:00
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
        "calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rubric", sa.String(length=128), nullable=True),
        sa.Column("rubric_version", sa.String(length=32), nullable=True),
        sa.Column("machine_overall", sa.Float(), nullable=True),
        sa.Column("scorecard", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibrations_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calibrations_closed_at"), ["closed_at"], unique=False)

    op.create_table(
        "calibration_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("calibration_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("human_overall", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["calibration_id"], ["calibrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("calibration_id", "key_id", name="uq_calibration_answers_key"),
    )
    with op.batch_alter_table("calibration_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calibration_answers_calibration_id"), ["calibration_id"], unique=False
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_agents_team"), ["team"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_team"))
        batch_op.drop_column("team")
    with op.batch_alter_table("calibration_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibration_answers_calibration_id"))
    op.drop_table("calibration_answers")
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibrations_closed_at"))
        batch_op.drop_index(batch_op.f("ix_calibrations_call_id"))
    op.drop_table("calibrations")
