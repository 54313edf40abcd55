"""Named signals accounts sends, for higher modules to connect to in their ``init_app``."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the :class:`~lms.accounts.models.User` whose password was just checked and found
#: right. A receiver returns a message to refuse the password login (the organization requires
#: single sign-on), or None to allow it.
password_login = _signals.signal("password-login")
