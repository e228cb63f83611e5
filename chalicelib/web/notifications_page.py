"""Stage local's notification previews (``GET /local/notifications/view``): what the stand-in recorded for Slack,
Microsoft Teams and signed webhooks (``GET /local/notifications``), shown roughly as each would show it.

Pure: the recorded entries (JSON) in, HTML out. A Slack message's Block Kit blocks (``header``, ``section`` with
its text, fields and a button accessory, ``context``, ``actions``, ``divider``) with their mrkdwn (``*bold*``,
``_italic_``, ``~strike~``, `` `code` ``, ``<url|label>``, ``>`` quotes, a few emoji names, line breaks); a Teams
Adaptive Card's ``TextBlock`` (weight, size, colour, subtle), ``FactSet``, ``ColumnSet``, ``Container``,
``ActionSet`` and its ``Action.OpenUrl`` actions; a webhook's request line, recorded headers, ``verified`` and its
body pretty-printed. A later Slack event posted in a thread is shown under its parent.

Everything recorded is text to show, never markup: it is escaped (a destination that includes customer text
carries the customer's words), and only ``http(s)`` addresses become links. The page carries its stylesheet inline
(``notifications.css``) under a Content-Security-Policy that allows that stylesheet and nothing else: no script,
no image, no font, nothing fetched.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from chalicelib.web.render import HERE, environment

STYLESHEET = HERE / "notifications.css"
TEMPLATE = "notifications.html"

PLATFORMS = {"slack": "Slack", "teams": "Microsoft Teams", "webhook": "Signed webhook"}
EVENTS = {"desk.digest": "shift-start digest", "ticket.created": "new ticket", "ticket.updated": "ticket update",
          "ticket.sla_breached": "reply overdue"}
#: The emoji names the messages use (and a few common ones), as Slack shows them, with the words a screen reader
#: says; other names stay as written. Drawn by the stylesheet (``.emoji-<name>``), so no emoji font is needed.
EMOJI = {"rotating_light": "rotating light", "red_circle": "red circle", "warning": "warning",
         "white_check_mark": "check mark", "large_blue_circle": "blue circle", "bell": "bell", "x": "cross"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_SLACK_LINK = re.compile(r"<([^<>|\n]*)(?:\|([^<>\n]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_CARD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_CARD_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_CARD_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_WEIGHTS = {"bolder": "bolder", "lighter": "lighter"}
_SIZES = {"small": "small", "medium": "medium", "large": "large", "extralarge": "xlarge"}
_COLORS = {"attention": "attention", "good": "good", "warning": "warning", "accent": "accent", "light": "light",
           "dark": "dark"}


# --------------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------------


def web_url(url: object) -> str | None:
    """``url`` where it may be a link on the page (``http`` or ``https``), else None."""
    if isinstance(url, str) and re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    return None


def _link(url: str, label: Markup) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, label)


def _slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _slack_format(text: str) -> Markup:
    """Text between links: Slack's escapes undone, then escaped for HTML, then its marks applied."""
    html = str(escape(_slack_unescape(text)))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    html = _STRIKE.sub(r"<del>\1</del>", html)
    html = _EMOJI.sub(_emoji, html)
    return Markup(html)  # noqa: S704 - built from escaped text and fixed tags only


def _emoji(match: re.Match[str]) -> str:
    name = match.group(1)
    if name not in EMOJI:
        return match.group(0)
    return f'<span class="emoji emoji-{name}" role="img" aria-label="{EMOJI[name]}"></span>'


def _slack_line(line: str) -> Markup:
    out, at = Markup(), 0
    for match in _SLACK_LINK.finditer(line):
        out += _slack_format(line[at:match.start()])
        target, label = _slack_unescape(match.group(1)), match.group(2)
        shown = _slack_format(label) if label is not None else escape(target)
        url = web_url(target)
        out += _link(url, shown) if url else shown
        at = match.end()
    return out + _slack_format(line[at:])


def slack_text(text: object) -> Markup:
    """Slack mrkdwn as HTML: marks, links, quotes (``>`` at a line's start) and line breaks; the rest escaped."""
    if not isinstance(text, str):
        return Markup()
    parts: list[Markup] = []
    quote: list[Markup] = []
    for line in text.split("\n"):
        if line.startswith(">"):
            quote.append(_slack_line(line[1:].lstrip(" ")))
            continue
        if quote:
            parts.append(Markup('<blockquote class="quote">{}</blockquote>').format(Markup("<br>").join(quote)))
            quote = []
        parts.append(_slack_line(line))
    if quote:
        parts.append(Markup('<blockquote class="quote">{}</blockquote>').format(Markup("<br>").join(quote)))
    out = Markup()
    for index, part in enumerate(parts):
        block = part.startswith("<blockquote")
        if index and not block and not parts[index - 1].startswith("<blockquote"):
            out += Markup("<br>")
        out += part
    return out


def plain_text(text: object) -> Markup:
    """Plain text as HTML: escaped, line breaks kept."""
    if not isinstance(text, str):
        return Markup()
    return Markup("<br>").join(escape(line) for line in text.split("\n"))


def _card_format(text: str) -> Markup:
    html = str(plain_text(text))
    html = _CARD_BOLD.sub(r"<strong>\1</strong>", html)
    html = _CARD_ITALIC.sub(r"<em>\1</em>", html)
    return Markup(html)  # noqa: S704 - built from escaped text and fixed tags only


def card_text(text: object) -> Markup:
    """An Adaptive Card TextBlock's markdown (``**bold**``, ``_italic_``, ``[label](url)``) as HTML."""
    if not isinstance(text, str):
        return Markup()
    out, at = Markup(), 0
    for match in _CARD_LINK.finditer(text):
        out += _card_format(text[at:match.start()])
        label, url = _card_format(match.group(1)), web_url(match.group(2))
        out += _link(url, label) if url else label
        at = match.end()
    return out + _card_format(text[at:])


def _text_of(value: object) -> object:
    """A Block Kit text object's text (``{"type": "mrkdwn"|"plain_text", "text": …}``)."""
    return value.get("text") if isinstance(value, Mapping) else value


def _slack_object(value: object) -> Markup:
    if isinstance(value, Mapping) and value.get("type") == "plain_text":
        return plain_text(value.get("text"))
    return slack_text(_text_of(value))


# --------------------------------------------------------------------------------------------------
# Slack: Block Kit
# --------------------------------------------------------------------------------------------------


def _button(element: Mapping[str, Any]) -> dict[str, Any]:
    style = element.get("style")
    return {"label": plain_text(_text_of(element.get("text"))), "url": web_url(element.get("url")),
            "style": style if style in ("primary", "danger") else "default"}


def slack_blocks(blocks: object) -> list[dict[str, Any]]:
    """The blocks as the template shows them; an unknown block is named, not shown."""
    shown: list[dict[str, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "header":
            shown.append({"type": "header", "text": plain_text(_text_of(block.get("text")))})
        elif kind == "section":
            fields = block.get("fields")
            accessory = block.get("accessory")
            shown.append({"type": "section",
                          "text": _slack_object(block.get("text")) if block.get("text") else None,
                          "fields": [_slack_object(f) for f in fields] if isinstance(fields, list) else [],
                          "button": _button(accessory) if isinstance(accessory, Mapping)
                          and accessory.get("type") == "button" else None})
        elif kind == "context":
            elements = block.get("elements")
            shown.append({"type": "context", "elements": [
                _slack_object(e) for e in (elements if isinstance(elements, list) else [])
                if isinstance(e, Mapping) and e.get("type") in ("mrkdwn", "plain_text")]})
        elif kind == "actions":
            elements = block.get("elements")
            shown.append({"type": "actions", "buttons": [
                _button(e) for e in (elements if isinstance(elements, list) else [])
                if isinstance(e, Mapping) and e.get("type") == "button"]})
        elif kind == "divider":
            shown.append({"type": "divider"})
        else:
            shown.append({"type": "other", "name": str(kind)})
    return shown


# --------------------------------------------------------------------------------------------------
# Microsoft Teams: Adaptive Card
# --------------------------------------------------------------------------------------------------


def _hint(table: Mapping[str, str], value: object, prefix: str) -> list[str]:
    found = table.get(value.lower()) if isinstance(value, str) else None
    return [f"{prefix}-{found}"] if found else []


def _actions(actions: object) -> list[dict[str, Any]]:
    shown = []
    for action in actions if isinstance(actions, list) else []:
        if isinstance(action, Mapping):
            shown.append({"title": plain_text(action.get("title") or action.get("type")),
                          "url": web_url(action.get("url")) if action.get("type") == "Action.OpenUrl" else None})
    return shown


def card_elements(elements: object) -> list[dict[str, Any]]:
    """A card's body elements as the template shows them (columns and containers hold elements in turn)."""
    shown: list[dict[str, Any]] = []
    for element in elements if isinstance(elements, list) else []:
        if not isinstance(element, Mapping):
            continue
        kind = element.get("type")
        if kind == "TextBlock":
            classes = ["tb", *_hint(_WEIGHTS, element.get("weight"), "weight"),
                       *_hint(_SIZES, element.get("size"), "size"), *_hint(_COLORS, element.get("color"), "color")]
            if element.get("isSubtle") is True:
                classes.append("subtle")
            if element.get("spacing") in ("None", "Small"):
                classes.append("tight")
            shown.append({"type": "TextBlock", "html": card_text(element.get("text")), "classes": " ".join(classes)})
        elif kind == "FactSet":
            facts = element.get("facts")
            shown.append({"type": "FactSet", "facts": [
                (plain_text(f.get("title")), card_text(f.get("value")))
                for f in (facts if isinstance(facts, list) else []) if isinstance(f, Mapping)]})
        elif kind == "ColumnSet":
            columns = element.get("columns")
            shown.append({"type": "ColumnSet", "columns": [
                card_elements(c.get("items")) for c in (columns if isinstance(columns, list) else [])
                if isinstance(c, Mapping)]})
        elif kind == "Container":
            shown.append({"type": "Container", "items": card_elements(element.get("items"))})
        elif kind == "ActionSet":
            shown.append({"type": "ActionSet", "actions": _actions(element.get("actions"))})
        elif kind == "Image":
            shown.append({"type": "Image", "alt": plain_text(element.get("altText") or "image")})
        else:
            shown.append({"type": "other", "name": str(kind)})
    return shown


def teams_cards(body: object) -> list[dict[str, Any]]:
    """The Adaptive Cards a Workflows message carries."""
    attachments = body.get("attachments") if isinstance(body, Mapping) else None
    cards = []
    for attachment in attachments if isinstance(attachments, list) else []:
        content = attachment.get("content") if isinstance(attachment, Mapping) else None
        if isinstance(content, Mapping) and content.get("type") == "AdaptiveCard":
            cards.append({"version": str(content.get("version", "")), "body": card_elements(content.get("body")),
                          "actions": _actions(content.get("actions"))})
    return cards


# --------------------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------------------


def _when(at: object) -> str:
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return str(at)
    zone = moment.tzname() or ""
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M:%S} {zone}".strip()


def _urgent(entry: Mapping[str, Any]) -> bool:
    """Whether the message marks its ticket urgent, as the person reading it sees (a digest is not)."""
    body = entry.get("body")
    if not isinstance(body, Mapping) or entry.get("event") == "desk.digest":
        return False
    if entry.get("kind") == "slack":
        return str(body.get("text", "")).startswith("URGENT")
    if entry.get("kind") == "teams":
        cards = teams_cards(body)
        first = cards[0]["body"][0] if cards and cards[0]["body"] else {}
        return first.get("type") == "TextBlock" and str(first.get("html", "")).startswith("URGENT")
    return body.get("priority") == "urgent"


def _heading(entry: Mapping[str, Any]) -> str:
    """``Urgent new ticket R7K2M9QXA``, ``Shift-start digest for complaints``, ``Ticket update R7K2M9QXA``."""
    event = str(entry.get("event") or "")
    what = EVENTS.get(event, event or "notice")
    subject = f"for {entry.get('desk')}" if event == "desk.digest" else str(entry.get("reference") or "")
    line = f"{'urgent ' if _urgent(entry) else ''}{what} {subject}".strip()
    return line[:1].upper() + line[1:]


def preview(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One recorded notification as the template shows it."""
    kind = str(entry.get("kind") or "")
    body = entry.get("body")
    shown: dict[str, Any] = {
        "id": str(entry.get("id") or ""), "kind": kind, "platform": PLATFORMS.get(kind, kind or "unknown"),
        "destination": str(entry.get("destination") or ""), "desk": str(entry.get("desk") or ""),
        "event": str(entry.get("event") or ""), "reference": entry.get("reference") or "",
        "at": str(entry.get("at") or ""), "when": _when(entry.get("at")), "heading": _heading(entry),
        "urgent": _urgent(entry), "thread": entry.get("thread") or "", "ts": entry.get("ts") or "",
        "replies": [],
    }
    if kind == "slack" and isinstance(body, Mapping):
        shown.update(channel=str(entry.get("channel") or body.get("channel") or ""),
                     fallback=str(body.get("text") or ""), blocks=slack_blocks(body.get("blocks")))
    elif kind == "teams":
        shown.update(cards=teams_cards(body))
    elif kind == "webhook":
        headers = entry.get("headers")
        shown.update(url=str(entry.get("url") or ""),
                     headers=sorted(headers.items()) if isinstance(headers, Mapping) else [],
                     verified=entry.get("verified") is True,
                     json=json.dumps(body, indent=2, ensure_ascii=False))
    else:
        shown.update(kind="other", json=json.dumps(dict(entry), indent=2, ensure_ascii=False, default=str))
    return shown


def previews(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every entry as :func:`preview` shows it, in the given order (newest first), except that a Slack event
    posted in a thread whose parent is listed goes under that parent, oldest reply first (as Slack shows a
    thread)."""
    shown = [preview(e) for e in entries]
    parents = {(p["destination"], p["ts"]): p for p in shown if p["kind"] == "slack" and p["ts"]}
    top = []
    for item in shown:
        parent = parents.get((item["destination"], item["thread"])) if item["thread"] else None
        if parent is not None and parent is not item:
            parent["replies"].insert(0, item)
        else:
            top.append(item)
    return top


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def style_hash() -> str:
    """The CSP source matching the page's inline ``<style>`` exactly."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(stylesheet().encode("utf-8")).digest()).decode("ascii") + "'"


def page(entries: Sequence[Mapping[str, Any]], *, desk: str | None = None, limit: int = 200) -> str:
    """The HTML page of ``entries`` (as ``GET /local/notifications`` lists them, newest first)."""
    query = "?" + urlencode({"desk": desk, "limit": limit} if desk else {"limit": limit})
    return environment().get_template(TEMPLATE).render(
        css=stylesheet(), notifications=previews(entries), desk=desk, limit=limit, count=len(entries),
        json_link="/local/notifications" + query)


def respond(entries: Sequence[Mapping[str, Any]], *, desk: str | None = None,
            limit: int = 200) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of the page."""
    csp = (f"default-src 'none'; style-src {style_hash()}; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'")
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp, **SECURITY_HEADERS}
    return 200, page(entries, desk=desk, limit=limit), headers
