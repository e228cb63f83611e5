"""The one place that builds adapters and wires them into ``Services``. Built lazily on first use, once per
cold start (nothing happens at import); tests build their own with ``build(settings, ...)``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

import boto3

from chalicelib.channels.base import Sender
from chalicelib.clock import Clock
from chalicelib.settings import Secrets, Settings
from chalicelib.store.models import CustomerIdentityModel, MentionModel, StateModel, TicketModel, bind_models
from chalicelib.store.queues import Queues
from chalicelib.store.repositories import (
    CustomerRepository,
    MentionRepository,
    StateRepository,
    TicketRepository,
)

SENDER_CHANNELS = ("x", "facebook", "instagram", "messenger", "email", "form")


@dataclass
class Services:
    settings: Settings
    clock: Clock
    secrets: Secrets
    config: Any  # domain.config.BrandConfig
    calendar: Any  # domain.rota.Calendar
    mentions: MentionRepository
    tickets: TicketRepository
    customers: CustomerRepository
    state: StateRepository
    queues: Queues
    sender_factory: Callable[[str], Sender]
    _senders: dict[str, Sender] = field(default_factory=dict)
    _x_api: Any = None

    def now(self):
        return self.clock.now()

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.settings.retention_days)

    def sender(self, channel: str) -> Sender:
        if channel not in self._senders:
            self._senders[channel] = self.sender_factory(channel)
        return self._senders[channel]

    def x_api(self):
        """The X API client used by the mention poller (built on first use)."""
        if self._x_api is None:
            from chalicelib.channels.x_api import XApi

            self._x_api = XApi(bearer_token=self.secrets.get("X_BEARER_TOKEN"))
        return self._x_api


def _real_sender_factory(settings: Settings, secrets: Secrets, session) -> Callable[[str], Sender]:
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
        raise ValueError(f"no sender for channel {channel!r}")

    return make


def build(settings: Settings, *, clock: Clock | None = None, secrets: Secrets | None = None,
          config=None, sender_factory: Callable[[str], Sender] | None = None) -> Services:
    from chalicelib.domain.config import load_config
    from chalicelib.domain.rota import Calendar

    clock = clock or Clock.from_setting(settings.clock)
    secrets = secrets or Secrets(settings)
    config = config or load_config(settings.config_path)
    bind_models(region=settings.region, endpoint_url=settings.endpoint_url, tables={
        MentionModel: settings.mentions_table, TicketModel: settings.tickets_table,
        CustomerIdentityModel: settings.customers_table, StateModel: settings.state_table,
    })
    session = boto3.session.Session(region_name=settings.region)
    sqs = session.client("sqs", endpoint_url=settings.endpoint_url)
    state = StateRepository()
    retention = timedelta(days=settings.retention_days)
    if sender_factory is None:
        if settings.sandbox_outbound:
            from chalicelib.channels.sandbox import SandboxSender

            sender_factory = lambda channel: SandboxSender(state, clock.now, channel)  # noqa: E731
        else:
            sender_factory = _real_sender_factory(settings, secrets, session)
    return Services(
        settings=settings,
        clock=clock,
        secrets=secrets,
        config=config,
        calendar=Calendar(config),
        mentions=MentionRepository(retention),
        tickets=TicketRepository(retention),
        customers=CustomerRepository(retention),
        state=state,
        queues=Queues(sqs, inbound=settings.inbound_queue, outbox=settings.outbox_queue,
                      desk_queue_name=config.queue_name),
        sender_factory=sender_factory,
    )


_services: Services | None = None


def services() -> Services:
    """The process-wide services, built on first call (cold start) from the Lambda environment."""
    global _services
    if _services is None:
        from chalicelib.telemetry import tracer

        tracer.patch(["boto3", "botocore", "requests"])
        _services = build(Settings.from_env())
    return _services


def use(svc: Services | None) -> None:
    """Replace the process-wide services (tests and the local runner)."""
    global _services
    _services = svc
