"""What one outbound message costs on a channel priced per message by category and market (WhatsApp), for the
day's spend budget (``usecases.deliver.price``).

A template message (``extra["whatsapp_template"]``, with its ``category``) costs its category's price in the
recipient's market; a free-form message is a ``service`` message. Inside the customer-service window (24 hours
from the customer's last message) the categories in ``free_in_window`` cost nothing. A free-form message can only
be sent inside the window (WhatsApp refuses it after, and charges nothing), so it is priced as inside it. A template
is priced as outside it: this product sends one only once the window has closed (an agent's reply refused after 24
hours), and an outbox message cannot tell the WhatsApp window from the customer's latest message on another linked
channel, so the budget counts the price rather than risk counting a paid message as free."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.config.delivery import DEFAULT_MESSAGE_PRICES_USD, ChannelSpend

#: The category of a template whose category is missing or unknown: the dearest, so a budget is never overspent.
UNKNOWN_CATEGORY = "marketing"


def priced_per_message(channel: str) -> bool:
    return channel in DEFAULT_MESSAGE_PRICES_USD


def category_of(extra: Mapping[str, Any]) -> str:
    """``service`` for a free-form message; a template's category (``utility``, ``marketing``,
    ``authentication``), the dearest when it says none."""
    template = extra.get("whatsapp_template")
    if not template:
        return "service"
    category = str(template.get("category") or "").lower() if isinstance(template, Mapping) else ""
    return category if category in ("utility", "marketing", "authentication") else UNKNOWN_CATEGORY


def message_price_usd(budget: ChannelSpend, channel: str, *, extra: Mapping[str, Any], recipient: str) -> float:
    """The price of one message in US dollars (0.0: free). The market is read from the customer's phone number
    (``extra["wa_id"]``, else ``recipient``); a customer known only by a business-scoped user id pays ``other``."""
    category = category_of(extra)
    number = str(extra.get("wa_id") or "") or recipient
    return budget.message_price_usd(channel, category=category, recipient=number,
                                    window_open=category == "service")
