"""courses: programs, modules, cohorts, enrolments, sessions, attendance

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
