"""Named signals advocacy sends, for other packages to connect to in their ``init_app``."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after each ingestion of events (manual, CSV, webhook, API) that created or changed
#: some, in the same transaction: the sender is the organization id, ``user_ids`` the set of
#: the learners whose events were created or changed (e.g. to verify their exercises).
events_ingested = _signals.signal("events-ingested")
