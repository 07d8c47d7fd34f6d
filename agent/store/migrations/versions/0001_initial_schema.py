"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from agent.store.types import UTCDateTime


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('customer_tenant_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('customer_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('link_kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('remediation', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('value_at_stake', sa.Float(), nullable=False),
    sa.Column('first_seen', UTCDateTime(), nullable=False),
    sa.Column('last_seen', UTCDateTime(), nullable=False),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('clears', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('until', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint')
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index('ix_finding_customer', ['customer_tenant_id'], unique=False)
        batch_op.create_index('ix_finding_rule_status', ['rule', 'status'], unique=False)

    op.create_table('finding_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('finding_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_event_fingerprint'), ['fingerprint'], unique=False)

    op.create_table('link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_key', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('customer_tenant_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('workload', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('identity', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('first_seen_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_run_id', sa.Integer(), nullable=False),
    sa.Column('missing_runs', sa.Integer(), nullable=False),
    sa.Column('last_counted_run_id', sa.Integer(), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_key')
    )
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.create_index('ix_link_customer', ['customer_tenant_id'], unique=False)

    op.create_table('sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('stats', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('audited_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_run_status'), ['status'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('customer_tenant_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('payload_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('first_seen_at', UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', UTCDateTime(), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('removed_at', UTCDateTime(), nullable=True),
    sa.Column('removed_run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['first_run_id'], ['sync_run.id'], ),
    sa.ForeignKeyConstraint(['last_run_id'], ['sync_run.id'], ),
    sa.ForeignKeyConstraint(['removed_run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'scope', 'kind', 'key', name='uq_observation_identity')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_customer_kind', ['customer_tenant_id', 'kind'], unique=False)

    op.create_table('source_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('customer_tenant_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('error_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'source', 'scope', name='uq_source_status_run_scope')
    )
    with op.batch_alter_table('source_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_status_customer_tenant_id'), ['customer_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_status_run_id'), ['run_id'], unique=False)
        batch_op.create_index('ix_source_status_scope', ['source', 'scope', 'run_id'], unique=False)

    op.create_table('observation_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('change', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observation_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_event_observation_id'), ['observation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_event_observation_id'))

    op.drop_table('observation_event')
    with op.batch_alter_table('source_status', schema=None) as batch_op:
        batch_op.drop_index('ix_source_status_scope')
        batch_op.drop_index(batch_op.f('ix_source_status_run_id'))
        batch_op.drop_index(batch_op.f('ix_source_status_customer_tenant_id'))

    op.drop_table('source_status')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_customer_kind')

    op.drop_table('observation')
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_run_status'))

    op.drop_table('sync_run')
    with op.batch_alter_table('link', schema=None) as batch_op:
        batch_op.drop_index('ix_link_customer')

    op.drop_table('link')
    with op.batch_alter_table('finding_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_event_fingerprint'))

    op.drop_table('finding_event')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index('ix_finding_rule_status')
        batch_op.drop_index('ix_finding_customer')

    op.drop_table('finding')
