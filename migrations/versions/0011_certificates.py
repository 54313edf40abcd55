"""certificates: issued certificates and templates

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('enrollment_id', sa.String(length=36), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('program_id', sa.Integer(), nullable=True),
        sa.Column('cohort_id', sa.Integer(), nullable=True),
        sa.Column('template_key', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('snapshot', sa.JSON(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('revocation_reason', sa.Text(), nullable=True),
        sa.Column('replaces_id', sa.Integer(), nullable=True),
        sa.Column('pdf_key', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'],
                                name=op.f('fk_certificates_cohort_id_cohorts'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'],
                                name=op.f('fk_certificates_enrollment_id_enrollments'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'],
                                name=op.f('fk_certificates_issued_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_certificates_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_certificates_program_id_programs'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['replaces_id'], ['certificates.id'],
                                name=op.f('fk_certificates_replaces_id_certificates'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'],
                                name=op.f('fk_certificates_revoked_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_certificates_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
        sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_organization_id_issued_at',
                              ['organization_id', 'issued_at'], unique=False)
        for column in ('cohort_id', 'enrollment_id', 'organization_id', 'program_id',
                       'user_id'):
            batch_op.create_index(batch_op.f(f'ix_certificates_{column}'), [column],
                                  unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        for column in ('user_id', 'program_id', 'organization_id', 'enrollment_id',
                       'cohort_id'):
            batch_op.drop_index(batch_op.f(f'ix_certificates_{column}'))
        batch_op.drop_index('ix_certificates_organization_id_issued_at')
    op.drop_table('certificates')
