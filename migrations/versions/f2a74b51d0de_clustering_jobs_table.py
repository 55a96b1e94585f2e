"""clustering jobs table instead of the round's queue columns

The clustering runner's request flag, lease and last run move from ``rounds`` to
``clustering_jobs`` (one row per round, copied over); votes no longer mark anything, the
runner compares a round's vote events with its newest snapshot, hence the index on
``vote_events (round_id, id)``, which also serves every per-round read of the events.

Revision ID: f2a74b51d0de
Revises: a3e1f7c20b94, f3e551f52767
Create Date: 2026-11-29 15:51:52.330300

"""
from alembic import op
import sqlalchemy as sa

import deliberation.models._common


# revision identifiers, used by Alembic.
revision = 'f2a74b51d0de'
down_revision = ('a3e1f7c20b94', 'f3e551f52767')  # also joins main's two heads
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clustering_jobs',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_clustering_jobs_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_clustering_jobs'))
    )
    op.execute(
        "INSERT INTO clustering_jobs (round_id, requested_at, lease_owner, lease_until,"
        " last_run_at) SELECT id, snapshot_requested_at, cluster_lease_owner,"
        " cluster_lease_until, cluster_last_run_at FROM rounds"
    )
    # Plain ALTER TABLE (SQLite >= 3.35 and PostgreSQL), not batch mode: rebuilding
    # ``rounds`` on SQLite would drop the old table, and with foreign keys on, that
    # deletes every row that cascades from a round (votes, snapshots, jobs...).
    for column in ('cluster_lease_until', 'cluster_last_run_at', 'cluster_lease_owner',
                   'snapshot_requested_at'):
        op.execute(f"ALTER TABLE rounds DROP COLUMN {column}")

    op.drop_index('ix_vote_events_round_created', table_name='vote_events')
    op.create_index('ix_vote_events_round_id', 'vote_events', ['round_id', 'id'], unique=False)



def downgrade():
    op.drop_index('ix_vote_events_round_id', table_name='vote_events')
    op.create_index('ix_vote_events_round_created', 'vote_events', ['round_id', 'created_at'],
                    unique=False)

    op.add_column('rounds', sa.Column('snapshot_requested_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True))
    op.add_column('rounds', sa.Column('cluster_lease_owner', sa.String(length=128), nullable=True))
    op.add_column('rounds', sa.Column('cluster_last_run_at', deliberation.models._common.UTCDateTime(timezone=True), nullable=True))
    op.add_column('rounds', sa.Column('cluster_lease_until', deliberation.models._common.UTCDateTime(timezone=True), nullable=True))

    for round_column, job_column in (("snapshot_requested_at", "requested_at"),
                                     ("cluster_lease_owner", "lease_owner"),
                                     ("cluster_lease_until", "lease_until"),
                                     ("cluster_last_run_at", "last_run_at")):
        op.execute(f"UPDATE rounds SET {round_column} = (SELECT {job_column} FROM"
                   " clustering_jobs WHERE clustering_jobs.round_id = rounds.id)")
    op.drop_table('clustering_jobs')
