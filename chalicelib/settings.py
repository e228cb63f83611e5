"""One validated settings object, read once per cold start from the Lambda environment.

Every resource name, the stage and the optional endpoint override live here; nothing else reads os.environ.
Secrets are not settings: ``Secrets`` reads them from the environment in stage ``local`` (documented dummies in
``.chalice/config.json``) and from SSM Parameter Store (decrypted, cached) everywhere else.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ROOT = Path(__file__).resolve().parent

#: Secret name -> SSM parameter suffix under ``PARAMETER_PREFIX``.
SECRET_PARAMETERS = {
    "X_CONSUMER_SECRET": "x/consumer-secret",
    "X_BEARER_TOKEN": "x/bearer-token",
    "X_USER_TOKENS": "x/user-tokens",
    "META_APP_SECRET": "meta/app-secret",
    "META_VERIFY_TOKEN": "meta/verify-token",
    "META_PAGE_TOKEN": "meta/page-token",
    "WHATSAPP_ACCESS_TOKEN": "whatsapp/access-token",
    "BLUESKY_APP_PASSWORD": "bluesky/app-password",
    "MASTODON_ACCESS_TOKEN": "mastodon/access-token",
    "THREADS_APP_SECRET": "threads/app-secret",
    "THREADS_VERIFY_TOKEN": "threads/verify-token",
    "THREADS_ACCESS_TOKEN": "threads/access-token",
    "STATUS_LINK_KEY": "status-link-key",
    "ADMIN_TOKEN": "admin-token",
}
#: Secrets the brand file names (``notify.destinations.*.secret``): ``NOTIFY_CARE_SLACK`` -> ``notify/care-slack``.
NOTIFY_SECRET_RE = re.compile(r"^NOTIFY_[A-Z0-9]+(?:_[A-Z0-9]+)*$")


def secret_parameter(name: str) -> str | None:
    """The SSM parameter suffix (under ``PARAMETER_PREFIX``) of secret ``name``: a fixed one, or
    ``notify/<lower-kebab>`` for a ``NOTIFY_*`` secret a notification destination names; None for any other name."""
    if name in SECRET_PARAMETERS:
        return SECRET_PARAMETERS[name]
    if NOTIFY_SECRET_RE.match(name):
        return "notify/" + name.removeprefix("NOTIFY_").lower().replace("_", "-")
    return None


class SettingsError(Exception):
    pass


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = Field(pattern=r"^(local|test|dev|prod)$")
    region: str = "eu-west-2"
    endpoint_url: str | None = None  # AWS_ENDPOINT_URL: the embedded local AWS (moto server) or None for AWS
    mentions_table: str = "responder-mentions"
    tickets_table: str = "responder-tickets"
    customers_table: str = "responder-customers"
    state_table: str = "responder-state"
    inbound_queue: str = "responder-inbound"
    outbox_queue: str = "responder-outbox"
    inbound_queue_url: str = ""  # INBOUND_QUEUE_URL (a stack output): no GetQueueUrl; other queues' URLs derive from it
    outbox_queue_url: str = ""  # OUTBOX_QUEUE_URL (a stack output)
    notify_queue: str = "responder-notify"  # NOTIFY_QUEUE: the team feed's deliveries (Slack, Teams, webhooks)
    parameter_prefix: str = "/responder/dev/"
    public_base_url: str = "http://127.0.0.1:8000"  # where status links point (the API's public URL)
    retention_days: int = Field(default=90, ge=1, le=3650)
    config_path: str = str(ROOT / "brand.yaml")
    x_account_id: str = ""  # the brand's own X user id (its own events are skipped)
    meta_page_ids: list[str] = Field(default_factory=list)
    instagram_account_ids: list[str] = Field(default_factory=list)
    #: WHATSAPP_PHONE_NUMBER_IDS: the brand's WhatsApp phone number ids (Cloud API); messages to other numbers of the
    #: same WhatsApp Business Account are not taken (empty: every number the webhook names)
    whatsapp_phone_number_ids: list[str] = Field(default_factory=list)
    reply_from_address: str = ""  # SES sender for e-mail replies
    bluesky_handle: str = ""  # BLUESKY_HANDLE: the brand's Bluesky account (empty: the Bluesky poller is off)
    bluesky_service_url: str = "https://bsky.social"  # BLUESKY_SERVICE_URL: the account's PDS / entryway
    mastodon_instance_url: str = ""  # MASTODON_INSTANCE_URL: the brand's instance (empty: the Mastodon poller is off)
    mastodon_account: str = ""  # MASTODON_ACCOUNT: the brand's own user@instance (its own statuses are skipped)
    threads_user_id: str = ""  # THREADS_USER_ID: the brand's Threads user id (empty: no Threads replies, no poller)
    threads_username: str = ""  # THREADS_USERNAME: the brand's Threads username (its own posts are skipped)
    #: THREADS_INGEST: how Threads posts arrive: ``webhook`` (POST /webhooks/threads; needs advanced access) or
    #: ``poll`` (the poll_threads schedule reads them too; the webhook still takes signed deliveries)
    threads_ingest: str = Field(default="webhook", pattern=r"^(webhook|poll)$")
    #: OUTBOUND_PER_MINUTE: sends a minute on every channel, overriding the brand file's rates per channel
    #: (``outbound.per_minute``); unset (None): each channel's own rate
    outbound_per_minute: int | None = Field(default=None, ge=1)
    reopen_window_days: int = Field(default=7, ge=0, le=365)  # a customer writing again within it reopens the case
    sandbox_outbound: bool = False  # True: record outbound messages instead of sending (stage local)
    agent_pool_id: str = ""  # AGENT_POOL_ID: the Cognito user pool agents sign in to
    agent_client_id: str = ""  # AGENT_CLIENT_ID: its app client (USER_PASSWORD_AUTH, no secret)
    claim_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # an untouched claim returns to the desk
    #: FORM_PER_ADDRESS_PER_HOUR: web-form submissions accepted per source address per clock hour (then 429)
    form_per_address_per_hour: int = Field(default=5, ge=1, le=1_000_000)
    #: STATUS_LOOKUP_MISSES_PER_HOUR: status lookups that find nothing allowed per source address per clock hour
    #: (then 429 until the hour ends; lookups that find the customer's request never count)
    status_lookup_misses_per_hour: int = Field(default=10, ge=1, le=1_000_000)
    clock: str | None = None  # RESPONDER_CLOCK: ISO-8601 instant the app's clock starts at

    _split = field_validator("meta_page_ids", "instagram_account_ids", "whatsapp_phone_number_ids",
                             mode="before")(_csv)

    @field_validator("public_base_url", "bluesky_service_url", "mastodon_instance_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("bluesky_service_url", "mastodon_instance_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https:// address")
        return value

    @field_validator("bluesky_handle", "mastodon_account", "threads_username")
    @classmethod
    def _handle(cls, value: str) -> str:
        return value.strip().lstrip("@").lower()

    @model_validator(mode="after")
    def _stage_guards(self) -> Settings:
        """Combinations that would be dangerous in a deployed stage are refused at cold start."""
        if self.sandbox_outbound and self.stage != "local":
            raise ValueError(f"SANDBOX_OUTBOUND is only for stage local: in stage {self.stage} it would stop every "
                             "real reply and expose /local/outbox")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        names = {
            "stage": "STAGE", "region": "AWS_REGION", "endpoint_url": "AWS_ENDPOINT_URL",
            "mentions_table": "MENTIONS_TABLE", "tickets_table": "TICKETS_TABLE",
            "customers_table": "CUSTOMERS_TABLE", "state_table": "STATE_TABLE",
            "inbound_queue": "INBOUND_QUEUE", "outbox_queue": "OUTBOX_QUEUE", "notify_queue": "NOTIFY_QUEUE",
            "inbound_queue_url": "INBOUND_QUEUE_URL", "outbox_queue_url": "OUTBOX_QUEUE_URL",
            "parameter_prefix": "PARAMETER_PREFIX", "public_base_url": "PUBLIC_BASE_URL",
            "retention_days": "RETENTION_DAYS", "config_path": "BRAND_CONFIG",
            "x_account_id": "X_ACCOUNT_ID", "meta_page_ids": "META_PAGE_IDS",
            "instagram_account_ids": "INSTAGRAM_ACCOUNT_IDS",
            "whatsapp_phone_number_ids": "WHATSAPP_PHONE_NUMBER_IDS", "reply_from_address": "REPLY_FROM_ADDRESS",
            "outbound_per_minute": "OUTBOUND_PER_MINUTE",
            "bluesky_handle": "BLUESKY_HANDLE", "bluesky_service_url": "BLUESKY_SERVICE_URL",
            "mastodon_instance_url": "MASTODON_INSTANCE_URL", "mastodon_account": "MASTODON_ACCOUNT",
            "threads_user_id": "THREADS_USER_ID", "threads_username": "THREADS_USERNAME",
            "threads_ingest": "THREADS_INGEST",
            "reopen_window_days": "REOPEN_WINDOW_DAYS", "sandbox_outbound": "SANDBOX_OUTBOUND",
            "clock": "RESPONDER_CLOCK", "agent_pool_id": "AGENT_POOL_ID", "agent_client_id": "AGENT_CLIENT_ID",
            "claim_idle_minutes": "CLAIM_IDLE_MINUTES", "form_per_address_per_hour": "FORM_PER_ADDRESS_PER_HOUR",
            "status_lookup_misses_per_hour": "STATUS_LOOKUP_MISSES_PER_HOUR",
        }
        values = {field: env[var] for field, var in names.items() if env.get(var) not in (None, "")}
        values.setdefault("region", env.get("AWS_DEFAULT_REGION", "eu-west-2"))
        if "stage" not in values:
            raise SettingsError("STAGE is not set (expected local, test, dev or prod)")
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"invalid settings: {problems}") from exc


class Secrets:
    """Credentials by name. Stages local and test: environment (documented dummies). Deployed stages (dev, prod):
    SSM SecureString only, decrypted and cached 5 minutes (a rotated value is read without a redeploy); a secret
    left in a deployed stage's environment is ignored (``tools.deploy`` refuses to deploy one)."""

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None,
                 fetch: Callable[[str], str] | None = None):
        self._settings = settings
        self._env = os.environ if env is None else env
        self._fetch = fetch

    @cached_property
    def _ssm_fetch(self) -> Callable[[str], str]:
        if self._fetch is not None:
            return self._fetch
        from aws_lambda_powertools.utilities import parameters

        return lambda name: parameters.get_parameter(name, decrypt=True, max_age=300)

    def get(self, name: str) -> str:
        parameter = secret_parameter(name)
        if parameter is None:
            raise KeyError(f"unknown secret {name}")
        if self._settings.stage in ("local", "test"):  # documented dummies; deployed stages never read env
            value = self._env.get(name)
            if value:
                return value
            raise SettingsError(f"{name} is not set in .chalice/config.json for stage {self._settings.stage}")
        return self._ssm_fetch(self._settings.parameter_prefix + parameter)
