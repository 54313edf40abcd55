"""Programs as files: ``program.yaml`` plus ``lessons/<key>.<lang>.md``, parsed, validated line
by line, and written back.

Parsing walks PyYAML's node tree (``yaml.compose``) rather than plain data, so every error names
the line it is about ("program.yaml line 42: completion type must be one of …"). Writing emits a
fixed layout, so export → import → export gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from lms.core.content import ContentError as BaseContentError
from lms.core.content import OptionDef, Text, YamlReader
from lms.core.zips import LyingZip, read_entry

FORMAT_VERSION = 1
LANGUAGES = ("fr", "en")
KINDS = ("workshop", "conference", "group_training", "elearning", "exercise", "coaching")
SESSION_KINDS = ("workshop", "conference", "group_training")
COMPETENCY_CODES = tuple(f"C{n}" for n in range(1, 9))
RULES = ("attended", "quiz_passed", "lessons_viewed", "exercise_approved", "followups_held",
         "xapi_completed")
# On-the-job exercises: evidence a learner hands in, rubric levels, automatic verification.
EVIDENCE_KINDS = ("url", "screenshot", "reflection")
EVIDENCE_NEEDS = ("required", "optional")
VERIFY_NETWORKS = ("linkedin", "x", "facebook", "instagram", "tiktok", "youtube", "other")
VERIFY_KINDS = ("post", "share", "comment", "reaction")
PROGRAM_FILE = "program.yaml"
LESSONS_DIR = "lessons"
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A coaching module's plan (``coaching:`` block): field → (lowest, highest) value.
COACHING_PLAN = {"followups": (1, 20), "spacing_days": (1, 365), "duration_minutes": (5, 480)}
# Fixed zip entry date: the archive's bytes depend only on its content.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


class ContentError(BaseContentError):
    """A program's files break the format; ``errors`` are "file line N: message" strings."""


@dataclass(frozen=True)
class QuestionDef:
    """A quiz question with its answer options."""

    key: str
    text: Text
    options: tuple[OptionDef, ...]
    feedback: Text | None = None


@dataclass(frozen=True)
class QuizDef:
    """A module's quiz: its questions and its pass mark."""

    key: str
    title: Text
    pass_mark: int
    questions: tuple[QuestionDef, ...]


@dataclass(frozen=True)
class LessonDef:
    """A lesson: its title, its Markdown text per language and an optional video."""

    key: str
    title: Text
    body: Text  # Markdown per language
    video_url: str | None = None


@dataclass(frozen=True)
class ModuleDef:
    """A module of a program as written in ``program.yaml`` (lessons, quiz, coaching…)."""

    key: str
    kind: str
    title: Text
    description: Text
    required: bool
    duration_minutes: int | None
    competencies: tuple[str, ...]
    prerequisites: tuple[str, ...]
    completion: Mapping[str, Any]
    lessons: tuple[LessonDef, ...] = ()
    quizzes: tuple[QuizDef, ...] = ()
    # Coaching modules: {"followups", "spacing_days", "duration_minutes"} (see COACHING_PLAN).
    coaching: Mapping[str, int] | None = None
    # Settings of an on-the-job exercise (see ``_exercise``), None for other kinds.
    exercise: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProgramDef:
    """A program as written in its files: one version, in one language, with its modules."""

    slug: str
    version: int
    language: str
    title: Text
    description: Text
    modules: tuple[ModuleDef, ...]
    format_version: int = FORMAT_VERSION
    # Registrations to its sessions wait for the learner's manager (``approval_required``).
    approval_required: bool = False


# --- reading ---------------------------------------------------------------------------------


class _Reader(YamlReader):
    """Reads the value types of program files."""

    def string(self, node: Node | None, what: str, *, allow_empty: bool = False) -> str:
        if node is None:
            return ""
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.error(node, f"{what} must be text")
            return ""
        if not node.value.strip() and not allow_empty:
            self.error(node, f"{what} must not be empty")
        return str(node.value)

    def key(self, node: Node | None, what: str) -> str:
        value = self.string(node, what)
        if value and not KEY_RE.match(value) and node is not None:
            self.error(node, f"{what} {value!r} must be lower-case letters, digits, - or _")
        return value

    def integer(self, node: Node | None, what: str, low: int, high: int) -> int | None:
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            self.error(node, f"{what} must be an integer from {low} to {high}")
            return None
        value = int(node.value)
        if not low <= value <= high:
            self.error(node, f"{what} must be an integer from {low} to {high}")
        return value

    def boolean(self, node: Node | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.error(node, f"{what} must be true or false")
            return default
        return node.value.lower() in ("true", "yes", "on")

    def text(self, node: Node | None, what: str, language: str | None = None) -> dict[str, str]:
        if node is None:
            return {}
        fields = self.mapping(node, what, (), LANGUAGES)
        if fields is None:
            return {}
        out = {lang: self.string(value, f"{what} ({lang})") for lang, value in fields.items()}
        if not out:
            self.error(node, f"{what} needs a text in {' or '.join(LANGUAGES)}")
        elif language and language not in out:
            self.error(node, f"{what} needs a text in the program's language ({language})")
        return out


def _unique(reader: _Reader, nodes: list[tuple[Node, str]], what: str) -> None:
    seen: set[str] = set()
    for node, key in nodes:
        if key and key in seen:
            reader.error(node, f"duplicate {what} {key!r}")
        seen.add(key)


def _completion(r: _Reader, node: Node, kind: str, lessons: int, quizzes: int) -> dict[str, Any]:
    fields = r.mapping(node, "completion", ("type",), ("pass_mark", "count"))
    if fields is None:
        return {}
    kind_node = fields["type"] if "type" in fields else node
    rule = r.string(fields.get("type"), "completion type")
    if rule and rule not in RULES:
        r.error(kind_node, f"completion type must be one of {', '.join(RULES)}")
        return {"type": rule}
    out: dict[str, Any] = {"type": rule}
    if rule == "quiz_passed":
        if not quizzes:
            r.error(kind_node, "completion quiz_passed needs at least one quiz in the module")
        if "pass_mark" in fields:
            out["pass_mark"] = r.integer(fields["pass_mark"], "pass_mark", 0, 100)
    elif "pass_mark" in fields:
        r.error(fields["pass_mark"], "pass_mark is only for completion type quiz_passed")
    if rule == "followups_held":
        out["count"] = r.integer(fields.get("count"), "count", 1, 20) or 1
    elif "count" in fields:
        r.error(fields["count"], "count is only for completion type followups_held")
    if rule == "attended" and kind not in SESSION_KINDS:
        r.error(kind_node, f"completion attended needs a session module "
                           f"({', '.join(SESSION_KINDS)}), not {kind}")
    if rule == "lessons_viewed" and not lessons:
        r.error(kind_node, "completion lessons_viewed needs at least one lesson in the module")
    return out


def _exercise(r: _Reader, node: Node, kind: str, lang: str) -> dict[str, Any] | None:
    """An exercise block, normalised: instructions, evidence, rubric and afest always present,
    due_days and verification when given (so writing it back gives the same block).
    """
    if kind and kind != "exercise":
        r.error(node, "only exercise modules have an exercise block")
        return None
    f = r.mapping(node, "exercise", ("instructions", "evidence"),
                  ("due_days", "rubric", "afest", "verification"))
    if f is None:
        return None
    out: dict[str, Any] = {"instructions": r.text(f.get("instructions"), "instructions", lang)}
    evidence: dict[str, str] = {}
    if "evidence" in f:
        fields = r.mapping(f["evidence"], "evidence", (), EVIDENCE_KINDS) or {}
        for name, value in fields.items():
            need = r.string(value, f"evidence {name}")
            if need and need not in EVIDENCE_NEEDS:
                r.error(value, f"evidence {name} must be one of {', '.join(EVIDENCE_NEEDS)}")
            evidence[name] = need
        if fields and "required" not in evidence.values():
            r.error(f["evidence"], "evidence needs at least one item marked required")
        elif not fields:
            r.error(f["evidence"], f"evidence lists {', '.join(EVIDENCE_KINDS)} as required "
                                   "or optional")
    out["evidence"] = {k: evidence[k] for k in EVIDENCE_KINDS if k in evidence}
    if "due_days" in f:
        out["due_days"] = r.integer(f["due_days"], "due_days", 1, 365)
    criteria: list[dict[str, Any]] = []
    nodes = r.sequence(f.get("rubric"), "rubric")
    for item in nodes:
        c = r.mapping(item, "rubric criterion", ("key", "label")) or {}
        criteria.append({"key": r.key(c.get("key"), "criterion key"),
                         "label": r.text(c.get("label"), "criterion label", lang)})
    _unique(r, list(zip(nodes, (str(c["key"]) for c in criteria), strict=True)),
            "criterion key")
    if len(criteria) > 12:
        r.error(f["rubric"], "a rubric has at most 12 criteria")
    out["rubric"] = criteria
    out["afest"] = r.boolean(f.get("afest"), "afest", False)
    if "verification" in f:
        out["verification"] = _verification(r, f["verification"])
    return out


def _verification(r: _Reader, node: Node) -> dict[str, Any]:
    f = r.mapping(node, "verification", ("network", "kinds", "count"),
                  ("own_comment", "within_days")) or {}
    network = r.string(f.get("network"), "network")
    if network and network not in VERIFY_NETWORKS:
        r.error(f["network"], f"network must be one of {', '.join(VERIFY_NETWORKS)}")
    kinds = []
    for kind_node in r.sequence(f.get("kinds"), "kinds"):
        kind = r.string(kind_node, "kind")
        if kind and kind not in VERIFY_KINDS:
            r.error(kind_node, f"kind must be one of {', '.join(VERIFY_KINDS)}")
        elif kind in kinds:
            r.error(kind_node, f"duplicate kind {kind!r}")
        kinds.append(kind)
    if "kinds" in f and not kinds and isinstance(f["kinds"], yaml.SequenceNode):
        r.error(f["kinds"], "kinds lists at least one of " + ", ".join(VERIFY_KINDS))
    out: dict[str, Any] = {"network": network, "kinds": kinds,
                           "count": r.integer(f.get("count"), "count", 1, 100)}
    out["own_comment"] = r.boolean(f.get("own_comment"), "own_comment", False)
    if "within_days" in f:
        out["within_days"] = r.integer(f["within_days"], "within_days", 1, 365)
    return out


def exercise_data(settings: Mapping[str, Any]) -> dict[str, Any]:
    """An exercise block as written in ``program.yaml`` (documented key order)."""
    out: dict[str, Any] = {"instructions": _text(settings.get("instructions")),
                           "evidence": {k: settings["evidence"][k] for k in EVIDENCE_KINDS
                                        if k in settings.get("evidence", {})}}
    if settings.get("due_days") is not None:
        out["due_days"] = settings["due_days"]
    if settings.get("rubric"):
        out["rubric"] = [{"key": c["key"], "label": _text(c["label"])}
                         for c in settings["rubric"]]
    out["afest"] = bool(settings.get("afest"))
    check = settings.get("verification")
    if check:
        out["verification"] = {"network": check["network"], "kinds": list(check["kinds"]),
                               "count": check["count"],
                               "own_comment": bool(check.get("own_comment"))}
        if check.get("within_days") is not None:
            out["verification"]["within_days"] = check["within_days"]
    return out


def plan_problems(plan: Mapping[str, Any], kind: str,
                  rule: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a coaching plan for a module of ``kind`` completed by ``rule``, by
    field ({} when nothing): numbers out of range, a plan on a module that is not coaching, or
    a number of follow-ups that disagrees with the ``followups_held`` count.
    """
    problems = {}
    if kind != "coaching":
        problems["coaching"] = f"a coaching plan is only for coaching modules, not {kind}"
    for name, (low, high) in COACHING_PLAN.items():
        value = plan.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems[name] = f"{name} must be an integer from {low} to {high}"
    followups = plan.get("followups")
    if "followups" not in problems and rule.get("type") == "followups_held" and \
            rule.get("count", 1) != followups:
        problems["followups"] = (f"followups ({followups}) must equal the completion count "
                                 f"({rule.get('count', 1)})")
    return problems


def _coaching(r: _Reader, node: Node, kind: str, rule: Mapping[str, Any]) -> dict[str, int]:
    fields = r.mapping(node, "coaching", tuple(COACHING_PLAN)) or {}
    plan: dict[str, int] = {}
    for name, value_node in fields.items():
        low, high = COACHING_PLAN[name]
        value = r.integer(value_node, name, low, high)
        if value is not None and low <= value <= high:
            plan[name] = value
    problems = plan_problems(plan, kind, rule) if kind else {}
    if "coaching" in problems:
        r.error(node, problems["coaching"])
    elif len(plan) == len(COACHING_PLAN) and "followups" in problems:
        r.error(fields["followups"], problems["followups"])
    return plan


def _option(r: _Reader, node: Node, lang: str) -> OptionDef:
    f = r.mapping(node, "option", ("key", "text"), ("correct", "feedback")) or {}
    return OptionDef(key=r.key(f.get("key"), "option key"),
                     text=r.text(f.get("text"), "option text", lang),
                     correct=r.boolean(f.get("correct"), "correct", False),
                     feedback=r.text(f.get("feedback"), "option feedback") or None)


def _question(r: _Reader, node: Node, lang: str) -> QuestionDef:
    f = r.mapping(node, "question", ("key", "text", "options"), ("feedback",)) or {}
    option_nodes = r.sequence(f.get("options"), "options")
    options = tuple(_option(r, o, lang) for o in option_nodes)
    _unique(r, list(zip(option_nodes, (o.key for o in options), strict=True)), "option key")
    if "options" in f and len(options) < 2:
        r.error(f["options"], "a question needs at least two options")
    elif options and not any(o.correct for o in options):
        r.error(f["options"], "a question needs at least one option marked correct: true")
    return QuestionDef(key=r.key(f.get("key"), "question key"),
                       text=r.text(f.get("text"), "question text", lang), options=options,
                       feedback=r.text(f.get("feedback"), "question feedback") or None)


def _quiz(r: _Reader, node: Node, lang: str) -> QuizDef:
    f = r.mapping(node, "quiz", ("key", "title", "questions"), ("pass_mark",)) or {}
    question_nodes = r.sequence(f.get("questions"), "questions")
    questions = tuple(_question(r, q, lang) for q in question_nodes)
    _unique(r, list(zip(question_nodes, (q.key for q in questions), strict=True)),
            "question key")
    if "questions" in f and not questions:
        r.error(f["questions"], "a quiz needs at least one question")
    pass_mark = r.integer(f.get("pass_mark"), "pass_mark", 0, 100)
    return QuizDef(key=r.key(f.get("key"), "quiz key"), title=r.text(f.get("title"), "quiz title",
                                                                      lang),
                   pass_mark=80 if pass_mark is None else pass_mark, questions=questions)


def _lesson(r: _Reader, node: Node, lang: str, bodies: Mapping[str, Mapping[str, str]],
            used: set[str]) -> LessonDef:
    f = r.mapping(node, "lesson", ("key", "title"), ("video_url",)) or {}
    key = r.key(f.get("key"), "lesson key")
    video = r.string(f.get("video_url"), "video_url") if "video_url" in f else None
    if video and not re.match(r"^https://\S+$", video):
        r.error(f["video_url"], "video_url must be an https:// address")
    body = dict(bodies.get(key, {}))
    if key and lang not in body:
        r.error(node, f"lesson {key!r} needs the file {LESSONS_DIR}/{key}.{lang}.md")
    used.add(key)
    return LessonDef(key=key, title=r.text(f.get("title"), "lesson title", lang), body=body,
                     video_url=video or None)


def _module(r: _Reader, node: Node, lang: str, bodies: Mapping[str, Mapping[str, str]],
            used: set[str]) -> tuple[ModuleDef, dict[str, Node]]:
    f = r.mapping(node, "module", ("key", "kind", "title", "completion"),
                  ("description", "required", "duration_minutes", "competencies",
                   "prerequisites", "lessons", "quizzes", "coaching", "exercise")) or {}
    kind = r.string(f.get("kind"), "kind")
    if kind and kind not in KINDS:
        r.error(f["kind"], f"kind must be one of {', '.join(KINDS)}")
    lesson_nodes = r.sequence(f.get("lessons"), "lessons")
    quiz_nodes = r.sequence(f.get("quizzes"), "quizzes")
    if kind != "elearning" and (lesson_nodes or quiz_nodes):
        r.error((lesson_nodes or quiz_nodes)[0], "only elearning modules hold lessons and quizzes")
    lessons = tuple(_lesson(r, n, lang, bodies, used) for n in lesson_nodes)
    quizzes = tuple(_quiz(r, n, lang) for n in quiz_nodes)
    _unique(r, list(zip(quiz_nodes, (q.key for q in quizzes), strict=True)), "quiz key")
    codes = []
    for code_node in r.sequence(f.get("competencies"), "competencies"):
        code = r.string(code_node, "competency code")
        if code and code not in COMPETENCY_CODES:
            r.error(code_node, f"unknown competency {code!r} (use {', '.join(COMPETENCY_CODES)})")
        codes.append(code)
    prereq_nodes = r.sequence(f.get("prerequisites"), "prerequisites")
    prereqs = tuple(r.key(p, "prerequisite") for p in prereq_nodes)
    completion = _completion(r, f["completion"], kind, len(lessons), len(quizzes)) \
        if "completion" in f else {}
    coaching = _coaching(r, f["coaching"], kind, completion) if "coaching" in f else None
    module = ModuleDef(
        key=r.key(f.get("key"), "module key"), kind=kind,
        title=r.text(f.get("title"), "module title", lang),
        description=r.text(f.get("description"), "module description"),
        required=r.boolean(f.get("required"), "required", True),
        duration_minutes=r.integer(f.get("duration_minutes"), "duration_minutes", 1, 100_000),
        competencies=tuple(codes), prerequisites=prereqs, completion=completion,
        lessons=lessons, quizzes=quizzes, coaching=coaching,
        exercise=_exercise(r, f["exercise"], kind, lang) if "exercise" in f else None)
    return module, dict(zip(prereqs, prereq_nodes, strict=True))


def parse_program(yaml_text: str, lesson_files: Mapping[str, str]) -> ProgramDef:
    """Parse and validate a program.

    :param yaml_text: the content of ``program.yaml``.
    :param lesson_files: ``{"<key>.<lang>.md": markdown}`` from the ``lessons`` folder.
    :raise ContentError: every problem found, each with its file and line.
    """
    r = _Reader(PROGRAM_FILE)
    try:
        root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark else ""
        raise ContentError([f"{PROGRAM_FILE}{line}: {exc.problem or exc}"]) from exc
    if root is None:
        raise ContentError([f"{PROGRAM_FILE}: the file is empty"])
    bodies: dict[str, dict[str, str]] = {}
    for name, body in lesson_files.items():
        match = re.match(r"^(.+)\.(\w\w)\.md$", name)
        if not match or match.group(2) not in LANGUAGES:
            r.errors.append(f"{LESSONS_DIR}/{name}: lesson files are named <key>.<fr|en>.md")
            continue
        bodies.setdefault(match.group(1), {})[match.group(2)] = body
    f = r.mapping(root, "program", ("format_version", "slug", "language", "title", "modules"),
                  ("version", "description", "approval_required")) or {}
    fmt = r.integer(f.get("format_version"), "format_version", 1, 1_000)
    if fmt is not None and fmt != FORMAT_VERSION:
        r.error(f["format_version"], f"format_version {fmt} is not supported (this Relais "
                                     f"reads {FORMAT_VERSION})")
    lang = r.string(f.get("language"), "language")
    if lang and lang not in LANGUAGES:
        r.error(f["language"], f"language must be one of {', '.join(LANGUAGES)}")
    used: set[str] = set()
    module_nodes = r.sequence(f.get("modules"), "modules")
    if "modules" in f and not module_nodes:
        r.error(f["modules"], "a program needs at least one module")
    parsed = [_module(r, n, lang, bodies, used) for n in module_nodes]
    modules = tuple(m for m, _p in parsed)
    _unique(r, list(zip(module_nodes, (m.key for m in modules), strict=True)), "module key")
    lesson_pairs = [(n, lesson.key) for mn, m in zip(module_nodes, modules, strict=True)
                    for n, lesson in zip(r.sequence(_get(mn, "lessons"), "lessons"), m.lessons,
                                         strict=False)]
    _unique(r, lesson_pairs, "lesson key")
    earlier: set[str] = set()
    for module, prereq_nodes in parsed:
        for key, node in prereq_nodes.items():
            if key and key not in earlier:
                r.error(node, f"prerequisite {key!r} is not a module listed before "
                              f"{module.key!r}")
        earlier.add(module.key)
    for key in sorted(set(bodies) - used):
        r.errors.append(f"{LESSONS_DIR}/{key}.*.md: no lesson {key!r} in {PROGRAM_FILE}")
    approval_required = r.boolean(f.get("approval_required"), "approval_required", False)
    if r.errors:
        raise ContentError(r.errors)
    return ProgramDef(slug=r.key(f.get("slug"), "slug"),
                      version=r.integer(f.get("version"), "version", 1, 1_000_000) or 1,
                      language=lang, title=r.text(f.get("title"), "title", lang),
                      description=r.text(f.get("description"), "description"), modules=modules,
                      format_version=FORMAT_VERSION, approval_required=approval_required)


def _get(node: Node, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key:
                return v
    return None


def read_files(files: Mapping[str, bytes]) -> ProgramDef:
    """Parse a program from ``{relative path: bytes}`` (a folder or a zip's entries).

    :raise ContentError: a missing ``program.yaml``, text that is not UTF-8, or invalid content.
    """
    errors = []
    texts: dict[str, str] = {}
    for path, raw in files.items():
        try:
            texts[path] = raw.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(f"{path}: not UTF-8 text")
    if PROGRAM_FILE not in files:
        errors.append(f"{PROGRAM_FILE}: missing")
    others = [p for p in texts if p != PROGRAM_FILE and not p.startswith(LESSONS_DIR + "/")]
    errors += [f"{p}: unexpected file (a program has {PROGRAM_FILE} and {LESSONS_DIR}/*.md)"
               for p in sorted(others)]
    if errors:
        raise ContentError(errors)
    lessons = {p[len(LESSONS_DIR) + 1:]: t for p, t in texts.items()
               if p.startswith(LESSONS_DIR + "/")}
    return parse_program(texts[PROGRAM_FILE], lessons)


def read_folder(folder: Path) -> ProgramDef:
    """Parse the program in ``folder`` (``program.yaml`` and ``lessons/*.md``)."""
    files = {PROGRAM_FILE: (folder / PROGRAM_FILE).read_bytes()} \
        if (folder / PROGRAM_FILE).exists() else {}
    lesson_dir = folder / LESSONS_DIR
    if lesson_dir.is_dir():
        for path in sorted(lesson_dir.iterdir()):
            if path.is_file():
                files[f"{LESSONS_DIR}/{path.name}"] = path.read_bytes()
    return read_files(files)


def read_zip(data: bytes) -> ProgramDef:
    """Parse a program exported as a zip (entries may sit under one top folder).

    :raise ContentError: not a zip, or invalid content.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ContentError(["the file is not a zip archive"]) from exc
    names = [n for n in archive.namelist() if not n.endswith("/")]
    prefix = ""
    if PROGRAM_FILE not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and f"{next(iter(tops))}/{PROGRAM_FILE}" in names:
            prefix = next(iter(tops)) + "/"
    if sum(info.file_size for info in archive.infolist()) > 20_000_000:
        raise ContentError(["the archive is larger than 20 MB once extracted"])
    try:
        files = {n[len(prefix):]: read_entry(archive, n) for n in names if n.startswith(prefix)}
    except LyingZip as exc:
        raise ContentError([f"{exc.name}: the entry does not match the zip's header "
                            "(damaged or forged archive)"]) from exc
    return read_files(files)


# --- writing ---------------------------------------------------------------------------------


def _text(value: Text | None) -> dict[str, str]:
    return {lang: value[lang] for lang in LANGUAGES if value and lang in value}


def to_data(program: ProgramDef) -> dict[str, Any]:
    """The ``program.yaml`` content as plain data, in the documented key order."""
    modules = []
    for m in program.modules:
        item: dict[str, Any] = {"key": m.key, "kind": m.kind, "title": _text(m.title)}
        if m.description:
            item["description"] = _text(m.description)
        item["required"] = m.required
        if m.duration_minutes is not None:
            item["duration_minutes"] = m.duration_minutes
        item["competencies"] = list(m.competencies)
        item["prerequisites"] = list(m.prerequisites)
        item["completion"] = {k: m.completion[k] for k in ("type", "pass_mark", "count")
                              if k in m.completion}
        if m.coaching:
            item["coaching"] = {k: m.coaching[k] for k in COACHING_PLAN if k in m.coaching}
        if m.lessons:
            item["lessons"] = [{"key": lesson.key, "title": _text(lesson.title),
                                **({"video_url": lesson.video_url} if lesson.video_url else {})}
                               for lesson in m.lessons]
        if m.quizzes:
            item["quizzes"] = [_quiz_data(q) for q in m.quizzes]
        if m.exercise:
            item["exercise"] = exercise_data(m.exercise)
        modules.append(item)
    data: dict[str, Any] = {"format_version": FORMAT_VERSION, "slug": program.slug,
                            "version": program.version, "language": program.language,
                            "title": _text(program.title)}
    if program.description:
        data["description"] = _text(program.description)
    if program.approval_required:
        data["approval_required"] = True
    data["modules"] = modules
    return data


def _quiz_data(q: QuizDef) -> dict[str, Any]:
    questions = []
    for question in q.questions:
        item: dict[str, Any] = {"key": question.key, "text": _text(question.text)}
        if question.feedback:
            item["feedback"] = _text(question.feedback)
        item["options"] = [
            {"key": o.key, "text": _text(o.text), **({"correct": True} if o.correct else {}),
             **({"feedback": _text(o.feedback)} if o.feedback else {})} for o in question.options]
        questions.append(item)
    return {"key": q.key, "title": _text(q.title), "pass_mark": q.pass_mark,
            "questions": questions}


def to_files(program: ProgramDef) -> dict[str, bytes]:
    """The program's files, ``{relative path: bytes}``, sorted by path."""
    header = ("# Relais program: edit freely, then import it back (format described in the "
              "documentation, docs/formats.md).\n")
    text = header + yaml.safe_dump(to_data(program), sort_keys=False, allow_unicode=True,
                                   width=100, default_flow_style=False)
    files = {PROGRAM_FILE: text.encode("utf-8")}
    for module in program.modules:
        for lesson in module.lessons:
            for lang in LANGUAGES:
                if lang in lesson.body:
                    files[f"{LESSONS_DIR}/{lesson.key}.{lang}.md"] = \
                        lesson.body[lang].encode("utf-8")
    return dict(sorted(files.items()))


def to_zip(program: ProgramDef) -> bytes:
    """The program as a zip whose bytes depend only on its content (fixed dates and order)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in to_files(program).items():
            info = zipfile.ZipInfo(f"{program.slug}/{path}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()
