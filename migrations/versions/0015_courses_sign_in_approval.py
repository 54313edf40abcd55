"""courses: session sign-in codes, managers and registration approval

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_memberships_manager_id'), ['manager_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_memberships_manager_id_memberships'),
                                    'memberships', ['manager_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_required', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('session_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decline_reason', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_session_registrations_requested_by_id_users'), 'users',
            ['requested_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(
            batch_op.f('fk_session_registrations_decided_by_id_users'), 'users',
            ['decided_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=8), nullable=False,
                                      server_default='sheet'))


def downgrade():
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_column('source')
    # Registrations still waiting for (or refused) approval have no meaning without approval.
    op.execute("DELETE FROM session_registrations "
               "WHERE status IN ('pending_approval', 'declined')")
    with op.batch_alter_table('session_registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_session_registrations_decided_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_session_registrations_requested_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('decline_reason')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('requested_by_id')
    with op.batch_alter_table('programs', schema=None) as batch_op:
        batch_op.drop_column('approval_required')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_memberships_manager_id_memberships'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_memberships_manager_id'))
        batch_op.drop_column('manager_id')
