"""credit view: the credit lines the audit judged, and which run and fingerprint they are of

``credit`` and the report judged every customer's credit lines again on each call (38 s at
20,000 customers); the audit evaluates exactly those lines, so it keeps them here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from agent.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "credit_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", _text(64), nullable=False),
        sa.Column("customer_tenant_id", _text(64), nullable=False),
        sa.Column("customer_name", sa.Text(), nullable=False),
        sa.Column("customer_key", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("solution_area", _text(48), nullable=False),
        sa.Column("metric", _text(48), nullable=False),
        sa.Column("track", _text(24), nullable=False),
        sa.Column("rule_id", _text(120), nullable=False),
        sa.Column("counts", sa.SmallInteger(), nullable=False),
        sa.Column("reason", _text(48), nullable=False),
        sa.Column("holder_kind", _text(16), nullable=True),
        sa.Column("whose", _text(8), nullable=True),
        sa.Column("holder", sa.Text(), nullable=True),
        sa.Column("holder_detail", sa.Text(), nullable=True),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("stake_unit", _text(8), nullable=False),
        sa.Column("unit_rank", sa.SmallInteger(), nullable=False),
        sa.Column("stake_value", sa.Float(), nullable=True),
        sa.Column("stake_currency", _text(8), nullable=True),
        sa.Column("stake_basis", sa.Text(), nullable=False),
        sa.Column("remedy_kind", _text(16), nullable=True),
        sa.Column("remedy_partner_id", _text(32), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=True),
        sa.Column("unchecked", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("shortfall", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credit_line", schema=None) as batch_op:
        batch_op.create_index("ix_credit_line_customer", ["customer_tenant_id"], unique=False)
        batch_op.create_index(
            "ix_credit_line_verdicts",
            [
                "run_id",
                "counts",
                "customer_tenant_id",
                "unit_rank",
                "stake_currency",
                "stake_value",
                "customer_key",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_credit_line_reasons",
            [
                "run_id",
                "counts",
                "reason",
                "solution_area",
                "metric",
                "customer_tenant_id",
                "unit_rank",
                "stake_currency",
                "stake_value",
            ],
            unique=False,
        )
    op.create_table(
        "credit_view",
        sa.Column("run_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", _text(64), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )


def downgrade() -> None:
    op.drop_table("credit_view")
    with op.batch_alter_table("credit_line", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_line_reasons")
        batch_op.drop_index("ix_credit_line_verdicts")
        batch_op.drop_index("ix_credit_line_customer")
    op.drop_table("credit_line")
