"""Advocacy: real actions on social networks, the learners' consent, campaigns and content."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import Organization, OrganizationOwned, User
from lms.core.models import Base, TimestampMixin, utcnow

NETWORKS = ("linkedin", "x", "facebook", "instagram", "tiktok", "youtube", "other")
KINDS = ("post", "share", "comment", "reaction", "summary")
SOURCES = ("manual", "csv", "webhook", "api", "demo")
CAMPAIGN_KINDS = ("awareness", "campaign", "talent")
MAX_TEXT = 5000  # characters of a post's text kept (LinkedIn's own limit is 3,000)
METRICS = ("impressions", "clicks", "reactions", "comments", "reshares", "signups", "leads",
           "hires")


class AdvocacySettings(Base):
    """Per-organization advocacy settings: the webhook secret and the leaderboard switch."""

    __tablename__ = "advocacy_settings"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    leaderboard_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())


class AdvocacyConsent(OrganizationOwned, Base):
    """A learner's consent to having their advocacy activity collected (revocable)."""

    __tablename__ = "advocacy_consents"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    opted_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Consenting to collection is not consenting to be ranked in front of colleagues.
    leaderboard_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def active(self) -> bool:
        """Whether the consent is in force (not revoked)."""
        return self.revoked_at is None


class Campaign(OrganizationOwned, TimestampMixin, Base):
    """A business objective with a measurable target and content items to share."""

    __tablename__ = "advocacy_campaigns"

    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    target_metric: Mapped[str | None] = mapped_column(String(16))
    target_value: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[date | None] = mapped_column()
    # Archived campaigns keep their events and figures but leave the lists people pick from.
    archived_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[ContentItem]] = relationship(back_populates="campaign",
                                                    order_by="ContentItem.id")


class ContentItem(OrganizationOwned, TimestampMixin, Base):
    """A piece of content learners are invited to share, with suggested angles and sample
    posts in French and English, and its place on the editorial calendar: a publication window
    (from ``starts_on``, until ``ends_on`` included, open-ended without it), the networks it is
    meant for, and the staff member who looks after it.
    """

    __tablename__ = "advocacy_content_items"
    __table_args__ = (
        # The calendar's month and week, and "open now" for the learners and the digest.
        Index("ix_advocacy_content_items_org_starts_on", "organization_id", "starts_on"),
    )

    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("advocacy_campaigns.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # A text to share (an idea proposed by a colleague, an announcement) may have no address.
    url: Mapped[str | None] = mapped_column(String(2000))
    # The suggested angle in French (the organization's first language), then in English.
    angle: Mapped[str | None] = mapped_column(Text)
    angle_en: Mapped[str | None] = mapped_column(Text)
    sample_post: Mapped[str | None] = mapped_column(Text)
    sample_post_en: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date | None] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column()
    # Comma-separated network codes (NETWORKS); empty: any network.
    networks: Mapped[str] = mapped_column(String(200), default="", server_default="")
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)

    campaign: Mapped[Campaign | None] = relationship(back_populates="items")
    owner: Mapped[User | None] = relationship()

    @property
    def network_list(self) -> list[str]:
        """The target networks, in the order of NETWORKS."""
        chosen = set(filter(None, (self.networks or "").split(",")))
        return [n for n in NETWORKS if n in chosen]

    def is_open(self, day: date) -> bool:
        """Whether the item is to share on ``day`` (inside its publication window)."""
        return (self.starts_on is not None and self.starts_on <= day
                and (self.ends_on is None or day <= self.ends_on))


PROPOSAL_STATUSES = ("pending", "approved", "declined")


class ContentProposal(Base):
    """A member's idea for the calendar (a link or a text, with a note for the reviewer), and
    its review: approved into a content item, or declined with a reason the proposer reads.
    """

    __tablename__ = "advocacy_content_proposals"
    __table_args__ = (Index("ix_advocacy_content_proposals_org_status", "organization_id",
                            "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    proposed_by_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending",
                                        server_default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    decline_reason: Mapped[str | None] = mapped_column(Text)
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("advocacy_content_items.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    content_item: Mapped[ContentItem | None] = relationship()


class CalendarFeed(Base):
    """A staff member's secret address for subscribing to the editorial calendar from a
    calendar app (no session there). Only a hash of the token is kept; revoking it, or issuing
    a new one, makes the old address answer 404.
    """

    __tablename__ = "advocacy_calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class AdvocacyEvent(OrganizationOwned, Base):
    """One real action on a social network and its latest metrics."""

    __tablename__ = "advocacy_events"
    __table_args__ = (
        # The idempotency key: a re-import or a replayed webhook updates, never duplicates.
        UniqueConstraint("organization_id", "idem_key"),
        Index("ix_advocacy_events_org_occurred", "organization_id", "occurred_at"),
        # One person's events in a period: the impact report's windows, exercise verification,
        # the timeline (and the user foreign key's cascades). It carries the totals the impact
        # estimate sums per person, so that reads the index alone (lms.impact.comparison).
        Index("ix_advocacy_events_user_occurred_totals", "user_id", "occurred_at",
              "organization_id", "kind", "clicks", "reactions", "comments", "signups", "leads",
              "hires"),
        # Most events name no campaign nor content item: only those that do are indexed (the
        # lookups and the foreign keys' ON DELETE SET NULL look for a value).
        Index("ix_advocacy_events_campaign_id", "campaign_id",
              postgresql_where=text("campaign_id IS NOT NULL"),
              sqlite_where=text("campaign_id IS NOT NULL")),
        Index("ix_advocacy_events_content_item_id", "content_item_id",
              postgresql_where=text("content_item_id IS NOT NULL"),
              sqlite_where=text("content_item_id IS NOT NULL")),
    )
    organization_indexed = False
    # Imports write thousands of events at once: no foreign key to the organization for the
    # database to check on each (migration 0042); deleted with the organization (below). The
    # person's key stays (erasure and the person's deletion rely on its cascade).
    organization_foreign_key = False

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("advocacy_campaigns.id", ondelete="SET NULL"))
    content_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("advocacy_content_items.id", ondelete="SET NULL"))
    url: Mapped[str | None] = mapped_column(String(2000))
    occurred_at: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(200))
    idem_key: Mapped[str] = mapped_column(String(64))
    impressions: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    clicks: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    reactions: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    comments: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    reshares: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    signups: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    leads: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    hires: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    with_own_comment: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The post's text when the source gives it (personal data: exported, erased, retained
    # like the rest of the event); compared across colleagues for the "parrot effect".
    text: Mapped[str | None] = mapped_column(Text)
    statement_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    content_item: Mapped[ContentItem | None] = relationship()


# The person of the organization's own rows in AdvocacyDailyFigure: everyone's figures summed.
EVERYONE = 0


class LeaderboardSums:
    """The sums the leaderboard ranks by, as the figures tables hold them: the events, those
    with the author's own comment, and their clicks (:class:`AdvocacyPersonMonth`,
    :class:`AdvocacyPersonTotal`, and every :class:`FigureSums`).
    """

    events: Mapped[int] = mapped_column(Integer)
    with_own_comment: Mapped[int] = mapped_column(Integer)
    clicks: Mapped[int] = mapped_column(Integer)


class FigureSums(LeaderboardSums):
    """Every sum of a figures row: :class:`LeaderboardSums` and the other :data:`METRICS`
    (:class:`AdvocacyDailyFigure`, :class:`AdvocacyCampaignTotal`), declared once so that the
    running totals hold the very columns of the daily figures.
    """

    impressions: Mapped[int] = mapped_column(Integer)
    reactions: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer)
    reshares: Mapped[int] = mapped_column(Integer)
    signups: Mapped[int] = mapped_column(Integer)
    leads: Mapped[int] = mapped_column(Integer)
    hires: Mapped[int] = mapped_column(Integer)


class AdvocacyDailyFigure(FigureSums, Base):
    """The events of one UTC day summed per person, network, kind, campaign and content item,
    and the same summed over everyone (``user_id`` :data:`EVERYONE`): what the advocacy
    dashboard reads instead of the events themselves (:mod:`lms.advocacy.figures` keeps
    it equal to the events). No campaign or content item is 0, not NULL, so that the key is
    one row and an upsert finds it on both databases; for the same reason the person is not a
    foreign key (the organization's rows hold 0). Users are never deleted (erasure empties
    them), and their figures move with their events.
    """

    __tablename__ = "advocacy_daily_figures"
    __table_args__ = (
        # Day ranges of the whole organization: the leaderboard, activation, people counted.
        Index("ix_advocacy_daily_figures_org_day_user", "organization_id", "day", "user_id",
              "events", "with_own_comment", "clicks"),
        # A campaign's rows (migration 0039_running_figures): its page's leaderboard
        # reads its people's sums from the index alone; partial (most rows have no campaign).
        Index("ix_advocacy_daily_figures_campaign", "organization_id", "campaign_id",
              "user_id", "events", "with_own_comment", "clicks",
              sqlite_where=text("campaign_id <> 0"), postgresql_where=text("campaign_id <> 0")),
        # The key's index holds the sums on PostgreSQL (migration 0037_dashboards): a team's
        # or a cohort's people's days are read from it alone, person by person.
        PrimaryKeyConstraint("organization_id", "user_id", "day", "network", "kind",
                             "campaign_id", "content_item_id", name="pk_advocacy_daily_figures",
                             postgresql_include=["events", "with_own_comment", *METRICS]),
    )

    # No foreign key (migration 0042): an import upserts tens of thousands of these rows, each
    # checked against the organizations otherwise; deleted with the organization (below).
    organization_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column()
    network: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int] = mapped_column(Integer)
    content_item_id: Mapped[int] = mapped_column(Integer)


class AdvocacyPersonMonth(LeaderboardSums, Base):
    """A person's events of one UTC calendar month summed (``month``: its first day): what
    the leaderboard and the people counted read for the whole months of a long period, so
    that "all time" or a year reads a row per active person and month, not one per
    person-day (:mod:`lms.advocacy.figures` keeps it equal to the person's daily figures).
    Only the sums the leaderboard ranks by; no campaign (a campaign's leaderboard reads the
    daily figures).
    """

    __tablename__ = "advocacy_person_months"
    __table_args__ = (
        # The sums in the index: a person's months read without the table, in person order.
        Index("ix_advocacy_person_months_sums", "organization_id", "user_id", "month",
              "events", "with_own_comment", "clicks"),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)


class AdvocacyPersonTotal(LeaderboardSums, Base):
    """A person's events of all time summed (the leaderboard's sums, as in
    :class:`AdvocacyPersonMonth`) and the last UTC day they have one on: what the leaderboard
    and the people counted over "all time" read (a row per person instead of one per person
    and month), and what the activation figure ("active in the last 30 days") counts instead
    of the last month of daily rows (:mod:`lms.advocacy.figures` keeps it with the daily
    figures). A person without any event has no row.
    """

    __tablename__ = "advocacy_person_totals"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_day: Mapped[date] = mapped_column()


class AdvocacyCampaignTotal(FigureSums, Base):
    """All the events of one campaign summed (everyone's, of all time): what its progress
    toward its target reads, a row per campaign instead of everyone's daily rows of it
    (:mod:`lms.advocacy.figures` keeps it with the daily figures). Not a foreign key to the
    campaign, as the daily figures' campaign is not: deleting a campaign unlinks its events
    and deletes its row here.
    """

    __tablename__ = "advocacy_campaign_totals"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The posts and shares among its events (the campaigns' "shares" target).
    shares: Mapped[int] = mapped_column(Integer)


@event.listens_for(Organization, "before_delete")
def _delete_event_rows(_mapper: Any, connection: Connection, target: Organization) -> None:
    """Delete an organization's events and daily figures: tables without a foreign key to the
    organization, whose cascade would have done this. Before the organization's row goes, so
    that its campaigns' and content items' deletion has no events left to unlink.
    """
    for table in (AdvocacyEvent, AdvocacyDailyFigure):
        connection.execute(delete(table).where(table.organization_id == target.id))


class AdvocacyTeamWeek(FigureSums, Base):
    """The events of one ISO week (``week``: its Monday, UTC) summed per team, network, kind,
    campaign and content item: what a team's dashboard reads for the whole weeks of its
    period instead of its people's daily rows (about a quarter of the rows). A person's rows
    are summed into the team :class:`AdvocacyTeamPerson` lists them in, which
    :mod:`lms.advocacy.figures` keeps with the daily figures; a page reads these rows only
    while that list is the team's current members with events (else it reads the daily
    figures, never a wrong figure).
    """

    __tablename__ = "advocacy_team_weeks"
    __table_args__ = (
        # The sums in the key's index on PostgreSQL: a team's weeks read from the index alone.
        PrimaryKeyConstraint("organization_id", "team", "week", "network", "kind",
                             "campaign_id", "content_item_id", name="pk_advocacy_team_weeks",
                             postgresql_include=["events", "with_own_comment", *METRICS]),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(120))
    week: Mapped[date] = mapped_column()
    network: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int] = mapped_column(Integer)
    content_item_id: Mapped[int] = mapped_column(Integer)


class AdvocacyTeamPerson(Base):
    """The team each person's daily figures are summed into in :class:`AdvocacyTeamWeek`
    (None: none), a row per person with figures: their team when their first event came,
    moved when their membership's team changes through the ORM, and by ``relais
    rebuild-advocacy-figures``. Not a foreign key to the user, as the daily figures' person
    is not (erasure re-points both).
    """

    __tablename__ = "advocacy_team_people"
    __table_args__ = (
        # A team's people, compared with its members on each read of its weeks.
        Index("ix_advocacy_team_people_team", "organization_id", "team", "user_id"),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team: Mapped[str | None] = mapped_column(String(120))
