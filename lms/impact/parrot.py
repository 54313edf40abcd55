"""The "parrot effect": shares passed on without one's own words, and posts near-identical to
colleagues', before and after the training.

- **Own words**: of a person's shares (kind ``share``), those with their own comment
  (``with_own_comment``). A post (kind ``post``) is one's own by definition.
- **Near-identical**: when the source gives the post's text, a post or share whose text scores
  at least :data:`THRESHOLD` against the text of *another* person of the same cohort in the
  same window. The score (0-100) is rapidfuzz's ``ratio`` (Indel distance) of the two texts'
  distinct words in alphabetical order — order, repetitions, case and punctuation ignored: a
  pasted text with a hashtag added scores above 90, a pasted text followed by a paragraph of
  one's own does not. Texts under :data:`MIN_WORDS` words are left out: "Bravo à l'équipe !"
  is not a copied post.

Texts are compared within one cohort and one window (before or after), never across the whole
organization: the cost grows with the square of a cohort's texts in a few weeks (hundreds),
not of the organization's (see ``bench/parrot.py``: about 1 µs of CPU per pair).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select

from lms.accounts.models import Membership, User
from lms.advocacy.impact import DEFAULT_WEEKS, training_dates
from lms.advocacy.models import AdvocacyEvent
from lms.core.models import utcnow
from lms.courses.cohorts.models import WITHDRAWN, Cohort, Enrollment
from lms.extensions import db
from lms.impact import comparison

THRESHOLD = 90
MIN_WORDS = 8
WINDOWS = ("before", "after")


@dataclass
class Tally:
    """One person's (or a cohort's) actions in one window."""

    shares: int = 0
    own_words: int = 0
    texts: int = 0
    near_identical: int = 0

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.shares += other.shares
        self.own_words += other.own_words
        self.texts += other.texts
        self.near_identical += other.near_identical

    @property
    def own_words_percent(self) -> int | None:
        """Percent of the shares that add the person's own words; None without shares."""
        return round(100 * self.own_words / self.shares) if self.shares else None

    @property
    def plain_percent(self) -> int | None:
        """Percent of the shares passed on without any words of one's own."""
        own = self.own_words_percent
        return None if own is None else 100 - own


@dataclass
class Parrot:
    """A cohort's parrot figures: totals and per person, before and after the training."""

    cohort: Cohort
    weeks: int
    held: bool = False
    totals: dict[str, Tally] = field(default_factory=lambda: {w: Tally() for w in WINDOWS})
    people: dict[int, dict[str, Tally]] = field(default_factory=dict)

    def of(self, user_id: int) -> dict[str, Tally]:
        """One person's tallies (zeros when they did nothing)."""
        return self.people.get(user_id) or {w: Tally() for w in WINDOWS}


def words_key(text: str) -> str:
    """A text's distinct words in alphabetical order, lower case, punctuation removed: what
    two texts are compared on.
    """
    return " ".join(sorted(set(utils.default_process(text).split())))


def near_identical(texts: Sequence[tuple[int, str]], *, threshold: int = THRESHOLD,
                   min_words: int = MIN_WORDS) -> set[int]:
    """Positions in ``texts`` ((person, text) pairs) whose text is near-identical to the text of
    another person: the similarity (rapidfuzz ``ratio``, 0-100) of their :func:`words_key` is
    at least ``threshold``.
    """
    keys = [words_key(t) for _user, t in texts]
    kept = [i for i, k in enumerate(keys) if k.count(" ") + 1 >= min_words]
    choices = [keys[i] for i in kept]
    found: set[int] = set()
    for pos, i in enumerate(kept):
        rest = choices[pos + 1:]
        if not rest:
            break
        # One C++ scan of the texts after this one (the score is symmetric).
        for _choice, _score, k in process.extract(
                keys[i], rest, scorer=fuzz.ratio, processor=None, score_cutoff=threshold,
                limit=None):
            j = kept[pos + 1 + k]
            if texts[j][0] != texts[i][0]:
                found.update((i, j))
    return found


def cohort_parrot(cohort: Cohort, *, weeks: int = DEFAULT_WEEKS, now: datetime | None = None,
                  roster: comparison.Roster | None = None) -> Parrot:
    """The parrot figures of a cohort's consenting learners in the weeks before and after its
    training date (the impact report's windows).
    """
    now = now or utcnow()
    result = Parrot(cohort=cohort, weeks=weeks)
    training = training_dates([cohort])[cohort.id]
    if training is None:
        return result
    windows, days = comparison.period_windows(training, weeks, now)
    result.held = days["after"] > 0
    org_id = cohort.organization_id
    roster = roster or comparison.Roster.of(org_id)
    people = sorted(roster.members(cohort.id) & roster.consenting)
    if not people:
        return result
    e = AdvocacyEvent
    start, end = windows["before"][0], max(windows["after"][1], training.at)
    # The window of each event worked out by the database (no date read back per event).
    rows = db.session.execute(
        select(e.user_id, e.kind, e.with_own_comment, e.text, e.occurred_at >= training.at)
        .where(e.organization_id == org_id, e.user_id.in_(people),
               e.kind.in_(("post", "share")), e.occurred_at >= start, e.occurred_at < end)
        .order_by(e.occurred_at, e.id)).all()
    tallies: dict[int, dict[str, Tally]] = defaultdict(lambda: {w: Tally() for w in WINDOWS})
    texts: dict[str, list[tuple[int, str]]] = {w: [] for w in WINDOWS}
    for user_id, kind, own, text, after in rows:
        window = "after" if after else "before"
        tally = tallies[user_id][window]
        if kind == "share":
            tally.shares += 1
            tally.own_words += bool(own)
        if text:
            tally.texts += 1
            texts[window].append((user_id, text))
    for window, pairs in texts.items():
        for i in near_identical(pairs):
            tallies[pairs[i][0]][window].near_identical += 1
    result.people = dict(tallies)
    for per_window in tallies.values():
        for window, tally in per_window.items():
            result.totals[window].add(tally)
    return result


def named_rows(result: Parrot) -> list[tuple[int, dict[str, object]]]:
    """Per learner, by name: ``{"name", "before", "after"}`` (for the cohort page)."""
    if not result.people:
        return []
    names = dict(db.session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_(result.people))).all())
    rows = [(u, {"name": names.get(u, ""), **t}) for u, t in result.people.items()]
    return sorted(rows, key=lambda r: str(r[1]["name"]).lower())


def latest_cohort(organization_id: int, user_id: int) -> Cohort | None:
    """The person's cohort with the latest training date already reached (None if none)."""
    cohorts = list(db.session.scalars(
        select(Cohort).join(Enrollment, Enrollment.cohort_id == Cohort.id)
        .join(Membership, Membership.id == Enrollment.membership_id)
        .where(Cohort.organization_id == organization_id, Membership.user_id == user_id,
               Enrollment.status != WITHDRAWN)))
    now = utcnow()
    dates = training_dates(cohorts)
    dated = [(d.at, c) for c in cohorts if (d := dates[c.id]) is not None and d.at <= now]
    return max(dated, key=lambda x: (x[0], x[1].id))[1] if dated else None
