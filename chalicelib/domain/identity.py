"""Customer identities: who wrote a message, on every channel they can be recognised by.

An identity is ``<channel>#<platform id>`` (``x#1234``, ``facebook#<psid>``, ``email#ada@example.org``,
``bluesky#did:plc:…``, ``mastodon#<account id on the brand's instance>``, ``threads#<username>``,
``whatsapp#<phone number in E.164 digits>``) or, for a handle,
``<channel>@<handle>`` (lower case, without the leading ``@``): ``x@pat``, ``bluesky@pat.bsky.social``,
``mastodon@pat@mastodon.social`` (a Mastodon handle always with its instance, so ``pat`` on two instances are two
people), ``threads@pat.rides`` (a Threads username is the account's Instagram username). A message names its author's
identity and the aliases we may link to it: the handle it was written under, a form's e-mail address and the X
handle written in its ``handle`` field, and e-mail addresses and X handles a customer writes to us in private (a DM,
an e-mail, the form). Public text never links anyone: anybody can type a handle or a reference in public.
"""
from __future__ import annotations

import re
from collections.abc import Collection

from chalicelib.domain.channel_profiles import PROFILES, profile
from chalicelib.domain.keys import ChannelKey, InvalidKey
from chalicelib.domain.mention import CHANNELS, Mention, key_fits

#: A ticket reference as customers see it (``domain.ticket.new_reference``): R + 8 Crockford base32 characters.
REFERENCE = re.compile(r"\b(R[0-9A-HJKMNP-TV-Z]{8})\b")
_EMAIL = re.compile(r"^[^@\s#]+@[^@\s#]+\.[^@\s#]+$")
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+@-])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")  # not a fediverse @user@instance
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_HANDLE_IN_TEXT = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})\b")
_PLATFORM_ID = re.compile(r"^[\w.:@+-]{1,200}$")
#: A WhatsApp id: the phone number in E.164 digits without "+" (at most 15), or, for a customer who hides it behind a
#: username, the business-scoped user id (``GB.1349…``, ``US.ENT.1181…``: ADR 0028).
_WA_ID = re.compile(r"^[0-9]{6,15}$")
_WA_BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")
#: A Bluesky handle is a domain name (``pat.bsky.social``); a Mastodon handle is ``user@instance``.
_BLUESKY_HANDLE = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
#: A Threads username is the account's Instagram username: 1 to 30 letters, digits, ``.`` and ``_``.
_THREADS_HANDLE = re.compile(r"^[a-z0-9._]{1,30}$")
_MASTODON_HANDLE = re.compile(r"^[a-z0-9_]([a-z0-9_.-]{0,62}[a-z0-9_])?@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+"
                              r"[a-z][a-z0-9-]{0,61}$")


#: The channels whose customers' handles are identities (``<channel>@<handle>``: ``domain.channel_profiles``).
HANDLE_CHANNELS = tuple(channel for channel, p in PROFILES.items() if p.has_handles)


def _by_address(channel: str) -> bool:
    """Whether the customer's id on ``channel`` is their e-mail address (``email#ada@example.org``)."""
    found = profile(channel)
    return found is not None and found.address_id


class InvalidIdentity(ValueError):
    """Not an identity: the message says what the right shape is."""


def email_identity(address: str) -> str:
    return str(ChannelKey.by_id("email", address.strip().lower()))


def handle_identity(handle: str) -> str:
    return str(ChannelKey.handle("x", handle.strip().lstrip("@").lower()))


def bluesky_handle_identity(handle: str) -> str:
    return str(ChannelKey.handle("bluesky", handle.strip().lstrip("@").lower()))


def mastodon_handle_identity(acct: str) -> str:
    return str(ChannelKey.handle("mastodon", acct.strip().lstrip("@").lower()))


def threads_handle_identity(username: str) -> str:
    return str(ChannelKey.handle("threads", username.strip().lstrip("@").lower()))


def valid_threads_handle(username: str) -> bool:
    """A Threads username (the account's Instagram username)."""
    return bool(_THREADS_HANDLE.match(username.strip().lstrip("@").lower()))


def valid_bluesky_handle(handle: str) -> bool:
    return bool(_BLUESKY_HANDLE.match(handle.strip().lstrip("@").lower()))


def valid_mastodon_handle(acct: str) -> bool:
    """``user@instance``: a Mastodon handle with its instance."""
    return bool(_MASTODON_HANDLE.match(acct.strip().lstrip("@").lower()))


def parse_identity(text: str) -> str:
    """The identity in its stored form, or InvalidIdentity. Handles (``x@Handle``, ``bluesky@Pat.bsky.social``,
    ``mastodon@Pat@Mastodon.social``) and ``email#Ada@Example.org`` are normalised to lower case."""
    value = (text or "").strip()
    if value.startswith("x@"):
        handle = value[2:]
        if not _HANDLE.match(handle):
            raise InvalidIdentity(f"{text!r}: an X handle is 1 to 15 letters, digits or _ (x@handle)")
        return handle_identity(handle)
    if value.startswith("bluesky@"):
        if not valid_bluesky_handle(value[8:]):
            raise InvalidIdentity(f"{text!r}: a Bluesky handle is a domain name (bluesky@pat.bsky.social)")
        return bluesky_handle_identity(value[8:])
    if value.startswith("mastodon@"):
        if not valid_mastodon_handle(value[9:]):
            raise InvalidIdentity(f"{text!r}: a Mastodon handle is user@instance (mastodon@pat@mastodon.social)")
        return mastodon_handle_identity(value[9:])
    if value.startswith("threads@"):
        if not valid_threads_handle(value[8:]):
            raise InvalidIdentity(f"{text!r}: a Threads username is 1 to 30 letters, digits, . or _ "
                                  "(threads@pat.rides)")
        return threads_handle_identity(value[8:])
    try:
        key = ChannelKey.parse(value)
    except InvalidKey:
        key = ChannelKey("", value)
    channel, rest = key.channel, key.value
    if key.by_handle or channel not in CHANNELS:
        raise InvalidIdentity(f"{text!r}: write <channel>#<id> (channels: {', '.join(CHANNELS)}) or "
                              f"<channel>@<handle> ({', '.join(HANDLE_CHANNELS)})")
    if channel == "whatsapp":
        return whatsapp_identity(rest, typed=text)
    if _by_address(channel):
        if not _EMAIL.match(rest):
            raise InvalidIdentity(f"{text!r}: {channel}# takes an e-mail address")
        return str(ChannelKey.by_id(channel, rest.lower()))
    if not _PLATFORM_ID.match(rest):
        raise InvalidIdentity(f"{text!r}: {channel}# takes the platform's id of the customer")
    return value


def whatsapp_identity(number: str, *, typed: str = "") -> str:
    """``whatsapp#<digits>`` for a number as an agent may type it ("+44 7700 900123", "447700900123"), or for a
    business-scoped user id; InvalidIdentity for anything else."""
    value = number.strip()
    digits = re.sub(r"[\s().-]", "", value).removeprefix("+")
    if _WA_ID.match(digits):
        return str(ChannelKey.by_id("whatsapp", digits))
    if _WA_BSUID.match(value):
        return str(ChannelKey.by_id("whatsapp", value))
    raise InvalidIdentity(f"{typed or number!r}: whatsapp# takes the customer's number in E.164 digits without '+' "
                          "(whatsapp#447700900123) or their business-scoped id (whatsapp#GB.1349…)")


def masked_phone(number: str) -> str:
    """A WhatsApp customer's number as people other than the agents answering them may see it, where they need to
    recognise it: "+44 ••• ••• 0123" (the first two digits and the last four). A phone number is personal data: it is
    never shown whole outside the inbox, and never at all on the customer's public status page. Anything that is not
    a number of 6 or more digits (a business-scoped id) is shown as "•••" and its last four characters."""
    digits = re.sub(r"\D", "", number)
    if len(digits) >= 6 and len(digits) == len(re.sub(r"[\s().+-]", "", number)):
        return f"+{digits[:2]} ••• ••• {digits[-4:]}"
    return f"••• {number[-4:]}" if len(number) > 4 else "•••"


def identities_of(mention: Mention, *, brand: Collection[str] = ()) -> list[str]:
    """The author's own identity first, then the aliases this message lets us link to it; never one of ``brand``
    (the brand's own identities, e.g. ``x@meridianrail``: a customer writing our handle is not us), nor an alias too
    long to be a key (an "address" of thousands of characters in a message's text)."""
    found = [mention.identity_key]
    if mention.channel == "x" and _HANDLE.match(mention.author_handle or ""):
        found.append(handle_identity(mention.author_handle))
    if mention.channel == "bluesky" and valid_bluesky_handle(mention.author_handle or ""):
        found.append(bluesky_handle_identity(mention.author_handle))
    if mention.channel == "mastodon" and valid_mastodon_handle(mention.author_handle or ""):
        found.append(mastodon_handle_identity(mention.author_handle))
    if mention.channel == "threads" and valid_threads_handle(mention.author_handle or ""):
        found.append(threads_handle_identity(mention.author_handle))
    if _by_address(mention.channel) and _EMAIL.match(mention.author_id):
        found.append(email_identity(mention.author_id))
    if mention.channel == "form":
        handle = str(mention.extra.get("handle") or "").strip().lstrip("@")
        if _HANDLE.match(handle):
            found.append(handle_identity(handle))
    if mention.visibility == "private":
        found += [email_identity(a) for a in _EMAIL_IN_TEXT.findall(mention.text) if _EMAIL.match(a)]
        # an e-mail's @words are mostly addresses and signatures, a Mastodon message's are fediverse mentions: not X
        # handles
        if mention.channel not in ("email", "mastodon"):
            found += [handle_identity(h) for h in _HANDLE_IN_TEXT.findall(mention.text)]
    return [i for i in dict.fromkeys(found)
            if i == mention.identity_key or (i not in brand and key_fits(i))]


def quoted_references(text: str) -> list[str]:
    """Ticket references a message quotes ("about my form, ref RK7T0DWJ6")."""
    return list(dict.fromkeys(REFERENCE.findall(text or "")))
