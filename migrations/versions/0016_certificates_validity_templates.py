"""certificates: validity, recertification, templates per program

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'certificate_settings',
        sa.Column('program_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('template_key', sa.String(length=64), server_default='default',
                  nullable=False),
        sa.Column('accent_color', sa.String(length=7), nullable=True),
        sa.Column('logo', sa.Text(), nullable=True),
        sa.Column('validity_months', sa.Integer(), nullable=True),
        sa.Column('renewal_lead_days', sa.Integer(), server_default='30', nullable=False),
        sa.Column('refresher_cohort_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_certificate_settings_organization_id_organizations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['program_id'], ['programs.id'],
                                name=op.f('fk_certificate_settings_program_id_programs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['refresher_cohort_id'], ['cohorts.id'],
                                name=op.f('fk_certificate_settings_refresher_cohort_id_cohorts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('program_id', name=op.f('pk_certificate_settings')),
    )
    with op.batch_alter_table('certificate_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_settings_organization_id'),
                              ['organization_id'], unique=False)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('renews_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refresher_enrollment_id', sa.String(length=36),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_certificates_valid_until'), ['valid_until'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_certificates_renews_id_certificates'),
                                    'certificates', ['renews_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(
            batch_op.f('fk_certificates_refresher_enrollment_id_enrollments'), 'enrollments',
            ['refresher_enrollment_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_certificates_refresher_enrollment_id_enrollments'),
            type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_certificates_renews_id_certificates'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_certificates_valid_until'))
        batch_op.drop_column('refresher_enrollment_id')
        batch_op.drop_column('renews_id')
        batch_op.drop_column('valid_until')
    with op.batch_alter_table('certificate_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_settings_organization_id'))
    op.drop_table('certificate_settings')
