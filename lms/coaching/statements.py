"""xAPI statements of coaching: a follow-up held, an action item completed, and the coaching
module completed once its required follow-ups are held.

- held: the learner ``attended`` the follow-up (activity ``…/coaching/<id>``, a meeting), the
  coach as ``context.instructor``, its length as ``result.duration``;
- action item done: the learner ``completed`` the action item
  (``…/coaching-action/<id>``), whose parents are the follow-up and the module;
- module: the learner ``completed`` the module itself, which the progress projection of
  :mod:`lms.courses.cohorts.progress` reads as "this module is completed" (rule ``followups_held``).

Each carries the enrolment as ``registration``, the module as parent and the program as
grouping, like every statement of a learner's path. Notes never go into statements: they stay
between the learner and the coach (statements may be forwarded to an external LRS).
"""

from __future__ import annotations

from typing import Any

from lms.coaching.models import ActionItem, FollowUp
from lms.courses import statements as xs
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Module
from lms.xapi import builders as b


def _names(text: dict[str, str] | None) -> dict[str, str]:
    tags = {"en": "en-US", "fr": "fr-FR"}
    return {tags.get(k, k): v for k, v in (text or {}).items() if v}


def _context(enrollment: Enrollment, module: Module, *parents: str) -> dict[str, Any]:
    return b.context(registration=enrollment.id,
                     parent=[*parents, xs.iri("module", module.id)],
                     grouping=[xs.iri("program", module.program_id)],
                     organization=enrollment.membership.organization.slug)


def followup_held(followup: FollowUp) -> dict[str, Any]:
    """The learner attended a coaching follow-up."""
    enrollment, module = followup.enrollment, followup.module
    context = _context(enrollment, module)
    if followup.coach is not None:
        context["instructor"] = b.agent_for_user(followup.coach.user)
    minutes = followup.duration_minutes
    held = followup.held_at or followup.scheduled_at
    return b.statement(b.agent_for_user(enrollment.membership.user), "attended",
                       b.activity("coaching", followup.id, _names(module.title)),
                       context=context, result={"duration": f"PT{minutes}M"},
                       timestamp=held.isoformat())


def action_completed(item: ActionItem) -> dict[str, Any]:
    """The learner did an action agreed at a follow-up."""
    followup = item.followup
    enrollment, module = followup.enrollment, followup.module
    obj = {"objectType": "Activity", "id": b.activity_iri("coaching-action", item.id),
           "definition": {"type": f"{b.base_url()}/xapi/activity-types/action-item",
                          "name": {"und": item.text}}}
    return b.statement(b.agent_for_user(enrollment.membership.user), "completed", obj,
                       context=_context(enrollment, module,
                                        b.activity_iri("coaching", followup.id)),
                       result={"completion": True})


def followups_extension() -> str:
    """The context extension (the number held) that marks coaching's module completions."""
    return b.extension_iri("followups-held")


def module_completed(enrollment: Enrollment, module: Module, held: int) -> dict[str, Any]:
    """The coaching module is completed: its required follow-ups were held."""
    context = b.context(registration=enrollment.id,
                        grouping=[xs.iri("program", module.program_id)],
                        extensions={followups_extension(): held})
    return b.statement(b.agent_for_user(enrollment.membership.user), "completed",
                       xs.activity("module", module.id, module.title), context=context,
                       result={"completion": True})
