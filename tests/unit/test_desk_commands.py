"""The desk's commands, validated once from a JSON body (the API, the terminal) or a web form (the web inbox): good
input, and each bad input refused with its reason before anything is read or changed."""
from __future__ import annotations

import pytest

from chalicelib.domain.vocabulary import Intent
from chalicelib.usecases.desk.commands import (
    TICKET_ACTIONS,
    Action,
    Given,
    Label,
    Link,
    Next,
    Note,
    Reply,
    SignIn,
    Transfer,
    ticket_action,
)
from chalicelib.usecases.errors import Invalid, Malformed, NotAuthenticated, NotFound

DESKS = ("complaints", "journeys", "press")


# ------------------------------------------------------------------------------------------------ actions
def test_every_action_has_one_name_and_the_api_takes_all_but_link_on_a_ticket():
    assert [a.value for a in Action] == ["reply", "note", "transfer", "label", "claim", "release", "resolve",
                                         "reopen", "link", "reply_resolve", "reply_release", "resolve_next",
                                         "assign", "template", "dismiss"]
    assert Action.named("resolve") is Action.RESOLVE and Action.named("explode") is None
    assert ticket_action("claim") is Action.CLAIM
    for name in ("link", "explode"):
        with pytest.raises(NotFound, match=f"no action {name}: use one of reply, note, transfer, label, claim, "
                                           "release, resolve, reopen, reply_resolve, reply_release, "
                                           "resolve_next, assign, template, dismiss$"):
            ticket_action(name)
    assert Action.LINK not in TICKET_ACTIONS


def test_given_reads_the_body_only_when_asked():
    reads = []
    given = Given.of_json(lambda: reads.append(1) or {"text": "hello"})
    assert reads == []
    assert given.read_as(Note) == Note("hello") and reads == [1]
    assert Given.of_form({"text": " by form "}).read_as(Note) == Note("by form")


# ------------------------------------------------------------------------------------------------ sign-in, next
def test_sign_in():
    assert SignIn.from_json({"username": "amira", "password": "pw"}) == SignIn("amira", "pw")
    assert SignIn.from_form({"username": "  amira ", "password": " pw "}) == SignIn("amira", " pw ")
    assert "pw" not in repr(SignIn("amira", "pw"))
    for bad in ({}, {"username": "amira"}, {"username": "", "password": "pw"}, {"username": 1, "password": "pw"}):
        with pytest.raises(Malformed, match=r'send \{"username": \.\.\., "password": \.\.\.\}'):
            SignIn.from_json(bad)
    with pytest.raises(Malformed):
        SignIn.from_form({"username": "   ", "password": "pw"})
    for bad in ({"username": "a" * 129, "password": "pw"}, {"username": "amira", "password": "p" * 257}):
        with pytest.raises(NotAuthenticated, match="wrong username or password"):
            SignIn.from_json(bad)


def test_next():
    assert Next.from_json({}) == Next(None) and Next.from_json({"desk": ""}) == Next(None)
    assert Next.from_json({"desk": "journeys"}) == Next("journeys")
    assert Next.from_form({"desk": " journeys "}) == Next("journeys") and Next.from_form({}) == Next(None)
    with pytest.raises(Invalid, match="desk must be a desk id") as refused:
        Next.from_json({"desk": 3})
    assert refused.value.details == {"desk": "not a string"}


# ------------------------------------------------------------------------------------------------ on a ticket
def test_reply():
    assert Reply.from_json({"text": "  Sorry about that  "}) == Reply("Sorry about that", False, "")
    assert Reply.from_json({"text": "hi", "private": True, "request_id": "a1-b2"}) == Reply("hi", True, "a1-b2")
    assert Reply.from_form({"text": "hi", "private": "1", "request_id": "abc"}) == Reply("hi", True, "abc")
    assert Reply.from_form({"text": "hi", "request_id": ""}) == Reply("hi", False, "")
    refusals = [({}, "text is required", {"text": "required"}),
                ({"text": "   "}, "text is required", {"text": "required"}),
                ({"text": 7}, "text is required", {"text": "required"}),
                ({"text": "x" * 50_001}, "text is longer than 50000 characters", {"text": "too long"}),
                ({"text": "hi", "private": "yes"}, "private must be true or false", {"private": "not a boolean"}),
                ({"text": "hi", "request_id": "not valid!"}, "request_id must be up to 64 letters, digits or dashes",
                 {"request_id": "invalid"}),
                ({"text": "hi", "request_id": "a" * 65}, "request_id must be up to 64", {"request_id": "invalid"}),
                ({"text": "hi", "request_id": 12}, "request_id must be up to 64", {"request_id": "invalid"})]
    for body, message, details in refusals:
        with pytest.raises(Invalid, match=message) as refused:
            Reply.from_json(body)
        assert refused.value.details == details
    with pytest.raises(Invalid, match="text is required"):
        Reply.from_form({"text": "", "request_id": "abc"})
    with pytest.raises(Invalid, match="request_id must be"):
        Reply.from_form({"text": "hi", "request_id": "<script>"})


def test_note():
    assert Note.from_json({"text": " Known fault "}) == Note("Known fault")
    assert Note.from_form({"text": "Refund form sent"}) == Note("Refund form sent")
    with pytest.raises(Invalid, match="text is required"):
        Note.from_form({})
    with pytest.raises(Invalid, match="text is longer than 4000 characters") as refused:
        Note.from_json({"text": "n" * 4001})
    assert refused.value.details == {"text": "too long"}


def test_transfer():
    assert Transfer.from_json({"desk": "journeys"}, DESKS) == Transfer("journeys")
    assert Transfer.from_form({"desk": " press "}, DESKS) == Transfer("press")
    assert Transfer.of(Given.of_json(lambda: {"desk": "press"}), DESKS) == Transfer("press")
    for body in ({}, {"desk": "nowhere"}, {"desk": ["journeys"]}):
        with pytest.raises(Invalid, match="^desk must be one of complaints, journeys, press$") as refused:
            Transfer.from_json(body, DESKS)
        assert refused.value.details == {"desk": "unknown"}
    with pytest.raises(Invalid, match="desk must be one of"):
        Transfer.from_form({"desk": ""}, DESKS)


def test_label():
    assert Label.from_json({"intent": "praise"}) == Label(Intent.PRAISE, None)
    assert Label.from_json({"intent": "complaint", "urgent": True}) == Label(Intent.COMPLAINT, True)
    assert Label.from_form({"intent": " question "}) == Label(Intent.QUESTION, False)  # no box ticked: not urgent
    assert Label.from_form({"intent": "abuse", "urgent": "1"}) == Label(Intent.ABUSE, True)
    for body in ({}, {"intent": "angry"}, {"intent": 3}):
        with pytest.raises(Invalid, match="intent must be one of complaint, question, praise, spam, abuse, "
                                          "other") as refused:
            Label.from_json(body)
        assert refused.value.details == {"intent": "unknown"}
    with pytest.raises(Invalid, match="urgent must be true or false") as refused:
        Label.from_json({"intent": "complaint", "urgent": "yes"})
    assert refused.value.details == {"urgent": "not a boolean"}
    with pytest.raises(Invalid, match="intent must be one of"):
        Label.from_form({"intent": ""})


def test_link():
    assert Link.from_json({"identity": "x@Pat", "with": "email#Pat@Example.org"}) == \
        Link("x@pat", "email#pat@example.org")
    assert Link.from_form({"identity": " x#1234 ", "with": " email#pat@example.org "}) == \
        Link("x#1234", "email#pat@example.org")
    with pytest.raises(Invalid, match="^identity must be an identity such as x@handle, x#1234 or "
                                      "email#ada@example.org$"):
        Link.from_json({"with": "x@pat"})
    with pytest.raises(Invalid, match="^with must be an identity such as"):
        Link.from_json({"identity": "x@pat", "with": 5})
    with pytest.raises(Invalid, match="^identity: 'x@not a handle': an X handle is 1 to 15 letters"):
        Link.from_json({"identity": "x@not a handle", "with": "x@pat"})
    with pytest.raises(Invalid, match="^with: 'nowhere': write <channel>#<id>"):
        Link.from_form({"identity": "x@pat", "with": "nowhere"})
