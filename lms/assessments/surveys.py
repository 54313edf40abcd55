"""Unscored surveys: the file format of the templates, their loading, checking a person's
answers and adding answers up into results.

A survey measures no competency: satisfaction after a session or module (Kirkpatrick level 1),
what people do differently some weeks later (level 3), readiness before a programme starts.
Results are only ever shown added up, and only from a minimum number of answers
(``SURVEY_MIN_ANSWERS``) so that nobody's answer can be picked out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.assessments.definitions import (
    ContentError,
    _compose,  # the package's own YAML helpers
    _Reader,
)
from lms.assessments.models import (
    ITEM_TYPES,
    LIKERT,
    MULTIPLE,
    SINGLE,
    SURVEY_KINDS,
    TEXT,
    Survey,
)
from lms.core.errors import ValidationFailed
from lms.core.models import owned_by
from lms.extensions import db

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "assessments" / "surveys"
LIKERT_VALUES = (1, 2, 3, 4, 5)
LIKERT_LABELS = {1: _l("Strongly disagree"), 2: _l("Disagree"), 3: _l("Neither agree nor disagree"),
                 4: _l("Agree"), 5: _l("Strongly agree")}
KIND_LABELS = {"satisfaction": _l("Satisfaction (right after)"),
               "followup": _l("Follow-up (what changed, weeks later)"),
               "readiness": _l("Readiness (before the start)")}
MAX_TEXT = 2000


@dataclass(frozen=True)
class SurveyDef:
    """A survey file, parsed."""

    key: str
    kind: str
    anonymous: bool
    title: Mapping[str, str]
    description: Mapping[str, str] | None
    items: tuple[dict[str, Any], ...]


def parse_survey(source: str, name: str = "survey.yaml") -> SurveyDef:
    """Parse and check a survey file.

    :raise ContentError: with every problem found, each naming its line.
    """
    r = _Reader()
    required = ("key", "purpose", "title", "items")
    root = r.mapping(_compose(source, name), "the survey", required,
                     ("format_version", "kind", "anonymous", "description"))
    if root is None or any(k not in root for k in required):
        raise ContentError(r.errors, name)
    r.header(root, "survey")
    key = r.string(root["key"], "key")
    if key and not all(c.isalnum() or c in "-_" for c in key):
        r.error(root["key"], "key may hold only letters, digits, '-' and '_'")
    kind = r.choice(root["purpose"], "purpose", SURVEY_KINDS)
    anonymous = r.boolean(root["anonymous"], "anonymous") if "anonymous" in root else True
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for node in r.sequence(root["items"], "items"):
        m = r.mapping(node, "an item", ("key", "type", "text"), ("options", "required"))
        if m is None or any(k not in m for k in ("key", "type", "text")):
            continue
        item_key = r.string(m["key"], "item key")
        if item_key in seen:
            r.error(node, f"item key {item_key!r} is used twice")
        seen.add(item_key)
        item_type = r.choice(m["type"], "type", ITEM_TYPES)
        options = []
        if item_type in (SINGLE, MULTIPLE):
            if "options" not in m:
                r.error(node, f"a {item_type} item needs options")
            for o_node in r.sequence(m.get("options"), "options"):
                o = r.mapping(o_node, "an option", ("key", "text"))
                if o is not None and "key" in o and "text" in o:
                    options.append({"key": r.string(o["key"], "option key"),
                                    "text": r.text(o["text"], "option text")})
        elif "options" in m:
            r.error(m["options"], f"a {item_type} item has no options")
        items.append({"key": item_key, "type": item_type, "text": r.text(m["text"], "item text"),
                      "options": options,
                      "required": r.boolean(m["required"], "required") if "required" in m
                      else item_type != TEXT})
    if not items and not r.errors:
        r.error(root["items"], "a survey needs at least one item")
    title = r.text(root["title"], "title")
    description = r.text(root["description"], "description") if "description" in root else None
    if r.errors:
        raise ContentError(r.errors, name)
    return SurveyDef(key=key, kind=kind, anonymous=anonymous, title=title,
                     description=description, items=tuple(items))


def upsert_survey(defn: SurveyDef, organization_id: int | None = None) -> Survey:
    """Create or update a survey from its definition, matched by key and owner (flushes)."""
    survey = db.session.scalar(select(Survey).where(
        Survey.key == defn.key, owned_by(Survey.organization_id, organization_id)))
    if survey is None:
        survey = Survey(key=defn.key, organization_id=organization_id)
        db.session.add(survey)
    survey.kind, survey.anonymous = defn.kind, defn.anonymous
    survey.title = dict(defn.title)
    survey.description = dict(defn.description) if defn.description else None
    survey.items = [dict(item) for item in defn.items]
    db.session.flush()
    return survey


def load_templates(directory: Path | None = None) -> str:
    """Load the built-in survey templates from ``assessments/surveys/`` (idempotent).

    :raise ContentError: a file breaks the format (nothing is written then).
    """
    folder = directory or TEMPLATES_DIR
    defs = [parse_survey(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(folder.glob("*.yaml"))]
    for d in defs:
        upsert_survey(d)
    return f"Survey templates: {len(defs)}"


def visible_surveys(organization_id: int) -> list[Survey]:
    """The built-in templates and the organization's own surveys, by kind then key."""
    return list(db.session.scalars(select(Survey).where(
        (Survey.organization_id.is_(None)) | (Survey.organization_id == organization_id))
        .order_by(Survey.kind, Survey.key, Survey.id)))


def clean_answers(items: Iterable[dict[str, Any]], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers to keep from what a person sent: a Likert value 1-5, one option key, a list
    of option keys, or a text; unanswered optional items are left out.

    :param raw: item key → a value or a list of values (a form's ``getlist`` or JSON).
    :raise ValidationFailed: an answer is missing or not one of the item's; ``fields`` names
        each item by its key.
    """
    answers: dict[str, Any] = {}
    problems: dict[str, Any] = {}
    for item in items:
        key = item["key"]
        value = raw.get(key)
        values = [str(v).strip() for v in (value if isinstance(value, list) else [value])
                  if v is not None and str(v).strip()]
        if not values:
            if item.get("required"):
                problems[key] = _l("Please answer this question.")
            continue
        options = {o["key"] for o in item.get("options", [])}
        if item["type"] == LIKERT:
            if len(values) != 1 or values[0] not in {str(v) for v in LIKERT_VALUES}:
                problems[key] = _l("Choose a value from 1 to 5.")
            else:
                answers[key] = int(values[0])
        elif item["type"] == SINGLE:
            if len(values) != 1 or values[0] not in options:
                problems[key] = _l("Choose one of the answers offered.")
            else:
                answers[key] = values[0]
        elif item["type"] == MULTIPLE:
            if not set(values) <= options:
                problems[key] = _l("Choose among the answers offered.")
            else:
                answers[key] = sorted(set(values))
        else:
            text = "\n".join(values)
            if len(text) > MAX_TEXT or "\x00" in text:
                problems[key] = _l("At most %(n)d characters.", n=MAX_TEXT)
            else:
                answers[key] = text
    if problems:
        raise ValidationFailed(_l("Some answers are missing or not valid."), fields=problems)
    return answers


def min_answers() -> int:
    """How many answers results need before they are shown (``SURVEY_MIN_ANSWERS``)."""
    return max(1, int(current_app.config["SURVEY_MIN_ANSWERS"]))


@dataclass
class ItemResult:
    """One item's answers added up: counts per value, the mean of a Likert item, the texts."""

    item: dict[str, Any]
    answered: int
    counts: list[tuple[str, Any, int]]  # (value, label: a Likert label or the option's text)
    mean: float | None = None
    texts: tuple[str, ...] = ()


@dataclass
class Results:
    """A survey's results for a group of answers; ``items`` empty below the minimum."""

    answers: int
    minimum: int
    items: list[ItemResult]

    @property
    def shown(self) -> bool:
        """Whether there are enough answers to show results without identifying people."""
        return self.answers >= self.minimum


def add_up(items: Iterable[dict[str, Any]], answers: list[dict[str, Any]],
           minimum: int) -> Results:
    """Results of ``answers`` (each a person's answers); nothing item by item below
    ``minimum`` answers. Texts are sorted, so their order says nothing of who wrote them.
    """
    if len(answers) < minimum:
        return Results(answers=len(answers), minimum=minimum, items=[])
    out = []
    for item in items:
        key = item["key"]
        given = [a[key] for a in answers if key in a]
        if item["type"] == LIKERT:
            values = [int(v) for v in given]
            counts = [(str(v), LIKERT_LABELS[v], values.count(v)) for v in LIKERT_VALUES]
            mean = sum(values) / len(values) if values else None
            out.append(ItemResult(item, len(values), counts, mean=mean))
        elif item["type"] in (SINGLE, MULTIPLE):
            flat = [v for g in given for v in (g if isinstance(g, list) else [g])]
            counts = [(o["key"], o["text"], flat.count(o["key"])) for o in item["options"]]
            out.append(ItemResult(item, len(given), counts))
        else:
            out.append(ItemResult(item, len(given), [], texts=tuple(sorted(map(str, given)))))
    return Results(answers=len(answers), minimum=minimum, items=out)


def csv_rows(results: Results, lang: str) -> list[list[Any]]:
    """The results as CSV rows (item, type, value, label, count, mean); none below the
    minimum, and free texts one per row.
    """
    def text_of(label: Any) -> str:
        return label.get(lang) or next(iter(label.values()), "") if isinstance(label, dict) \
            else str(label)

    rows: list[list[Any]] = []
    for r in results.items:
        question = text_of(r.item["text"])
        if r.item["type"] == TEXT:
            rows += [[r.item["key"], question, r.item["type"], "", t, "", ""] for t in r.texts]
            continue
        mean = round(r.mean, 2) if r.mean is not None else ""
        rows += [[r.item["key"], question, r.item["type"], value, text_of(label), n, mean]
                 for value, label, n in r.counts]
    return rows

