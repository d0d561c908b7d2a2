"""An invite link is sent the way pieces are shared: plain WhatsApp and SMS links (no
third-party script or request), and the whole link shown, wrapping, to copy on a phone."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from markupsafe import Markup

LINK = re.compile(r"(https?://[^\s\"'<>]+/join/([A-Za-z0-9_\-]+))")


def test_an_invite_is_sent_on_whatsapp_or_sms_and_shown_whole(signed_in, make_circle, make_account):
    circle = make_circle("ghar", "Ghar")
    meera = make_account("meera", role="facilitator", circle=circle)

    made = signed_in(meera).post_form(
        f"/circles/{circle.slug}/invites",
        {"days": "3"},
        page=f"/circles/{circle.slug}/members",
        follow_redirects=True,
    )

    html = made.get_data(as_text=True)
    link, _token = LINK.search(html).groups()
    assert re.search(
        r'<textarea id="[\w-]+" class="[^"]*\blink-to-send\b[^"]*" readonly[^>]*>'
        + re.escape(link)
        + "</textarea>",
        html,
    )
    hrefs = [
        Markup(h).unescape() for h in re.findall(r'href="((?:https://wa\.me|sms:)[^"]+)"', html)
    ]
    assert [urlsplit(h).scheme for h in hrefs] == ["https", "sms"]
    whatsapp, sms = (parse_qs(urlsplit(h).query) for h in hrefs)
    assert link in whatsapp["text"][0] and link in sms["body"][0]
    assert "Ghar" in whatsapp["text"][0]
    assert "<script" not in html.split("<main", 1)[1]
