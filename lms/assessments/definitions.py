"""The skill framework and questionnaires as YAML: parsed, validated line by line, dumped back.

Parsing walks PyYAML's node tree (``yaml.compose``) rather than plain data, so every error
names the line it is about ("line 12: level must be an integer from 1 to 5"). Dumping writes the
same layout back, so export → import → export gives the same text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lms.core.content import ContentError as BaseContentError
from lms.core.content import OptionDef, Text, YamlReader

FORMAT_VERSION = 1
LANGUAGES = ("en", "fr")
KINDS = ("hard", "soft")
SSI_PILLARS = ("brand", "people", "insights", "relationships", "all", "none")
JOB_FAMILIES = ("sales", "hr", "marketing", "management", "other")
# What people read for each job family.
JOB_FAMILY_LABELS = {"sales": _l("Sales"), "hr": _l("HR and recruiting"),
                     "marketing": _l("Marketing and communication"),
                     "management": _l("Management"), "other": _l("Other roles")}
CAN_DO = "can_do"
SINGLE = "single_choice"
MULTIPLE = "multiple_choice"
FREQUENCY = "frequency"
QUESTION_TYPES = (CAN_DO, SINGLE, MULTIPLE, FREQUENCY)
JUDGEMENT_TYPES = (SINGLE, MULTIPLE)
LEVELS = range(1, 6)


class ContentError(BaseContentError):
    """A questionnaire or framework file breaks the format; errors are "line N: …" strings."""


@dataclass(frozen=True)
class LevelDef:
    """A level of the skill framework (1 to 5): its name and what it means."""

    level: int
    name: Text
    summary: Text


@dataclass(frozen=True)
class CompetencyDef:
    """A competency of the skill framework, with what a person can do at each level."""

    code: str
    name: Text
    description: Text
    kind: str
    digcomp: tuple[str, ...]
    ssi: str
    levels: Mapping[int, Text]  # what a person at each level can do
    advice: Text  # how to progress, shown next to a gap


@dataclass(frozen=True)
class TargetDef:
    """The target level of each competency for one job family."""

    job_family: str
    name: Text
    levels: Mapping[str, int]


@dataclass(frozen=True)
class FrameworkDef:
    """A skill framework as written in its YAML file: levels, competencies and targets."""

    key: str
    title: Text
    levels: tuple[LevelDef, ...]
    competencies: tuple[CompetencyDef, ...]
    targets: tuple[TargetDef, ...]
    format_version: int = FORMAT_VERSION


@dataclass(frozen=True)
class QuestionDef:
    """A question of a skill questionnaire and the competency and level it measures."""

    key: str
    type: str
    competency: str
    level: int
    text: Text
    options: tuple[OptionDef, ...] = ()
    feedback: Text | None = None


@dataclass(frozen=True)
class QuestionnaireDef:
    """A skill questionnaire as written in its YAML file, for one framework."""

    key: str
    framework: str
    title: Text
    description: Text | None
    questions: tuple[QuestionDef, ...] = field(default_factory=tuple)
    format_version: int = FORMAT_VERSION


# --- the node walker -------------------------------------------------------------------------


class _Reader(YamlReader):
    """Reads the value types of questionnaires and frameworks."""

    def string(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag not in (
                "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            self.error(node, f"{what} must be a string")
            return ""
        value = str(node.value).strip()
        if not value:
            self.error(node, f"{what} must not be empty")
        return value

    def integer(self, node: Node, what: str, allowed: Iterable[int]) -> int:
        choices = list(allowed)
        value = node.value if isinstance(node, ScalarNode) else None
        if (not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:int"
                or int(value) not in choices):  # type: ignore[arg-type]
            self.error(node, f"{what} must be an integer from {choices[0]} to {choices[-1]}")
            return choices[0]
        return int(value)  # type: ignore[arg-type]

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.error(node, f"{what} must be true or false")
            return False
        return bool(yaml.safe_load(node.value))

    def choice(self, node: Node, what: str, allowed: Iterable[str]) -> str:
        options = list(allowed)
        value = self.string(node, what)
        if value and value not in options:
            self.error(node, f"{what} must be one of {', '.join(options)} (got {value!r})")
        return value

    def text(self, node: Node, what: str) -> dict[str, str]:
        """A translated text: ``{en: …, fr: …}``, at least one language."""
        if isinstance(node, ScalarNode):
            self.error(node, f"{what} must give each language: {{en: …, fr: …}}")
            return {}
        values = self.mapping(node, what, (), LANGUAGES)
        if values is None:
            return {}
        out = {lang: self.string(values[lang], f"{what} ({lang})")
               for lang in LANGUAGES if lang in values}
        if not out:
            self.error(node, f"{what} needs at least one of {', '.join(LANGUAGES)}")
        return out

    def header(self, root: dict[str, Node], kind: str) -> int:
        version = self.integer(root["format_version"], "format_version", [FORMAT_VERSION]) \
            if "format_version" in root else FORMAT_VERSION
        if "kind" in root:
            self.choice(root["kind"], "kind", [kind])
        return version


def _compose(source: str, name: str) -> Node:
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark else ""
        raise ContentError([f"{line}not valid YAML: {exc.problem or exc}"], name) from exc
    except yaml.YAMLError as exc:
        raise ContentError([f"not valid YAML: {exc}"], name) from exc
    if node is None:
        raise ContentError(["line 1: the file is empty"], name)
    return node


# --- framework -------------------------------------------------------------------------------


def parse_framework(source: str, name: str = "framework.yaml") -> FrameworkDef:
    """Parse and validate a framework file.

    :raise ContentError: with every problem found, each naming its line.
    """
    r = _Reader()
    root = r.mapping(_compose(source, name), "the framework",
                     ("format_version", "kind", "key", "title", "levels", "competencies",
                      "target_profiles"))
    if root is None:
        raise ContentError(r.errors, name)
    if any(k not in root for k in ("format_version", "key", "competencies")):
        raise ContentError(r.errors, name)
    version = r.header(root, "framework")
    key = r.string(root["key"], "key")
    title = r.text(root["title"], "title") if "title" in root else {}

    levels: list[LevelDef] = []
    for node in r.sequence(root.get("levels", _EMPTY), "levels"):
        m = r.mapping(node, "a level", ("level", "name", "summary"))
        if m is None or len(m) < 3:
            continue
        levels.append(LevelDef(r.integer(m["level"], "level", LEVELS),
                               r.text(m["name"], "level name"), r.text(m["summary"], "summary")))
    if sorted(lv.level for lv in levels) != list(LEVELS) and "levels" in root:
        r.error(root["levels"], "levels must list levels 1 to 5 once each")

    competencies: list[CompetencyDef] = []
    codes: set[str] = set()
    for node in r.sequence(root["competencies"], "competencies"):
        m = r.mapping(node, "a competency",
                      ("code", "name", "description", "kind", "levels", "advice"),
                      ("digcomp", "ssi"))
        if m is None or any(k not in m for k in ("code", "name", "description", "kind",
                                                  "levels", "advice")):
            continue
        code = r.string(m["code"], "code")
        if code in codes:
            r.error(m["code"], f"competency {code!r} is defined twice")
        codes.add(code)
        digcomp = tuple(r.string(n, "a DigComp reference")
                        for n in r.sequence(m["digcomp"], "digcomp")) if "digcomp" in m else ()
        descriptors: dict[int, dict[str, str]] = {}
        if not isinstance(m["levels"], MappingNode):
            r.error(m["levels"], f"levels of {code} must map levels 1 to 5 to descriptions")
        else:
            for k_node, v_node in m["levels"].value:
                lvl = r.integer(k_node, f"a level of {code}", LEVELS)
                if lvl in descriptors:
                    r.error(k_node, f"level {lvl} of {code} is described twice")
                descriptors[lvl] = r.text(v_node, f"level {lvl} of {code}")
            if sorted(descriptors) != list(LEVELS):
                r.error(m["levels"], f"{code} must describe levels 1 to 5")
        competencies.append(CompetencyDef(
            code=code, name=r.text(m["name"], "name"),
            description=r.text(m["description"], "description"),
            kind=r.choice(m["kind"], "kind", KINDS), digcomp=digcomp,
            ssi=r.choice(m["ssi"], "ssi", SSI_PILLARS) if "ssi" in m else "none",
            levels=descriptors, advice=r.text(m["advice"], "advice")))

    targets: list[TargetDef] = []
    families: set[str] = set()
    for node in r.sequence(root.get("target_profiles", _EMPTY), "target_profiles"):
        m = r.mapping(node, "a target profile", ("job_family", "name", "levels"))
        if m is None or len(m) < 3:
            continue
        family = r.choice(m["job_family"], "job_family", JOB_FAMILIES)
        if family in families:
            r.error(m["job_family"], f"job family {family!r} has two target profiles")
        families.add(family)
        wanted: dict[str, int] = {}
        if isinstance(m["levels"], MappingNode):
            for k_node, v_node in m["levels"].value:
                code = r.string(k_node, "a competency code")
                if code not in codes:
                    r.error(k_node, f"unknown competency {code!r}")
                wanted[code] = r.integer(v_node, f"target level of {code}", range(0, 6))
        else:
            r.error(m["levels"], "levels must map competency codes to levels")
        targets.append(TargetDef(family, r.text(m["name"], "name"), wanted))
    if r.errors:
        raise ContentError(r.errors, name)
    return FrameworkDef(key=key, title=title, levels=tuple(levels),
                        competencies=tuple(competencies), targets=tuple(targets),
                        format_version=version)


_EMPTY = SequenceNode("tag:yaml.org,2002:seq", [])


class _FlowDict(dict):  # type: ignore[type-arg]
    """A mapping dumped on one line (target levels), as in the shipped file."""


class _Dumper(yaml.SafeDumper):
    """The safe dumper, plus one-line target levels (kept apart from PyYAML's global one)."""


_Dumper.add_representer(
    _FlowDict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


def framework_to_yaml(f: FrameworkDef) -> str:
    """Write a framework in the import format (parsing it back gives an equal value)."""
    data: dict[str, Any] = {"format_version": f.format_version, "kind": "framework",
                            "key": f.key}
    if f.title:
        data["title"] = dict(f.title)
    if f.levels:
        data["levels"] = [{"level": lv.level, "name": dict(lv.name), "summary": dict(lv.summary)}
                          for lv in f.levels]
    competencies = []
    for c in f.competencies:
        item: dict[str, Any] = {"code": c.code, "name": dict(c.name),
                                "description": dict(c.description), "kind": c.kind}
        if c.digcomp:
            item["digcomp"] = list(c.digcomp)
        item["ssi"] = c.ssi
        item["levels"] = {lvl: dict(c.levels[lvl]) for lvl in sorted(c.levels)}
        item["advice"] = dict(c.advice)
        competencies.append(item)
    data["competencies"] = competencies
    if f.targets:
        data["target_profiles"] = [{"job_family": t.job_family, "name": dict(t.name),
                                    "levels": _FlowDict(t.levels)} for t in f.targets]
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


# --- questionnaires --------------------------------------------------------------------------


def parse_questionnaire(source: str, name: str = "questionnaire.yaml",
                        competencies: Iterable[str] | None = None) -> QuestionnaireDef:
    """Parse and validate a questionnaire file.

    :param competencies: the framework's competency codes; questions must use one of them.
    :raise ContentError: with every problem found, each naming its line.
    """
    known = set(competencies) if competencies is not None else None
    r = _Reader()
    root = r.mapping(_compose(source, name), "the questionnaire",
                     ("format_version", "key", "title", "questions"),
                     ("kind", "framework", "description"))
    if root is None or any(k not in root for k in ("format_version", "key", "title", "questions")):
        raise ContentError(r.errors, name)
    version = r.header(root, "questionnaire")
    key = r.string(root["key"], "key")
    if key and not all(c.isalnum() or c in "-_" for c in key):
        r.error(root["key"], "key may hold only letters, digits, '-' and '_'")
    questions: list[QuestionDef] = []
    seen: set[str] = set()
    for node in r.sequence(root["questions"], "questions"):
        question = _question(r, node, known)
        if question is None:
            continue
        if question.key in seen:
            r.error(node, f"question key {question.key!r} is used twice")
        seen.add(question.key)
        questions.append(question)
    if not questions and not r.errors:
        r.error(root["questions"], "a questionnaire needs at least one question")
    framework = r.string(root["framework"], "framework") if "framework" in root \
        else "relais-default"
    title = r.text(root["title"], "title")
    description = r.text(root["description"], "description") if "description" in root else None
    if r.errors:
        raise ContentError(r.errors, name)
    return QuestionnaireDef(key=key, framework=framework, title=title, description=description,
                            questions=tuple(questions), format_version=version)


def _question(r: _Reader, node: Node, known: set[str] | None) -> QuestionDef | None:
    m = r.mapping(node, "a question", ("key", "type", "competency", "level", "text"),
                  ("options", "feedback"))
    if m is None or any(k not in m for k in ("key", "type", "competency", "level", "text")):
        return None
    qkey = r.string(m["key"], "question key")
    qtype = r.choice(m["type"], "type", QUESTION_TYPES)
    code = r.string(m["competency"], "competency")
    if known is not None and code and code not in known:
        r.error(m["competency"], f"unknown competency {code!r} (known: "
                f"{', '.join(sorted(known))})")
    level = r.integer(m["level"], "level", LEVELS)
    text = r.text(m["text"], "question text")
    feedback = r.text(m["feedback"], "feedback") if "feedback" in m else None
    options: list[OptionDef] = []
    if qtype in JUDGEMENT_TYPES:
        if "options" not in m:
            r.error(node, f"a {qtype} question needs options")
        else:
            keys: set[str] = set()
            for o_node in r.sequence(m["options"], "options"):
                o = r.mapping(o_node, "an option", ("key", "text"), ("correct", "feedback"))
                if o is None or "key" not in o or "text" not in o:
                    continue
                okey = r.string(o["key"], "option key")
                if okey in keys:
                    r.error(o["key"], f"option key {okey!r} is used twice")
                keys.add(okey)
                options.append(OptionDef(
                    okey, r.text(o["text"], "option text"),
                    r.boolean(o["correct"], "correct") if "correct" in o else False,
                    r.text(o["feedback"], "option feedback") if "feedback" in o else None))
            right = sum(o.correct for o in options)
            if len(options) < 2:
                r.error(m["options"], "give at least two options")
            elif qtype == SINGLE and right != 1:
                r.error(m["options"], "a single_choice question needs exactly one correct option")
            elif qtype == MULTIPLE and right < 1:
                r.error(m["options"], "a multiple_choice question needs a correct option")
    elif "options" in m:
        r.error(m["options"], f"a {qtype} question takes no options (its scale is fixed)")
    return QuestionDef(qkey, qtype, code, level, text, tuple(options), feedback)


def questionnaire_to_yaml(q: QuestionnaireDef) -> str:
    """Write a questionnaire in the import format (parsing it back gives an equal value)."""
    data: dict[str, Any] = {"format_version": q.format_version, "kind": "questionnaire",
                            "key": q.key, "framework": q.framework, "title": dict(q.title)}
    if q.description:
        data["description"] = dict(q.description)
    questions = []
    for question in q.questions:
        item: dict[str, Any] = {"key": question.key, "type": question.type,
                                "competency": question.competency, "level": question.level,
                                "text": dict(question.text)}
        if question.options:
            item["options"] = []
            for o in question.options:
                opt: dict[str, Any] = {"key": o.key, "text": dict(o.text)}
                if o.correct:
                    opt["correct"] = True
                if o.feedback:
                    opt["feedback"] = dict(o.feedback)
                item["options"].append(opt)
        if question.feedback:
            item["feedback"] = dict(question.feedback)
        questions.append(item)
    data["questions"] = questions
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
