"""The acknowledgement (out of hours, at closing time, or busy in hours): decided once per ticket, composed from
templates, handed to the outbox.

The link policy (``links.no_url_in_public`` in the brand file, ``[x]`` by default): a public reply on those channels
carries no URL — neither the status link nor the incident's link; the reference stays, and the template tells the
customer how to follow it without a link (the status lookup, ``GET /status``, or a direct message). A private reply
keeps the link (ADR 0013).

Private channels (e-mail and the web form: ``RECEIPT_CHANNELS``) get a receipt for every new case, in hours and out
of hours, whatever triage says: out of hours the acknowledgement (with the time the team is back) is the receipt; in
hours it is the ``receipt`` template (the team is on shift, the time it aims to answer in). It is the case's one
acknowledgement, saved with the ticket and sent through the outbox under the same key. Public channels keep
triage's policy. Every text composed here ends with the brand's automated notice (``brand.automated_notice``)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain import wording
from chalicelib.domain.ack import compose, render, without_urls
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.history import AckQueued
from chalicelib.domain.mention import Mention
from chalicelib.domain.outbound import OutboxItem, ReplyTarget
from chalicelib.domain.routing import ACK_MAX_AGE, RouteDecision
from chalicelib.domain.ticket import Ticket
from chalicelib.domain.vocabulary import maybe_tone
from chalicelib.services import Services
from chalicelib.store.ports import ConcurrentUpdate
from chalicelib.telemetry import count, logger
from chalicelib.usecases import incidents
from chalicelib.usecases.replies import outbox_item, outside_window, queue_reply, unaddressed

#: Channels where every new case gets a receipt, in hours too and whatever triage says: one-to-one and private, and
#: a customer who wrote there expects to hear that the message arrived.
RECEIPT_CHANNELS = frozenset({"email", "form"})


def greeting_name(target: ReplyTarget) -> str:
    """The name a text greets the customer by: their display name; a Mastodon account without one (the name is
    then the handle, ``pat@fedi.example``) by the handle's local part, as X and Bluesky greet by a handle."""
    name = target.name
    if target.channel == "mastodon" and "@" in name:
        return name.lstrip("@").split("@")[0]
    return name


def ack_key(ack_ref: str) -> str:
    """The outbox idempotency key of an acknowledgement (``Ticket.ack_key``: once per open case)."""
    return f"ack#{ack_ref}"


def ticket_text(svc: Services, ticket: Ticket) -> str:
    first = svc.mentions.get(ticket.mention_keys[0]) if ticket.mention_keys else None
    return first.mention.text if first is not None else ""


@dataclass(frozen=True)
class PreparedAck:
    """An acknowledgement composed for a ticket, to be queued once the ticket that says so is saved."""

    kind: str
    key: str
    text: str
    back_at: datetime | None
    incident_id: str | None
    at: datetime
    tone: str = ""


def prepare(svc: Services, ticket: Ticket, *, back_at: datetime | None, kind: str = "ack",
            text: str | None = None, expected_wait: str = "", tone: str | None = None,
            references: dict[str, list[str]] | None = None, oncall: bool = False,
            target: ReplyTarget | None = None, answered: bool = False) -> PreparedAck | None:
    """Compose the ticket's acknowledgement (``kind`` and the tone pick the template: ``ack_apology`` for a
    confident complaint, ``ack_thanks`` for confident praise, ...; ``tone`` defaults to the ticket's); None if the
    ticket has no reply target. ``text`` is the customer's message (read from the store when not given);
    ``expected_wait`` is the busy acknowledgement's range ("about 40–60 minutes"). The desk's ``ask_for`` is asked
    only of a complaint (or a ticket from before tones) whose message carries no reference yet (``references``,
    default the ticket's): never of praise, a question that needs none, or a tweet that gave its booking number.
    ``oncall``: the ticket's desk closed and the on-call team has it now (``process.to_oncall``): worded by
    ``oncall_<kind>`` (``oncall_ack``, ``oncall_closing``) where the brand file has one, else by the plain ``ack``
    with no opening time ("passed to the team"), never by when the closed desk opens. ``target``: where it goes
    (default the ticket's reply target). ``answered``: an agent has answered the ticket already: worded by
    ``<kind>_answered`` (``closing_answered``) where the brand file has one. None, too, for a ticket nobody
    addressed to us (``replies.unaddressed``): it gets no automatic message of any kind."""
    target = target or ticket.reply_target
    if target is None or unaddressed(ticket):
        return None
    now = svc.now()
    incident = incidents.matching(svc, desk=ticket.desk, text=ticket_text(svc, ticket) if text is None else text)
    config = svc.config
    status_url = svc.links.url(ticket.ticket_id)
    if not config.url_allowed(target.channel, private=target.private):
        status_url = ""  # the reference stays; the template says how to follow it without a link
        if incident is not None:
            incident = replace(incident, url="", text=without_urls(incident.text))
    dm_invite = ""
    channel_profile = profile(target.channel)
    private_route = channel_profile is None or channel_profile.can_reply_privately
    # the warning when it is needed (personal data posted in public), or with the private route a complaint is
    # offered; a channel whose private messages do not reach the team (Bluesky) offers none
    if "personal_data_in_public" in ticket.flags or (
            not target.private and ticket.intent == "complaint" and private_route):
        dm_invite = render(config.template("dm_invite", target.channel, ticket.language),
                           name=greeting_name(target), reference=ticket.ticket_id, desk=ticket.desk)
    tone = ticket.tone if tone is None else tone
    if oncall:
        back_at = None
    if oncall and f"oncall_{kind}" in config.templates:
        template = config.template(f"oncall_{kind}", target.channel, ticket.language)
    elif answered and f"{kind}_answered" in config.templates:
        template = config.template(f"{kind}_answered", target.channel, ticket.language)
    elif kind not in config.templates:  # a brand file without this kind (receipt): the plain acknowledgement
        template = config.ack_template("ack", tone, target.channel, ticket.language)
    else:
        template = config.ack_template("ack" if oncall else kind, tone, target.channel, ticket.language)
    given = ticket.references if references is None else references
    ask_for = config.ask_for(ticket.desk, ticket.language) if tone in ("apology", "") and not given else ""
    language = config.language_of(template)
    message = compose(template, channel=target.channel, name=greeting_name(target), reference=ticket.ticket_id,
                      status_url=status_url, now=now, back_at=back_at, tz=config.brand.timezone,
                      desk=ticket.desk, incident=incident, dm_invite=dm_invite, expected_wait=expected_wait,
                      ask_for=ask_for, language=language, notice=config.brand.notice(language))
    return PreparedAck(kind=kind, key=ack_key(ticket.ack_key), text=message, back_at=back_at,
                       incident_id=incident.incident_id if incident else None, at=now, tone=tone)


#: a private channel's message that gets no receipt: spam (its sender is often forged: a receipt would be backscatter)
#: and abuse (flagged for a person, never answered by a machine)
NO_RECEIPT_INTENTS = ("spam", "abuse")


def first_reply(svc: Services, ticket: Ticket, decision: RouteDecision, *, text: str | None = None
                ) -> PreparedAck | None:
    """What a new ticket is saved with: the out-of-hours acknowledgement when triage and routing want one; on a
    private channel (``RECEIPT_CHANNELS``) a receipt whatever triage said, for a fresh message: out of hours the
    same acknowledgement (with the time the team is back), handed to the on-call team the on-call wording, in hours
    the ``receipt`` (the team is on shift and aims to answer within the ticket's first-response target). None: no
    automatic reply."""
    if decision.acknowledge:
        return prepare(svc, ticket, back_at=decision.next_opening, kind="ack", text=text)
    target, now = ticket.reply_target, svc.now()
    if target is None or target.channel not in RECEIPT_CHANNELS or now - ticket.first_contact_at > ACK_MAX_AGE:
        return None
    if ticket.intent in NO_RECEIPT_INTENTS:  # no answer to spam (a forged sender would get it) or to abuse
        return None
    if decision.escalated:
        return prepare(svc, ticket, back_at=None, kind="ack", text=text, oncall=True)
    if not decision.open:
        return prepare(svc, ticket, back_at=decision.next_opening, kind="ack", text=text)
    due = ticket.first_response_due
    receipt = prepare(svc, ticket, back_at=None, kind="receipt", text=text,
                      expected_wait=wording.wait(due - now) if due is not None and due > now else "")
    # the case's one acknowledgement, worded as a receipt: sent, recorded and keyed as every acknowledgement is
    return replace(receipt, kind="ack") if receipt is not None else None


def receipt_on_joining(svc: Services, ticket: Ticket, mention: Mention) -> bool:
    """The receipt of a new e-mail (not a reply in a thread) or a form that joined the customer's open case whose
    acknowledgement went already: sent to where it was written from, with the case's reference (never the one the
    form gave at once, merged into the case), under a key of its own (``ack#<case>#<message>``, once however often
    it is delivered). True if queued."""
    now = svc.now()
    if mention.channel not in RECEIPT_CHANNELS or (mention.channel != "form" and mention.reply_to) \
            or now - mention.created_at > ACK_MAX_AGE:
        return False
    key = f"{ack_key(ticket.ack_key)}#{mention.key}"
    if key in ticket.sent_keys:
        return False
    is_open = svc.calendar.is_open(ticket.desk, now)
    due = ticket.first_response_due
    receipt = prepare(svc, ticket, back_at=None if is_open else svc.calendar.next_opening(ticket.desk, now),
                      kind="receipt" if is_open else "ack", text=mention.text, target=ReplyTarget.of(mention),
                      expected_wait=wording.wait(due - now) if is_open and due is not None and due > now else "")
    if receipt is None:
        return False
    queue_reply(svc, ticket, kind="ack", key=key, text=receipt.text, expires_at=receipt.back_at,
                target=ReplyTarget.of(mention))
    count("AcksQueued", kind="receipt")
    return True


def mark_acked(ticket: Ticket, ack: PreparedAck, *, sending_until: datetime | None = None) -> None:
    """What the ticket says once its acknowledgement is decided (written with the ticket, never on its own).
    ``sending_until``: the attempt that saves the ticket sends the acknowledgement itself (``deliver.send_now``),
    the saved ticket being its sending lease until then."""
    ticket.acked = True
    if ack.tone:
        ticket.tone = maybe_tone(ack.tone)
    if ack.incident_id:
        ticket.incident_id = ack.incident_id
    ticket.ack_lease = sending_until
    if ack.key in ticket.sent_keys:
        # its message went before this record: an attempt queued it and failed before saying so, the outbox sent it
        # (or settled it as sent without a result), and this retry queued it again for nothing (a key goes once).
        # The timeline records that already; a "queued" after it would say it is on its way for ever.
        return
    ticket.record(AckQueued(ack.at, ack.back_at))


def ack_item(svc: Services, ticket: Ticket, ack: PreparedAck) -> OutboxItem:
    """The acknowledgement as a message to the customer (sent now, or queued on the outbox)."""
    return outbox_item(svc, ticket, kind=ack.kind, key=ack.key, text=ack.text, expires_at=ack.back_at)


def queue_ack(svc: Services, ticket: Ticket, ack: PreparedAck) -> None:
    """Hand the acknowledgement to the outbox (its key is sent at most once, however often it is queued)."""
    queue_reply(svc, ticket, kind=ack.kind, key=ack.key, text=ack.text, expires_at=ack.back_at)
    count("AcksQueued", kind=ack.kind)
    logger.info("acknowledgement queued", extra={"ticket_id": ticket.ticket_id, "kind": ack.kind,
                                                  "incident": ack.incident_id})


def acknowledge(svc: Services, ticket: Ticket, *, back_at: datetime | None, kind: str = "ack",
                text: str | None = None, expected_wait: str = "", tone: str | None = None,
                references: dict[str, list[str]] | None = None, oncall: bool = False, answered: bool = False) -> bool:
    """Queue the acknowledgement of a ticket that exists already (closing time, busy, a reopened case); False if it
    was already queued. The ack ledger decides between concurrent kinds (one conditional write); a new ticket is
    instead saved already acknowledged (``prepare`` + ``mark_acked`` + ``queue_ack``, see ``usecases.process``).
    Nothing on a channel whose acknowledgements are off (``triage.acknowledge.channels``), nor to a post that did not
    tag the brand where only those are acknowledged (``tagged``), whatever triage said when the ticket was created.
    ``oncall``: worded for the on-call team that has it now; ``answered``: for a ticket an agent answered already
    (see ``prepare``)."""
    if ticket.reply_target is None or ticket.acked:  # acked: decided already (a new ticket is saved acknowledged)
        return False
    if unaddressed(ticket):  # a listened post: a person answers, or nobody does
        return False
    policy, target = svc.config.triage.acknowledge, ticket.reply_target
    if not policy.on(target.channel) or (policy.tagged_only(target.channel) and target.extra.get("tagged") is False):
        return False  # off on the channel, or a post that did not tag the brand where only those are acknowledged
    if outside_window(svc, ticket, target, kind):  # WhatsApp after 24 hours: not sent free-form; the timeline says why
        try:  # decided (parked with the reason): closing time's next run does not try, nor note it, again
            svc.tickets.update(ticket.ticket_id, lambda t: setattr(t, "acked", True), current=ticket)
        except ConcurrentUpdate:
            logger.warning("ticket not marked acknowledged", extra={"ticket_id": ticket.ticket_id})
        return False
    ack_ref = ticket.ack_key
    if not svc.acks.start(ack_ref, kind):
        return False  # already queued by an earlier delivery; the outbox key stops any second send
    ack = prepare(svc, ticket, back_at=back_at, kind=kind, text=text, expected_wait=expected_wait, tone=tone,
                  references=references, oncall=oncall, answered=answered)
    assert ack is not None
    queue_ack(svc, ticket, ack)
    svc.acks.mark_queued(ack_ref, kind, ack.at)
    try:
        svc.tickets.update(ticket.ticket_id, lambda t: mark_acked(t, ack), current=ticket)
    except ConcurrentUpdate:  # the acknowledgement is queued (and the ack mark says so); only the flag is lost
        logger.warning("ticket not marked acknowledged", extra={"ticket_id": ticket.ticket_id})
    return True
