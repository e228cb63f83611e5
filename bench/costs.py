"""What a million mentions of one scenario cost, by component, at list prices (eu-west-2, on-demand, no free tier).

The prices are recorded here with the run; check them against the AWS and X price pages before quoting a figure.
The AWS side is computed from what the bench measured per mention (AWS calls, DynamoDB units, log bytes, Lambda
invocations and time); the platform side from what was actually sent (a post with a URL costs more on X).
"""
from __future__ import annotations

from typing import Any

from chalicelib.domain.config.delivery import ChannelSpend

REGION = "eu-west-2"
PRICES: dict[str, Any] = {
    "region": REGION,
    "currency": "USD",
    "lambda_gb_second": 0.0000166667,  # x86_64
    "lambda_per_million_requests": 0.20,
    "dynamodb_per_million_wru": 0.7425,  # on-demand, Standard table class
    "dynamodb_per_million_rru": 0.1485,
    "sqs_per_million_requests": 0.40,  # standard queues; a request carries up to 64 KB
    "api_gateway_per_million_requests": 3.70,  # REST API (what Chalice deploys), first 333 million a month
    "cloudwatch_logs_per_gb_ingested": 0.5985,
    "x_per_owned_read": 0.001,  # X API pay-per-use: reading a mention of the brand's account (the poller)
    "x_per_post": 0.015,
    "x_per_post_with_url": 0.20,
    "meta_graph_api": 0.0, "bluesky": 0.0, "mastodon": 0.0,
}
ASSUMPTIONS: dict[str, Any] = {
    "lambda_memory_mb": 512,  # .chalice/config.json, stages dev and prod
    "aws_call_ms_in_region": 8,  # a DynamoDB or SQS call from Lambda in the same region
    "lambda_invocations": "one per webhook request and one per SQS message (batches of one: quiet traffic; "
                          "batching under load only lowers Lambda requests and SQS receives)",
    "sqs_consumer_requests_per_message": 2,  # the event source mapping's ReceiveMessage and DeleteMessageBatch
    "lambda_platform_log_bytes_per_invocation": 350,  # START, END and REPORT lines
    "lambda_duration": "the app's own time measured here (in-process time minus the same number of bare moto "
                       "calls) plus aws_call_ms_in_region per AWS call",
    "x_webhook_mentions": "delivered by the Account Activity webhook, not billed as reads; read by the poller "
                          "instead, each mention adds x_per_owned_read",
    "not_counted": "idle long polling of the event source mappings, X-Ray traces, storage, data transfer, "
                   "alarms, the free tiers",
}


def lambda_seconds(app_seconds: float, aws_calls: int) -> float:
    return max(0.001, app_seconds) + aws_calls * ASSUMPTIONS["aws_call_ms_in_region"] / 1000


def per_million(measured: dict[str, Any]) -> dict[str, Any]:
    """``measured``: one mention's figures for a scenario: ``lambda_invocations``, ``lambda_seconds``,
    ``wru``, ``rru``, ``sqs_requests``, ``api_requests``, ``log_bytes``, ``x_posts``, ``x_posts_with_url``."""
    p, million = PRICES, 1_000_000
    gb = ASSUMPTIONS["lambda_memory_mb"] / 1024
    aws = {
        "lambda_compute": measured["lambda_seconds"] * gb * p["lambda_gb_second"] * million,
        "lambda_requests": measured["lambda_invocations"] * p["lambda_per_million_requests"],
        "dynamodb_writes": measured["wru"] * p["dynamodb_per_million_wru"],
        "dynamodb_reads": measured["rru"] * p["dynamodb_per_million_rru"],
        "sqs": measured["sqs_requests"] * p["sqs_per_million_requests"],
        "api_gateway": measured["api_requests"] * p["api_gateway_per_million_requests"],
        "cloudwatch_logs": measured["log_bytes"] * million / 1e9 * p["cloudwatch_logs_per_gb_ingested"],
    }
    platform = {"x_posts": measured["x_posts"] * p["x_per_post"] * million,
                "x_posts_with_url": measured["x_posts_with_url"] * p["x_per_post_with_url"] * million}
    aws_total, platform_total = sum(aws.values()), sum(platform.values())
    return {"aws": {k: round(v, 2) for k, v in aws.items()}, "aws_total": round(aws_total, 2),
            "platform": {k: round(v, 2) for k, v in platform.items()}, "platform_total": round(platform_total, 2),
            "total": round(aws_total + platform_total, 2),
            "x_reads_if_polled": round(p["x_per_owned_read"] * million, 2)}


#: WhatsApp's cases in the cost table: (what, its category, whether the customer-service window is open). The prices
#: come from the spend budget's own code and defaults (``ChannelSpend.message_price_usd``, Meta's USD rate card from
#: 1 July 2025, service messages charged since 1 October 2026): the table and the budget cannot disagree. Markets:
#: the brand's (the UK, +44) and every other.
WHATSAPP_CASES: tuple[tuple[str, str, bool], ...] = (
    ("acknowledgement (free-form, inside the 24-hour window)", "service", True),
    ("agent's reply inside the window (free-form)", "service", True),
    ("utility template after the window", "utility", False),
    ("marketing template", "marketing", False),
)
WHATSAPP_MARKETS = {"UK (+44)": "447700900123", "other markets": "99999999999"}


def whatsapp_per_million() -> list[dict[str, Any]]:
    """WhatsApp's charge per million messages of each case, per market (the AWS side is that of the scenarios
    measured above: a WhatsApp message takes the same path as any other channel's)."""
    budget = ChannelSpend(daily_usd=1)
    return [{"case": case, "category": category,
             "per_million": {market: round(budget.message_price_usd("whatsapp", category=category, recipient=number,
                                                                    window_open=inside) * 1_000_000, 2)
                             for market, number in WHATSAPP_MARKETS.items()}}
            for case, category, inside in WHATSAPP_CASES]
