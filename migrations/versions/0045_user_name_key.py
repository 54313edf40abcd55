"""accounts: each person's name folded (no accents, no case), which lists sort by and searches match

Lists of people sorted by ``users.display_name`` in the database's order: bytes on SQLite
(and on a PostgreSQL database created with the C collation), so "Émilie" came after "Zoé" and
"Léa" after "Lucas", and a search for "helene" did not find "Hélène". ``users.name_key`` holds
the name folded as ``lms.core.database.folded`` does (Unicode NFKD, combining marks dropped,
case folded, œ and æ written oe and ae; copied below: a migration must not change when the app's code does), which the
model keeps in step with the name. This fills it for everyone, a batch at a time.

Revision ID: 0045_user_name_key
Revises: 0044_hashed_index_keys
Create Date: 2026-12-07

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0045_user_name_key'
down_revision = '0044_hashed_index_keys'
branch_labels = None
depends_on = None

_BATCH = 5_000
_LIGATURES = str.maketrans({'œ': 'oe', 'æ': 'ae'})


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize('NFKD', text)
    plain = ''.join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(_LIGATURES)[:200]


def upgrade():
    op.add_column('users', sa.Column('name_key', sa.String(length=200), server_default='',
                                     nullable=False))
    bind = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer()),
                     sa.column('display_name', sa.String()),
                     sa.column('name_key', sa.String()))
    update = (sa.update(users).where(users.c.id == sa.bindparam('user_id'))
              .values(name_key=sa.bindparam('key')))
    last = 0
    while True:
        rows = bind.execute(sa.select(users.c.id, users.c.display_name)
                            .where(users.c.id > last).order_by(users.c.id)
                            .limit(_BATCH)).all()
        if not rows:
            break
        bind.execute(update, [{'user_id': id_, 'key': _folded(name or '')}
                              for id_, name in rows])
        last = rows[-1][0]


def downgrade():
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35 and later): rebuilding ``users`` as
    # batch mode does might delete, through the foreign keys, what refers to it.
    op.drop_column('users', 'name_key')
