"""accounts: champions on memberships and the nudges they send; courses: calls for volunteers

Revision ID: 0028_champions
Revises: 0027_impact
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028_champions'
down_revision = '0027_impact'
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL column on existing rows: added with a server default.
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('champion', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table(
        'nudges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('as_role', sa.String(length=16), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_nudges_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['memberships.id'],
                                name=op.f('fk_nudges_recipient_id_memberships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sender_id'], ['memberships.id'],
                                name=op.f('fk_nudges_sender_id_memberships'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudges_organization_id'), ['organization_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_nudges_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index('ix_nudges_recipient_sent_at', ['recipient_id', 'sent_at'],
                              unique=False)
    op.create_table(
        'volunteer_calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('criteria', sa.Text(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'],
                                name=op.f('fk_volunteer_calls_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['memberships.id'],
                                name=op.f('fk_volunteer_calls_created_by_id_memberships'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_volunteer_calls_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_calls')),
    )
    with op.batch_alter_table('volunteer_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteer_calls_cohort_id'), ['cohort_id'],
                              unique=True)
        batch_op.create_index(batch_op.f('ix_volunteer_calls_organization_id'),
                              ['organization_id'], unique=False)
    op.create_table(
        'volunteers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['call_id'], ['volunteer_calls.id'],
                                name=op.f('fk_volunteers_call_id_volunteer_calls'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['memberships.id'],
                                name=op.f('fk_volunteers_decided_by_id_memberships'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'],
                                name=op.f('fk_volunteers_membership_id_memberships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_volunteers_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers')),
        sa.UniqueConstraint('call_id', 'membership_id',
                            name=op.f('uq_volunteers_call_id_membership_id')),
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_volunteers_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_volunteers_membership_id'), ['membership_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_volunteers_organization_id'), ['organization_id'],
                              unique=False)


def downgrade():
    op.drop_table('volunteers')
    op.drop_table('volunteer_calls')
    op.drop_table('nudges')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('champion')
