"""Projection handlers: how domain packages react to recorded statements.

Domain packages (courses, assessments, advocacy…) register handlers at app creation::

    from lms.xapi import projections

    def on_completed(statement: dict, *, organization_id: int, voided: bool) -> None:
        ...

    projections.register(on_completed, verbs={"http://adlnet.gov/expapi/verbs/completed"})

The contract:

- ``handler(statement, *, organization_id, voided)`` receives the **stored** statement (a dict
  with ``id``, ``stored``, ``authority``, ``timestamp`` and ``version`` filled in), the
  organization it belongs to, and ``voided``: ``False`` when the statement has just been
  recorded, ``True`` when a voiding statement has just voided it (the handler then undoes or
  re-derives what the statement fed). The voiding statement itself is only passed to handlers
  registered for the ``voided`` verb.
- Handlers run inside ``record()``, in the caller's transaction, after the statements are
  flushed and in recording order. They may read and write through the session and must only
  flush; raising an exception aborts the whole ``record()`` call (nothing is stored).
- ``verbs`` and ``activity_types`` narrow what a handler receives (verb IRIs; activity type
  IRIs of the statement's object, ``object.definition.type``). ``None`` means any.
- A statement stored when its voiding statement was already known is stored voided and is not
  passed to handlers at all.
- Registration is explicit and idempotent: registering the same function twice keeps one entry.
- While ``record()`` dispatches a batch, :func:`batch_statements` gives a handler the whole
  batch and :func:`batch_memo` a dict that lives as long as the batch: a handler that reads
  something per statement reads it once for the batch instead (one query, not one per
  statement). Outside a dispatch both are None.
- :func:`after_batch` runs a function once every handler has seen the whole batch (still in
  ``record()`` and the caller's transaction): a handler that derives statements from the
  batch collects them in the memo and records them together there, one ``record()`` call
  for the batch instead of one per statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol


class Handler(Protocol):
    """A projection handler (see the module docstring)."""

    def __call__(self, statement: dict[str, Any], *, organization_id: int,
                 voided: bool) -> None:
        """Project one statement (or its voiding) into the handler's tables."""


@dataclass(frozen=True)
class Registration:
    """A handler and the statements it wants."""

    handler: Callable[..., None]
    verbs: frozenset[str] | None
    activity_types: frozenset[str] | None

    def wants(self, statement: dict[str, Any]) -> bool:
        """Whether the statement matches this registration's verbs and activity types."""
        if self.verbs is not None and statement["verb"]["id"] not in self.verbs:
            return False
        if self.activity_types is not None:
            obj = statement["object"]
            kind = (obj.get("definition") or {}).get("type") \
                if obj.get("objectType", "Activity") == "Activity" else None
            if kind not in self.activity_types:
                return False
        return True


_REGISTRY: list[Registration] = []


def register(handler: Handler | Callable[..., None], *, verbs: Iterable[str] | None = None,
             activity_types: Iterable[str] | None = None) -> None:
    """Register ``handler`` for statements with one of ``verbs`` / ``activity_types``.

    :param handler: ``handler(statement, *, organization_id, voided)``.
    :param verbs: verb IRIs; ``None`` for every verb.
    :param activity_types: activity type IRIs of the object; ``None`` for any object.
    """
    entry = Registration(handler, frozenset(verbs) if verbs is not None else None,
                         frozenset(activity_types) if activity_types is not None else None)
    unregister(handler)
    _REGISTRY.append(entry)


def unregister(handler: Callable[..., None]) -> None:
    """Remove ``handler`` (used by tests; a no-op when it is not registered)."""
    _REGISTRY[:] = [entry for entry in _REGISTRY if entry.handler is not handler]


def has_handlers() -> bool:
    """Whether any handler is registered (lets ``record()`` skip decoding work)."""
    return bool(_REGISTRY)


def wanted(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Those of ``statements`` whose verb some handler may want, in order: an import's
    thousands of statements of verbs no handler registered are not dispatched one by one
    (:func:`dispatch` still checks each handler's verbs and activity types).
    """
    verbs: set[str] = set()
    for entry in _REGISTRY:
        if entry.verbs is None:
            return statements
        verbs |= entry.verbs
    return [st for st in statements if st["verb"]["id"] in verbs]


def dispatch(statement: dict[str, Any], *, organization_id: int, voided: bool = False) -> None:
    """Call every handler that wants ``statement``, in registration order."""
    for entry in list(_REGISTRY):
        if entry.wants(statement):
            entry.handler(statement, organization_id=organization_id, voided=voided)


@dataclass
class _Batch:
    statements: list[dict[str, Any]]
    memo: dict[Any, Any] = field(default_factory=dict)
    after: list[Callable[[], None]] = field(default_factory=list)


# The batch being dispatched (a context variable: each request and nested record() has its own).
_BATCH: ContextVar[_Batch | None] = ContextVar("relais_projection_batch", default=None)


@contextmanager
def batch(statements: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Dispatch ``statements`` as one batch (see :func:`batch_memo`); ``record()`` uses it."""
    current = _Batch(list(statements))
    token = _BATCH.set(current)
    try:
        yield
    finally:
        _BATCH.reset(token)
    # Outside the batch: what they do (record derived statements) is a batch of its own.
    for fn in current.after:
        fn()


def batch_statements() -> list[dict[str, Any]] | None:
    """The statements of the batch being dispatched, or None outside a dispatch."""
    current = _BATCH.get()
    return current.statements if current is not None else None


def batch_memo() -> dict[Any, Any] | None:
    """A dict kept for the batch being dispatched (handlers key it by their own name), or
    None outside a dispatch.
    """
    current = _BATCH.get()
    return current.memo if current is not None else None


def after_batch(fn: Callable[[], None]) -> None:
    """Run ``fn`` once the batch being dispatched has been seen by every handler (see the
    module docstring); outside a dispatch, run it now.
    """
    current = _BATCH.get()
    if current is None:
        fn()
    else:
        current.after.append(fn)
