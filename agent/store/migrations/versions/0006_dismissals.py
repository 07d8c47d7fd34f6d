"""dismissals: the condition a dismissal accepted, and who did what to a finding

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("finding") as batch:
        batch.add_column(
            sa.Column(
                "accepted_condition", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    with op.batch_alter_table("finding_event") as batch:
        batch.add_column(
            sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch.add_column(
            sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("finding_event") as batch:
        batch.drop_column("action")
        batch.drop_column("actor")
    with op.batch_alter_table("finding") as batch:
        batch.drop_column("accepted_condition")
