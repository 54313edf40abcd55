"""What the charter tells higher packages: a member accepted the version in force (so
certificates held back by the gate can now be issued).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the ``CharterAcceptance`` (as sender) after it is flushed, in the same
#: transaction: receivers only flush.
charter_accepted = _signals.signal("charter-accepted")
