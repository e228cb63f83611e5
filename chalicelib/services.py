"""``Services``: everything a use case may touch, typed by its port. Built in one place (``bootstrap``), on
DynamoDB and SQS in the Lambda and the local stack, in memory in fast tests."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.channels.base import (
    BlueskySearch,
    MastodonTags,
    MentionSource,
    NotificationSource,
    Sender,
    SnsEndpoint,
    XSearch,
)
from chalicelib.clock import Clock
from chalicelib.domain.config import BrandConfig
from chalicelib.domain.rota import Calendar
from chalicelib.domain.status_link import StatusLinks
from chalicelib.settings import Secrets, Settings
from chalicelib.store.ports import (
    AckLedger,
    AgentDirectory,
    AgentPresence,
    AnswerCounts,
    CustomerStore,
    DeskConsumers,
    FormRateLimit,
    Health,
    IncidentStore,
    LocalPosts,
    MentionStore,
    NotifyLog,
    OutboxLedger,
    PlaceSightings,
    PollCursors,
    Queues,
    ReportFigureStore,
    SandboxOutbox,
    SavedReplyStore,
    SavedViews,
    SendAllowance,
    TeamFeedMarks,
    ThreadIndex,
    TicketStore,
    TriageLabels,
    WaitingRoom,
    WhatsAppStatuses,
    WordIndex,
)

if TYPE_CHECKING:  # the posting adapters load on a team feed's first delivery, not with every handler
    from chalicelib.channels.notify import Notifier
    from chalicelib.channels.threads import ThreadsSource


@dataclass(frozen=True)
class Stores:
    mentions: MentionStore
    tickets: TicketStore
    customers: CustomerStore
    threads: ThreadIndex
    acks: AckLedger
    outbox: OutboxLedger
    allowance: SendAllowance
    incidents: IncidentStore
    cursors: PollCursors
    form_limit: FormRateLimit
    sandbox: SandboxOutbox
    notify_log: NotifyLog  # stage local: what Slack, Teams and webhooks would have been sent
    health: Health
    answers: AnswerCounts
    labels: TriageLabels
    reports: ReportFigureStore
    waiting: WaitingRoom
    saved_replies: SavedReplyStore
    presence: AgentPresence
    views: SavedViews
    words: WordIndex
    feed: TeamFeedMarks
    whatsapp_statuses: WhatsAppStatuses  # what became of the brand's WhatsApp messages (ADR 0028)
    sightings: PlaceSightings  # the messages naming each of the brand's places, and their suggested incidents
    local_posts: LocalPosts  # stage local: the posts the listening searches' stand-ins answer


@dataclass(frozen=True)
class Searches:
    """How listening's searches are built (``bootstrap``): X recent search, Bluesky post search, Mastodon hashtag
    timelines."""

    x: Callable[[], XSearch]
    bluesky: Callable[[], BlueskySearch]
    mastodon: Callable[[], MastodonTags]


@dataclass
class Services:
    settings: Settings
    clock: Clock
    secrets: Secrets
    config: BrandConfig
    calendar: Calendar
    stores: Stores
    queues: Queues
    sender_factory: Callable[[str], Sender]
    x_api_factory: Callable[[], MentionSource]
    sns: SnsEndpoint
    agents: AgentDirectory
    bluesky_api_factory: Callable[[], NotificationSource]
    mastodon_api_factory: Callable[[], NotificationSource]
    consumers: DeskConsumers  # the desk queues' consumers, switched by the rota (ADR 0024)
    notifier_factory: Callable[[], Notifier]  # Slack, Teams, signed webhooks (the local stack: a recording stand-in)
    threads_api_factory: Callable[[], ThreadsSource] | None = None  # the Threads poller's reader
    searches: Searches | None = None  # listening's searches (bootstrap.build gives them)
    _senders: dict[str, Sender] = field(default_factory=dict)
    _x_api: MentionSource | None = None
    _feeds: dict[str, NotificationSource] = field(default_factory=dict)

    # the stores by name, so that use cases read ``svc.tickets``
    @property
    def mentions(self) -> MentionStore:
        return self.stores.mentions

    @property
    def tickets(self) -> TicketStore:
        return self.stores.tickets

    @property
    def customers(self) -> CustomerStore:
        return self.stores.customers

    @property
    def threads(self) -> ThreadIndex:
        return self.stores.threads

    @property
    def acks(self) -> AckLedger:
        return self.stores.acks

    @property
    def outbox(self) -> OutboxLedger:
        return self.stores.outbox

    @property
    def allowance(self) -> SendAllowance:
        return self.stores.allowance

    @property
    def incidents(self) -> IncidentStore:
        return self.stores.incidents

    @property
    def cursors(self) -> PollCursors:
        return self.stores.cursors

    @property
    def form_limit(self) -> FormRateLimit:
        return self.stores.form_limit

    @property
    def sandbox(self) -> SandboxOutbox:
        return self.stores.sandbox

    @property
    def whatsapp_statuses(self) -> WhatsAppStatuses:
        return self.stores.whatsapp_statuses

    @property
    def answers(self) -> AnswerCounts:
        return self.stores.answers

    @property
    def labels(self) -> TriageLabels:
        return self.stores.labels

    @property
    def reports(self) -> ReportFigureStore:
        return self.stores.reports

    @property
    def waiting(self) -> WaitingRoom:
        return self.stores.waiting

    @property
    def saved_replies(self) -> SavedReplyStore:
        return self.stores.saved_replies

    @property
    def presence(self) -> AgentPresence:
        return self.stores.presence

    @property
    def views(self) -> SavedViews:
        return self.stores.views

    @property
    def words(self) -> WordIndex:
        return self.stores.words

    @property
    def sightings(self) -> PlaceSightings:
        return self.stores.sightings

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.settings.retention_days)

    @cached_property
    def links(self) -> StatusLinks:
        """Status links: the public base URL and the signing key, read once."""
        return StatusLinks(self.settings.public_base_url, self.secrets.get("STATUS_LINK_KEY"))

    def rate_per_minute(self, channel: str) -> float:
        """The channel's outbound rate: sends a minute, a token bucket of that many tokens (GCRA). The brand file's
        ``outbound.per_minute`` for the channel (each platform's documented limit by default), unless the environment
        sets ``OUTBOUND_PER_MINUTE``, an operator's override for every channel."""
        override = self.settings.outbound_per_minute
        return override if override is not None else self.config.outbound.rate(channel)

    def sender(self, channel: str) -> Sender:
        if channel not in self._senders:
            self._senders[channel] = self.sender_factory(channel)
        return self._senders[channel]

    def x_api(self) -> MentionSource:
        """The X API client used by the mention poller (built on first use)."""
        if self._x_api is None:
            self._x_api = self.x_api_factory()
        return self._x_api

    @cached_property
    def notifier(self) -> Notifier:
        """Posts team-feed notices (built on first use)."""
        return self.notifier_factory()

    def bluesky_api(self) -> NotificationSource:
        """The brand's Bluesky notifications (built on first use; it keeps its session for the container's life)."""
        if "bluesky" not in self._feeds:
            self._feeds["bluesky"] = self.bluesky_api_factory()
        return self._feeds["bluesky"]

    def mastodon_api(self) -> NotificationSource:
        """The brand's Mastodon notifications (built on first use)."""
        if "mastodon" not in self._feeds:
            self._feeds["mastodon"] = self.mastodon_api_factory()
        return self._feeds["mastodon"]

    @cached_property
    def _threads_api(self) -> ThreadsSource:
        if self.threads_api_factory is None:
            raise RuntimeError("no Threads reader was built (bootstrap.build gives one)")
        return self.threads_api_factory()

    @cached_property
    def _searches(self) -> Searches:
        if self.searches is None:
            raise RuntimeError("no listening searches were built (bootstrap.build gives them)")
        return self.searches

    @cached_property
    def _x_search(self) -> XSearch:
        return self._searches.x()

    @cached_property
    def _bluesky_search(self) -> BlueskySearch:
        return self._searches.bluesky()

    @cached_property
    def _mastodon_search(self) -> MastodonTags:
        return self._searches.mastodon()

    def x_search(self) -> XSearch:
        """Listening's X recent search (built on first use)."""
        return self._x_search

    def bluesky_search(self) -> BlueskySearch:
        """Listening's Bluesky post search, signed in as the brand's account (built on first use)."""
        return self._bluesky_search

    def mastodon_search(self) -> MastodonTags:
        """Listening's hashtag timelines of the brand's Mastodon instance (built on first use)."""
        return self._mastodon_search

    def threads_api(self) -> ThreadsSource:
        """The brand's Threads mentions and the replies under its posts (built on first use)."""
        return self._threads_api
