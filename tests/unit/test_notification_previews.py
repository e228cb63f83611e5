"""The local notification previews (``GET /local/notifications/view``): each recorded post shown roughly as Slack,
Teams or a webhook's receiver shows it, from the entries the stand-in records (``LocalNotifier``) — the recorded
words escaped, only http(s) links made links, a threaded Slack event under its parent."""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from chalicelib.channels.notify import LocalNotifier
from chalicelib.configfile import load_config
from chalicelib.domain.notice import digest_notice, ticket_notice
from chalicelib.store.memory import MemoryNotifyLog
from chalicelib.web import notifications_page as previews
from tests.conftest import PROJECT
from tests.unit.test_notify_render import LINK, NAME, WORDS, desk_message

AT = datetime(2026, 12, 8, 7, 0, tzinfo=timezone.utc)
SECRETS = {"NOTIFY_CARE_SLACK": "xoxb-local-care-slack-not-a-token",
           "NOTIFY_ONCALL_TEAMS": "https://teams.local.invalid/workflows/oncall",
           "NOTIFY_HELPDESK": "local-helpdesk-signing-key-not-secret"}
DESK_LINK = "https://help.example.test/inbox/desks/complaints"


class Outline(HTMLParser):
    """The page's headings, landmarks, articles and links, as a reader moving through it meets them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[str, str]] = []
        self._heading: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading:
            self.headings.append((tag, " ".join("".join(self._text).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._text.append(data)


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


class Clock:
    def __init__(self) -> None:
        self.at = AT

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def recorded():
    """The stand-in recording into the memory log; ``post(name, notice)`` posts to the shipped brand's
    destination ``name``; ``entries()`` lists them newest first, as ``GET /local/notifications`` does."""
    destinations = load_config(PROJECT / "chalicelib" / "brand.yaml").notify.destinations
    log, clock = MemoryNotifyLog(), Clock()
    stand_in = LocalNotifier(log, secret=SECRETS.__getitem__, clock=clock.now)

    class Recorded:
        def post(self, name, notice, *, thread=None, destination=None):
            clock.at += timedelta(seconds=1)
            return stand_in.post(destination or destinations[name], notice, thread=thread)

        def entries(self):
            return log.recent()

        def destination(self, name):
            return destinations[name]

    return Recorded()


def urgent_ticket():
    return ticket_notice(desk_message(priority="urgent"), link=LINK)


# ------------------------------------------------------------------------------------------------ mrkdwn, cards
def test_slack_mrkdwn_marks_links_quotes_and_breaks_become_html_and_everything_else_is_escaped():
    html = str(previews.slack_text(":rotating_light: *URGENT* · _late_ ~old~ `R1` "
                                   "<https://h.test/t/R1?a=1&amp;b=2|R1 &amp; co>\n*Desk*\ncomplaints\n"
                                   "> she said &lt;b&gt;hi&lt;/b&gt; & <script>x</script>"))
    assert '<span class="emoji emoji-rotating_light" role="img" aria-label="rotating light"></span>' in html
    assert "<strong>URGENT</strong>" in html and "<em>late</em>" in html and "<del>old</del>" in html
    assert "<code>R1</code>" in html
    assert '<a href="https://h.test/t/R1?a=1&amp;b=2">R1 &amp; co</a>' in html
    assert "<strong>Desk</strong><br>complaints" in html
    # Slack's own escapes shown as the characters they stand for; a bare <…> is a Slack control sequence, not HTML
    assert html.endswith('<blockquote class="quote">she said &lt;b&gt;hi&lt;/b&gt; &amp; scriptx/script</blockquote>')
    assert "<script>" not in html and "<b>" not in html


def test_only_web_addresses_become_links_and_snake_case_words_are_not_italic():
    html = str(previews.slack_text("<javascript:alert(1)|click> <#C0123|care> <@U1> customer_service_desk"
                                   " <https://h.test/a\"b|x>"))
    assert "href" not in html
    assert "click" in html and "care" in html and "customer_service_desk" in html and "<em>" not in html


def test_adaptive_card_text_bold_italic_and_links_the_rest_escaped():
    html = str(previews.card_text("[R1](https://h.test/t/R1) · **urgent** _now_ <i>x</i> [bad](javascript:alert(1))"))
    assert '<a href="https://h.test/t/R1">R1</a>' in html
    assert "<strong>urgent</strong>" in html and "<em>now</em>" in html
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "bad" in html and "javascript:" not in html.split("bad")[0]
    assert 'href="javascript' not in html
    # marks apply to the words, never inside an address
    assert str(previews.card_text("[**R1**](https://h.test/_a_/b?x=1&y=2)")) == (
        '<a href="https://h.test/_a_/b?x=1&amp;y=2"><strong>R1</strong></a>')
    assert str(previews.slack_text("<https://h.test/_a_/*b*|_R1_>")) == '<a href="https://h.test/_a_/*b*"><em>R1</em></a>'


def test_unknown_blocks_and_elements_are_named_not_dropped_and_odd_shapes_do_not_break_the_page():
    blocks = previews.slack_blocks([{"type": "image", "image_url": "https://h.test/x.png"}, "junk",
                                    {"type": "divider"}])
    assert blocks == [{"type": "other", "name": "image"}, {"type": "divider"}]
    elements = previews.card_elements([{"type": "RichTextBlock"}, 7, {"type": "Container", "items": [
        {"type": "ColumnSet", "columns": [{"items": [{"type": "TextBlock", "text": "a"}]}, {"items": []}]}]}])
    assert elements[0] == {"type": "other", "name": "RichTextBlock"}
    assert elements[1]["items"][0]["columns"][0][0]["html"] == "a"
    html = previews.page([{"id": "x1", "kind": "slack", "event": "ticket.created", "body": {"blocks": "nope"}},
                          {"id": "x2", "kind": "pager", "body": {"a": "<b>"}}, {"id": "x3", "kind": "teams"}])
    assert "&lt;b&gt;" in html and "<b>" not in html and "No Adaptive Card in this message." in html


# ------------------------------------------------------------------------------------------------ the page
def test_each_notification_has_its_heading_newest_first_in_a_page_with_language_and_landmarks(recorded):
    recorded.post("care-slack", digest_notice(desk="complaints", team="customer_service", at=AT,
                                              tickets=[ticket_notice(desk_message("R00000001"), link=LINK)],
                                              link=DESK_LINK))
    recorded.post("oncall-teams", urgent_ticket())
    recorded.post("helpdesk", urgent_ticket())
    html = previews.page(recorded.entries())
    page = outline(html)
    assert ("html", {"lang": "en"}) in page.tags
    assert [t for t, _ in page.tags if t in ("header", "main", "footer")][:2] == ["header", "main"]
    assert page.headings == [("h1", "Notification previews"), ("h2", "Urgent new ticket R7K2M9QXA"),
                             ("h2", "Urgent new ticket R7K2M9QXA"), ("h2", "Shift-start digest for complaints")]
    articles = [a for t, a in page.tags if t == "article"]
    assert [a["data-destination"] for a in articles] == ["helpdesk", "oncall-teams", "care-slack"]
    assert all(a["aria-labelledby"] == a["id"] + "-title" for a in articles)
    assert "<script" not in html and "http://" not in html.replace("http://adaptivecards.io", "")


def test_a_slack_ticket_shows_its_blocks_the_urgent_mark_and_button_and_its_thread_reply_under_it(recorded):
    ts = recorded.post("care-slack", urgent_ticket())
    recorded.post("helpdesk", urgent_ticket())
    chase = ticket_notice(desk_message(event="ticket.updated", change="chase"), link=LINK)
    recorded.post("care-slack", chase, thread=ts)
    html = previews.page(recorded.entries())
    page = outline(html)
    assert page.headings == [("h1", "Notification previews"), ("h2", "Urgent new ticket R7K2M9QXA"),
                             ("h2", "Urgent new ticket R7K2M9QXA"), ("h3", "Ticket update R7K2M9QXA")]
    slack = html[html.index('data-destination="care-slack"'):]
    assert 'class="notification kind-slack urgent"' in html
    assert ('<span class="emoji emoji-rotating_light" role="img" aria-label="rotating light"></span> '
            '<strong>URGENT</strong>') in slack
    assert f'<a href="{LINK}">R7K2M9QXA</a> on <strong>complaints</strong>' in slack
    assert '<div class="mrkdwn"><strong>Priority</strong><br><span class="emoji emoji-red_circle"' in slack
    assert f'<a class="slack-button style-danger" href="{LINK}">Open in the inbox</a>' in slack
    assert "1 reply in the thread" in slack and "<strong>Customer wrote again</strong>" in slack
    assert f"in the thread of {ts}" not in slack  # shown under its parent, not as a loose reply


def test_a_reply_whose_parent_is_not_listed_says_which_thread(recorded):
    recorded.post("care-slack", ticket_notice(desk_message(event="ticket.updated", change="chase"), link=LINK),
                  thread="1796713200.000001")
    html = previews.page(recorded.entries())
    assert "in the thread of 1796713200.000001" in html and "reply in the thread" not in html


def test_a_teams_card_shows_text_weight_size_colour_facts_and_its_open_button(recorded):
    recorded.post("oncall-teams", urgent_ticket())
    html = previews.page(recorded.entries())
    assert ('<p class="tb weight-bolder size-medium color-attention">URGENT · New ticket R7K2M9QXA on complaints'
            '</p>') in html
    assert "<div><dt>Priority</dt><dd>urgent</dd></div>" in html and "<dt>Flags</dt><dd>high reach</dd>" in html
    assert f'<a class="card-button" href="{LINK}">Open in the inbox</a>' in html
    assert 'aria-label="Adaptive Card 1.4"' in html


def test_a_teams_digest_links_each_ticket_and_marks_urgent_lines(recorded):
    tickets = [urgent_ticket(), ticket_notice(desk_message("R00000002"), link=LINK.replace("R7K2M9QXA", "R00000002"))]
    recorded.post("oncall-teams", digest_notice(desk="complaints", team="customer_service", at=AT, tickets=tickets,
                                                link=DESK_LINK))
    html = previews.page(recorded.entries())
    assert '<p class="tb weight-bolder size-medium">customer_service on shift: complaints</p>' in html
    assert f'<p class="tb color-attention tight"><a href="{LINK}">R7K2M9QXA</a> · urgent · complaint on X' in html
    assert f'<a class="card-button" href="{DESK_LINK}">Open the complaints list</a>' in html


def test_a_webhook_shows_its_request_line_headers_verified_and_the_body_pretty_printed(recorded):
    recorded.post("helpdesk", urgent_ticket())
    [entry] = recorded.entries()
    html = previews.page([entry])
    assert ('<span class="method">POST</span> <span class="url">https://helpdesk.example-rail.test/hooks/responder'
            '</span>') in html
    assert '<span class="badge badge-ok">signature verified</span>' in html
    assert f"<dt>X-Responder-Signature</dt><dd>{entry['headers']['X-Responder-Signature']}</dd>" in html
    assert '  &#34;priority&#34;: &#34;urgent&#34;,\n' in html
    forged = {**entry, "verified": False}
    assert '<span class="badge badge-bad">signature not verified</span>' in previews.page([forged])


def test_without_customer_text_no_name_or_words_with_it_the_words_are_escaped_text(recorded):
    recorded.post("care-slack", urgent_ticket())
    html = previews.page(recorded.entries())
    assert NAME not in html and WORDS not in html
    hostile = "<img src=x onerror=alert(1)> *free* <https://evil.test|click> &amp;"
    notice = ticket_notice(desk_message(priority="urgent", excerpt=hostile), link=LINK, text=hostile)
    sharing = recorded.destination("care-slack").model_copy(update={"include_customer_text": True})
    recorded.post("care-slack", notice, destination=sharing)
    recorded.post("oncall-teams", notice, destination=recorded.destination("oncall-teams").model_copy(
        update={"include_customer_text": True}))
    html = previews.page(recorded.entries())
    assert "<img" not in html and "onerror=alert(1)&gt;" in html
    assert 'href="https://evil.test"' not in html  # the customer's words are not turned into links


def test_an_empty_list_says_so():
    html = previews.page([], desk="journeys")
    assert "Nothing recorded yet for journeys" in html and "<article" not in html


# ------------------------------------------------------------------------------------------------ the route
def test_the_route_serves_the_page_with_a_csp_that_allows_only_its_stylesheet(client, svc, recorded):
    notify_log = svc.stores.notify_log  # DynamoDB (moto), as the local stack's
    stand_in = LocalNotifier(notify_log, secret=SECRETS.__getitem__, clock=lambda: AT)
    stand_in.post(recorded.destination("care-slack"), urgent_ticket())
    stand_in.post(recorded.destination("oncall-teams"), ticket_notice(desk_message("R00000003") | {"desk": "oncall"},
                                                                    link=LINK))
    response = client.http.get("/local/notifications/view?desk=complaints&limit=5")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = response.body.decode()
    style = re.search(r"<style>(.*?)</style>", body, re.S)
    assert style
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Urgent new ticket R7K2M9QXA" in body and "R00000003" not in body  # the desk filter
    assert 'href="/local/notifications?desk=complaints&amp;limit=5"' in body
    assert client.http.get("/local/notifications/view?limit=0").status_code == 400
    assert client.http.get("/local/notifications/view?desk=../x").status_code == 400
