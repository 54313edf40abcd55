r"""The keys of the statement filter index (``xapi_statement_index``): one signed 64-bit
integer per (kind, key), a hash, instead of the key's text.

An index row is then (organization, key hash, statement key): 8 bytes of key in place of the
text of an IRI or an agent key (tens of bytes), so each row costs less to insert and the
index, which every batch writes into, stays half the size (docs/performance.md, "Hashed index
keys"). The kind is folded into the hash (``kind + "\x1f" + key``): a verb and an activity
with the same IRI are different keys.

No table maps the hashes back to their keys: there is nothing to keep coherent between
processes, nor to clean up when a person is erased or a month retained. A reader hashes the
key it looks for; a writer hashes the keys it stores (:func:`index_key`, both sides).

Collisions: two keys of one organization with the same hash would make a filter on one also
find the statements of the other. With 64 bits, the probability that any two of ``n`` keys
collide is about n² / 2⁶⁵: for 10⁷ distinct keys in one organization (agents, activities,
verbs, registrations over the store's whole life), about 3 · 10⁻⁶. Rows are per organization:
keys of different organizations never meet. Migration 0044 holds a copy of this function:
change neither without the other (and a migration that rehashes every row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

# A batch of 100 statements names about 400 distinct keys; the bench's and a busy
# instance's working set of learners, activities and verbs fits many times over.
_CACHE = 65536
# (kind, key) → hash, the one cache of both functions below: the rows are already tuples, so a
# lookup is one dict access (functools.lru_cache makes a key of its arguments at each call:
# 0.6 µs against 0.1).
_HASHES: dict[tuple[str, str], int] = {}


def index_keys(rows: Collection[tuple[str, str]]) -> set[int]:
    """The hashes (:func:`index_key`) of index rows (kind, key): what ``record()`` stores."""
    try:  # the usual case: every key seen before (one lookup each, the loop in C)
        return set(map(_HASHES.__getitem__, rows))
    except KeyError:
        _remember(rows)
        return set(map(_HASHES.__getitem__, rows))


def index_key(kind: str, key: str) -> int:
    r"""The signed 64-bit hash of an index row's kind and key (see the module docstring):
    the first 8 bytes of BLAKE2b of ``kind + "\x1f" + key`` (UTF-8), big-endian, signed.
    """
    row = (kind, key)
    try:
        return _HASHES[row]
    except KeyError:
        _remember((row,))
        return _HASHES[row]


def _remember(rows: Collection[tuple[str, str]]) -> None:
    """Hash the rows not in the cache yet; the cache is emptied first when they would not
    fit (never during a call, so every row of ``rows`` is in it afterwards).
    """
    if len(_HASHES) + len(rows) > _CACHE:
        _HASHES.clear()
    for row in rows:
        if row not in _HASHES:
            kind, key = row
            _HASHES[row] = int.from_bytes(hashlib.blake2b(
                (kind + "\x1f" + key).encode(), digest_size=8).digest(), "big", signed=True)
