"""accounts: optional TOTP second factor, organizations requiring it, known-device throttling

Revision ID: 0022_second_factor
Revises: 0020_hardening
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_second_factor'
down_revision = '0021_retention'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_second_factors',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_user_second_factors_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_second_factors')),
    )
    op.create_table(
        'user_recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_user_recovery_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_recovery_codes')),
    )
    with op.batch_alter_table('user_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_recovery_codes_user_id'), ['user_id'],
                              unique=False)
    # NOT NULL columns on existing rows: added with a server default.
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_second_factor', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16),
                                      server_default='password', nullable=False))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_login_failures_device_at', ['device', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_device_at')
        batch_op.drop_column('device')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('method')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('require_second_factor')
    with op.batch_alter_table('user_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_recovery_codes_user_id'))
    op.drop_table('user_recovery_codes')
    op.drop_table('user_second_factors')
