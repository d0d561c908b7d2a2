"""Everyday use on a phone: a form that changes something answers with a redirect, so Back
and reload never send it again; the same form sent twice (a reload, Back and resend, a double
tap) makes one piece; the receipt keeps its withdrawal code for the session that shared the
piece, for 30 minutes, as a page and as a file to download; every problem of a form is shown
at once, each next to its field; and a photo that was fine is kept while the rest is fixed,
so a phone on a thin connection never sends it twice."""

from __future__ import annotations

import html as htmllib
import io
import os
import re
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from archive import access
from archive.db import db, utcnow
from archive.media import images, leftovers
from archive.models import Item, MediaAsset, SentForm
from archive.operations import items as ops
from archive.operations.consent import code_hash
from archive.web import once
from tests.conftest import PASSWORD, csrf_token
from tests.items_helpers import (  # noqa: F401
    ALT_TEXT,
    UDASI,
    artwork_form,
    circle_people,
    gps_photo,
    main_html,
    media_files,
    multipart,
    parse,
    poem_form,
    sha256,
    templates_compiled_once,
)

CODE = re.compile(r'<p class="code"><code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})</code></p>')
RECEIPT = re.compile(r"^/items/([A-Za-z0-9_-]{16})/receipt$")


@pytest.fixture
def people(circle_people):
    return circle_people


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def hidden_fields(html: str) -> dict:
    """The hidden fields of the page's main form, as the browser sends them back."""
    return {
        tag.attrs["name"]: tag.attrs.get("value", "")
        for tag in parse(main_html(html)).tags
        if tag.name == "input"
        and tag.attrs.get("type") == "hidden"
        and tag.attrs.get("name") in ("csrf_token", "form_token", "photo_draft", "base")
    }


def opened(client, url: str) -> dict:
    return hidden_fields(client.get(url).get_data(as_text=True))


def send(client, url: str, hidden: dict, fields: dict, **headers):
    return client.post(url, headers=headers, **multipart({**hidden, **fields}))


def shared(client, fields=None, slug="ghar"):
    """Open the contribute form, send it once; the answer and the hidden fields it carried."""
    url = f"/circles/{slug}/contribute"
    hidden = opened(client, url)
    return send(client, url, hidden, fields or poem_form()), hidden


def code_on(client, receipt: str):
    found = CODE.search(client.get(receipt).get_data(as_text=True))
    return found and found.group(1)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def clock(monkeypatch):
    """The receipt's clock, moved on by ``clock.later(minutes)``."""

    class Clock:
        shift = timedelta()

        def later(self, minutes):
            self.shift = timedelta(minutes=minutes)

    moved = Clock()
    monkeypatch.setattr(once, "utcnow", lambda: utcnow() + moved.shift)
    return moved


# --- Post/Redirect/Get, and the same form sent again -------------------------------------------


def test_sharing_answers_with_a_redirect_and_the_same_form_again_makes_no_second_piece(
    app, people, signed_in
):
    asha = signed_in(people["asha"])
    response, hidden = shared(asha)

    assert response.status_code == 303
    receipt = urlsplit(response.headers["Location"]).path
    assert RECEIPT.match(receipt), receipt
    code = code_on(asha, receipt)
    item = db.session.scalar(select(Item))
    assert code and item.consent.withdrawal_code_hash == code_hash(code)
    page = text_of(asha.get(receipt))
    assert "Download the receipt" in page and "I have kept my code" in page

    # reload of the answer, Back + resend, a second tap: the same form, the same token
    for _again in range(2):
        again = send(asha, "/circles/ghar/contribute", hidden, poem_form())
        assert again.status_code == 303
        assert urlsplit(again.headers["Location"]).path == receipt
    assert count(Item) == 1
    assert code_on(asha, receipt) == code

    # "I have kept my code": forgotten at once, and sending the form again does not bring it
    kept = send(asha, receipt + "/kept", {"csrf_token": hidden["csrf_token"]}, {})
    assert kept.status_code == 303 and urlsplit(kept.headers["Location"]).path == receipt
    answer = asha.get(receipt)
    assert answer.status_code == 200 and code not in answer.get_data(as_text=True)
    assert code not in asha.get(receipt + ".txt").get_data(as_text=True)
    again = send(asha, "/circles/ghar/contribute", hidden, poem_form())
    assert urlsplit(again.headers["Location"]).path == receipt
    assert code_on(asha, receipt) is None and count(Item) == 1

    # a form opened longer ago than sent forms are remembered is not acted on
    old = f"{int(time.time()) - 31 * 86400:x}." + "A" * 32
    stale = send(asha, "/circles/ghar/contribute", {**hidden, "form_token": old}, poem_form())
    assert stale.status_code == 422 and "opened a long time ago" in text_of(stale)
    assert hidden_fields(stale.get_data(as_text=True))["form_token"] not in (old, "")
    assert count(Item) == 1

    # a fresh form is a new piece
    assert shared(asha)[0].status_code == 303
    assert count(Item) == 2


@pytest.mark.both_databases
def test_a_double_tap_makes_one_piece_and_both_answers_keep_the_code(
    app, people, signed_in, monkeypatch
):
    """Two sends of one form at once (a double tap: the browser keeps the second answer):
    the second waits for the first, makes nothing, and its answer shows the same code."""
    from archive.web import items as views

    asha = signed_in(people["asha"])
    url = "/circles/ghar/contribute"
    hidden = opened(asha, url)
    cookie = asha.get_cookie("session").value
    inside, real = threading.Event(), views.ops.contribute

    def slow_contribute(*args, **kwargs):
        result = real(*args, **kwargs)
        if not inside.is_set():
            inside.set()
            time.sleep(0.2)  # the second send arrives while the first is still at work
        return result

    monkeypatch.setattr(views.ops, "contribute", slow_contribute)
    answers = {}

    def tap(name):
        client = app.test_client(use_cookies=False)
        answers[name] = send(client, url, hidden, poem_form(), Cookie=f"session={cookie}")

    first = threading.Thread(target=tap, args=("first",))
    first.start()
    assert inside.wait(10)
    tap("second")
    first.join(10)

    assert [answers[n].status_code for n in ("first", "second")] == [303, 303]
    places = {answers[n].headers["Location"] for n in answers}
    assert len(places) == 1 and count(Item) == 1
    receipt = urlsplit(places.pop()).path
    codes = set()
    for name in ("first", "second"):
        client = app.test_client(use_cookies=False)
        kept = answers[name].headers["Set-Cookie"].split(";")[0]
        codes.add(
            CODE.search(client.get(receipt, headers={"Cookie": kept}).get_data(as_text=True)).group(
                1
            )
        )
    assert len(codes) == 1


# --- the receipt keeps its code, for this session, for 30 minutes -------------------------------


def test_the_code_is_for_that_session_alone_for_30_minutes_and_downloads_in_hindi(
    app, people, signed_in, make_account, clock
):
    sunita = make_account("sunita", circle=people["home"], locale="hi")
    client = signed_in(sunita)
    receipt = urlsplit(shared(client)[0].headers["Location"]).path
    code = code_on(client, receipt)
    item = db.session.scalar(select(Item))

    download = client.get(receipt + ".txt")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    text = download.get_data(as_text=True)
    assert code in text and UDASI in text and item.consent.receipt_id in text
    assert "http://localhost/withdraw" in text
    with app.test_request_context(), force_locale("hi"):
        hindi = [gettext(m) for m in ("Your withdrawal code", "Receipt number", "Piece")]
    assert all(words in text for words in hindi)
    assert "Your withdrawal code" not in text  # in her language, not in English

    # another browser of the same person, the facilitator, another member: never the code
    for other in (signed_in(sunita), signed_in(people["meera"]), signed_in(people["ravi"])):
        assert code not in other.get(receipt).get_data(as_text=True)
        assert code not in other.get(receipt + ".txt").get_data(as_text=True)
    # nor the piece's own pages
    piece = receipt.removesuffix("/receipt")
    for path in (piece, piece + "/history", receipt + ".json"):
        assert code not in client.get(path).get_data(as_text=True), path

    # the database holds the code sealed, never in clear
    sealed = db.session.scalar(select(SentForm.sealed))
    assert sealed and code not in sealed and code.encode().hex() not in sealed

    clock.later(29)
    assert code_on(client, receipt) == code
    clock.later(31)
    assert code_on(client, receipt) is None
    assert code not in client.get(receipt + ".txt").get_data(as_text=True)
    clock.later(0)
    assert code_on(client, receipt) is None, "once past, it is forgotten for good"

    # flask purge clears sealed codes past their time, and forgets old sent forms
    clock.later(31)
    assert once.clear_old().startswith("cleared 1 ")
    assert db.session.scalar(select(SentForm.sealed)) is None
    clock.later(31 * 24 * 60)
    assert once.clear_old().endswith("forgot 1 sent form(s)")


def test_a_facilitator_hands_over_a_receipt_and_taking_back_answers_with_a_redirect(
    app, people, signed_in, make_client
):
    meera, ravi = signed_in(people["meera"]), signed_in(people["ravi"])
    for_someone, _hidden = shared(
        meera, poem_form(contributor="new", new_pseudonym="छाया", method="verbal")
    )
    receipt = urlsplit(for_someone.headers["Location"]).path
    code = code_on(meera, receipt)
    assert RECEIPT.match(receipt) and code

    # a member's piece waits for them: the facilitator gets no code, the member does
    proposals = []
    for title in ("माँ की रसोई", "दादी की चिट्ठी"):
        proposal, _hidden = shared(
            meera,
            poem_form(contributor=f"account:{people['ravi'].id}", method="verbal", title=title),
        )
        assert proposal.status_code == 303
        proposals.append(urlsplit(proposal.headers["Location"]).path)
    waiting = proposals[0]
    assert waiting.endswith("/waiting")
    page = text_of(meera.get(waiting))
    assert "Waiting for Ravi Member" in page and not CODE.search(page)
    assert ravi.get(waiting).status_code == 404
    piece = waiting.removesuffix("/waiting")
    agreed = ravi.post_form(
        piece + "/agree", {"audience": "circle", "attribution": "name"}, page=piece
    )
    assert agreed.status_code == 303
    assert urlsplit(agreed.headers["Location"]).path == piece + "/receipt"
    ravi_code = code_on(ravi, piece + "/receipt")
    assert ravi_code and ravi_code not in meera.get(piece + "/receipt").get_data(as_text=True)
    assert meera.get(waiting).status_code == 404  # no longer waiting

    # taking back, each way: a redirect to a page of its own
    visitor = make_client()
    token = csrf_token(visitor.get("/withdraw").get_data(as_text=True))
    declined = proposals[1].removesuffix("/waiting")
    answers = [
        ravi.post_form(f"{piece}/withdraw", {"sure": "y"}),
        ravi.post_form(f"{declined}/decline", {}, page=declined),
        visitor.post(
            "/withdraw",
            data={"confirm-csrf_token": token, "confirm-code": code, "confirm-submit": "y"},
        ),
    ]
    for answer in answers:
        assert answer.status_code == 303, text_of(answer)[:500]
        assert urlsplit(answer.headers["Location"]).path == "/withdrawn"
    assert "It has been taken back" in text_of(visitor.get("/withdrawn"))
    assert (
        count(Item) == 3
        and not db.session.scalars(select(Item).where(Item.state != "withdrawn")).all()
    )


def test_new_links_and_tokens_answer_with_a_redirect_to_a_page_for_that_session(
    app, people, signed_in
):
    meera = signed_in(people["meera"])
    asha = people["asha"]
    made = {
        "/circles/ghar/invites/new": meera.post_form(
            "/circles/ghar/invites", {"days": "3"}, page="/circles/ghar/members"
        ),
        f"/circles/ghar/members/{asha.id}/password-link": meera.post_form(
            f"/circles/ghar/members/{asha.id}/password-link", page="/circles/ghar/members"
        ),
        "/account/tokens/new": meera.post_form(
            "/account/tokens",
            {"token-label": "phone", "token-current_password": PASSWORD},
            page="/account",
        ),
    }
    other = signed_in(people["meera"])  # her other browser
    for place, answer in made.items():
        assert answer.status_code == 303 and answer.headers["Location"] == place
        shown = meera.get(place)
        secret = re.search(r"/join/[\w-]+|/reset/[\w-]+|la_[\w-]+", text_of(shown))
        assert shown.status_code == 200 and secret, place
        assert secret.group(0) in text_of(meera.get(place)), "a reload keeps it"
        elsewhere = other.get(place)
        assert elsewhere.status_code == 302 and secret.group(0) not in text_of(elsewhere)


# --- every problem at once --------------------------------------------------------------------


def error_of(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return htmllib.unescape(found.group(1)).strip() if found else ""


def test_every_problem_is_shown_at_once_next_to_its_field(app, people, signed_in, processed):
    asha = signed_in(people["asha"])
    past = (access.today() - timedelta(days=1)).isoformat()
    response, _hidden = shared(
        asha,
        poem_form(
            title="",
            body=" ",
            tags="नींद, <b>",
            attribution="pseudonym",
            pseudonym="",
            review_by=past,
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    expected = {
        "title": "Please fill this in.",
        "body": "Please write something in the text box.",
        "tags": "A tag is a word or a few words",
        "pseudonym": "Please write the pseudonym to show.",
        "review_by": "A review date needs to be in the future.",
    }
    for field, message in expected.items():
        assert message in error_of(html, field), (field, error_of(html, field))
    summary = html[
        html.index('class="error-summary"') : html.index("</ul>", html.index("error-summary"))
    ]
    assert [f"#{field}" for field in expected] == re.findall(r'href="(#[a-z_]+)"', summary)
    assert count(Item) == 0

    # the edit form too, and a new photo it brought is kept while the rest is fixed
    piece = urlsplit(shared(asha, artwork_form(gps_photo()))[0].headers["Location"]).path
    piece = piece.removesuffix("/receipt")
    hidden = opened(asha, piece + "/edit")
    failed = send(
        asha,
        piece + "/edit",
        hidden,
        {
            "title": "",
            "body": "",
            "language": "hi",
            "tags": "<i>",
            "alt_text": "",
            "note": "",
            "image": (io.BytesIO(gps_photo(colour=(20, 160, 60))), "new.jpg", "image/jpeg"),
        },
    )
    assert failed.status_code == 422
    html = failed.get_data(as_text=True)
    assert error_of(html, "title") and error_of(html, "tags") and error_of(html, "alt_text")
    kept = hidden_fields(html)
    assert kept["photo_draft"]
    saved = send(
        asha,
        piece + "/edit",
        kept,
        {"title": "नई पेंटिंग", "body": "", "language": "hi", "alt_text": ALT_TEXT, "note": ""},
    )
    assert saved.status_code == 302, text_of(saved)[:2000]
    assert len(processed) == 2  # the first photo, then the new one: each once
    item = db.session.scalar(select(Item))
    assert item.current.number == 2 and item.current.title == "नई पेंटिंग"
    assert item.current.media_asset_id not in (None, ops.revision(item, 1).media_asset_id)
    assert drafts(app) == []


# --- a photo kept while the rest is fixed -----------------------------------------------------


@pytest.fixture
def processed(monkeypatch):
    """Every photo the site decodes, counted."""
    calls = []
    real = images.process_upload

    def counted(data, **kwargs):
        calls.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(images, "process_upload", counted)
    return calls


def drafts(app) -> list:
    return [path for path in media_files(app) if path.parent.name == "drafts"]


def test_a_photo_kept_across_a_failed_send_is_used_on_the_next_and_no_one_elses(
    app, people, signed_in, make_client, processed, monkeypatch
):
    asha = signed_in(people["asha"])
    url = "/circles/ghar/contribute"
    hidden = opened(asha, url)
    failed = send(asha, url, hidden, artwork_form(gps_photo(), title="", alt_text=""))
    assert failed.status_code == 422
    html = failed.get_data(as_text=True)
    assert "Your photo is kept; fix the fields below." in text_of(failed)
    assert error_of(html, "title") and error_of(html, "alt_text")
    kept = hidden_fields(html)
    assert kept["photo_draft"] and kept["form_token"] == hidden["form_token"]
    thumbnail = next(
        tag.attrs["src"]
        for tag in parse(main_html(html)).tags
        if tag.name == "img" and "/photo-drafts/" in tag.attrs.get("src", "")
    )
    files = drafts(app)
    assert files and len(files) == len(media_files(app)) and count(MediaAsset) == 0

    shown = asha.get(thumbnail)
    assert shown.status_code == 200 and shown.mimetype == "image/webp"
    assert shown.headers["Cache-Control"] == "no-store"
    assert "sandbox" in shown.headers["Content-Security-Policy"]
    for other in (signed_in(people["asha"]), signed_in(people["meera"])):
        assert other.get(thumbnail).status_code == 404
        # nor does another session's form take it
        taken = send(
            other, url, opened(other, url), artwork_form(None, photo_draft=kept["photo_draft"])
        )
        assert taken.status_code == 422
        assert "Please choose a photo of the artwork." in error_of(
            taken.get_data(as_text=True), "image"
        )
    assert make_client().get(thumbnail).status_code == 404
    assert count(Item) == 0

    corrected = send(asha, url, kept, artwork_form(None))  # no photo sent this time
    assert corrected.status_code == 303, text_of(corrected)[:2000]
    assert len(processed) == 1, "the photo was decoded once, on the first send"
    item = db.session.scalar(select(Item))
    derivatives = item.current.media.derivatives
    assert drafts(app) == [] and len(media_files(app)) == len(derivatives)
    served = asha.get(f"/media/{item.current.media.public_id}/thumb")
    assert served.status_code == 200
    assert sha256(served.get_data()) == sha256(shown.get_data()) == derivatives["thumb"]["sha256"]
    assert item.current.alt_text == ALT_TEXT

    # a photo kept more than an hour ago is not used, and flask purge removes it
    hidden = opened(asha, url)
    kept = hidden_fields(
        send(asha, url, hidden, artwork_form(gps_photo(), title="")).get_data(as_text=True)
    )
    files = drafts(app)
    assert files and kept["photo_draft"]
    assert leftovers.remove().startswith("removed 0")  # not an hour old yet
    hour_ago = time.time() - 3700
    for path in files:
        os.utime(path, (hour_ago, hour_ago))
    monkeypatch.setattr(time, "time", lambda: hour_ago + 3700 + 1)
    leftovers.remove()
    assert drafts(app) == []
    late = send(asha, url, kept, artwork_form(None))
    assert late.status_code == 422
    assert "Please choose a photo of the artwork." in error_of(late.get_data(as_text=True), "image")
    assert count(Item) == 1
