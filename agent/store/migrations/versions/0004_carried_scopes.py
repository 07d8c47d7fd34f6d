"""carried scopes: a scope the change feed shows unchanged names the read it stands on

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_status") as batch:
        batch.add_column(sa.Column("as_of_run_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_status") as batch:
        batch.drop_column("as_of_run_id")
