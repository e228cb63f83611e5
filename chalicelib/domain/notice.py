"""Notices for a team's own tools, and how each platform shows them: one :class:`TicketNotice` per desk-queue event
(a new ticket, a chase, a breach), one :class:`DigestNotice` per desk when a team comes on shift (what waited).

Pure: the notices are built from a desk message (``domain.routing.DeskMessage``) and rendered as a Slack Block Kit
message (:func:`slack_message`), a Microsoft Teams Workflows webhook body carrying an Adaptive Card 1.4
(:func:`teams_message`) or a signed webhook's body (:func:`webhook_body`: the desk message as
``docs/desk-message.schema.json`` defines it, or the digest of ``docs/desk-digest.schema.json``). Posting them is
``channels.notify``'s job.

Every message says the desk, the priority (urgent stands out), the flags, the channel, how long the customer has
waited and a link to the ticket in the web inbox — and never the customer's words or name unless the destination
includes them (``include_customer_text``). Times are shown in the zone of the notice's datetimes: build notices
with the brand's zone (``tz=``), or pass ``tz=`` to a renderer.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from chalicelib.domain.jsonvalue import JsonObject
from chalicelib.domain.routing import DeskMessage

#: The most tickets a digest lists one by one (the rest are counted: "and N more").
DIGEST_LIMIT = 20
DIGEST_SCHEMA = "responder.desk-digest/1"
DIGEST_EVENT = "desk.digest"
#: The longest customer text a message carries where the destination includes it.
TEXT_LIMIT = 500
_DIGEST_TEXT_LIMIT = 80
_CHANNEL_NAMES = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "messenger": "Messenger",
                  "email": "E-mail", "form": "Web form", "bluesky": "Bluesky", "mastodon": "Mastodon",
                  "whatsapp": "WhatsApp", "threads": "Threads"}
_FLAG_NAMES = {"abuse": "abuse", "high_reach": "high reach", "personal_data_in_public": "personal data in public"}
_CHANGES = {"chase": "Customer wrote again", "reopened": "Reopened", "merged": "Another ticket merged in",
            "transferred": "Moved to this desk", "released": "Back in the queue"}


@dataclass(frozen=True)
class TicketNotice:
    """One ticket event for a team's tool."""

    desk: str
    reference: str
    event: str  # the desk message's event: ticket.created, ticket.updated, ticket.sla_breached
    change: str | None  # the desk message's ``change``, if any
    priority: str
    flags: tuple[str, ...]
    channel: str
    intent: str
    first_contact_at: datetime
    at: datetime
    link: str  # the ticket in the web inbox
    customer_name: str | None  # only filled when a destination includes customer text
    text: str | None  # idem
    message: DeskMessage  # the desk message as the queue carried it (the webhook's body)

    @property
    def urgent(self) -> bool:
        return self.priority == "urgent"

    @property
    def delivery_key(self) -> str:
        """The same for every delivery of this notice (a retried one too), different for each event."""
        return "|".join(("ticket", self.reference, self.event, self.change or "", self.at.isoformat()))


@dataclass(frozen=True)
class DigestNotice:
    """What waited for a team coming on shift, for one desk."""

    desk: str
    team: str
    at: datetime
    waiting: int
    urgent: int
    oldest_first_contact: datetime | None
    incidents: tuple[str, ...]
    tickets: tuple[TicketNotice, ...]  # urgent first, then oldest; at most DIGEST_LIMIT
    more: int  # waiting tickets not listed
    link: str  # the desk's list in the web inbox

    @property
    def delivery_key(self) -> str:
        return "|".join(("digest", self.desk, self.team, self.at.isoformat()))


Notice = TicketNotice | DigestNotice


# --------------------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------------------


def ticket_notice(message: DeskMessage, *, link: str, text: str | None = None,
                  tz: tzinfo | None = None) -> TicketNotice:
    """The notice of one desk message. ``text`` (the customer's latest words) is given only for a destination
    that includes customer text; without it the customer's name is dropped too. ``tz``: the zone the notice's
    times are shown in (the brand's)."""
    first_contact = datetime.fromisoformat(message["first_contact_at"])
    at = datetime.fromisoformat(message["at"])
    if tz is not None:
        first_contact, at = first_contact.astimezone(tz), at.astimezone(tz)
    return TicketNotice(
        desk=message["desk"], reference=message["reference"], event=message["event"],
        change=message.get("change") or None, priority=message["priority"], flags=tuple(message["flags"]),
        channel=message["channel"], intent=message["intent"], first_contact_at=first_contact, at=at, link=link,
        customer_name=(message["customer_name"] or None) if text is not None else None,
        text=text, message=message)


def digest_notice(*, desk: str, team: str, at: datetime, tickets: Iterable[TicketNotice], waiting: int | None = None,
                  incidents: Sequence[str] = (), link: str, limit: int = DIGEST_LIMIT) -> DigestNotice:
    """The digest of ``tickets`` (what waits on ``desk``), listing the first ``limit`` urgent first, then oldest
    first contact. ``waiting``: how many wait in all when ``tickets`` is only part of them (default: all given)."""
    ordered = sorted(tickets, key=_digest_order)
    total = len(ordered) if waiting is None else max(waiting, len(ordered))
    listed = tuple(ordered[:limit])
    oldest = min((t.first_contact_at for t in ordered), default=None)
    return DigestNotice(desk=desk, team=team, at=at, waiting=total, urgent=sum(t.urgent for t in ordered),
                        oldest_first_contact=oldest, incidents=tuple(incidents), tickets=listed,
                        more=total - len(listed), link=link)


def _digest_order(notice: TicketNotice) -> tuple[bool, datetime, str]:
    return (not notice.urgent, notice.first_contact_at, notice.reference)


# --------------------------------------------------------------------------------------------------
# words shared by every platform
# --------------------------------------------------------------------------------------------------


def waited(since: datetime, until: datetime) -> str:
    """How long from ``since`` to ``until``: ``"under a minute"``, ``"42 min"``, ``"3 h 12 min"``, ``"2 d 5 h"``."""
    minutes = max(0, int((until - since) / timedelta(minutes=1)))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def channel_name(channel: str) -> str:
    return _CHANNEL_NAMES.get(channel, channel)


def flag_names(flags: Iterable[str]) -> list[str]:
    return [_FLAG_NAMES.get(flag, flag.replace("_", " ")) for flag in flags]


def what_happened(notice: TicketNotice) -> str:
    """The event in words: ``New ticket``, ``Customer wrote again``, ``Reply overdue (12 min late)``…"""
    if notice.event == "ticket.created":
        return "New ticket"
    if notice.event == "ticket.sla_breached":
        late = notice.message.get("minutes_late")
        return f"Reply overdue ({late} min late)" if isinstance(late, int) else "Reply overdue"
    if notice.change == "transferred" and notice.message.get("from_desk"):
        return f"Moved here from {notice.message.get('from_desk')}"
    return _CHANGES.get(notice.change or "", "Ticket updated")


def ticket_summary(notice: TicketNotice) -> str:
    """One line: ``URGENT · New ticket R7K2M9QXA on complaints: complaint on X, waiting 3 h 12 min · high reach``."""
    head = ("URGENT · " if notice.urgent else "") + f"{what_happened(notice)} {notice.reference} on {notice.desk}"
    waiting = waited(notice.first_contact_at, notice.at)
    line = f"{head}: {notice.intent} on {channel_name(notice.channel)}, waiting {waiting}"
    flags = flag_names(notice.flags)
    return line + (" · " + ", ".join(flags) if flags else "")


def digest_headline(notice: DigestNotice) -> str:
    """``complaints: 14 waited overnight, 3 urgent, oldest since 19:42 · incidents open: Signal failure at Didcot``"""
    at = notice.at
    if notice.waiting == 0:
        line = f"{notice.desk}: nothing waiting"
    else:
        oldest = notice.oldest_first_contact
        overnight = oldest is not None and oldest.date() < at.date()
        line = f"{notice.desk}: {notice.waiting} {'waited overnight' if overnight else 'waiting'}"
        line += f", {notice.urgent} urgent"
        if oldest is not None:
            line += f", oldest since {_since(oldest, at)}"
    if notice.incidents:
        line += " · incidents open: " + "; ".join(notice.incidents)
    return line


def digest_line(notice: TicketNotice, at: datetime) -> str:
    """One ticket of a digest, without its link: ``R7K2M9QXA · urgent · complaint on X · waiting 11 h 18 min``."""
    parts = [notice.reference, notice.priority, f"{notice.intent} on {channel_name(notice.channel)}",
             "waiting " + waited(notice.first_contact_at, at)]
    parts.extend(flag_names(notice.flags))
    return " · ".join(parts)


def _since(oldest: datetime, at: datetime) -> str:
    days = (at.date() - oldest.date()).days
    if days <= 1:
        return oldest.strftime("%H:%M")
    if days < 7:
        return oldest.strftime("%a %H:%M")
    return f"{oldest.day} {oldest.strftime('%b %H:%M')}"


def _customer_words(notice: TicketNotice, include: bool, limit: int = TEXT_LIMIT) -> tuple[str, str] | None:
    """(name, text) where the destination includes customer text and the notice carries some."""
    if not include or notice.text is None:
        return None
    text = " ".join(notice.text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return notice.customer_name or "", text


# --------------------------------------------------------------------------------------------------
# Slack: Block Kit
# --------------------------------------------------------------------------------------------------


def _mrkdwn(text: str) -> str:
    """Text shown as it is in Slack's mrkdwn (``&``, ``<`` and ``>`` are its control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    return f"<{url}|{_mrkdwn(label)}>" if url else _mrkdwn(label)


def slack_message(notice: Notice, *, include_customer_text: bool, tz: tzinfo | None = None) -> dict[str, Any]:
    """A Slack message (``chat.postMessage`` or an incoming webhook): ``text``, the notification's fallback, and
    ``blocks``."""
    if tz is not None:
        notice = with_zone(notice, tz)
    if isinstance(notice, DigestNotice):
        return _slack_digest(notice, include_customer_text)
    mark = ":rotating_light: *URGENT* · " if notice.urgent else ""
    fields = [("Desk", _mrkdwn(notice.desk)), ("Priority", ":red_circle: *urgent*" if notice.urgent else "normal"),
              ("Channel", channel_name(notice.channel)), ("Waiting", waited(notice.first_contact_at, notice.at)),
              ("Intent", _mrkdwn(notice.intent))]
    flags = flag_names(notice.flags)
    if flags:
        fields.append(("Flags", ":warning: " + _mrkdwn(", ".join(flags))))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"{mark}*{_mrkdwn(what_happened(notice))}* {_slack_link(notice.link, notice.reference)} "
            f"on *{_mrkdwn(notice.desk)}*")}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
    ]
    words = _customer_words(notice, include_customer_text)
    if words is not None:
        name, text = words
        said = f"*{_mrkdwn(name)}* wrote:\n" if name else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": said + "> " + _mrkdwn(text)}})
    if notice.link:
        button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": "Open in the inbox"},
                                  "url": notice.link, "action_id": "open_ticket"}
        if notice.urgent:
            button["style"] = "danger"
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": ticket_summary(notice), "blocks": blocks}


def _slack_digest(notice: DigestNotice, include_customer_text: bool) -> dict[str, Any]:
    headline = digest_headline(notice)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{notice.team} on shift: {notice.desk}"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(headline)}},
    ]
    lines = []
    for ticket in notice.tickets:
        line = digest_line(ticket, notice.at)
        rest = _mrkdwn(line[len(ticket.reference):])
        entry = (":red_circle: " if ticket.urgent else "• ") + _slack_link(ticket.link, ticket.reference) + rest
        words = _customer_words(ticket, include_customer_text, _DIGEST_TEXT_LIMIT)
        if words is not None:
            entry += f" — “{_mrkdwn(words[1])}”"
        lines.append(entry)
    for start in range(0, len(lines), 10):  # a section's text holds 3000 characters: ten lines each
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[start:start + 10])}})
    if notice.more:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (
            f"and {notice.more} more: {_slack_link(notice.link, 'the ' + notice.desk + ' list')}")}})
    elif notice.link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_link(
            notice.link, "the " + notice.desk + " list")}]})
    return {"text": headline, "blocks": blocks}


# --------------------------------------------------------------------------------------------------
# Microsoft Teams: a Workflows webhook body with an Adaptive Card 1.4
# --------------------------------------------------------------------------------------------------


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    content: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                               "type": "AdaptiveCard", "version": "1.4", "body": body}
    if actions:
        content["actions"] = actions
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}]}


def _open(url: str, title: str) -> list[dict[str, Any]]:
    return [{"type": "Action.OpenUrl", "title": title, "url": url}] if url else []


def teams_message(notice: Notice, *, include_customer_text: bool, tz: tzinfo | None = None) -> dict[str, Any]:
    """What a Teams Workflows webhook ("Post to a channel when a webhook request is received") takes: a message
    with one Adaptive Card."""
    if tz is not None:
        notice = with_zone(notice, tz)
    if isinstance(notice, DigestNotice):
        return _teams_digest(notice, include_customer_text)
    title = ("URGENT · " if notice.urgent else "") + f"{what_happened(notice)} {notice.reference} on {notice.desk}"
    facts = [{"title": "Desk", "value": notice.desk}, {"title": "Priority", "value": notice.priority},
             {"title": "Channel", "value": channel_name(notice.channel)},
             {"title": "Waiting", "value": waited(notice.first_contact_at, notice.at)},
             {"title": "Intent", "value": notice.intent}]
    flags = flag_names(notice.flags)
    if flags:
        facts.append({"title": "Flags", "value": ", ".join(flags)})
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True,
         "color": "Attention" if notice.urgent else "Default"},
        {"type": "FactSet", "facts": facts},
    ]
    words = _customer_words(notice, include_customer_text)
    if words is not None:
        name, text = words
        if name:
            body.append({"type": "TextBlock", "text": f"{name} wrote:", "isSubtle": True, "wrap": True})
        body.append({"type": "TextBlock", "text": text, "wrap": True})
    return _card(body, _open(notice.link, "Open in the inbox"))


def _teams_digest(notice: DigestNotice, include_customer_text: bool) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": f"{notice.team} on shift: {notice.desk}", "weight": "Bolder",
         "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": digest_headline(notice), "wrap": True,
         "color": "Attention" if notice.urgent else "Default"},
    ]
    for ticket in notice.tickets:
        line = digest_line(ticket, notice.at)
        if ticket.link:
            line = f"[{ticket.reference}]({ticket.link})" + line[len(ticket.reference):]
        words = _customer_words(ticket, include_customer_text, _DIGEST_TEXT_LIMIT)
        if words is not None:
            line += f" — “{words[1]}”"
        body.append({"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small",
                     "color": "Attention" if ticket.urgent else "Default"})
    if notice.more:
        body.append({"type": "TextBlock", "text": f"and {notice.more} more", "wrap": True, "isSubtle": True})
    return _card(body, _open(notice.link, f"Open the {notice.desk} list"))


# --------------------------------------------------------------------------------------------------
# a signed webhook: the desk message, or the digest
# --------------------------------------------------------------------------------------------------


def _without_customer(message: DeskMessage) -> DeskMessage:
    """The desk message without the customer's name, words, the address of their post or their status link (a
    bearer link to their case): the schema keeps ``customer_name`` and ``status_url``, empty."""
    kept: DeskMessage = {**message, "customer_name": "", "status_url": ""}
    kept.pop("excerpt", None)
    kept.pop("permalink", None)
    return kept


def webhook_message(notice: TicketNotice, *, include_customer_text: bool = False) -> DeskMessage:
    """The desk message a webhook carries: as the queue carried it, without the customer's name and words unless
    the destination includes them."""
    return dict(notice.message) if include_customer_text else _without_customer(notice.message)  # type: ignore[return-value]


def webhook_document(notice: Notice, *, include_customer_text: bool = False) -> JsonObject:
    """The webhook's body as a JSON object: a desk message (``docs/desk-message.schema.json``) or a digest
    (``docs/desk-digest.schema.json``)."""
    if isinstance(notice, TicketNotice):
        return dict(webhook_message(notice, include_customer_text=include_customer_text))
    return {
        "schema": DIGEST_SCHEMA, "event": DIGEST_EVENT, "desk": notice.desk, "team": notice.team,
        "at": notice.at.isoformat(), "waiting": notice.waiting, "urgent": notice.urgent,
        "oldest_first_contact_at": notice.oldest_first_contact.isoformat() if notice.oldest_first_contact else None,
        "incidents": list(notice.incidents), "more": notice.more, "link": notice.link,
        "tickets": [{"link": t.link, "message": dict(webhook_message(t, include_customer_text=include_customer_text))}
                    for t in notice.tickets],
    }


def webhook_body(notice: Notice, *, include_customer_text: bool = False) -> bytes:
    """The exact bytes a signed webhook posts (and signs): compact UTF-8 JSON of :func:`webhook_document`."""
    return json.dumps(webhook_document(notice, include_customer_text=include_customer_text),
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def with_zone(notice: Notice, tz: tzinfo) -> Notice:
    """``notice`` with its times in ``tz`` (the instants unchanged)."""
    if isinstance(notice, TicketNotice):
        return replace(notice, first_contact_at=notice.first_contact_at.astimezone(tz), at=notice.at.astimezone(tz))
    oldest = notice.oldest_first_contact.astimezone(tz) if notice.oldest_first_contact else None
    tickets = tuple(with_zone(t, tz) for t in notice.tickets)
    return replace(notice, at=notice.at.astimezone(tz), oldest_first_contact=oldest,
                   tickets=tuple(t for t in tickets if isinstance(t, TicketNotice)))
