"""The customer-service window at the desk: an agent's free-form reply that WhatsApp no longer allows (24 hours after
the customer's last message there) is refused before it is queued, with the brand's approved templates to choose
from; ``template`` sends one of them, filled for the ticket.

A template goes through the outbox as a reply does: its ``text`` is the body as the customer reads it (the timeline
and the records keep it), and ``OutboundMessage.extra["whatsapp_template"]`` carries what the WhatsApp sender turns
into the Cloud API's ``type: template`` message: ``{"name", "language", "category", "parameters": [str, ...]}``.

Refusals: a reply outside the window is a ``Conflict`` (409): the request is well formed, the ticket's state (its
window) forbids it, and ``details`` lists the templates (``templates``) with the window (``service_window``). A
template that does not exist, or a value that is missing or that WhatsApp would refuse, is ``Invalid`` (422) with
the field named.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.agent import Agent
from chalicelib.domain.channel_profiles import profile
from chalicelib.domain.config.whatsapp import AGENT, MAX_BODY, WhatsAppTemplate
from chalicelib.domain.outbound import ReplyTarget
from chalicelib.domain.service_window import service_window
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.telemetry import count, logger
from chalicelib.usecases.desk.access import load, may_see
from chalicelib.usecases.desk.answering import answer_customer
from chalicelib.usecases.desk.results import ReplyQueued, ViewOf
from chalicelib.usecases.errors import Conflict, Invalid
from chalicelib.usecases.replies import WHATSAPP_TEMPLATE

__all__ = ["SendTemplate", "TemplateQueued", "refuse_outside_window", "send_template", "template_choices",
           "window_view"]

#: The longest value an agent may type for one variable.
MAX_VALUE = 500
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{0,64}$")


@dataclass(frozen=True)
class SendTemplate:
    """``{"name": "case_update", "values": {"3": "your refund was sent"}, "language"?: "en", "request_id"?}``:
    ``values`` by variable number; the agent's variables need one, the product's may be given to replace its value
    (a customer whose name is unknown)."""

    name: str
    values: Mapping[str, str]
    language: str = ""
    request_id: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SendTemplate:
        name, values, language = data.get("name"), data.get("values", {}), data.get("language", "")
        if not isinstance(name, str) or not name.strip():
            raise Invalid("name is required: the template to send", details={"name": "required"})
        if not isinstance(values, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in values.items()):
            raise Invalid('values must be an object of texts by variable number, e.g. {"3": "..."}',
                          details={"values": "not an object of texts"})
        if not isinstance(language, str) or len(language) > 8:
            raise Invalid("language must be a language code such as en", details={"language": "invalid"})
        request_id = data.get("request_id") or ""
        if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
            raise Invalid("request_id must be up to 64 letters, digits or dashes", details={"request_id": "invalid"})
        return cls(name.strip(), dict(values), language.strip(), request_id)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> SendTemplate:
        """The web inbox's form: ``name``, ``value_1``, ``value_2`` …, ``request_id``."""
        values = {key.removeprefix("value_"): value for key, value in form.items()
                  if key.startswith("value_") and value.strip()}
        return cls.from_json({"name": form.get("name", ""), "values": values, "request_id": form.get("request_id", "")})


@dataclass(frozen=True)
class TemplateQueued(ReplyQueued):
    """The approved template ``template`` is on the outbox (a reply of its own, with the text the customer reads)."""

    template: str = ""

    def to_json(self, view: ViewOf) -> dict[str, object]:
        return {**super().to_json(view), "template": self.template}


# ------------------------------------------------------------------------------------------------ the window
def _target(svc: Services, ticket: Ticket) -> ReplyTarget | None:
    from chalicelib.usecases.desk.actions import latest_target  # actions refuses replies through this module

    return latest_target(svc, ticket)


def window_view(svc: Services, ticket: Ticket, target: ReplyTarget | None, now: datetime) -> dict[str, object] | None:
    """The ticket's window for the inbox (on the channel a reply would go to, ``target``, else the first with a
    window the customer wrote on), with the templates to choose from: None when no channel of the ticket has one."""
    channels = ([target.channel] if target is not None else []) + ticket.channels + [ticket.channel]
    window = next((w for w in (service_window(ticket, c) for c in channels) if w is not None), None)
    if window is None:
        return None
    # templates only where a reply would go on that channel (a customer who last wrote on X is answered on X)
    choices = template_choices(svc, ticket, target) if target is not None and target.channel == window.channel else []
    return {**window.to_json(now), "templates": choices}


def template_choices(svc: Services, ticket: Ticket, target: ReplyTarget) -> list[dict[str, object]]:
    """The brand's approved templates, each with what the product would fill (``values``, by variable number) and
    the variables the agent types (``agent_types``); the ticket's language first."""
    choices = sorted(svc.config.whatsapp.templates, key=lambda t: not t.language.startswith(ticket.language))
    return [{**t.to_json(), "values": _filled(svc, ticket, target, t),
             "agent_types": [str(i) for i, p in enumerate(t.parameters, 1) if p == AGENT],
             "send": f"POST /agent/tickets/{ticket.ticket_id}/template"} for t in choices]


def refuse_outside_window(svc: Services, ticket: Ticket, target: ReplyTarget) -> None:
    """A free-form reply to ``target`` that the channel's window no longer allows: refused (``Conflict``) with the
    reason and the templates to choose from."""
    window = service_window(ticket, target.channel)
    now = svc.now()
    if window is None or window.is_open(now):
        return
    choices = template_choices(svc, ticket, target)
    message = window.refusal(now) + (": choose one of the approved templates" if choices else
                                     "; the brand file names no approved template (whatsapp.templates)")
    count("RepliesOutsideWindow", channel=target.channel)
    raise Conflict(message, details={"service_window": window.to_json(now), "templates": choices})


# ------------------------------------------------------------------------------------------------ sending one
def _filled(svc: Services, ticket: Ticket, target: ReplyTarget, template: WhatsAppTemplate) -> dict[str, str]:
    """The values the product fills, by variable number ("" where it knows none: the agent must type it)."""
    facts = {"customer_name": target.name, "reference": ticket.ticket_id,
             "status_link": svc.links.url(ticket.ticket_id)}
    return {str(i): facts.get(p, "") for i, p in enumerate(template.parameters, 1) if p != AGENT}


def _value_problem(value: str) -> str | None:
    """Why WhatsApp would refuse ``value`` as a template variable, or None."""
    if not value.strip():
        return "required: WhatsApp refuses an empty value"
    if "\n" in value or "\t" in value or "     " in value:
        return "no new line, tab or more than 4 spaces in a row (WhatsApp refuses them)"
    if len(value) > MAX_VALUE:
        return f"longer than {MAX_VALUE} characters"
    return None


def _parameters(svc: Services, ticket: Ticket, target: ReplyTarget, template: WhatsAppTemplate,
                given: Mapping[str, str]) -> list[str]:
    numbers = [str(i) for i in range(1, len(template.parameters) + 1)]
    unknown = sorted(set(given) - set(numbers))
    if unknown:
        raise Invalid(f"template {template.name} has no variable {', '.join(unknown)} (it has "
                      f"{', '.join(numbers) or 'none'})", details={"values": {n: "unknown" for n in unknown}})
    filled = _filled(svc, ticket, target, template)
    values = [given.get(n, filled.get(n, "")).strip() for n in numbers]
    problems = {n: problem for n, value in zip(numbers, values, strict=True)
                if (problem := _value_problem(value)) is not None}
    if problems:
        described = "; ".join(f"{{{{{n}}}}} ({template.parameters[int(n) - 1].replace('_', ' ')}): {problem}"
                              for n, problem in problems.items())
        raise Invalid(f"template {template.name}: {described}", details={"values": problems})
    return values


def send_template(svc: Services, agent: Agent, ticket_id: str, command: SendTemplate) -> TemplateQueued:
    """Send the approved template ``command.name`` to the ticket's customer on WhatsApp, filled for the ticket
    (``_filled``) and with the agent's values: an agent's reply like any other (recorded on the timeline with the
    text the customer reads, once per request id), allowed whether or not the window is open."""
    ticket = load(svc, ticket_id)
    may_see(svc, agent, ticket)
    target = _target(svc, ticket)
    if target is None:
        raise Conflict(f"ticket {ticket_id} has no customer message to answer")
    found = profile(target.channel)
    if found is None or found.service_window is None:
        raise Conflict(f"approved templates are for WhatsApp; this conversation is on "
                       f"{found.agent_name if found else target.channel}: send a reply")
    template = svc.config.whatsapp.template(command.name, command.language or ticket.language)
    if template is None:
        names = ", ".join(sorted({t.name for t in svc.config.whatsapp.templates})) or "none in the brand file"
        raise Invalid(f"no approved template {command.name} (choose one of: {names})", details={"name": "unknown"})
    values = _parameters(svc, ticket, target, template, command.values)
    text = template.render(values)
    if len(text) > MAX_BODY:
        raise Invalid(f"the template reads {len(text)} characters with these values; WhatsApp allows {MAX_BODY}",
                      details={"values": "too long"})
    request_id = command.request_id
    sent_as = replace(target, extra={**target.extra, WHATSAPP_TEMPLATE: {
        "name": template.name, "language": template.language, "category": template.category,
        "parameters": values}})
    updated, queued = answer_customer(svc, agent, ticket, text=text, request_id=request_id, target=sent_as)
    if not queued:
        return TemplateQueued(ticket, queued=False, request_id=request_id, template=template.name)
    count("TemplatesSent", channel=target.channel, category=template.category)
    logger.info("approved template queued", extra={"ticket_id": ticket_id, "agent": agent.username,
                                                   "template": template.name})
    return TemplateQueued(updated, queued=True, channel=target.channel, private=target.private,
                          request_id=request_id, template=template.name)
