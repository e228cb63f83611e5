"""The brand configuration's schema: teams, rota, desks, routing, triage rules, SLA targets and templates.

Pure: pydantic models and the checks that span sections, nothing else. Reading ``chalicelib/brand.yaml``
(its header documents the format) and reporting every problem as ``file:line: location: problem`` is the
job of :mod:`chalicelib.configfile`; this package only says what a valid configuration is.

One module per section of the brand file, and every name is imported from here:

- :mod:`~chalicelib.domain.config.base`: the models' base and what the sections share (ids, time zones, the
  spellings of priorities and intents);
- :mod:`~chalicelib.domain.config.brand`: ``brand``;
- :mod:`~chalicelib.domain.config.rota`: ``teams`` (slots, holidays, overrides) and ``desks``;
- :mod:`~chalicelib.domain.config.routing`: ``routing``;
- :mod:`~chalicelib.domain.config.triage`: ``triage``, with the acknowledgement policy;
- :mod:`~chalicelib.domain.config.delivery`: ``sla``, ``busy``, ``links``, ``spend`` and ``outbound``;
- :mod:`~chalicelib.domain.config.templates`: ``templates``;
- :mod:`~chalicelib.domain.config.saved_replies`: ``saved_replies`` (the team's canned answers);
- :mod:`~chalicelib.domain.config.notify`: ``notify`` (Slack, Teams and webhook destinations per desk and team);
- :mod:`~chalicelib.domain.config.whatsapp`: ``whatsapp`` (the approved templates sent after the 24-hour window);
- :mod:`~chalicelib.domain.config.brandconfig`: ``version`` and the whole file, with the checks that span sections.

Validation collects problems rather than stopping at the first: field errors come from pydantic, and
:func:`cross_check` finds the problems that span sections (a desk naming an unknown team, a triage rule
naming an unknown desk, overlapping slots, a template that does not parse or uses an unknown variable).
It works on raw data too, so those problems are reported alongside the field errors of the same file.
"""
from __future__ import annotations

from chalicelib.domain.config.base import ID_RE, INTENTS, PRIORITIES, IntentName, Location, PriorityName
from chalicelib.domain.config.brand import Brand
from chalicelib.domain.config.brandconfig import SUPPORTED_VERSIONS, BrandConfig, CrossReferenceErrors, cross_check
from chalicelib.domain.config.delivery import (
    DEFAULT_OUTBOUND_PER_MINUTE,
    DEFAULT_POST_PRICES_USD,
    BusyAck,
    ChannelSpend,
    LinkPolicy,
    OutboundRates,
    SlaTarget,
    usd_micros,
)
from chalicelib.domain.config.notify import Destination, DestinationKind, NotifyConfig, notify_problems
from chalicelib.domain.config.rota import (
    DAYS,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    QUEUE_PREFIX,
    Day,
    Desk,
    HolidayCalendar,
    Override,
    Slot,
    Team,
    format_minutes,
)
from chalicelib.domain.config.routing import Routing
from chalicelib.domain.config.saved_replies import SAVED_REPLY_VARIABLES, SavedReply, saved_reply_problem
from chalicelib.domain.config.templates import TEMPLATE_VARIABLES, TemplateSet
from chalicelib.domain.config.triage import (
    DEFAULT_ACK_CHANNELS,
    DEFAULT_ACKNOWLEDGED,
    DEFAULT_INTENT_ORDER,
    NEVER_ACKNOWLEDGED,
    TAGGED,
    AckPolicy,
    DeskRule,
    HighReach,
    NamedPattern,
    Negation,
    NotRequests,
    Rule,
    SentimentRule,
    TriageRules,
)
from chalicelib.domain.config.whatsapp import WhatsAppConfig, WhatsAppTemplate

__all__ = [
    "BrandConfig",
    "Brand",
    "Team",
    "Slot",
    "Override",
    "HolidayCalendar",
    "Desk",
    "Routing",
    "Rule",
    "TriageRules",
    "DeskRule",
    "HighReach",
    "SentimentRule",
    "Negation",
    "NamedPattern",
    "NotRequests",
    "AckPolicy",
    "DEFAULT_ACK_CHANNELS",
    "DEFAULT_ACKNOWLEDGED",
    "TAGGED",
    "OutboundRates",
    "DEFAULT_OUTBOUND_PER_MINUTE",
    "NEVER_ACKNOWLEDGED",
    "SlaTarget",
    "BusyAck",
    "LinkPolicy",
    "ChannelSpend",
    "DEFAULT_POST_PRICES_USD",
    "usd_micros",
    "CrossReferenceErrors",
    "Location",
    "Day",
    "PriorityName",
    "IntentName",
    "TemplateSet",
    "SavedReply",
    "NotifyConfig",
    "Destination",
    "DestinationKind",
    "notify_problems",
    "WhatsAppConfig",
    "WhatsAppTemplate",
    "SAVED_REPLY_VARIABLES",
    "saved_reply_problem",
    "DAYS",
    "PRIORITIES",
    "INTENTS",
    "TEMPLATE_VARIABLES",
    "QUEUE_PREFIX",
    "DEFAULT_INTENT_ORDER",
    "SUPPORTED_VERSIONS",
    "ID_RE",
    "MINUTES_PER_DAY",
    "MINUTES_PER_WEEK",
    "cross_check",
    "format_minutes",
]
