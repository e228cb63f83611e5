"""The web inbox (``/inbox``): the agents' pages over the desk's use cases (``chalicelib.usecases.desk``).

This module reads the request (session cookie, form, CSRF token), calls the use case ``app.py`` hands it and
renders the typed view it answers with the jinja2 templates ``inbox_*.html`` (autoescaped); after an action it
redirects, and builds no view of the ticket. The rules — who may act, shifts, claims, reply limits — stay in the
use cases; a refusal is shown with its reason and the status ``app.py`` gives it (``ERROR_STATUS``, passed in as
``status_of``).

- **Session**: the sign-in token lives only in the cookie ``inbox_session`` (HttpOnly, SameSite=Strict,
  Path=/inbox, Secure on https, Max-Age = the token's lifetime); it is never written into a page or a URL.
- **CSRF**: every form that changes state carries ``csrf`` = HMAC-SHA256(STATUS_LINK_KEY, ``inbox-csrf:`` +
  the session token); the sign-in form, before any session, HMAC(key, ``inbox-sign-in:`` + a random nonce kept in
  the cookie ``inbox_sign_in``). A POST whose token is missing or wrong, or whose ``Origin``/``Sec-Fetch-Site``
  names another site, gets 403 and changes nothing.
- **Messages after a redirect** travel in the query (``m``) with an HMAC bound to the session (``k``): only
  messages this module wrote are shown, and only to the agent they were written for.
- **Headers**: a strict Content-Security-Policy (no inline script or style; the stylesheet and the script are
  served from ``/inbox/assets/``), no-store, nosniff, no-referrer, no framing.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse
from zoneinfo import ZoneInfo

from chalicelib.domain.agent import Agent, reply_limit
from chalicelib.domain.channel_profiles import PROFILES
from chalicelib.services import Services
from chalicelib.store import ports
from chalicelib.store.ports import SavedView
from chalicelib.usecases import errors
from chalicelib.usecases.desk import access
from chalicelib.usecases.desk import saved_replies as desk_saved
from chalicelib.usecases.desk import views as desk_views
from chalicelib.usecases.desk.commands import Action, Given, ListFilters, Next, SignIn, list_limit, search_query
from chalicelib.usecases.desk.lists import TicketPage
from chalicelib.usecases.desk.pulse import PulseView
from chalicelib.usecases.desk.results import (
    CustomersLinked,
    NextTaken,
    NoteAdded,
    Outcome,
    RepliedAnd,
    ReplyQueued,
    ResolvedAndNext,
    TicketAssigned,
    TicketClaimed,
    TicketDismissed,
    TicketLabelled,
    TicketReleased,
    TicketReopened,
    TicketResolved,
    TicketTransferred,
)
from chalicelib.usecases.desk.saved_views import SaveView
from chalicelib.usecases.desk.search import SearchResult
from chalicelib.usecases.desk.views import DesksView, LabelsExport, OversightView, TicketView
from chalicelib.usecases.desk.window import TemplateQueued
from chalicelib.usecases.status import format_moment
from chalicelib.web import forms
from chalicelib.web.render import render

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "inbox_session"
SIGN_IN_COOKIE = "inbox_sign_in"
SIGN_IN_NONCE_SECONDS = 3600
#: A form larger than this is refused before it is parsed (a reply is at most 50,000 characters, which
#: percent-encoded as UTF-8 takes up to 9 bytes each).
MAX_FORM_BYTES = 512 * 1024
MAX_FORM_FIELDS = 20
MAX_FLASH = 1000
MAX_TICKET_ID = 64
MAX_SAVED_ID = 80

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
ASSETS = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8",
          "inbox-live.js": "text/javascript; charset=utf-8", "inbox-icon.svg": "image/svg+xml"}

#: Each channel as the inbox names it (``ChannelProfile.agent_name``), and the agents' own replies in a conversation.
CHANNELS: dict[str, str] = {**{channel: p.agent_name for channel, p in PROFILES.items()}, "reply": "our reply"}
#: The intents an agent may label a ticket's first message with, as the inbox words them.
INTENT_CHOICES = (("complaint", "Complaint"), ("question", "Question"), ("praise", "Praise"),
                  ("spam", "Spam or promotion"), ("abuse", "Abuse"), ("other", "Other: chit-chat, news, no ask"))
FLAGS = {"abuse": "Abuse", "high_reach": "High reach", "personal_data_in_public": "Personal data in public",
         "listening": "Not addressed to us"}
#: The tones of an automatic reply (``domain.triage.TONES``), as the inbox words them.
TONE_LABELS = {"apology": "Apology and help", "question": "Question received", "thanks": "Thank-you",
               "neutral": "Neutral holding reply"}
SIGN_IN_REASONS = {
    "required": "Sign in to use the inbox.",
    "expired": "Your sign-in has ended or is not valid any more: sign in again.",
    "signed-out": "You are signed out.",
}
TITLES = {400: "The form could not be read", 401: "Sign in again", 403: "Not allowed", 404: "Not found",
          409: "Not possible right now", 413: "Too large", 415: "Not a form", 422: "Not accepted"}

#: The actions that send a reply: a refused one shows the reply again as typed.
REPLY_ACTIONS = (Action.REPLY, Action.REPLY_RESOLVE, Action.REPLY_RELEASE)

#: A response's headers (``Set-Cookie`` may be several).
Headers = dict[str, str | list[str]]
#: (status, body, headers): what ``app.py`` turns into a Chalice ``Response``.
Page = tuple[int, str, Headers]
StatusOf = Callable[[errors.Refused], int]
#: The use case of a ticket action, by its name: ``actions.act``.
Act = Callable[[Services, Agent, str, Action, Given], Outcome]


@dataclass(frozen=True)
class Session:
    """A signed-in agent: the sign-in token from the cookie and who it names."""

    token: str
    agent: Agent


@dataclass(frozen=True)
class Posted:
    """A state-changing POST that passed every check: who sent it and its form."""

    session: Session
    form: dict[str, str]


# ------------------------------------------------------------------------------------------------ request
@dataclass(frozen=True)
class WebRequest:
    """What the inbox reads from a request: method, headers (lower-case names), query, body."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes

    @classmethod
    def of(cls, request: Any) -> WebRequest:
        headers = {str(name).lower(): str(value) for name, value in (request.headers or {}).items()}
        body = (request.raw_body or b"") if request.method == "POST" else b""
        return cls(request.method, headers, dict(request.query_params or {}), body)


def parse_cookies(header: str) -> dict[str, str]:
    """``name=value; …`` → the first value of each name (a malformed part is skipped, never an error)."""
    found: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body → one value per field (line ends as ``\\n``). Too large, not
    UTF-8, too many or repeated fields are refused with a reason (``TooLarge``, ``Malformed``)."""
    if len(body) > MAX_FORM_BYTES:
        raise errors.TooLarge(f"the form is larger than {MAX_FORM_BYTES // 1024} KiB; shorten the text")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS,
                          encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise errors.Malformed("the form is not UTF-8 text") from None
    except ValueError:
        raise errors.Malformed(f"the form has more than {MAX_FORM_FIELDS} fields") from None
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise errors.Malformed(f"the form gives {', '.join(repeated)} more than once")
    return {name: values[0].replace("\r\n", "\n").replace("\r", "\n") for name, values in fields.items()}


# ------------------------------------------------------------------------------------------------ tokens
def _mac(svc: Services, label: bytes, *parts: str, size: int = 32) -> str:
    key = svc.secrets.get("STATUS_LINK_KEY").encode("utf-8")
    digest = hmac.new(key, label + b"\n".join(p.encode("utf-8") for p in parts), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:size]).decode("ascii").rstrip("=")


def csrf_token(svc: Services, session: str) -> str:
    """The token every form of a signed-in agent carries: HMAC of the session token, domain-separated."""
    return _mac(svc, b"inbox-csrf:", session)


def sign_in_token(svc: Services, nonce: str) -> str:
    return _mac(svc, b"inbox-sign-in:", nonce)


def _same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


@lru_cache(maxsize=4)
def asset(name: str) -> tuple[str, str]:
    """(content, version) of a file served under /inbox/assets/; the version (a content hash) busts caches."""
    content = (HERE / name).read_text(encoding="utf-8")
    return content, hashlib.sha256(content.encode("utf-8")).hexdigest()[:12]


def asset_page(name: str) -> Page:
    if name not in ASSETS:
        return 404, "Not found\n", {**SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8"}
    return 200, asset(name)[0], {**SECURITY_HEADERS, "Content-Type": ASSETS[name],
                                 "Cache-Control": "public, max-age=86400"}


# ------------------------------------------------------------------------------------------------ pages
class Web:
    """One request to the web inbox. Each public method answers one route with a ``Page``."""

    def __init__(self, svc: Services, request: Any, status_of: StatusOf):
        self.svc = svc
        self.request = request if isinstance(request, WebRequest) else WebRequest.of(request)
        self.status_of = status_of
        base = urlparse(svc.settings.public_base_url)
        self.prefix = base.path.rstrip("/")  # e.g. an API Gateway stage: /api
        self.secure = svc.settings.public_base_url.startswith("https")
        self.public_host = base.netloc
        self.cookies = parse_cookies(self.request.headers.get("cookie", ""))

    # -------------------------------------------------------------------------------------------- sign-in
    def sign_in_form(self) -> Page:
        if self._agent_or_none() is not None:
            return self._see_other("/inbox")
        reason = SIGN_IN_REASONS.get(self.request.query.get("why", ""), "")
        return self._sign_in_page(200, notice=reason)

    def sign_in(self, call: Callable[[Services, SignIn], ports.SignIn]) -> Page:
        try:
            self._same_site()
            form = parse_form(self.request.body)
        except errors.Refused as exc:
            return self._sign_in_page(self.status_of(exc), problem=sentence(exc.message))
        nonce = self.cookies.get(SIGN_IN_COOKIE, "")
        if not nonce or not _same(sign_in_token(self.svc, nonce), form.get("csrf")):
            stale = errors.Forbidden("the sign-in form had expired or did not come from this site: try again")
            return self._sign_in_page(self.status_of(stale), problem=sentence(stale.message))
        username = form.get("username", "").strip()
        try:
            signed = call(self.svc, SignIn.from_form(form))
        except errors.Malformed as exc:
            return self._sign_in_page(self.status_of(exc), problem="Enter your username and your password.",
                                      username=username)
        except errors.Refused as exc:
            return self._sign_in_page(self.status_of(exc), problem=sentence(exc.message), username=username)
        expires_in = max(60, int(signed.expires_in or 3600))
        cookies = [self._cookie(SESSION_COOKIE, signed.token, expires_in),
                   self._cookie(SIGN_IN_COOKIE, "", 0)]
        return self._see_other("/inbox", cookies=cookies)

    def sign_out(self) -> Page:
        signed_in = self._agent_or_none()
        if signed_in is not None:
            try:
                self._same_site()
                form = parse_form(self.request.body)
                self._check_csrf(signed_in.token, form)
            except errors.Refused as exc:
                return self._error(exc, signed_in)
        clear = [self._cookie(SESSION_COOKIE, "", 0)]
        return self._see_other("/inbox/sign-in", query={"why": "signed-out"}, cookies=clear)

    # -------------------------------------------------------------------------------------------- pages
    def page(self, template: str, call: Callable[[Services, Agent], object],
             extra: Callable[[Agent], dict[str, object]] | None = None) -> Page:
        """A GET page: the agent from the session cookie (else to the sign-in page), then the use case (``extra``:
        more of the page's context, for the agent)."""
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        try:
            view = call(self.svc, signed_in.agent)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        context = {"flash": self._flash(signed_in.token), **(extra(signed_in.agent) if extra else {})}
        return self._html(200, template, signed_in, headers=None, view=view, **context)

    def home(self, call: Callable[[Services, Agent], DesksView]) -> Page:
        return self.page("inbox_home.html", call, lambda agent: {"views": self.svc.views.of(agent.username)})

    def oversight(self, call: Callable[[Services, Agent], OversightView]) -> Page:
        return self.page("inbox_oversight.html", call)

    def decide_suggestion(self, suggestion_id: str, done: str,
                          call: Callable[[Services, Agent, str, Mapping[str, object]], object]) -> Page:
        """POST /inbox/suggested-incidents/{id}/declare|dismiss (leads and comms): declare the suggested incident as
        the form says, or dismiss it; back to the oversight page, which says ``done`` (a refusal answers with its
        reason and status)."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in, form = posted.session, posted.form
        try:
            call(self.svc, signed_in.agent, unquote(suggestion_id)[:40], _declare_form(form, self.svc.config.desk_ids))
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return self._see_other("/inbox/oversight", signed_in.token, done)

    def pulse(self, call: Callable[[Services, Agent], PulseView]) -> Page:
        """GET /inbox/pulse: what changed for the signed-in agent, as JSON, for the page's live updates
        (``usecases.desk.pulse``); 401 when the session is gone (the script then stops asking)."""
        signed_in = self._agent_or_none()
        json_headers: Headers = {**SECURITY_HEADERS, "Content-Type": "application/json", "Cache-Control": "no-store"}
        if signed_in is None:
            return 401, json.dumps({"error": "signed out: sign in again"}), json_headers
        try:
            view = call(self.svc, signed_in.agent)
        except errors.Refused as exc:
            return self.status_of(exc), json.dumps({"error": exc.message}), json_headers
        return 200, json.dumps(view.to_json()), json_headers

    def labels_csv(self, call: Callable[[Services, Agent, str | None], LabelsExport]) -> Page:
        """GET /inbox/labels.csv: the agents' labels as a file ``make triage-report`` reads (``--labelled``)."""
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        since = self.request.query.get("since") or None
        try:
            view = call(self.svc, signed_in.agent, since)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=view.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row.to_json() for row in view.labels)
        return 200, out.getvalue(), {**SECURITY_HEADERS, "Content-Type": "text/csv; charset=utf-8",
                                     "Content-Disposition": 'attachment; filename="triage-labels.csv"'}

    def ticket(self, ticket_id: str, call: Callable[[Services, Agent, str], TicketView]) -> Page:
        if not _plausible_id(ticket_id):
            return self._error(errors.NotFound(f"ticket {ticket_id[:MAX_TICKET_ID]}"), self._agent_or_none())
        chosen = self.request.query.get("saved", "")
        return self.page("inbox_ticket.html", lambda svc, agent: call(svc, agent, ticket_id),
                         lambda agent: self._saved_context(agent, ticket_id, chosen))

    def desk_list(self, desk: str, call: Callable[[Services, Agent, str, ListFilters, str | None, int], TicketPage]
                  ) -> Page:
        """GET /inbox/desks/{desk}: the desk's tickets as a table, filtered by the form's GET parameters, and a link
        to the next page (the cursor)."""
        query = self.request.query
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        try:
            limit = list_limit(query.get("limit"))
            view = call(self.svc, signed_in.agent, desk, ListFilters.from_query(query), query.get("cursor") or None,
                        limit)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        next_query = {**view.filters.to_query(), **({"limit": str(limit)} if query.get("limit") else {}),
                      "cursor": view.next_cursor or ""}
        return self._html(200, "inbox_desk.html", signed_in, view=view, flash=self._flash(signed_in.token),
                          channels=sorted(PROFILES), next_query=next_query)

    def search(self, call: Callable[[Services, Agent, str], SearchResult]) -> Page:
        """GET /inbox/search?q=: a reference, an identity or a handle; one ticket found opens it."""
        q = self.request.query.get("q", "")
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        if not q.strip():
            return self._html(200, "inbox_search.html", signed_in, view=None, q="", flash=None)
        try:
            found = call(self.svc, signed_in.agent, search_query(q))
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return self._html(200, "inbox_search.html", signed_in, view=found, q=q.strip(), flash=None)

    # -------------------------------------------------------------------------------------------- actions
    def take_next(self, call: Callable[[Services, Agent, str | None, bool], NextTaken]) -> Page:
        """POST /inbox/next: claim and open the ticket, or back to the inbox with why not."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in, form = posted.session, posted.form
        try:
            asked = Next.from_form(form)
            taken = call(self.svc, signed_in.agent, asked.desk, asked.listening)
        except errors.Refused as exc:
            try:
                view = desk_views.desks(self.svc, signed_in.agent)
            except errors.Refused:
                return self._error(exc, signed_in)
            return self._html(self.status_of(exc), "inbox_home.html", signed_in, view=view,
                              flash={"kind": "error", "text": sentence(exc.message)})
        if taken.ticket_id:
            return self._see_other(f"/inbox/tickets/{quote(taken.ticket_id, safe='')}", signed_in.token,
                                   f"You hold ticket {taken.ticket_id} now.")
        return self._see_other("/inbox", signed_in.token, taken.message or "Nothing is waiting.")

    def act(self, ticket_id: str, action: str, call: Act) -> Page:
        """POST /inbox/tickets/{id}/{action}: the use case, then back to the ticket (303) with what happened; a
        refusal shows the ticket again with the reason, the status of the refusal and the reply as typed."""
        known = Action.named(action)
        if known is None:
            return self._error(errors.NotFound(f"there is no action {action[:40]}"), None)
        if not _plausible_id(ticket_id):
            return self._error(errors.NotFound(f"ticket {ticket_id[:MAX_TICKET_ID]}"), None)
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in, form = posted.session, posted.form
        try:
            outcome = call(self.svc, signed_in.agent, ticket_id, known, Given.of_form(form))
        except errors.Refused as exc:
            return self._ticket_again(ticket_id, signed_in, exc, form if known in REPLY_ACTIONS else {})
        where, message = _after(outcome, ticket_id)
        return self._see_other(where, signed_in.token, message)

    def _ticket_again(self, ticket_id: str, signed_in: Session, exc: errors.Refused,
                      draft: Mapping[str, str]) -> Page:
        """The ticket again with the refusal, and the reply as typed (``draft``: the reply's form)."""
        try:
            view = desk_views.show(self.svc, signed_in.agent, ticket_id)
        except errors.Refused:
            return self._error(exc, signed_in)
        return self._html(self.status_of(exc), "inbox_ticket.html", signed_in, headers=None, view=view,
                          flash={"kind": "error", "text": sentence(exc.message)},
                          reply_text=draft.get("text", ""), reply_private="private" in draft,
                          **self._saved_context(signed_in.agent, ticket_id, ""))

    # -------------------------------------------------------------------------------------------- saved replies
    def saved_replies(self, call: Callable[[Services, Agent], desk_saved.SavedReplyList]) -> Page:
        """GET /inbox/saved-replies: every saved reply (the brand file's, read-only, and the leads'); for leads, the
        form to add one, or to edit the one ``?edit=`` names."""
        signed_in = self._agent_or_none()
        if signed_in is None:
            return self._to_sign_in()
        try:
            view = call(self.svc, signed_in.agent)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        editing = view.get(self.request.query.get("edit", "")[:MAX_SAVED_ID])
        draft = editing.reply.model_dump(mode="json") if editing is not None and editing.source == desk_saved.LEAD \
            else {}
        return self._saved_replies_page(200, signed_in, view, draft, self._flash(signed_in.token))

    def save_saved_reply(self, call: Callable[[Services, Agent, Mapping[str, object]], desk_saved.SavedReplyEntry]
                         ) -> Page:
        """POST /inbox/saved-replies (leads): add or replace a saved reply, then back to the list; a refusal shows
        the form again as typed, with the reason and its status."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in, form = posted.session, posted.form
        data = _saved_reply_form(form, self.svc.config.desk_ids)
        try:
            saved = call(self.svc, signed_in.agent, data)
        except errors.Refused as exc:
            try:
                view = desk_saved.listing(self.svc, signed_in.agent)
            except errors.Refused:
                return self._error(exc, signed_in)
            return self._saved_replies_page(self.status_of(exc), signed_in, view, data,
                                            {"kind": "error", "text": sentence(exc.message)})
        return self._see_other("/inbox/saved-replies", signed_in.token,
                               f"Saved reply {saved.reply.id} saved: agents see it on the tickets it is for.")

    def save_view(self, call: Callable[[Services, Agent, SaveView], SavedView]) -> Page:
        """POST /inbox/views: keep the desk list's filters under a name; back to that list, which says so (a refusal
        answers with its reason and status)."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in, form = posted.session, posted.form
        desk = form.get("desk", "")
        back = f"/inbox/desks/{quote(desk, safe='')}" if desk in self.svc.config.desks else "/inbox"
        try:
            view = call(self.svc, signed_in.agent, SaveView.from_form(form))
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return self._see_other(back, signed_in.token, f"View “{view.name}” saved: it is on your inbox page.",
                               query=dict(view.query))

    def delete_view(self, name: str, call: Callable[[Services, Agent, str], None]) -> Page:
        """POST /inbox/views/{name}/delete: forget one of the agent's views."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        try:
            call(self.svc, posted.session.agent, unquote(name)[:80])
        except errors.Refused as exc:
            return self._error(exc, posted.session)
        return self._see_other("/inbox", posted.session.token, f"View “{unquote(name)[:80]}” deleted.")

    def delete_saved_reply(self, reply_id: str,
                           call: Callable[[Services, Agent, str], desk_saved.SavedReplyEntry]) -> Page:
        """POST /inbox/saved-replies/{id}/delete (leads): delete a lead's saved reply."""
        posted = self._post()
        if not isinstance(posted, Posted):
            return posted
        signed_in = posted.session
        try:
            call(self.svc, signed_in.agent, reply_id[:MAX_SAVED_ID])
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return self._see_other("/inbox/saved-replies", signed_in.token, f"Saved reply {reply_id} deleted.")

    def _saved_replies_page(self, status: int, signed_in: Session, view: desk_saved.SavedReplyList,
                            draft: Mapping[str, object], flash: Mapping[str, str] | None) -> Page:
        from chalicelib.domain.config import SAVED_REPLY_VARIABLES

        return self._html(status, "inbox_saved_replies.html", signed_in, headers=None, view=view, draft=draft,
                          flash=flash, variables=sorted(SAVED_REPLY_VARIABLES))

    def _saved_context(self, agent: Agent, ticket_id: str, chosen: str) -> dict[str, object]:
        """The ticket's saved replies beside the reply box (none when they cannot be shown); ``chosen`` (``?saved=``,
        the list's link without JavaScript): that one rendered into the reply box, to edit before sending."""
        try:
            view = desk_saved.saved_replies(self.svc, agent, ticket_id)
        except errors.Refused:
            return {"saved": None}
        context: dict[str, object] = {"saved": view}
        if chosen:
            found = view.get(chosen[:MAX_SAVED_ID])
            if found is None:
                context["flash"] = {"kind": "error",
                                    "text": f"There is no saved reply {chosen[:MAX_SAVED_ID]} for this ticket."}
            else:
                context["reply_text"] = found.text
                context["flash"] = {"kind": "ok" if found.fits else "error",
                                    "text": f"The saved reply “{found.title}” is in the reply box: edit it, then send."
                                    + ("" if found.fits else f" {sentence(found.problem)}")}
        return context

    # -------------------------------------------------------------------------------------------- session
    def _agent_or_none(self) -> Session | None:
        token = self.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        try:
            return Session(token, access.authenticate(self.svc, token))
        except errors.NotAuthenticated:
            return None

    def _to_sign_in(self) -> Page:
        had_cookie = bool(self.cookies.get(SESSION_COOKIE))
        clear = [self._cookie(SESSION_COOKIE, "", 0)] if had_cookie else []
        return self._see_other("/inbox/sign-in", query={"why": "expired" if had_cookie else "required"},
                               cookies=clear)

    def _same_site(self) -> None:
        """Refuse a POST a browser says came from another site (``Sec-Fetch-Site``, or a real ``Origin``; a page
        with no-referrer sends ``Origin: null``, which the CSRF token then decides)."""
        if not forms.same_site(self.request.headers, self.public_host):
            raise errors.Forbidden("the form was sent from another site")

    def _check_csrf(self, session: str, form: Mapping[str, str]) -> None:
        if not _same(csrf_token(self.svc, session), form.get("csrf")):
            raise errors.Forbidden("the form is missing its security token or it is not valid for your "
                                   "sign-in: reload the page and try again")

    def _post(self) -> Posted | Page:
        """A state-changing POST: same site, signed in (else 401), a readable form (else 400/413), the right CSRF
        token (else 403); or the page that refuses it."""
        try:
            self._same_site()
        except errors.Refused as exc:
            return self._error(exc, None)
        signed_in = self._agent_or_none()
        if signed_in is None:
            ended = errors.NotAuthenticated("your sign-in has ended or is not valid: sign in again")
            clear = [self._cookie(SESSION_COOKIE, "", 0)] if self.cookies.get(SESSION_COOKIE) else []
            return self._error(ended, None, cookies=clear)
        try:
            form = parse_form(self.request.body)
            self._check_csrf(signed_in.token, form)
        except errors.Refused as exc:
            return self._error(exc, signed_in)
        return Posted(signed_in, form)

    # -------------------------------------------------------------------------------------------- answers
    def _cookie(self, name: str, value: str, max_age: int) -> str:
        parts = [f"{name}={value}", f"Max-Age={max_age}", f"Path={self.prefix}/inbox", "HttpOnly",
                 "SameSite=Strict"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)

    def _see_other(self, path: str, session: str = "", message: str = "", *, query: dict[str, str] | None = None,
                   cookies: list[str] | None = None) -> Page:
        params = dict(query or {})
        if message and session:
            message = message[:MAX_FLASH]
            params.update(m=message, k=_mac(self.svc, b"inbox-flash:", session, message, size=16))
        location = self.prefix + path + (f"?{urlencode(params)}" if params else "")
        headers: Headers = {**SECURITY_HEADERS, "Location": location, "Content-Type": "text/plain; charset=utf-8"}
        if cookies:
            headers["Set-Cookie"] = cookies if len(cookies) > 1 else cookies[0]
        return 303, f"See {location}\n", headers

    def _flash(self, session: str) -> dict[str, str] | None:
        message, mac = self.request.query.get("m", ""), self.request.query.get("k", "")
        if not message or len(message) > MAX_FLASH:
            return None
        if not _same(_mac(self.svc, b"inbox-flash:", session, message, size=16), mac):
            return None
        return {"kind": "ok", "text": message}

    def _sign_in_page(self, status: int, *, notice: str = "", problem: str = "", username: str = "") -> Page:
        nonce = self.cookies.get(SIGN_IN_COOKIE, "")
        if not (len(nonce) == 32 and all(c in "0123456789abcdef" for c in nonce)):
            nonce = secrets.token_hex(16)
        flash = {"kind": "error", "text": problem} if problem else {"kind": "ok", "text": notice} if notice else None
        headers = {"Set-Cookie": self._cookie(SIGN_IN_COOKIE, nonce, SIGN_IN_NONCE_SECONDS)}
        return self._html(status, "inbox_sign_in.html", None, flash=flash, csrf=sign_in_token(self.svc, nonce),
                          username=username, headers=headers)

    def _error(self, exc: errors.Refused, signed_in: Session | None, *,
               cookies: list[str] | None = None) -> Page:
        status = self.status_of(exc)
        headers: Headers = {"Set-Cookie": cookies if len(cookies) > 1 else cookies[0]} if cookies else {}
        return self._html(status, "inbox_error.html", signed_in, title=TITLES.get(status, "Refused"),
                          message=sentence(exc.message), signed_out=isinstance(exc, errors.NotAuthenticated),
                          headers=headers)

    def _html(self, status: int, template: str, signed_in: Session | None, *,
              headers: Mapping[str, str | list[str]] | None = None, **context: object) -> Page:
        zone = ZoneInfo(self.svc.config.brand.timezone)
        agent = signed_in.agent if signed_in else None
        common: dict[str, object] = {
            "brand": self.svc.config.brand.name, "base": self.prefix, "flash": None,
            "agent": {"name": agent.display, "username": agent.username} if agent else None,
            "oversee": bool(agent and access.may_oversee(agent)),
            "csrf": csrf_token(self.svc, signed_in.token) if signed_in else "",
            "versions": {name: asset(name)[1] for name in ASSETS},
            "moment": lambda iso: _moment(iso, zone), "channel_label": lambda c: CHANNELS.get(c, c),
            "flag_label": lambda f: FLAGS.get(f, f.replace("_", " ")), "tone_label": tone_label,
            "desk_choices": [(d, self.svc.config.desks[d].description) for d in self.svc.config.desk_ids],
            "request_id": secrets.token_hex(16), "reply_text": "", "reply_private": False,
            "private_limit": lambda channel: reply_limit(channel, True),
            "intent_choices": INTENT_CHOICES,
            "saved": None,
            "views": (),
        }
        common.update(context)
        body = render(template, **common)
        return status, body, {**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", **(headers or {})}


# ------------------------------------------------------------------------------------------------ helpers
def tone_label(tone: str, answered: bool | None) -> str:
    """A reply's tone for a person; no tone: not answered, or (a ticket from before tones) the plain
    acknowledgement."""
    if tone:
        return TONE_LABELS.get(tone, tone.replace("_", " ").capitalize())
    return "Plain acknowledgement" if answered else "Not answered"


def sentence(message: str) -> str:
    """A refusal's message as a sentence for a page: a capital first, a full stop last."""
    message = message.strip()
    if not message:
        return ""
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _plausible_id(ticket_id: str) -> bool:
    """A ticket reference can only be letters and digits: anything else is not looked up at all."""
    return 0 < len(ticket_id) <= MAX_TICKET_ID and ticket_id.isascii() and ticket_id.isalnum()


def _moment(iso: str | None, zone: ZoneInfo) -> str:
    if not iso:
        return ""
    try:
        return format_moment(datetime.fromisoformat(iso), zone)
    except (TypeError, ValueError):
        return str(iso)


def _after(outcome: Outcome, ticket_id: str) -> tuple[str, str]:
    """Where to go after a done action, and what to say there."""
    here = f"/inbox/tickets/{quote(ticket_id, safe='')}"
    match outcome:
        case TemplateQueued(queued=True):
            return here, f"Template {outcome.template} queued: it goes to the customer on WhatsApp."
        case ReplyQueued(queued=False):
            return here, "That reply had been sent already; it was not sent twice."
        case ReplyQueued():
            how = "privately" if outcome.private else "publicly"
            return here, f"Reply queued: it goes to the customer {how} on {CHANNELS.get(outcome.channel, '')}."
        case TicketClaimed():
            return here, f"You hold ticket {ticket_id} now."
        case TicketAssigned():
            return here, f"Ticket {ticket_id} assigned to {outcome.agent}: it is in their tickets now."
        case NoteAdded():
            return here, "Note added."
        case TicketLabelled():
            said = f"{outcome.intent}{', urgent' if outcome.urgent else ''}"
            agreed = outcome.triaged == outcome.intent
            return here, f"Labelled {said}" + (": triage had it right." if agreed else
                                                f"; triage had said {outcome.triaged}.")
        case TicketTransferred():
            return "/inbox", f"Ticket {ticket_id} moved to desk {outcome.desk}."
        case TicketReleased():
            where = "waiting for the customer's answer" if outcome.status == "replied" else \
                f"back in the queue of desk {outcome.desk}"
            return "/inbox", f"Ticket {ticket_id} released: {where}."
        case TicketResolved():
            return here, f"Ticket {ticket_id} resolved."
        case TicketDismissed():
            return here, f"Ticket {ticket_id} dismissed: closed with no reply."
        case TicketReopened():
            return here, f"Ticket {ticket_id} reopened; you hold it now."
        case RepliedAnd(then="resolved"):
            return here, f"Reply queued and ticket {ticket_id} resolved."
        case RepliedAnd():
            return "/inbox", f"Reply queued; ticket {ticket_id} waits for the customer's answer."
        case ResolvedAndNext(next=taken):
            if taken.ticket_id is None:
                return "/inbox", f"Ticket {ticket_id} resolved. {sentence(taken.message or 'Nothing is waiting')}"
            return (f"/inbox/tickets/{quote(taken.ticket_id, safe='')}",
                    f"Ticket {ticket_id} resolved. You hold ticket {taken.ticket_id} now.")
        case CustomersLinked(linked=linked):
            if not linked.changed:
                return here, sentence(linked.message or "Already linked")
            kept = linked.ticket_id or ticket_id
            message = f"Linked: {', '.join(linked.identities)} are one customer."
            if linked.merged_ticket_id:
                message += f" Ticket {linked.merged_ticket_id} was merged into {kept}."
            return f"/inbox/tickets/{quote(kept, safe='')}", message


def _declare_form(form: Mapping[str, str], desks: list[str]) -> dict[str, object]:
    """A suggested incident's declaration from the leads' form: keywords separated by commas, one checkbox per desk
    (``desk_<id>``; none ticked: every desk)."""
    return {"title": form.get("title", "").strip(), "text": form.get("text", "").strip(),
            "url": form.get("url", "").strip(),
            "keywords": [k.strip() for k in form.get("keywords", "").split(",") if k.strip()] or None,
            "desks": [desk for desk in desks if form.get(f"desk_{desk}")]}


def _saved_reply_form(form: Mapping[str, str], desks: list[str]) -> dict[str, object]:
    """A saved reply from the leads' form: one checkbox per desk (``desk_<id>``; none ticked: every desk)."""
    return {"id": form.get("id", "").strip(), "title": form.get("title", "").strip(),
            "desks": [desk for desk in desks if form.get(f"desk_{desk}")],
            "language": form.get("language", "").strip(), "text": form.get("text", "").strip()}
