"""WhatsApp's per-message prices (``domain.message_prices`` and ``spend.whatsapp`` in the brand file): by category
and the customer's market, free-form messages charged since 1 October 2026 (the older terms a setting), and the brand
file's checks."""
from __future__ import annotations

import pytest

from chalicelib.domain.config import ChannelSpend
from chalicelib.domain.message_prices import category_of, message_price_usd

UTILITY = {"whatsapp_template": {"name": "case_update", "language": "en", "category": "utility"}}
MARKETING = {"whatsapp_template": {"name": "offer", "language": "en", "category": "marketing"}}
AUTHENTICATION = {"whatsapp_template": {"name": "code", "language": "en", "category": "authentication"}}


def price(budget: ChannelSpend, extra: dict, recipient: str = "447700900123") -> float:
    return message_price_usd(budget, "whatsapp", extra=extra, recipient=recipient)


def test_free_form_messages_cost_the_service_rate_and_templates_their_category_in_the_customers_market():
    budget = ChannelSpend(daily_usd=10)
    assert price(budget, {}) == 0.022  # service, since 1 October 2026
    assert price(budget, {}, recipient="33612345678") == 0.0077
    assert price(budget, UTILITY) == 0.022
    assert price(budget, MARKETING) == 0.0529
    assert price(budget, AUTHENTICATION) == 0.0358
    assert price(budget, MARKETING, recipient="5511987654321") == 0.0604  # a market not listed: other
    assert price(budget, UTILITY, recipient="+447700900123") == 0.022


def test_the_longest_calling_code_wins_and_a_number_is_never_its_own_market():
    budget = ChannelSpend(daily_usd=10, per_message_usd={"marketing": {"1": 0.025, "1242": 0.074, "other": 0.06}})
    assert price(budget, MARKETING, recipient="12425551234") == 0.074  # the Bahamas, not North America
    assert price(budget, MARKETING, recipient="15551234567") == 0.025
    assert price(budget, MARKETING, recipient="1") == 0.06  # too short to be a number in a market
    assert price(budget, MARKETING, recipient="bsuid.US.1349") == 0.06  # a username, not a number: other


def test_a_template_without_a_known_category_is_priced_as_the_dearest():
    assert category_of({"whatsapp_template": {"name": "x", "language": "en"}}) == "marketing"
    assert category_of({"whatsapp_template": {"name": "x", "language": "en", "category": "promo"}}) == "marketing"
    assert category_of({"whatsapp_template": "broken"}) == "marketing"
    assert category_of({"whatsapp_template": None}) == "service"


def test_since_october_2026_service_and_utility_are_charged_and_the_older_terms_can_be_set():
    charged = ChannelSpend(daily_usd=10)  # the terms in force since 1 October 2026
    assert price(charged, {}) == 0.022
    assert charged.message_price_usd("whatsapp", category="utility", recipient="447700900123",
                                     window_open=True) == 0.022
    older = ChannelSpend(daily_usd=10, free_in_window=["service", "utility"])  # 1 July 2025 - 30 September 2026
    assert price(older, {}) == 0
    assert older.message_price_usd("whatsapp", category="utility", recipient="447700900123", window_open=True) == 0
    assert older.message_price_usd("whatsapp", category="marketing", recipient="447700900123",
                                   window_open=True) == 0.0529  # marketing is always charged


@pytest.mark.parametrize("spend, problem", [
    ({"daily_usd": 1, "per_message_usd": {"promotional": {"other": 0.1}}}, "unknown category 'promotional'"),
    ({"daily_usd": 1, "per_message_usd": {"utility": {"UK": 0.02}}}, "must be a country calling code"),
    ({"daily_usd": 1, "per_message_usd": {"utility": {"44": -0.02}}}, "cannot be negative"),
    ({"daily_usd": 1, "free_in_window": ["marketng"]}, "unknown category 'marketng'"),
])
def test_the_brand_file_says_what_is_wrong_with_a_price(spend, problem):
    with pytest.raises(ValueError, match=problem):
        ChannelSpend.model_validate(spend)


def test_the_shipped_brand_file_prices_whatsapp():
    from chalicelib.configfile import load_config
    from chalicelib.settings import ROOT

    budget = load_config(ROOT / "brand.yaml").spend["whatsapp"]
    assert price(budget, UTILITY) == 0.022 and price(budget, MARKETING, recipient="33612345678") == 0.0604
    assert price(budget, {}) == 0.022
