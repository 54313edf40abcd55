"""courses: a module progress row keeps what it was derived from (the module's shape, the
learner's last statement read)

The progress projection re-derived a learner's module from all of the learner's statements at
every batch that named the module (an uploaded package sends dozens a session). A row now
keeps ``basis`` (a digest of the module's shape: rule, lessons, quizzes, sessions and the
activities standing for it) and ``seen`` (the newest statement of the learner it was derived
with): a statement that cannot change the module's state, arriving when nothing else of the
learner's came since ``seen`` and the shape is the same, keeps the row's state without
reading the learner's statements again (see lms.courses.cohorts.progress). Rows without them
(all, at first) are re-derived as before.

Revision ID: 0038_projpkg
Revises: 0037_dashboards
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0038_projpkg'
down_revision = '0037_dashboards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('module_progress') as batch:
        batch.add_column(sa.Column('basis', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('seen', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('module_progress') as batch:
        batch.drop_column('seen')
        batch.drop_column('basis')
