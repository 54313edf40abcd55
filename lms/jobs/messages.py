"""Job messages, states and result names in the language of the person watching.

A job runs in a worker with no request, so its progress message cannot be translated when it
is written. Handlers pass a lazy string (``_l(...)`` or ``lazy_ngettext(...)``); it is stored
untranslated (its msgid and parameters as JSON) and translated each time it is shown, on the
job page, the jobs list, the status poll and the API. Plain strings are stored and shown as
they are.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import LazyString, get_domain, gettext, ngettext
from flask_babel import lazy_gettext as _l

from lms.core.formatting import number

# Stored messages that start with this are translated when shown.
PREFIX = "i18n:"

STATE_LABELS = {"queued": _l("Queued"), "running": _l("Running"),
                "succeeded": _l("Succeeded"), "failed": _l("Failed"),
                "cancelled": _l("Cancelled")}

# Counts a job's result may hold, by key (others are shown by their key).
RESULT_LABELS = {"certificates": _l("Certificates"), "read": _l("Rows read"),
                 "created": _l("Created"), "updated": _l("Updated"),
                 "unchanged": _l("Unchanged"), "invalid": _l("Invalid rows"),
                 "skipped": _l("Skipped"), "done": _l("Steps done"), "runs": _l("Runs"),
                 "members": _l("Members"), "invited": _l("Invited"),
                 "errors": _l("Errors")}


def encode(message: Any) -> str | None:
    """The form in which ``message`` is stored: a lazy string as its msgid and parameters."""
    if message is None:
        return None
    if isinstance(message, LazyString) and message._args:  # noqa: SLF001
        func, args, params = message._func, message._args, message._kwargs  # noqa: SLF001
        if all(isinstance(v, (str, int, float)) for v in params.values()):
            data: dict[str, Any] = {"msgid": args[0], "params": params}
            if func is ngettext and len(args) >= 3:
                data["plural"], data["n"] = args[1], args[2]
            stored = PREFIX + json.dumps(data, ensure_ascii=False)
            if len(stored) <= 500:
                return stored
    return str(message)[:500]


def text(stored: str | None) -> str:
    """A stored message in the reader's language (numbers formatted the reader's way)."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        data = json.loads(stored[len(PREFIX):])
        params = {key: number(value) if isinstance(value, (int, float))
                  and not isinstance(value, bool) else value
                  for key, value in data.get("params", {}).items()}
        if "plural" in data:
            count = int(data["n"])
            # flask_babel's ngettext fills %(num)s with the bare count; formatted here instead.
            params.setdefault("num", number(count))
            template = get_domain().get_translations().ngettext(data["msgid"], data["plural"],
                                                                count)
            return str(template % params)
        return str(gettext(data["msgid"], **params))
    except (ValueError, KeyError, TypeError):
        return stored


def state_label(state: Any) -> str:
    """The translated name of a job state ("succeeded" → "Terminé")."""
    value = getattr(state, "value", state)
    return str(STATE_LABELS.get(value, value))


def result_label(key: str) -> str:
    """The translated name of a count in a job's result."""
    return str(RESULT_LABELS.get(key, key))
