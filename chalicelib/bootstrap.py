"""The one place that builds adapters and wires them into ``Services``. Built lazily on first use, once per
cold start (nothing happens at import); tests build their own with ``build(settings, ...)`` (DynamoDB and SQS, on
moto) or ``build(settings, memory=True)`` (the in-memory twins of every store and queue)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where they are built: `import app` stays cheap (the cold start builds them once)
    from chalicelib.channels.base import (
        BlueskySearch,
        MastodonTags,
        MentionSource,
        NotificationSource,
        Sender,
        SnsEndpoint,
        XSearch,
    )
    from chalicelib.channels.bluesky_api import BlueskyApi
    from chalicelib.channels.mastodon_api import MastodonApi
    from chalicelib.channels.notify import Notifier
    from chalicelib.channels.threads import ThreadsSource
    from chalicelib.channels.x_api import XApi
    from chalicelib.clock import Clock
    from chalicelib.domain.config import BrandConfig
    from chalicelib.services import Searches, Services, Stores
    from chalicelib.settings import Secrets, Settings
    from chalicelib.store.ports import AgentDirectory, DeskConsumers, Queues

def dynamo_stores(settings: Settings) -> Stores:
    from chalicelib.services import Stores
    from chalicelib.store import repositories as db
    from chalicelib.store.models import CustomerIdentityModel, MentionModel, StateModel, TicketModel, bind_models

    bind_models(region=settings.region, endpoint_url=settings.endpoint_url, tables={
        MentionModel: settings.mentions_table, TicketModel: settings.tickets_table,
        CustomerIdentityModel: settings.customers_table, StateModel: settings.state_table,
    })
    retention = timedelta(days=settings.retention_days)
    return Stores(
        mentions=db.DynamoMentions(retention), tickets=db.DynamoTickets(retention),
        customers=db.DynamoCustomers(retention), threads=db.DynamoThreads(retention),
        acks=db.DynamoAckLedger(retention), outbox=db.DynamoOutbox(retention), allowance=db.DynamoAllowance(retention),
        incidents=db.DynamoIncidents(retention), cursors=db.DynamoCursors(retention),
        form_limit=db.DynamoFormLimit(retention), sandbox=db.DynamoSandbox(retention),
        notify_log=db.DynamoNotifyLog(retention),
        health=db.DynamoHealth(retention), answers=db.DynamoAnswers(retention),
        reports=db.DynamoReportFigures(retention),
        labels=db.DynamoTriageLabels(retention), waiting=db.DynamoWaitingRoom(retention),
        saved_replies=db.DynamoSavedReplies(retention), presence=db.DynamoPresence(retention),
        views=db.DynamoSavedViews(retention), words=db.DynamoWordIndex(retention),
        feed=db.DynamoTeamFeedMarks(retention), whatsapp_statuses=db.DynamoWhatsAppStatuses(retention),
        sightings=db.DynamoPlaceSightings(retention), local_posts=db.DynamoLocalPosts(retention))


def memory_stores() -> Stores:
    from chalicelib.services import Stores
    from chalicelib.store import memory as m

    return Stores(
        mentions=m.MemoryMentions(), tickets=m.MemoryTickets(), customers=m.MemoryCustomers(),
        threads=m.MemoryThreads(), acks=m.MemoryAckLedger(), outbox=m.MemoryOutbox(), allowance=m.MemoryAllowance(),
        incidents=m.MemoryIncidents(), cursors=m.MemoryCursors(), form_limit=m.MemoryFormLimit(),
        sandbox=m.MemorySandbox(), health=m.MemoryHealth(), answers=m.MemoryAnswerCounts(),
        notify_log=m.MemoryNotifyLog(),
        reports=m.MemoryReportFigures(),
        labels=m.MemoryTriageLabels(), waiting=m.MemoryWaitingRoom(), saved_replies=m.MemorySavedReplies(),
        presence=m.MemoryPresence(), views=m.MemorySavedViews(), words=m.MemoryWordIndex(),
        feed=m.MemoryTeamFeedMarks(), whatsapp_statuses=m.MemoryWhatsAppStatuses(),
        sightings=m.MemoryPlaceSightings(), local_posts=m.MemoryLocalPosts())


def _real_sender_factory(settings: Settings, secrets: Secrets, session: Any) -> Callable[[str], Sender]:
    def make(channel: str) -> Sender:
        if channel == "x":
            from chalicelib.channels.x_api import XSender

            consumer_key, access_token, access_secret = secrets.get("X_USER_TOKENS").split(",")
            return XSender(consumer_key=consumer_key, consumer_secret=secrets.get("X_CONSUMER_SECRET"),
                           access_token=access_token, access_token_secret=access_secret)
        if channel in ("facebook", "instagram", "messenger"):
            from chalicelib.channels.meta_api import MetaSender

            return MetaSender(secrets.get("META_PAGE_TOKEN"))
        if channel in ("email", "form"):
            from chalicelib.channels.ses import SesSender

            return SesSender(settings.reply_from_address, client=session.client("sesv2"))
        if channel == "bluesky":
            from chalicelib.channels.bluesky_api import BlueskySender

            return BlueskySender(settings.bluesky_handle, lambda: secrets.get("BLUESKY_APP_PASSWORD"),
                                 service_url=settings.bluesky_service_url)
        if channel == "mastodon":
            from chalicelib.channels.mastodon_api import MastodonSender

            return MastodonSender(settings.mastodon_instance_url, lambda: secrets.get("MASTODON_ACCESS_TOKEN"),
                                  own_acct=settings.mastodon_account)
        if channel == "whatsapp":
            from chalicelib.channels.whatsapp_api import WhatsAppSender

            # the number the customer wrote to comes with each message; the first configured one is the default
            return WhatsAppSender(secrets.get("WHATSAPP_ACCESS_TOKEN"),
                                  phone_number_id=next(iter(settings.whatsapp_phone_number_ids), ""))
        if channel == "threads":
            from chalicelib.channels.threads_api import ThreadsSender

            return ThreadsSender(settings.threads_user_id, lambda: secrets.get("THREADS_ACCESS_TOKEN"),
                                 username=settings.threads_username)
        raise ValueError(f"no sender for channel {channel!r}")

    return make


def _x_client(secrets: Secrets) -> XApi:
    """The brand's X API client (mentions and recent search)."""
    from chalicelib.channels.x_api import XApi

    return XApi(bearer_token=secrets.get("X_BEARER_TOKEN"))


def _bluesky_client(settings: Settings, secrets: Secrets) -> BlueskyApi:
    """The brand's Bluesky client (notifications and post search), signed in as the brand on first use."""
    from chalicelib.channels.bluesky_api import BlueskyApi

    return BlueskyApi(settings.bluesky_handle, lambda: secrets.get("BLUESKY_APP_PASSWORD"),
                      service_url=settings.bluesky_service_url)


def _mastodon_client(settings: Settings, secrets: Secrets) -> MastodonApi:
    """The brand's Mastodon client (notifications and hashtag timelines)."""
    from chalicelib.channels.mastodon_api import MastodonApi

    return MastodonApi(settings.mastodon_instance_url, lambda: secrets.get("MASTODON_ACCESS_TOKEN"),
                       own_acct=settings.mastodon_account)


def _x_api_factory(settings: Settings, secrets: Secrets) -> Callable[[], MentionSource]:
    def make() -> MentionSource:
        if settings.stage == "local":  # the local stack never reaches the internet
            from chalicelib.channels.sandbox import LocalMentionSource

            return LocalMentionSource()
        return _x_client(secrets)

    return make


def _bluesky_api_factory(settings: Settings, secrets: Secrets) -> Callable[[], NotificationSource]:
    def make() -> NotificationSource:
        if settings.stage == "local":  # the local stack never reaches the internet
            from chalicelib.channels.sandbox import LocalNotificationSource

            return LocalNotificationSource()
        return _bluesky_client(settings, secrets)

    return make


def _mastodon_api_factory(settings: Settings, secrets: Secrets) -> Callable[[], NotificationSource]:
    def make() -> NotificationSource:
        if settings.stage == "local":  # the local stack never reaches the internet
            from chalicelib.channels.sandbox import LocalNotificationSource

            return LocalNotificationSource()
        return _mastodon_client(settings, secrets)

    return make


def _search_factories(settings: Settings, secrets: Secrets, stores: Stores, clock: Clock) -> Searches:
    """Listening's three searches: the platforms' own APIs, or in stage local (the local stack never reaches the
    internet) stand-ins that answer the posts injected with ``POST /local/listening/posts``."""
    from chalicelib.services import Searches

    if settings.stage == "local":
        from chalicelib.channels import sandbox

        posts, now = stores.local_posts, clock.now
        return Searches(x=lambda: sandbox.LocalXSearch(posts, now),
                        bluesky=lambda: sandbox.LocalBlueskySearch(posts, now, settings.bluesky_handle),
                        mastodon=lambda: sandbox.LocalMastodonTags(posts, now, settings.mastodon_account))

    def x() -> XSearch:
        return _x_client(secrets)

    def bluesky() -> BlueskySearch:
        return _bluesky_client(settings, secrets)

    def mastodon() -> MastodonTags:
        return _mastodon_client(settings, secrets)

    return Searches(x=x, bluesky=bluesky, mastodon=mastodon)


def _threads_api_factory(settings: Settings, secrets: Secrets) -> Callable[[], ThreadsSource]:
    def make() -> ThreadsSource:
        if settings.stage == "local":  # the local stack never reaches the internet
            from chalicelib.channels.sandbox import LocalThreadsSource

            return LocalThreadsSource()
        from chalicelib.channels.threads_api import ThreadsApi

        return ThreadsApi(settings.threads_user_id, lambda: secrets.get("THREADS_ACCESS_TOKEN"),
                          username=settings.threads_username)

    return make


def _sns(settings: Settings) -> SnsEndpoint:
    """Stage local never reaches SNS (its stand-in verifies nothing); every other stage fetches over HTTPS."""
    if settings.stage == "local":
        from chalicelib.channels.sandbox import LocalSns

        return LocalSns()
    from chalicelib.channels.sns_http import SnsHttp

    return SnsHttp()


def build(settings: Settings, *, clock: Clock | None = None, secrets: Secrets | None = None,
          config: BrandConfig | None = None, sender_factory: Callable[[str], Sender] | None = None,
          x_api_factory: Callable[[], MentionSource] | None = None, sns: SnsEndpoint | None = None,
          agents: AgentDirectory | None = None, memory: bool = False,
          bluesky_api_factory: Callable[[], NotificationSource] | None = None,
          mastodon_api_factory: Callable[[], NotificationSource] | None = None,
          threads_api_factory: Callable[[], ThreadsSource] | None = None,
          searches: Searches | None = None) -> Services:
    from chalicelib.clock import Clock
    from chalicelib.configfile import load_config
    from chalicelib.domain.rota import Calendar
    from chalicelib.services import Services
    from chalicelib.settings import Secrets

    clock = clock or Clock.from_setting(settings.clock)
    secrets = secrets or Secrets(settings)
    config = config or load_config(settings.config_path)
    session: Any = None
    if memory:
        from chalicelib.store.memory import MemoryQueues

        stores = memory_stores()
        queues: Queues = MemoryQueues(inbound=settings.inbound_queue, outbox=settings.outbox_queue,
                                   desk_queue_name=config.queue_name, notify=settings.notify_queue)
    else:
        import boto3

        from chalicelib.store.queues import SqsQueues

        stores = dynamo_stores(settings)
        session = boto3.session.Session(region_name=settings.region)
        queues = SqsQueues(session.client("sqs", endpoint_url=settings.endpoint_url), inbound=settings.inbound_queue,
                           outbox=settings.outbox_queue, desk_queue_name=config.queue_name,
                           urls={settings.inbound_queue: settings.inbound_queue_url,
                                 settings.outbox_queue: settings.outbox_queue_url}, notify=settings.notify_queue)
    if sender_factory is None:
        if settings.sandbox_outbound:
            from chalicelib.channels.sandbox import SandboxSender

            sandbox, now = stores.sandbox, clock.now
            sender_factory = lambda channel: SandboxSender(sandbox, now, channel)  # noqa: E731
        else:
            sender_factory = _real_sender_factory(settings, secrets, session)
    if agents is None:
        if memory:
            from chalicelib.store.memory import MemoryAgents

            agents = MemoryAgents()
        else:
            agents = _cognito_agents(settings, config, session)
    def notifier_factory() -> Notifier:
        from zoneinfo import ZoneInfo

        from chalicelib.channels.notify import notifier

        return notifier(settings, secrets, stores, clock, tz=ZoneInfo(config.brand.timezone))

    return Services(settings=settings, clock=clock, secrets=secrets, config=config, calendar=Calendar(config),
                    stores=stores, queues=queues, sender_factory=sender_factory,
                    x_api_factory=x_api_factory or _x_api_factory(settings, secrets), sns=sns or _sns(settings),
                    agents=agents,
                    bluesky_api_factory=bluesky_api_factory or _bluesky_api_factory(settings, secrets),
                    mastodon_api_factory=mastodon_api_factory or _mastodon_api_factory(settings, secrets),
                    threads_api_factory=threads_api_factory or _threads_api_factory(settings, secrets),
                    consumers=_desk_consumers(settings, session, memory), notifier_factory=notifier_factory,
                    searches=searches or _search_factories(settings, secrets, stores, clock))


def _desk_consumers(settings: Settings, session: Any, memory: bool) -> DeskConsumers:
    """Deployed stages switch Lambda's event source mappings; the local stack's runner and the tests read a switch
    in the state table (or in memory) exactly where Lambda's pollers would read the mapping's state."""
    if memory:
        from chalicelib.store.memory import MemoryDeskConsumers

        return MemoryDeskConsumers()
    if settings.stage in ("local", "test"):
        from chalicelib.store.repositories import DynamoDeskConsumers

        return DynamoDeskConsumers(timedelta(days=settings.retention_days))
    from chalicelib.store.consumers import LambdaDeskConsumers, recorded_mappings

    return LambdaDeskConsumers(lambda: session.client("lambda"),
                               recorded_mappings(settings.parameter_prefix + "desk-consumers"))


def _cognito_agents(settings: Settings, config: BrandConfig, session: Any) -> AgentDirectory:
    from chalicelib.channels.cognito import CognitoAgents

    return CognitoAgents(client=lambda: session.client("cognito-idp", endpoint_url=settings.endpoint_url),
                         pool_id=settings.agent_pool_id, client_id=settings.agent_client_id, region=settings.region,
                         teams=config.team_ids, endpoint_url=settings.endpoint_url)


_services: Services | None = None
#: one build at a time: the local runner's handler threads and its HTTP server all ask at once as the stack starts,
#: and each would otherwise build (and throw away) a whole set of clients, starving the rest of the CPU
_building = threading.Lock()


def services() -> Services:
    """The process-wide services, built on first call (cold start) from the Lambda environment."""
    global _services
    if _services is None:
        with _building:
            if _services is None:
                from chalicelib.settings import Settings
                from chalicelib.telemetry import tracer

                tracer()  # where tracing is on, patches boto3, botocore and requests before any client is built
                _services = build(Settings.from_env())
    return _services


def use(svc: Services | None) -> None:
    """Replace the process-wide services (tests and the local runner)."""
    global _services
    _services = svc
