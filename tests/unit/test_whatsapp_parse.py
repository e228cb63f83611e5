"""WhatsApp Cloud API webhook parsing: every message type, statuses, the brand's own numbers, malformed structure."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.channels import whatsapp
from chalicelib.domain.identity import InvalidIdentity, identities_of, masked_phone, parse_identity

PHONE_ID = "106540352242922"
WA_ID = "447700900123"


def delivery(*messages: dict, statuses: list[dict] | None = None, phone_number_id: str = PHONE_ID,
             contacts: list[dict] | None = None) -> dict:
    """A ``messages`` delivery as Meta posts it (messages webhook reference, May 2026)."""
    value: dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}}
    if messages:
        value["contacts"] = contacts if contacts is not None else [{"profile": {"name": "Pat Rider"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}


def message(kind: str, content: dict | None = None, *, wamid: str = "wamid.A1", **more) -> dict:
    found = {"from": WA_ID, "id": wamid, "timestamp": "1796526000", "type": kind, **more}
    if content is not None:
        found[kind] = content
    return found


def only(payload: dict, **kwargs):
    [mention] = whatsapp.parse(payload, **kwargs).mentions
    return mention


# --------------------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------------------


def test_a_text_message_is_one_private_mention_of_the_customer_by_wa_id():
    mention = only(delivery(message("text", {"body": "  My train was cancelled, can I get a refund?  "})))
    assert (mention.channel, mention.external_id, mention.visibility) == ("whatsapp", "wamid.A1", "private")
    assert mention.author_id == mention.conversation_id == WA_ID
    assert mention.identity_key == f"whatsapp#{WA_ID}"
    assert mention.author_name == "Pat Rider"
    assert mention.text == "My train was cancelled, can I get a refund?"
    assert mention.created_at == datetime.fromtimestamp(1796526000, tz=timezone.utc)
    assert mention.extra == {"phone_number_id": PHONE_ID, "type": "text", "display_phone_number": "15550783881",
                             "wa_id": WA_ID}
    assert mention.reply_to == ""


@pytest.mark.parametrize("kind, content, text", [
    ("image", {"id": "m1", "mime_type": "image/jpeg", "sha256": "x", "caption": "My ticket"}, "My ticket"),
    ("image", {"id": "m1", "mime_type": "image/jpeg"}, "[image]"),
    ("video", {"id": "m2", "mime_type": "video/mp4"}, "[video]"),
    ("video", {"id": "m2", "caption": "The platform now"}, "The platform now"),
    ("document", {"id": "m3", "filename": "receipt.pdf", "mime_type": "application/pdf"}, "[document: receipt.pdf]"),
    ("document", {"id": "m3", "filename": "receipt.pdf", "caption": "Refund form"}, "Refund form"),
    ("document", {"id": "m3"}, "[document]"),
    ("audio", {"id": "m4", "mime_type": "audio/ogg", "voice": True}, "[voice message]"),
    ("audio", {"id": "m4", "mime_type": "audio/mpeg"}, "[audio]"),
    ("sticker", {"id": "m5", "mime_type": "image/webp", "animated": False}, "[sticker]"),
])
def test_media_messages_carry_their_caption_or_a_placeholder_and_the_media_id(kind, content, text):
    mention = only(delivery(message(kind, content)))
    assert mention.text == text
    assert mention.extra["type"] == kind
    assert mention.extra["media"]["type"] == kind and mention.extra["media"]["id"] == content["id"]
    if "mime_type" in content:
        assert mention.extra["media"]["mime_type"] == content["mime_type"]


@pytest.mark.parametrize("interactive, text, reply_id", [
    ({"type": "button_reply", "button_reply": {"id": "change", "title": "Change booking"}}, "Change booking",
     "change"),
    ({"type": "list_reply", "list_reply": {"id": "r2", "title": "Refund", "description": "Ask for a refund"}},
     "Refund", "r2"),
])
def test_interactive_replies_are_the_title_tapped(interactive, text, reply_id):
    mention = only(delivery(message("interactive", interactive)))
    assert mention.text == text and mention.extra["reply_id"] == reply_id


def test_a_flow_answer_is_not_a_message_to_answer():
    nfm = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": "{}", "body": "Sent"}}
    assert whatsapp.parse(delivery(message("interactive", nfm))).mentions == []


def test_a_template_quick_reply_is_its_text_and_keeps_its_payload():
    mention = only(delivery(message("button", {"text": "Talk to an agent", "payload": "AGENT"},
                                    context={"from": "15550783881", "id": "wamid.OURS"})))
    assert mention.text == "Talk to an agent" and mention.extra["button_payload"] == "AGENT"
    assert mention.reply_to == "wamid.OURS"


def test_a_location_is_its_name_address_and_coordinates():
    mention = only(delivery(message("location", {"latitude": 51.5308, "longitude": -0.1238,
                                                 "name": "King's Cross", "address": "Euston Rd, London N1 9AL"})))
    assert mention.text == "Location: King's Cross, Euston Rd, London N1 9AL (51.5308, -0.1238)"
    bare = only(delivery(message("location", {"latitude": 1.5, "longitude": 2})))
    assert bare.text == "Location: (1.5, 2)"


def test_a_shared_contact_is_its_name_never_its_phone_numbers():
    card = {"name": {"formatted_name": "Sam Porter", "first_name": "Sam"},
            "phones": [{"phone": "+44 7700 900999", "wa_id": "447700900999", "type": "CELL"}],
            "emails": [{"email": "sam@example.org"}]}
    mention = only(delivery(message("contacts", None, contacts=[card, {"name": {"first_name": "Jo"}}])))
    assert mention.text == "Shared contact: Sam Porter, Jo"
    assert "900999" not in repr(mention.to_dict()) and "sam@example.org" not in repr(mention.to_dict())


@pytest.mark.parametrize("kind, content", [
    ("reaction", {"message_id": "wamid.OURS", "emoji": "\U0001f44d"}),
    ("unsupported", None),
    ("system", {"body": "User changed number", "wa_id": "447700900124", "type": "user_changed_number"}),
    ("request_welcome", None),
    ("order", {"catalog_id": "1", "product_items": []}),
])
def test_reactions_unsupported_and_system_messages_are_ignored(kind, content):
    assert whatsapp.parse(delivery(message(kind, content))).mentions == []


def test_quoting_our_message_is_reply_to_and_forwarded_is_noted():
    mention = only(delivery(message("text", {"body": "still nothing"},
                                    context={"from": "15550783881", "id": "wamid.OURS", "forwarded": True})))
    assert mention.reply_to == "wamid.OURS" and mention.extra["forwarded"] is True


def test_an_empty_text_is_no_message():
    assert whatsapp.parse(delivery(message("text", {"body": "   "}))).mentions == []


def test_a_username_user_without_a_phone_number_is_known_by_their_business_scoped_id():
    payload = delivery(message("text", {"body": "hello"}, **{"from": None, "from_user_id": "GB.1349120865"}),
                       contacts=[{"profile": {"name": "Pat", "username": "@pat"}, "user_id": "GB.1349120865"}])
    mention = only(payload)
    assert mention.author_id == "GB.1349120865" and "wa_id" not in mention.extra
    assert mention.extra["user_id"] == "GB.1349120865"


def test_a_sender_missing_from_contacts_is_still_the_customer():
    mention = only(delivery(message("text", {"body": "hi"}), contacts=[]))
    assert mention.author_id == WA_ID and mention.author_name == "" and mention.extra["wa_id"] == WA_ID


def test_messages_naming_an_x_handle_link_like_other_private_messages():
    mention = only(delivery(message("text", {"body": "I'm @pat_rides on X, same problem as my tweet"})))
    assert identities_of(mention) == [f"whatsapp#{WA_ID}", "x@pat_rides"]


@pytest.mark.parametrize("typed, stored", [
    ("whatsapp#447700900123", "whatsapp#447700900123"),
    ("whatsapp#+44 7700 900123", "whatsapp#447700900123"),
    ("whatsapp#+1 (650) 555-1234", "whatsapp#16505551234"),
    ("whatsapp#GB.1349120865", "whatsapp#GB.1349120865"),
    ("whatsapp#US.ENT.11815799212886844830", "whatsapp#US.ENT.11815799212886844830"),
])
def test_an_agent_may_type_a_whatsapp_identity_as_people_write_numbers(typed, stored):
    assert parse_identity(typed) == stored


@pytest.mark.parametrize("typed", ["whatsapp#pat", "whatsapp#12345", "whatsapp#" + "1" * 16, "whatsapp#+44 7700 9001x3",
                                   "whatsapp#"])
def test_anything_else_is_refused_with_the_shape_expected(typed):
    with pytest.raises(InvalidIdentity, match="E.164"):
        parse_identity(typed)


def test_a_number_is_masked_where_it_need_not_be_whole():
    assert masked_phone("447700900123") == "+44 ••• ••• 0123"
    assert masked_phone("+44 7700 900123") == "+44 ••• ••• 0123"
    assert masked_phone("GB.1349120865") == "••• 0865" and masked_phone("") == "•••"
    assert "7700900" not in masked_phone("447700900123")


# --------------------------------------------------------------------------------------------------
# the brand's own numbers
# --------------------------------------------------------------------------------------------------


def test_only_messages_to_the_brands_own_numbers_are_taken():
    payload = delivery(message("text", {"body": "hello"}), phone_number_id="999")
    assert whatsapp.parse(payload, phone_number_ids={PHONE_ID}).mentions == []
    assert len(whatsapp.parse(payload).mentions) == 1  # no setting: every number of the account


def test_an_echo_from_the_business_number_itself_is_skipped():
    payload = delivery(message("text", {"body": "Thanks, we are on it"}, **{"from": "15550783881"}))
    assert whatsapp.parse(payload).mentions == []


def test_other_fields_of_the_account_are_not_messages():
    payload = delivery(message("text", {"body": "hello"}))
    payload["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert whatsapp.parse(payload) == whatsapp.Delivery()


# --------------------------------------------------------------------------------------------------
# statuses
# --------------------------------------------------------------------------------------------------


def test_statuses_are_returned_apart_never_as_mentions():
    statuses = [
        {"id": "wamid.OURS1", "status": "delivered", "timestamp": "1796526100", "recipient_id": WA_ID,
         "pricing": {"billable": False, "pricing_model": "PMP", "category": "service"}},
        {"id": "wamid.OURS2", "status": "failed", "timestamp": "1796526200", "recipient_id": WA_ID,
         "errors": [{"code": 131047, "title": "Re-engagement message",
                     "error_data": {"details": "More than 24 hours have passed since the customer last replied"}}]},
        {"id": "wamid.OURS3", "status": "read", "timestamp": "1796526300", "recipient_id": WA_ID},
    ]
    found = whatsapp.parse(delivery(statuses=statuses))
    assert found.mentions == []
    assert [(s.message_id, s.status) for s in found.statuses] == [
        ("wamid.OURS1", "delivered"), ("wamid.OURS2", "failed"), ("wamid.OURS3", "read")]
    failed = found.statuses[1]
    assert failed.failed and failed.errors[0].code == 131047 and failed.phone_number_id == PHONE_ID
    assert failed.summary() == "failed: 131047 More than 24 hours have passed since the customer last replied"
    assert found.statuses[0].summary() == "delivered"
    assert found.statuses[0].at == datetime.fromtimestamp(1796526100, tz=timezone.utc)


def test_messages_and_statuses_in_one_delivery_are_both_read():
    found = whatsapp.parse(delivery(message("text", {"body": "hi"}),
                                    statuses=[{"id": "wamid.X", "status": "sent", "timestamp": "1796526000"}]))
    assert len(found.mentions) == 1 and len(found.statuses) == 1


# --------------------------------------------------------------------------------------------------
# malformed structure: ValueError naming the path; a bad item alone is refused when asked
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mutate, path", [
    (lambda p: p.update(entry="nope"), "'entry'"),
    (lambda p: p["entry"].__setitem__(0, 7), "entry[0]"),
    (lambda p: p["entry"][0].update(changes={}), "entry[0].changes"),
    (lambda p: p["entry"][0]["changes"][0].update(value=[]), "entry[0].changes[0].value"),
    (lambda p: p["entry"][0]["changes"][0]["value"].pop("metadata"), "entry[0].changes[0].value.metadata"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["metadata"].pop("phone_number_id"),
     "value.metadata.phone_number_id"),
    (lambda p: p["entry"][0]["changes"][0]["value"].update(messages={}), "value.messages"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].pop("id"), "value.messages[0].id"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].update(timestamp="soon"),
     "value.messages[0].timestamp"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].update(text={"body": 7}),
     "value.messages[0].text.body"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].update(text="hi"), "value.messages[0].text"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].pop("type"), "value.messages[0].type"),
    (lambda p: p["entry"][0]["changes"][0]["value"]["contacts"].append([]), "value.contacts[1]"),
])
def test_malformed_structure_is_a_value_error_naming_the_path(mutate, path):
    payload = delivery(message("text", {"body": "hello"}))
    mutate(payload)
    with pytest.raises(ValueError, match=path.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        whatsapp.parse(payload)


def test_a_bad_message_or_status_is_refused_alone_and_its_neighbours_are_kept():
    payload = delivery(message("text", {"body": "first"}, wamid="wamid.1"),
                       message("text", {"body": 42}, wamid="wamid.2"),
                       message("text", {"body": "third"}, wamid="wamid.3"),
                       statuses=[{"id": "wamid.S1", "status": "read", "timestamp": "1796526000"},
                                 {"id": "wamid.S2", "timestamp": "1796526000"}])
    refused: list[str] = []
    found = whatsapp.parse(payload, refused=refused)
    assert [m.external_id for m in found.mentions] == ["wamid.1", "wamid.3"]
    assert [s.message_id for s in found.statuses] == ["wamid.S1"]
    assert refused == ["entry[0].changes[0].value.messages[1]: WhatsApp webhook entry[0].changes[0].value.messages[1]"
                       ".text.body must be a string, got int",
                       "entry[0].changes[0].value.statuses[1]: WhatsApp webhook entry[0].changes[0].value.statuses[1]"
                       ".status is missing"]


def test_an_id_too_long_to_store_is_refused_alone():
    payload = delivery(message("text", {"body": "ok"}, wamid="wamid.ok"),
                       message("text", {"body": "long"}, wamid="wamid." + "x" * 2000))
    refused: list[str] = []
    assert [m.external_id for m in whatsapp.parse(payload, refused=refused).mentions] == ["wamid.ok"]
    assert len(refused) == 1 and "messages[1]" in refused[0] and "store keeps at most" in refused[0]


def test_a_body_of_another_object_is_not_whatsapp():
    assert not whatsapp.is_whatsapp({"object": "page", "entry": []})
    assert whatsapp.is_whatsapp(delivery())
    with pytest.raises(ValueError, match="'object'"):
        whatsapp.parse({"object": "page", "entry": []})


# --------------------------------------------------------------------------------------------------
# fuzz: whatever the structure, a Delivery or a ValueError, nothing else
# --------------------------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["object", "entry", "changes", "field", "value", "metadata", "phone_number_id", "messages",
                     "statuses", "contacts", "wa_id", "from", "id", "type", "text", "body", "timestamp", "image",
                     "caption", "context", "interactive", "button_reply", "title", "location", "latitude",
                     "errors", "code", "status", "profile", "name"]), inner, max_size=4), max_leaves=25)


def _plant(payload: dict, path: list, value: object) -> dict:
    """``payload`` with the node at ``path`` (indices into the nested structure) replaced by ``value``."""
    planted = copy.deepcopy(payload)
    node: object = planted
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[sorted(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
    if isinstance(node, dict) and node:
        node[sorted(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return planted


FULL = delivery(message("text", {"body": "hello"}, context={"id": "wamid.OURS"}),
                message("image", {"id": "m", "caption": "c"}, wamid="wamid.B"),
                message("location", {"latitude": 1.0, "longitude": 2.0, "name": "x"}, wamid="wamid.C"),
                message("interactive", {"type": "button_reply", "button_reply": {"id": "a", "title": "b"}},
                        wamid="wamid.D"),
                statuses=[{"id": "wamid.S", "status": "failed", "timestamp": "1", "errors": [{"code": 1}]}])


@settings(max_examples=300, deadline=None, database=None)
@given(path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=9), value=values,
       collect=st.booleans())
def test_any_structure_gives_a_delivery_or_a_value_error_never_anything_else(path, value, collect):
    payload = _plant(FULL, path, value)
    try:
        found = whatsapp.parse(payload, refused=[] if collect else None)
    except ValueError:
        return
    assert isinstance(found, whatsapp.Delivery)
    assert all(m.channel == "whatsapp" and m.visibility == "private" for m in found.mentions)


@settings(max_examples=200, deadline=None, database=None)
@given(payload=values)
def test_any_json_at_all_gives_a_delivery_or_a_value_error(payload):
    try:
        found = whatsapp.parse(payload, refused=[])
    except ValueError:
        return
    assert isinstance(found, whatsapp.Delivery)


# --------------------------------------------------------------------------------------------------
# the local stand-in's body
# --------------------------------------------------------------------------------------------------


def test_the_local_short_form_becomes_the_webhook_body_the_parser_reads():
    now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    body = whatsapp.local_webhook({"wa_id": "+447700900123", "name": "Pat", "text": "Where is my refund?"},
                                  now=now, phone_number_id="4000000001")
    mention = only(body, phone_number_ids={"4000000001"})
    assert (mention.author_id, mention.author_name, mention.text) == (WA_ID, "Pat", "Where is my refund?")
    assert mention.created_at == now and mention.extra["phone_number_id"] == "4000000001"


@pytest.mark.parametrize("data, field", [
    ({"text": "hi"}, "wa_id"), ({"wa_id": "44abc", "text": "hi"}, "wa_id"), ({"wa_id": "1" * 16, "text": "x"}, "wa_id"),
    ({"wa_id": WA_ID}, "text"), ({"wa_id": WA_ID, "text": "  "}, "text"), ({"wa_id": WA_ID, "text": "x", "name": 3},
                                                                            "name"),
    ({"wa_id": WA_ID, "text": "x", "at": "yesterday"}, "at"), ({"wa_id": WA_ID, "text": "x", "at": "2026-12-06T03:00"},
                                                               "at"),
])
def test_a_local_short_form_that_is_not_one_names_its_field(data, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        whatsapp.local_webhook(data, now=datetime(2026, 12, 6, tzinfo=timezone.utc), phone_number_id="1")
