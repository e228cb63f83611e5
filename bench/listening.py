"""What listening costs (docs/adr/0032-listening.md): per day for the brand file's example terms, and per listened
post on AWS.

- **X recent search** is paid per resource in each answer: $0.005 a post read and $0.010 a user (the post's author,
  in the ``author_id`` expansion); an empty answer costs nothing, and a post read twice in one day is billed once
  (https://docs.x.com/x-api/getting-started/pricing, https://docs.x.com/x-api/fundamentals/post-cap). The search
  asks for at most what is left of ``spend.x.read_daily_usd`` (default $5), so a day's reads are capped: the table
  gives, for a number of matching posts a day, the posts read, what they cost and the search requests made, with
  each post by a different author (the dearest case: every post pays for its author too).
- **Bluesky** post search and **Mastodon** hashtag timelines are free: one request per search term (Bluesky) or
  hashtag (Mastodon) per run, 288 runs a day (every 5 minutes), when fewer than a page of posts arrive per run.
- **AWS per listened post**, measured on moto through the real handlers as ``bench.scenarios`` measures "a new
  out-of-hours complaint": Sunday 03:00, a post naming the brand without tagging it, queued as the poller queues it
  (``ingest.enqueue_mentions``, source ``listening``), then ``process_inbound`` and ``deliver_outbox``; beside it
  the same kind of post tagging the brand, through the same path (a polled mention). The listened post opens a
  ticket for a person and is never acknowledged, so it should send nothing. The poll run's own invocation is shared
  by every post of the run and is left out.

    python -m bench.listening            # prints the figures as JSON
"""
from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.meter import Meter

#: Matching posts a day on X the table is computed for.
POSTS_PER_DAY = (200, 1_000, 5_000)
#: poll_listening runs every 5 minutes (chalicelib/api/events.py).
RUN_MINUTES = 5
RUNS_PER_DAY = 24 * 60 // RUN_MINUTES
#: The most posts one page of X recent search (max_results), Bluesky's searchPosts (limit) and a Mastodon timeline
#: (limit: 40) return.
PAGE = {"x": 100, "bluesky": 100, "mastodon": 40}
#: An assumption, not a measurement: one HTTPS request to a platform's API from Lambda (what a run's time is mostly
#: spent on; the local stand-ins answer in-process).
PLATFORM_REQUEST_MS = 150
SUNDAY_NIGHT = datetime(2027, 3, 7, 3, 0, tzinfo=timezone.utc)  # every desk but on-call closed
BRAND_X_ID = "1000000001"


def x_prices(config: Any) -> dict[str, float]:
    """X's read prices and the day's read budget as the brand file sets them (``spend.x``), else the defaults the
    poller applies: the table and the budget read the same figures."""
    from chalicelib.domain.config.delivery import DEFAULT_READ_DAILY_USD, ChannelSpend

    x = config.spend.get("x") or ChannelSpend(daily_usd=1)
    return {"per_read_usd": x.per_read_usd, "per_user_read_usd": x.per_user_read_usd,
            "read_daily_usd": x.read_daily_usd or DEFAULT_READ_DAILY_USD}


def x_day(posts: int, prices: dict[str, float]) -> dict[str, Any]:
    """One day of X recent search with ``posts`` matching posts spread over the day, each by a different author."""
    per_post = prices["per_read_usd"] + prices["per_user_read_usd"]
    affordable = math.floor(prices["read_daily_usd"] / per_post + 1e-9)
    read = min(posts, affordable)
    per_run = posts / RUNS_PER_DAY
    # runs until the budget is spent (then none until midnight), each one request, more when a run finds a page
    runs = RUNS_PER_DAY if posts <= affordable else min(RUNS_PER_DAY, math.ceil(affordable / per_run))
    requests = runs * max(1, math.ceil(per_run / PAGE["x"]))
    return {"matching_posts": posts, "posts_read": read, "not_read_that_day": posts - read,
            "read_usd": round(read * per_post, 2), "search_requests": requests,
            "budget_spent_at": None if posts <= affordable else _clock(runs * RUN_MINUTES)}


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def per_day(config: Any) -> dict[str, Any]:
    """The day's figures for the brand file's listening terms (computed: prices and the schedule's arithmetic)."""
    from chalicelib.domain.listening import hashtags, search_terms, x_query

    watch = config.listening
    prices = x_prices(config)
    per_post = prices["per_read_usd"] + prices["per_user_read_usd"]
    tags, queries = hashtags(watch), search_terms(watch)
    return {
        "terms": list(watch.terms), "exclude": list(watch.exclude),
        "x_query": x_query(watch, config.brand.x_handle), "runs_per_day": RUNS_PER_DAY,
        "x_prices": prices, "x_usd_per_post_read_with_its_author": round(per_post, 4),
        "x_posts_the_budget_buys": math.floor(prices["read_daily_usd"] / per_post + 1e-9),
        "x_posts_the_budget_buys_if_authors_were_free": math.floor(prices["read_daily_usd"]
                                                                   / prices["per_read_usd"] + 1e-9),
        "x": [x_day(n, prices) for n in POSTS_PER_DAY],
        "bluesky": {"queries": list(queries), "requests_per_day": len(queries) * RUNS_PER_DAY, "usd": 0.0,
                    "page": PAGE["bluesky"]},
        "mastodon": {"hashtags": list(tags), "requests_per_day": len(tags) * RUNS_PER_DAY, "usd": 0.0,
                     "page": PAGE["mastodon"]},
    }


def _mention(config: Any, n: int, text: str, user_id: str, at: datetime, *, listened: bool) -> Any:
    """An X post as the mention route would make it; a listened one carries what the listening poller adds."""
    from chalicelib.channels.x import parse
    from chalicelib.domain.listening import listening_extra, matched_terms
    from tests.helpers import tweet_event

    [mention] = parse(tweet_event(f"95{n:06d}", text, user_id=user_id, at=at), brand_id=BRAND_X_ID)
    if not listened:
        return mention
    terms = matched_terms(config.listening, text)
    return dataclasses.replace(mention, extra={**mention.extra, **listening_extra(terms, "x-search")})


def measure(rounds: int = 5) -> dict[str, Any]:
    """AWS calls, DynamoDB units and what was sent per post: a listened post, and the same kind of post tagging the
    brand, each queued as a poller queues it, processed and delivered through the real handlers on moto."""
    from bench.scenarios import Harness, summarise
    from chalicelib.domain.listening import FLAG
    from chalicelib.usecases.ingest import enqueue_mentions
    from tests.reliability.faults import LogCapture
    from tests.reliability.scenario import local_aws

    meter = Meter()
    samples: dict[str, list[dict[str, Any]]] = {"listened_post": [], "tagged_post": []}
    outcome: dict[str, Any] = {"tickets": 0, "flagged_listening": 0, "acks": {"listened_post": 0, "tagged_post": 0}}
    logs = LogCapture()
    with local_aws() as (svc, client, clock), meter.installed(), logs.installed():
        h = Harness(svc, client, clock, meter)
        for n in range(rounds + 1):
            h.clock.set(SUNDAY_NIGHT + timedelta(weeks=n))
            for name, text, source in (
                    ("listened_post", "Meridian Rail cancelled my train again and the app says nothing, awful",
                     "listening"),
                    ("tagged_post", "@MeridianRail cancelled my train again and the app says nothing, awful", "poll")):
                listened = source == "listening"
                user = f"8{n:03d}{int(listened)}"
                mention = _mention(svc.config, n * 2 + int(listened), text, user, h.clock.now(), listened=listened)
                figures = _one(h, logs, lambda m=mention, s=source: enqueue_mentions(svc, [m], source=s))
                with h.outside():
                    tickets = svc.tickets.for_customer(svc.customers.lookup(f"x#{user}"))
                if n:  # round 0 warms the container
                    samples[name].append(figures)
                    outcome["acks"][name] += len(figures["sent"])
                    if listened:
                        outcome["tickets"] += len(tickets)
                        outcome["flagged_listening"] += sum(1 for t in tickets if FLAG in t.flags)
            h.purge_desks()
        h.clock.advance(days=1)
        runs = _poll_runs(h)
        bare = _bare(h)
    summary = summarise(samples, bare)
    outcome["acks_per_post"] = {name: round(sent / max(1, rounds), 2) for name, sent in outcome.pop("acks").items()}
    return {"rounds": rounds, **summary, "outcome": outcome, "poll_runs": runs, "handler_errors": h.errors[:5]}


def _poll_runs(h: Any, posts: int = 10) -> dict[str, Any]:
    """The scheduled ``poll_listening`` itself, through its handler on stage local's search stand-ins: the AWS calls
    of a run that finds nothing new (288 a day) and of one that finds ``posts`` posts on each platform. The
    stand-ins' reads of the injected posts stand for the platforms' HTTPS answers and are not counted."""
    from tests.conftest import LambdaContext
    from tools.local_stack import scheduled_event

    store = h.svc.stores.local_posts
    recent = store.recent

    def recent_as_the_platform(*args: Any, **kwargs: Any) -> Any:
        with h.outside():
            return recent(*args, **kwargs)

    store.recent = recent_as_the_platform
    handler = h.handlers["poll_listening"]
    with h.outside():
        handler(scheduled_event("poll_listening"), LambdaContext())  # the first run: cursors made, a day looked back
    h.clock.advance(minutes=RUN_MINUTES)
    h.meter.usage()
    quiet_answer = handler(scheduled_event("poll_listening"), LambdaContext())
    quiet = h.meter.usage()
    texts = {"x": "Meridian Rail train {n} cancelled again, nobody on the platform knows anything",
             "bluesky": "Meridian Rail train {n} cancelled again, nobody on the platform knows anything",
             "mastodon": "#MeridianRail train {n} cancelled again, nobody on the platform knows anything"}
    with h.outside():
        injected = h.client.http.post("/local/listening/posts", headers={"Content-Type": "application/json"},
                                      body=json.dumps([{"channel": channel, "text": text.format(n=n)}
                                                       for channel, text in texts.items() for n in range(posts)]))
        assert injected.status_code == 202, injected.body
    h.clock.advance(minutes=RUN_MINUTES)
    h.meter.usage()
    busy_answer = handler(scheduled_event("poll_listening"), LambdaContext())
    busy = h.meter.usage()
    store.recent = recent
    h.purge_desks()
    queued = sum(int(answer.get("queued", 0)) for answer in busy_answer.values())
    return {
        "quiet_run": {"aws_calls": quiet.total_calls(), "dynamodb_wru": round(quiet.wru, 2),
                      "dynamodb_rru": round(quiet.rru, 2), "calls_by_operation": dict(sorted(quiet.calls.items())),
                      "answer": quiet_answer},
        "run_with_posts": {"posts_injected_per_platform": posts, "queued": queued, "aws_calls": busy.total_calls(),
                           "dynamodb_wru": round(busy.wru, 2), "dynamodb_rru": round(busy.rru, 2),
                           "calls_by_operation": dict(sorted(busy.calls.items())), "answer": busy_answer},
        "quiet_day": _quiet_day(quiet, sum(int(answer.get("pages", 0)) for answer in quiet_answer.values())),
    }


def _quiet_day(quiet: Any, requests: int) -> dict[str, float]:
    """What 288 runs that find nothing cost on AWS in a day (list prices; the Lambda's time as ``bench.costs``
    counts it, its AWS calls at the in-region latency, plus ``requests`` platform requests a run at
    ``PLATFORM_REQUEST_MS``)."""
    from bench import costs

    p = costs.PRICES
    seconds = costs.lambda_seconds(0.0, quiet.total_calls()) + requests * PLATFORM_REQUEST_MS / 1000
    gb = costs.ASSUMPTIONS["lambda_memory_mb"] / 1024
    usd = RUNS_PER_DAY * (seconds * gb * p["lambda_gb_second"] + p["lambda_per_million_requests"] / 1e6
                          + quiet.wru * p["dynamodb_per_million_wru"] / 1e6
                          + quiet.rru * p["dynamodb_per_million_rru"] / 1e6)
    return {"runs": RUNS_PER_DAY, "platform_requests_per_run": requests, "platform_request_ms": PLATFORM_REQUEST_MS,
            "lambda_seconds_per_run": round(seconds, 3), "aws_calls": RUNS_PER_DAY * quiet.total_calls(),
            "usd": round(usd, 4), "usd_per_month": round(usd * 30, 2)}


def _one(h: Any, logs: Any, queue: Any) -> dict[str, Any]:
    """One post: the poller's SendMessage, process_inbound, deliver_outbox; the phases as bench.scenarios keeps
    them (the poller's phase in the webhook's place, with no invocation of its own: a run queues all its posts)."""
    import time

    from bench.scenarios import _phase

    sent_before = len(h.svc.sandbox.recent(limit=100_000))
    log_start = len(logs.text)
    h.meter.usage()
    started = time.perf_counter()
    queue()
    phases = {"webhook": _phase(h.meter.usage(), time.perf_counter() - started, 0)}
    invocations, seconds = h.drain("process_inbound", h.svc.settings.inbound_queue)
    phases["process"] = _phase(h.meter.usage(), seconds, invocations)
    invocations, seconds = h.drain("deliver_outbox", h.svc.settings.outbox_queue)
    phases["deliver"] = _phase(h.meter.usage(), seconds, invocations)
    with h.outside():
        everything = h.svc.sandbox.recent(limit=100_000)
        sent = everything[: max(0, len(everything) - sent_before)]
    return {"phases": phases, "api_requests": 0,
            "log_bytes": len(logs.text.encode()) - len(logs.text[:log_start].encode()),
            "sent": [{"channel": m.get("channel"), "kind": str(m.get("idempotency_key", "")).split("#")[0],
                      "has_url": "http" in str(m.get("text", ""))} for m in sent]}


def _bare(h: Any) -> float:
    from bench.scenarios import _bare_call_seconds

    return _bare_call_seconds(h, n=40)


def run(rounds: int = 5) -> dict[str, Any]:
    from chalicelib.configfile import load_config
    from chalicelib.settings import Settings
    from tests.conftest import LOCAL_ENV

    config = load_config(Settings.from_env(LOCAL_ENV).config_path)
    measured = measure(rounds)
    listened = measured["scenarios"].get("listened_post", {})
    x_read = per_day(config)["x_usd_per_post_read_with_its_author"]
    return {"per_day": per_day(config), "per_post": measured,
            "listened_post_x_read_usd_per_million": round(x_read * 1_000_000, 2),
            "listened_post_aws_usd_per_million": listened.get("cost_per_million", {}).get("aws_total")}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
