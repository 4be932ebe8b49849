"""Transcript search (SQLite FTS5 trigram / PostgreSQL pg_trgm) and stored supervisor alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00

``call_search`` holds each reported call's transcript text, filled here from the stored
reports and kept in step by ``Store.save_report`` and ``Store.delete_call``. SQLite: an FTS5
table with the ``trigram`` tokenizer (substring search that works for Chinese, which has no
spaces between words). PostgreSQL: a plain table with a ``pg_trgm`` GIN index on the text; where
the extension cannot be created (no rights, not installed) the table has no index and search
scans it with ``ILIKE`` (same answers, slower; a warning is logged).
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

logger = logging.getLogger("calmline.migrations")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE call_search USING fts5(call_id UNINDEXED, body, "
            "tokenize = 'trigram')"
        )
    else:
        op.create_table(
            "call_search",
            sa.Column("call_id", sa.String(length=128), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("call_id"),
        )
        if _pg_trgm(bind):
            op.execute(
                "CREATE INDEX ix_call_search_body_trgm ON call_search USING gin (body gin_trgm_ops)"
            )
    _fill_search(bind)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("quiet", sa.String(length=32), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=32), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_at"), ["at"], unique=False)


def _pg_trgm(bind) -> bool:
    """Create ``pg_trgm`` (a trusted extension since PostgreSQL 13: the database owner may) in
    a savepoint, so a refusal leaves the migration's transaction usable."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return True
    except DBAPIError as e:
        logger.warning(
            "pg_trgm is not available (%s): transcript search scans with ILIKE, unindexed",
            str(e).splitlines()[0],
        )
        return False


def _fill_search(bind) -> None:
    """Index the transcripts of the reports stored before this revision."""
    rows = bind.execute(sa.text("SELECT call_id, body FROM reports")).fetchall()
    insert = sa.text("INSERT INTO call_search (call_id, body) VALUES (:c, :b)")
    for call_id, body in rows:
        try:
            turns = json.loads(body).get("turns") or ()
            text = "\n".join(str(t.get("text") or "") for t in turns)
        except (ValueError, TypeError, AttributeError):
            logger.warning("report of call %s is not readable JSON: not searchable", call_id)
            continue
        bind.execute(insert, {"c": call_id, "b": text})


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_agent_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_call_id"))
    op.drop_table("alerts")
    op.execute("DROP TABLE call_search")
