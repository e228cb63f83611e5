"""What an agent asks of the desk, validated once: from a JSON body (the API, the terminal) or from a web form (the
web inbox); both are str-keyed mappings. A bad field is refused with the reason (``Invalid``; ``Malformed`` for a
sign-in without its fields), before anything is read or changed.

``Action`` names every action on a ticket; the API, the web inbox and the terminal all use it, and
``actions.ACTIONS`` maps each to its use case. This module needs no services: the terminal imports it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, Self, TypeVar

from chalicelib.domain.vocabulary import Intent
from chalicelib.usecases.customers import link_request
from chalicelib.usecases.errors import Invalid, Malformed, NotAuthenticated, NotFound

MAX_REPLY = 50_000
MAX_NOTE = 4000
INTENTS: tuple[Intent, ...] = tuple(Intent)


class Action(StrEnum):
    """Every action on a ticket, by the name the API, the web inbox and the terminal use
    (``.../tickets/{id}/{action}``). ``link`` is the web inbox's form on a ticket page; the API links customers at
    ``/agent/customer-links``."""

    REPLY = "reply"
    NOTE = "note"
    TRANSFER = "transfer"
    LABEL = "label"
    CLAIM = "claim"
    RELEASE = "release"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    LINK = "link"
    # one step: two actions in one request (``actions.reply_resolve`` …)
    REPLY_RESOLVE = "reply_resolve"
    REPLY_RELEASE = "reply_release"
    RESOLVE_NEXT = "resolve_next"
    ASSIGN = "assign"  # to a named agent at work who may take it
    TEMPLATE = "template"  # an approved WhatsApp template (after the 24-hour window: ``window``)
    DISMISS = "dismiss"  # a listened ticket closed with no reply (``listened.dismiss``)

    @classmethod
    def named(cls, name: str) -> Action | None:
        """The action called ``name``, or None."""
        try:
            return cls(name)
        except ValueError:
            return None


#: The actions the JSON API takes under ``/agent/tickets/{id}/{action}``.
TICKET_ACTIONS: tuple[Action, ...] = tuple(action for action in Action if action is not Action.LINK)


def ticket_action(name: str) -> Action:
    """The action on a ticket the JSON API calls ``name``; any other name is not found, as an unknown path."""
    action = Action.named(name)
    if action is None or action not in TICKET_ACTIONS:
        raise NotFound(f"no action {name}: use one of {', '.join(TICKET_ACTIONS)}")
    return action


@dataclass(frozen=True)
class Given:
    """What came with a request, for the actions that take input: a JSON object, read only when an action needs it
    (an action without input never reads the body), or a web form."""

    json: Callable[[], Mapping[str, object]] | None = None
    form: Mapping[str, str] | None = None

    @classmethod
    def of_json(cls, read: Callable[[], Mapping[str, object]]) -> Given:
        return cls(json=read)

    @classmethod
    def of_form(cls, form: Mapping[str, str]) -> Given:
        return cls(form=form)

    def read(self) -> Mapping[str, object]:
        return self.json() if self.json is not None else {}

    def read_as(self, command: type[C]) -> C:
        """The command this input makes: from the form, else from the JSON body."""
        return command.from_form(self.form) if self.form is not None else command.from_json(self.read())


class _FromInput(Protocol):
    """A command read from a JSON body or a web form."""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Self: ...

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Self: ...


C = TypeVar("C", bound=_FromInput)


def _text(data: Mapping[str, object], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{name} is required", details={name: "required"})
    if len(value) > limit:
        raise Invalid(f"{name} is longer than {limit} characters", details={name: "too long"})
    return value.strip()


# ------------------------------------------------------------------------------------------------ who
@dataclass(frozen=True)
class SignIn:
    """``{"username": ..., "password": ...}``."""

    username: str
    password: str = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SignIn:
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise Malformed("send {\"username\": ..., \"password\": ...}")
        if len(username) > 128 or len(password) > 256:
            raise NotAuthenticated("wrong username or password")
        return cls(username, password)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> SignIn:
        return cls.from_json({"username": form.get("username", "").strip(), "password": form.get("password", "")})


@dataclass(frozen=True)
class Next:
    """``{"desk": optional, "listening": false}``: the next ticket of one desk, or of every desk the agent's on-shift
    teams cover; addressed tickets before listened ones, or listened ones first when ``listening``."""

    desk: str | None = None
    listening: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Next:
        desk = data.get("desk")
        if desk is not None and not isinstance(desk, str):
            raise Invalid("desk must be a desk id", details={"desk": "not a string"})
        listening = data.get("listening", False)
        if not isinstance(listening, bool):
            raise Invalid("listening must be true or false", details={"listening": "not a boolean"})
        return cls(desk or None, listening)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Next:
        return cls(form.get("desk", "").strip() or None, "listening" in form)


# ------------------------------------------------------------------------------------------------ on a ticket
@dataclass(frozen=True)
class Reply:
    """``{"text": ..., "private": false, "request_id": optional}``: once per request id."""

    text: str
    private: bool = False
    request_id: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Reply:
        text = _text(data, "text", MAX_REPLY)
        private = data.get("private", False)
        if not isinstance(private, bool):
            raise Invalid("private must be true or false", details={"private": "not a boolean"})
        request_id = data.get("request_id") or ""
        if not isinstance(request_id, str) or len(request_id) > 64 or not request_id.replace("-", "").isalnum() and \
                request_id:
            raise Invalid("request_id must be up to 64 letters, digits or dashes", details={"request_id": "invalid"})
        return cls(text, private, request_id)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Reply:
        return cls.from_json({"text": form.get("text", ""), "private": "private" in form,
                              "request_id": form.get("request_id", "")})


@dataclass(frozen=True)
class Note:
    """``{"text": ...}``: an internal note."""

    text: str

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Note:
        return cls(_text(data, "text", MAX_NOTE))

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Note:
        return cls.from_json({"text": form.get("text", "")})


@dataclass(frozen=True)
class Assign:
    """``{"agent": ...}``: the username of the agent to give the ticket to."""

    agent: str

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Assign:
        agent = data.get("agent")
        if not isinstance(agent, str) or not agent.strip() or len(agent) > 128:
            raise Invalid("agent must be the username of the agent to assign it to", details={"agent": "required"})
        return cls(agent.strip())

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Assign:
        return cls.from_json({"agent": form.get("agent", "")})


@dataclass(frozen=True)
class Transfer:
    """``{"desk": ...}``: one of the brand's desks (``desks``)."""

    desk: str

    @classmethod
    def from_json(cls, data: Mapping[str, object], desks: Sequence[str]) -> Transfer:
        desk = data.get("desk")
        if not isinstance(desk, str) or desk not in desks:
            raise Invalid(f"desk must be one of {', '.join(desks)}", details={"desk": "unknown"})
        return cls(desk)

    @classmethod
    def from_form(cls, form: Mapping[str, str], desks: Sequence[str]) -> Transfer:
        return cls.from_json({"desk": form.get("desk", "").strip()}, desks)

    @classmethod
    def of(cls, given: Given, desks: Sequence[str]) -> Transfer:
        return cls.from_form(given.form, desks) if given.form is not None else cls.from_json(given.read(), desks)


@dataclass(frozen=True)
class Label:
    """``{"intent": "praise", "urgent": false}``; no ``urgent`` (None): as the ticket is."""

    intent: Intent
    urgent: bool | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Label:
        intent = data.get("intent")
        if not isinstance(intent, str) or intent not in INTENTS:
            raise Invalid(f"intent must be one of {', '.join(INTENTS)}", details={"intent": "unknown"})
        urgent = data.get("urgent")
        if urgent is not None and not isinstance(urgent, bool):
            raise Invalid("urgent must be true or false", details={"urgent": "not a boolean"})
        return cls(Intent(intent), urgent)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Label:
        return cls.from_json({"intent": form.get("intent", "").strip(), "urgent": "urgent" in form})


@dataclass(frozen=True)
class Link:
    """``{"identity": ..., "with": ...}``: two identities (``x@handle``, ``x#1234``, ``email#ada@example.org`` …),
    in their stored form, that are one customer."""

    identity: str
    other: str

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Link:
        identity, other = link_request(data)
        return cls(identity, other)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Link:
        return cls.from_json({"identity": form.get("identity", "").strip(), "with": form.get("with", "").strip()})





# ------------------------------------------------------------------------------------------------ lists
#: Which tickets of a desk a list shows: ``replied`` is waiting for the customer; ``open`` is all three.
LIST_STATES = ("waiting", "claimed", "replied", "open")
LIST_SORTS = ("queue", "sla")
#: ``?listening=``: only the listened tickets (posts not addressed to us), or none of them ('' lists both)
LIST_LISTENING = ("only", "exclude")
MAX_LIST = 100
MAX_DUE_WITHIN = 7 * 24 * 60


@dataclass(frozen=True)
class ListFilters:
    """``?state=&priority=&flag=&channel=&held_by=&due_within=&sort=``: which of a desk's tickets, in which order.
    ``held_by`` is an agent's username or ``mine``; ``due_within`` is minutes to the first-response SLA (a breach
    is within any window); ``sort``: ``queue`` (urgent first, then oldest) or ``sla`` (soonest due first). Held by
    somebody means claimed: ``held_by`` without a state lists claimed tickets. ``listening``: ``only`` the
    listened tickets (posts not addressed to us) or ``exclude`` them."""

    state: str = "waiting"
    priority: str = ""
    flag: str = ""
    channel: str = ""
    held_by: str = ""
    due_within: int | None = None
    sort: str = "queue"
    listening: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListFilters:
        def word(name: str, choices: Sequence[str] | None = None, limit: int = 64) -> str:
            value = (query.get(name) or "").strip()
            if len(value) > limit or value and not value.replace("_", "").replace("-", "").replace(".", "").isalnum():
                raise Invalid(f"{name} is not a valid value", details={name: "invalid"})
            if value and choices is not None and value not in choices:
                raise Invalid(f"{name} must be one of {', '.join(choices)}", details={name: "unknown"})
            return value

        held_by = word("held_by", limit=128)
        state = word("state", LIST_STATES) or ("claimed" if held_by else "waiting")
        due = word("due_within")
        if due and (not due.isdigit() or int(due) > MAX_DUE_WITHIN):
            raise Invalid(f"due_within is minutes, up to {MAX_DUE_WITHIN}", details={"due_within": "invalid"})
        return cls(state=state, priority=word("priority", ("urgent", "normal")), flag=word("flag"),
                   channel=word("channel"), held_by=held_by, due_within=int(due) if due else None,
                   sort=word("sort", LIST_SORTS) or "queue", listening=word("listening", LIST_LISTENING))

    def to_query(self) -> dict[str, str]:
        """The filters as query parameters (the defaults left out), for a link to the next page."""
        given = {"state": self.state if self.state != "waiting" else "", "priority": self.priority,
                 "flag": self.flag, "channel": self.channel, "held_by": self.held_by,
                 "due_within": "" if self.due_within is None else str(self.due_within),
                 "sort": self.sort if self.sort != "queue" else "", "listening": self.listening}
        return {name: value for name, value in given.items() if value}


def list_limit(value: str | None, default: int = 25) -> int:
    """``?limit=``: 1 to ``MAX_LIST`` tickets a page."""
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIST:
        raise Invalid(f"limit must be 1 to {MAX_LIST}", details={"limit": "invalid"})
    return int(value)


MAX_QUERY = 200


def search_query(value: str | None) -> str:
    """``?q=``: a reference, an identity or a handle; up to ``MAX_QUERY`` characters."""
    q = (value or "").strip()
    if not q:
        raise Invalid("q is required: a reference (R…), an identity or a handle", details={"q": "required"})
    if len(q) > MAX_QUERY:
        raise Invalid(f"q is longer than {MAX_QUERY} characters", details={"q": "too long"})
    return q
