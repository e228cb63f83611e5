"""Suggested incidents: a burst of posts naming one of the brand's places (``listening.places``: stations, lines,
services) is shown to leads as a suggested incident, to declare or dismiss. Nothing is declared automatically and no
customer is told anything until a lead declares it; from then on the incident's explanation goes into every
matching acknowledgement (``usecases.incidents.matching``), before people have to ask.

The rules:

- **Sightings.** Every processed message (a mention of the brand or a listened post: both are signals) that names a
  place is recorded once per place (``store.ports.Sighting``, keyed by the mention key, so a redelivered message
  counts once). A message naming no place costs nothing: no store call.
- **Burst.** ``listening.burst.posts`` posts naming one place written within ``listening.burst.minutes``
  (``domain.listening.burst_at``; 5 in 10 by default) make a suggestion, one per place while it is live: more
  posts add to it (they are read back from the sightings).
- **Live.** A suggestion stays until a lead declares it (the incident, keyword the place, takes over) or dismisses
  it, or until the place has been quiet (no post naming it) for ``QUIET_WINDOWS`` burst windows (an hour by
  default); every post naming the place meanwhile is shown under it. A dismissed one
  keeps the place quiet the same way: posts that go on after a dismissal do not bring it back until the quiet time
  has passed. A place an active incident names (title, text or keywords) is not suggested again.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.agent import Agent
from chalicelib.domain.incident import Incident
from chalicelib.domain.listening import burst_at, places_named
from chalicelib.domain.mention import Mention
from chalicelib.domain.routing import permalink
from chalicelib.domain.ticket import Ticket
from chalicelib.services import Services
from chalicelib.store.ports import Sighting, Suggestion
from chalicelib.telemetry import count, logger
from chalicelib.usecases import incidents
from chalicelib.usecases.desk.access import may_oversee, zone
from chalicelib.usecases.errors import Conflict, Forbidden, Invalid, NotFound

if TYPE_CHECKING:  # the desk's views load with the oversight page, not with every inbound message
    from chalicelib.usecases.desk.views import SuggestedIncident

SUGGESTED, DECLARED, DISMISSED = "suggested", "declared", "dismissed"
#: A suggestion (or a dismissal) is over once its place has been quiet this many burst windows.
QUIET_WINDOWS = 6
#: What a sighting keeps of the message.
TEXT_KEPT = 280
#: The posts shown under one suggestion (the newest).
POSTS_SHOWN = 20


def _window(svc: Services) -> timedelta:
    return timedelta(minutes=svc.config.listening.burst.minutes)


def _quiet(svc: Services) -> timedelta:
    return _window(svc) * QUIET_WINDOWS


def note_places(svc: Services, mention: Mention, ticket: Ticket) -> None:
    """Record the places ``mention`` names (one write each) and, where that makes a burst, suggest an incident. A
    message naming none costs nothing."""
    places = places_named(svc.config.listening.places, mention.text)
    if not places:
        return
    link = permalink(mention.channel, mention.external_id, mention.extra)
    for place in places:
        svc.sightings.add(Sighting(place=place, at=mention.created_at, channel=mention.channel,
                                   ticket_id=ticket.ticket_id, mention_key=mention.key,
                                   author=mention.author_handle or mention.author_name or "",
                                   text=mention.text[:TEXT_KEPT], link=link))
        count("PlaceSightings")
        _count(svc, place, mention.created_at)


def _count(svc: Services, place: str, at: datetime) -> None:
    """One query of the place's window around ``at``: a burst that this message is part of suggests an incident."""
    rule, window = svc.config.listening.burst, _window(svc)
    times = [s.at for s in svc.sightings.between(place, at - window, at + window)]
    ends = [t for t in times if t >= at and burst_at(times, t, posts=rule.posts, minutes=rule.minutes)]
    if not ends:
        return
    first = min(t for t in times if t >= ends[0] - window)
    _suggest(svc, place, first, max(ends))


def names_place(incident: Incident, place: str) -> bool:
    """Whether an incident names ``place`` (in its title, its text or its keywords)."""
    return bool(places_named((place,), " ".join((incident.title, incident.text, *incident.keywords)), any_case=True))


def _live(svc: Services, suggestion: Suggestion, at: datetime) -> bool:
    """Suggested or dismissed, and the place never quiet for the quiet time between the suggestion's latest burst
    post and ``at`` (the posts in between keep it live: one query, made only when a burst is reached)."""
    if suggestion.status not in (SUGGESTED, DISMISSED):
        return False
    if at - suggestion.last_at <= _quiet(svc):
        return True
    times = [suggestion.last_at, *(s.at for s in svc.sightings.between(suggestion.place, suggestion.last_at, at)), at]
    return not _quiet_between(svc, times)


def _quiet_between(svc: Services, times: list[datetime]) -> bool:
    """Whether two successive ``times`` (in order) are further apart than the quiet time."""
    return any(later - earlier > _quiet(svc) for earlier, later in zip(times, times[1:], strict=False))


def _declaring_or_declared(svc: Services, suggestion: Suggestion, at: datetime) -> bool:
    """A declared suggestion whose incident is still active, or one a lead is declaring at this moment (claimed, its
    incident not yet stored: a minute at most)."""
    if suggestion.status != DECLARED:
        return False
    if not suggestion.incident_id:
        return suggestion.decided_at is not None and at - suggestion.decided_at < timedelta(minutes=1)
    incident = svc.incidents.get(suggestion.incident_id)
    return incident is not None and incident.active


def _suggest(svc: Services, place: str, since: datetime, last: datetime) -> None:
    for _ in range(3):  # a lost compare-and-set: somebody else wrote the place's suggestion; read it again
        current = svc.sightings.suggestion(place)
        expected = current.version if current is not None else None
        if current is not None and _declaring_or_declared(svc, current, last):
            return  # a lead declared it (or is declaring it right now): the incident speaks for the place
        if current is not None and _live(svc, current, last):
            if last <= current.last_at or svc.sightings.put_suggestion(replace(current, last_at=last),
                                                                       expected=expected):
                return
            continue
        if any(names_place(incident, place) for incident in svc.incidents.active()):
            return
        fresh = Suggestion(suggestion_id="SUG-" + uuid.uuid4().hex[:8].upper(), place=place, status=SUGGESTED,
                           since=since, last_at=last)
        if svc.sightings.put_suggestion(fresh, expected=expected):
            count("IncidentsSuggested")
            logger.info("incident suggested", extra={"place": place, "suggestion": fresh.suggestion_id,
                                                     "since": since.isoformat()})
            return


# ------------------------------------------------------------------------------------------------ leads
def live(svc: Services, now: datetime) -> tuple[SuggestedIncident, ...]:
    """The suggestions leads have to decide on, oldest first, each with its posts (one query for the suggestions,
    one per suggestion for its posts)."""
    from chalicelib.usecases.desk.views import SuggestedIncident, SuggestedPost

    brand_zone = zone(svc)
    shown = []
    active = svc.incidents.active()
    for suggestion in svc.sightings.suggestions():
        if suggestion.status != SUGGESTED or any(names_place(i, suggestion.place) for i in active):
            continue  # decided, or declared another way (an incident naming the place is active)
        posts = svc.sightings.between(suggestion.place, suggestion.since, max(now, suggestion.last_at))
        if not posts or _quiet_between(svc, [p.at for p in posts] + [now]):  # quiet for the quiet time: over
            continue
        minutes = max(1, round((posts[-1].at - posts[0].at).total_seconds() / 60))
        shown.append(SuggestedIncident(
            suggestion_id=suggestion.suggestion_id, place=suggestion.place, count=len(posts), minutes=minutes,
            since=suggestion.since.isoformat(), since_time=suggestion.since.astimezone(brand_zone).strftime("%H:%M"),
            posts=tuple(SuggestedPost(text=p.text, channel=p.channel, author=p.author, at=p.at.isoformat(),
                                      time=p.at.astimezone(brand_zone).strftime("%H:%M"), ticket_id=p.ticket_id,
                                      link=p.link) for p in posts[-POSTS_SHOWN:]),
            declare=prefilled(suggestion.place)))
    return tuple(sorted(shown, key=lambda s: (s.since, s.place)))


def prefilled(place: str) -> dict[str, object]:
    """The declaration form as a lead first sees it: a title, an explanation for customers to edit, the place as
    the keyword the acknowledgements match, every desk."""
    return {"title": f"Disruption at {place}",
            "text": f"We know about the disruption at {place} and are working on it. We will post updates as we "
                    "have them.",
            "url": "", "keywords": [place.lower()], "desks": []}


def _find(svc: Services, agent: Agent, suggestion_id: str) -> Suggestion:
    if not may_oversee(agent):
        raise Forbidden("suggested incidents are for leads and comms")
    found = next((s for s in svc.sightings.suggestions() if s.suggestion_id == suggestion_id), None)
    if found is None:
        raise NotFound(f"suggested incident {suggestion_id}")
    if found.status == DECLARED:
        raise Conflict(f"suggested incident {suggestion_id} was already declared as "
                       f"{found.incident_id or 'an incident'} by {found.decided_by}: nothing was changed")
    if found.status == DISMISSED:
        raise Conflict(f"suggested incident {suggestion_id} was dismissed by {found.decided_by}: nothing was changed")
    return found


def declare(svc: Services, agent: Agent, suggestion_id: str, data: Any) -> Incident:
    """A lead declares a suggested incident (``usecases.incidents.declare``, declared by them): what they sent, the
    prefilled form for what they left out (title, text, keywords [the place], every desk). Once: a second
    declaration, or one of a dismissed suggestion, is a Conflict; two at once, one wins."""
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    found = _find(svc, agent, suggestion_id)
    covering = next((i for i in svc.incidents.active() if names_place(i, found.place)), None)
    if covering is not None:
        raise Conflict(f"incident {covering.incident_id} ({covering.title}) already covers {found.place}: update it "
                       "instead; nothing was declared")
    fields = {k: v for k, v in prefilled(found.place).items() if k != "url"}
    fields.update({k: v for k, v in data.items() if v is not None})
    if not fields.get("keywords"):  # an incident without keywords would match every message on every desk
        fields["keywords"] = prefilled(found.place)["keywords"]
    now = svc.now()
    claimed = replace(found, status=DECLARED, decided_by=agent.username, decided_at=now)
    if not svc.sightings.put_suggestion(claimed, expected=found.version):
        raise Conflict(f"suggested incident {suggestion_id} was decided by somebody else just now: nothing was "
                       "changed")
    try:
        incident = incidents.declare(svc, fields, by=agent.username)
    except Exception:
        # not declared (what the lead sent was refused): the suggestion is theirs to decide again
        svc.sightings.put_suggestion(found, expected=found.version + 1)
        raise
    svc.sightings.put_suggestion(replace(claimed, incident_id=incident.incident_id), expected=found.version + 1)
    count("SuggestedIncidentsDeclared")
    logger.info("suggested incident declared", extra={"suggestion": suggestion_id, "place": found.place,
                                                      "incident": incident.incident_id, "agent": agent.username})
    return incident


def dismiss(svc: Services, agent: Agent, suggestion_id: str) -> dict[str, object]:
    """A lead dismisses a suggested incident: nobody is told anything, and the place is not suggested again until
    it has been quiet for the quiet time."""
    found = _find(svc, agent, suggestion_id)
    if not svc.sightings.put_suggestion(replace(found, status=DISMISSED, decided_by=agent.username,
                                                decided_at=svc.now()), expected=found.version):
        raise Conflict(f"suggested incident {suggestion_id} was decided by somebody else just now: nothing was "
                       "changed")
    count("SuggestedIncidentsDismissed")
    return {"dismissed": suggestion_id, "place": found.place}
