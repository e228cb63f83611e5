"""How answers go out, and at what cost: the ``sla``, ``busy``, ``links``, ``spend`` and ``outbound`` sections of
the brand file (response-time targets, the in-hours busy acknowledgement, where a reply carries no URL, paid-API
budgets per channel and day, and the outbound rate per channel)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from chalicelib.domain.config.base import _Model, _problem
from chalicelib.domain.mention import CHANNELS

# --------------------------------------------------------------------------------------------------
# schema: sla
# --------------------------------------------------------------------------------------------------


class SlaTarget(_Model):
    first_response: int = Field(gt=0, description="minutes")
    next_response: int = Field(gt=0, description="minutes")
    business_hours: bool = False


# --------------------------------------------------------------------------------------------------
# schema: busy
# --------------------------------------------------------------------------------------------------


class BusyAck(_Model):
    """The in-hours busy acknowledgement (``domain.busy``): a new ticket on an open desk whose expected wait
    (backlog ÷ answers per hour over the last ``window_minutes``) exceeds ``threshold_minutes`` gets one
    acknowledgement of kind ``busy`` with the wait as a range; with fewer than ``min_answers`` answers in the
    window there is no estimate and nothing is sent. Needs ``templates.busy``."""

    enabled: bool = True
    threshold_minutes: int = Field(default=30, gt=0)
    window_minutes: int = Field(default=120, ge=60, le=24 * 60)  # answers are counted per hour, kept 3 days
    min_answers: int = Field(default=4, ge=1)


# --------------------------------------------------------------------------------------------------
# schema: links
# --------------------------------------------------------------------------------------------------


class LinkPolicy(_Model):
    """Where acknowledgements carry no URL: on the channels in ``no_url_in_public``, a public reply (a post anyone
    sees) leaves out the status link and the incident's link; the reference stays, and the customer follows it at
    ``GET /status`` (reference + handle or e-mail). A private reply (a DM) keeps the link. X charges far more for a
    post that contains a URL, hence the default."""

    no_url_in_public: list[str] = Field(default_factory=lambda: ["x"])

    @field_validator("no_url_in_public", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            for channel in value:
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
            if len(set(value)) != len(value):
                raise _problem("a channel is listed twice")
        return value


# --------------------------------------------------------------------------------------------------
# schema: spend
# --------------------------------------------------------------------------------------------------


#: What a platform charges per post, in US dollars: (a post, a post containing a URL). A budget on a channel that
#: is not listed here needs its prices in the brand file.
DEFAULT_POST_PRICES_USD: dict[str, tuple[float, float]] = {"x": (0.015, 0.20), "whatsapp": (0.0, 0.0)}

#: What WhatsApp charges per delivered message, in US dollars, by category and the recipient's market (the country
#: calling code their ``wa_id`` starts with; ``other``: every market not listed). Meta's per-message rate card in
#: force from 1 July 2025 (README "WhatsApp" has the sources and the dates); ``service`` is a free-form message,
#: priced at the market's utility rate since 1 October 2026 (``DEFAULT_FREE_IN_WINDOW``).
#: A brand outside these markets lists its customers' markets in ``spend.whatsapp.per_message_usd``.
DEFAULT_MESSAGE_PRICES_USD: dict[str, dict[str, dict[str, float]]] = {"whatsapp": {
    "marketing": {"44": 0.0529, "other": 0.0604},
    "utility": {"44": 0.022, "other": 0.0077},
    "authentication": {"44": 0.0358, "other": 0.0077},
    "service": {"44": 0.022, "other": 0.0077},
}}
#: The categories WhatsApp does not charge inside an open customer-service window (24 hours from the customer's
#: last message). From 1 July 2025 to 30 September 2026 free-form (service) messages and utility templates were free
#: there; since 1 October 2026 both are charged (service at the market's utility rate), so by default none is. A
#: brand still billed on the older terms (or whose first 1,000 service messages a month cover it) sets
#: ``free_in_window: [service, utility]``.
DEFAULT_FREE_IN_WINDOW: dict[str, tuple[str, ...]] = {"whatsapp": ()}
MESSAGE_CATEGORIES = ("service", "utility", "marketing", "authentication")


#: What listening's X recent search may spend on reads a day when ``spend.x.read_daily_usd`` is not given (US
#: dollars; X's pay-per-use rate card: $0.005 a post read, $0.010 a user in the expansion).
DEFAULT_READ_DAILY_USD = 5.0


class ChannelSpend(_Model):
    """A channel's paid-API budget for a day (the brand's time zone): the outbox holds a message whose price would
    take the day's spend past ``daily_usd`` until the next day (or until the budget is raised)."""

    daily_usd: float = Field(gt=0)
    per_post_usd: float | None = Field(default=None, ge=0)  # default: DEFAULT_POST_PRICES_USD
    per_post_with_url_usd: float | None = Field(default=None, ge=0)
    #: WhatsApp: USD per delivered message by category, then market (calling code, or ``other``); a category given
    #: replaces that category's default table (``DEFAULT_MESSAGE_PRICES_USD``)
    per_message_usd: dict[str, dict[str, float]] = Field(default_factory=dict)
    #: WhatsApp: the categories sent free inside the customer-service window (default ``DEFAULT_FREE_IN_WINDOW``)
    free_in_window: list[str] | None = None
    #: X: what listening's recent search may spend on reads a day (default ``DEFAULT_READ_DAILY_USD``), and what X
    #: charges per post read and per user in a page's expansion
    read_daily_usd: float | None = Field(default=None, gt=0)
    per_read_usd: float = Field(default=0.005, ge=0)
    per_user_read_usd: float = Field(default=0.010, ge=0)

    @field_validator("per_message_usd", mode="before")
    @classmethod
    def _calling_codes(cls, value: Any) -> Any:
        """A calling code written unquoted in YAML (``44: 0.022``) is read as the text it is."""
        if isinstance(value, Mapping):
            return {category: {str(market): usd for market, usd in markets.items()}
                    if isinstance(markets, Mapping) else markets for category, markets in value.items()}
        return value

    @field_validator("per_message_usd")
    @classmethod
    def _message_prices(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for category, markets in value.items():
            if category not in MESSAGE_CATEGORIES:
                raise _problem(f"per_message_usd: unknown category {category!r} (use one of "
                               f"{', '.join(MESSAGE_CATEGORIES)})")
            for market, usd in markets.items():
                if market != "other" and not (market.isdigit() and 1 <= len(market) <= 4):
                    raise _problem(f"per_message_usd.{category}: market {market!r} must be a country calling code "
                                   "(1 to 4 digits, as 44) or other")
                if usd < 0:
                    raise _problem(f"per_message_usd.{category}.{market}: a price cannot be negative")
        return value

    @field_validator("free_in_window")
    @classmethod
    def _free_categories(cls, value: list[str] | None) -> list[str] | None:
        for category in value or []:
            if category not in MESSAGE_CATEGORIES:
                raise _problem(f"free_in_window: unknown category {category!r} (use one of "
                               f"{', '.join(MESSAGE_CATEGORIES)})")
        return value

    def message_price_usd(self, channel: str, *, category: str, recipient: str, window_open: bool) -> float:
        """A per-message channel's price (WhatsApp): nothing for a category free inside the open customer-service
        window, else the price of the recipient's market (the longest calling code ``recipient`` starts with),
        else of ``other``."""
        free = self.free_in_window if self.free_in_window is not None else DEFAULT_FREE_IN_WINDOW.get(channel, ())
        if window_open and category in free:
            return 0.0
        table = self.per_message_usd.get(category) or DEFAULT_MESSAGE_PRICES_USD.get(channel, {}).get(category, {})
        digits = recipient.lstrip("+")
        for length in (4, 3, 2, 1):
            if digits[:length].isdigit() and len(digits) > length and digits[:length] in table:
                return table[digits[:length]]
        return table.get("other", 0.0)

    def price_usd(self, channel: str, *, with_url: bool) -> float:
        post, with_link = DEFAULT_POST_PRICES_USD.get(channel, (0.0, 0.0))
        if self.per_post_usd is not None:
            post = self.per_post_usd
        if self.per_post_with_url_usd is not None:
            with_link = self.per_post_with_url_usd
        elif self.per_post_usd is not None and channel not in DEFAULT_POST_PRICES_USD:
            with_link = post
        return with_link if with_url else post


def usd_micros(usd: float) -> int:
    """Dollars as whole micro-dollars: the spend is counted in integers, so that adding never drifts."""
    return int(round(usd * 1_000_000))


# --------------------------------------------------------------------------------------------------
# schema: outbound
# --------------------------------------------------------------------------------------------------


#: Threads allows 1,000 API-published replies per profile in any 24 hours. A bucket of one token refilled every
#: 86,400 / 999 seconds (86.5 s) lets at most 999 + 1 sends into any 24 hours, however they bunch up: a burst of
#: acknowledgements takes its slots one by one (the waiting room, ADR 0018) instead of hitting the cap and failing.
THREADS_REPLIES_PER_MINUTE = 999 / 1440


#: Sends a minute per channel when ``outbound.per_minute`` does not name the channel: each platform's documented
#: limit for the brand's account, as a sustained rate rounded down (the README's "Outbound rates per channel" has
#: the sources). A channel's token bucket holds that many sends, so a burst never exceeds one minute's worth; a rate
#: below one a minute holds one send, spaced evenly (a daily cap as a rate: ``THREADS_REPLIES_PER_MINUTE``).
DEFAULT_OUTBOUND_PER_MINUTE: dict[str, float] = {
    "x": 6,  # POST /2/tweets: 100 per 15 minutes per user, 10,000 per 24 hours per app (6.67 and 6.94 a minute)
    "facebook": 60,  # Pages API: 4,800 calls per engaged user per 24 hours; private replies use the Send API
    "messenger": 60,  # Send API: 300 calls a second per Page; the Page inbox stops above 40 messages a second
    "instagram": 12,  # private replies: 750 calls an hour per Instagram professional account (12.5 a minute)
    "bluesky": 8,  # PDS writes: 5,000 points an hour, 35,000 a day, a post costs 3 (11,666 a day, 8.1 a minute)
    "mastodon": 1,  # statuses: 300 per 3 hours per account, Mastodon's default (1.67 a minute)
    # Cloud API: 80 messages a second per business phone number (up to 1,000), inbound and outbound together, and
    # one message every 6 seconds to one customer (the pair rate). A bucket lets a minute's worth out at once, so
    # 80 a minute keeps any burst within one second's throughput; replies to one customer are minutes apart.
    "whatsapp": 80,
    "threads": THREADS_REPLIES_PER_MINUTE,  # replies: 1,000 per moving 24 hours per profile (0.69 a minute)
    "email": 30,  # SES sending rate, shared with form: 1 message a second in the sandbox (half of it each)
    "form": 30,  # the other half of the SES account's sending rate (replies to the web form go by e-mail)
}


class OutboundRates(_Model):
    """The outbound rate per channel (``outbound.per_minute``): sends a minute, one token bucket per channel. A
    channel the file does not name keeps :data:`DEFAULT_OUTBOUND_PER_MINUTE`. The environment's
    ``OUTBOUND_PER_MINUTE``, when set, overrides every channel (``Services.rate_per_minute``)."""

    per_minute: dict[str, int] = Field(default_factory=dict)

    @field_validator("per_minute", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for channel, rate in value.items():
                if channel not in CHANNELS:
                    raise _problem(f"unknown channel {channel!r} (use one of {', '.join(CHANNELS)})")
                if isinstance(rate, bool) or not isinstance(rate, int):
                    raise _problem(f"{channel}: the rate must be a whole number of sends a minute, not {rate!r}")
                if rate < 1:
                    raise _problem(f"{channel}: the rate must be at least 1 send a minute, not {rate}")
        return value

    def rate(self, channel: str) -> float:
        """Sends a minute on ``channel``: the file's figure, else the platform's documented default."""
        return self.per_minute.get(channel, DEFAULT_OUTBOUND_PER_MINUTE[channel])
