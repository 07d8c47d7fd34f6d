"""credit summary: the summary of the whole kept credit view, worked out once by the audit

``credit`` on a large estate prints a summary the database sums from the kept lines: six
aggregations over hundreds of thousands of lines on every call. The audit that keeps the view
sums it once and keeps the result beside the view's mark.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_view", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_view", schema=None) as batch_op:
        batch_op.drop_column("summary")
