"""votes keyed by (round_id, participant_id, proposal_id), without a second round index

One key serves both ways votes are read (a participant's votes, every such query naming
the round too, and a round's votes), where the pair key and a covering round index each
cost a bulk load an index entry per row. The references to the participant and the
proposal include the round (unique (round_id, id) indexes on both parents, which also
take the place of the participants' round index), so that the cascades of their
deletion use the key. The key holds the value too, so a round's votes are read from it
alone: on PostgreSQL as an included column, on SQLite because the rebuilt table is
WITHOUT ROWID (the key's B-tree holds the rows). Existing votes are kept.

Revision ID: 320a6d3db7ff
Revises: fa59ff115fb3
Create Date: 2026-11-30 11:23:54.495432

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '320a6d3db7ff'
down_revision = 'fa59ff115fb3'
branch_labels = None
depends_on = None


def upgrade():
    # Indexes, not constraints: SQLite adds them without rebuilding the two tables (a
    # rebuild drops the old table, and with foreign keys on its implicit DELETE would
    # cascade into the rows that refer to it).
    op.create_index('ix_participants_round_id_id', 'participants', ['round_id', 'id'],
                    unique=True)
    op.drop_index('ix_participants_round_id', table_name='participants')
    op.create_index('ix_proposals_round_id_id', 'proposals', ['round_id', 'id'], unique=True)

    postgresql = op.get_bind().dialect.name == 'postgresql'
    # Nothing refers to votes, so SQLite may rebuild it.
    with op.batch_alter_table('votes', schema=None,
                              table_kwargs={'sqlite_with_rowid': False}) as batch_op:
        batch_op.drop_index('ix_votes_round_participant')
        batch_op.drop_constraint('fk_votes_participant_id_participants', type_='foreignkey')
        batch_op.drop_constraint('fk_votes_proposal_id_proposals', type_='foreignkey')
        batch_op.drop_constraint('pk_votes', type_='primary')
        if not postgresql:
            batch_op.create_primary_key('pk_votes', ['round_id', 'participant_id',
                                                     'proposal_id'])
        batch_op.create_foreign_key('fk_votes_participant', 'participants',
                                    ['round_id', 'participant_id'], ['round_id', 'id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key('fk_votes_proposal', 'proposals',
                                    ['round_id', 'proposal_id'], ['round_id', 'id'],
                                    ondelete='CASCADE')
    if postgresql:
        # Alembic's create_primary_key takes no INCLUDE.
        op.execute('ALTER TABLE votes ADD CONSTRAINT pk_votes'
                   ' PRIMARY KEY (round_id, participant_id, proposal_id) INCLUDE (value)')


def downgrade():
    with op.batch_alter_table('votes', schema=None,
                              table_kwargs={'sqlite_with_rowid': True}) as batch_op:
        batch_op.drop_constraint('fk_votes_proposal', type_='foreignkey')
        batch_op.drop_constraint('fk_votes_participant', type_='foreignkey')
        batch_op.drop_constraint('pk_votes', type_='primary')
        batch_op.create_primary_key('pk_votes', ['participant_id', 'proposal_id'])
        batch_op.create_foreign_key('fk_votes_proposal_id_proposals', 'proposals',
                                    ['proposal_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_votes_participant_id_participants', 'participants',
                                    ['participant_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_votes_round_participant',
                              ['round_id', 'participant_id', 'proposal_id', 'value'],
                              unique=False)

    op.drop_index('ix_proposals_round_id_id', table_name='proposals')
    op.create_index('ix_participants_round_id', 'participants', ['round_id'], unique=False)
    op.drop_index('ix_participants_round_id_id', table_name='participants')
