"""Four journeys through the site in Chromium, clicked and typed the way people do it.

1. A participant, in the Hindi interface, shares a poem with her circle, edits it, reads the
   word diff, and narrows it to "only me": another member who could read it no longer can.
2. A facilitator records an artwork for a participant who has no account, hands over the
   receipt (its withdrawal code is shown once), puts the piece in a collection and publishes it.
3. An advocate, signed out, reads the public collection, finds the Hindi piece by typing
   "udasi" in Latin letters, shows its embed on her own page and downloads the offline pack.
4. The participant takes the piece back with the code from the receipt, signed out, and on the
   advocate's next visit it is gone from the collection, search, feed, embed and pack.

Journeys 2–4 form one story, so they are one test in clear steps. Labels and buttons are found
by the words a person reads, in the language the page is in (``Words`` asks the app's own
catalogs, so a wording change does not break the journey but a missing label does).
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from playwright.sync_api import expect

from archive.db import db
from archive.operations.accounts import create_account
from archive.operations.circles import add_member, create_circle
from tests.conftest import PASSWORD
from tests.items_helpers import KHUSHI, POEM_LINES, UDASI, nfc

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}$")
ATOM = "{http://www.w3.org/2005/Atom}"
ARTWORK_TITLE = "उदासी के रंग"
ARTWORK_BODY = "सत्र में बनाई। उदासी के दिनों में रंग भरना अच्छा लगा।"
ALT_TEXT = "नीले आसमान के नीचे पीला सूरज, मोटे ब्रश से बनाया हुआ"
PSEUDONYM = "चिड़िया"


class Words:
    """What the site says for an English message in one language, from its own catalogs."""

    def __init__(self, app, locale: str):
        self.app, self.locale = app, locale

    def __call__(self, message: str, **values) -> str:
        with self.app.test_request_context(), force_locale(self.locale):
            return gettext(message, **values)


@pytest.fixture
def site(live_server, browser):
    """The live site with one circle (a facilitator and two participants), and a way to open
    a fresh browser for each person, none of them running JavaScript."""
    app = live_server.server.app
    with app.app_context():
        circle = create_circle("saath", "साथ-साथ", languages="hi mr en")
        add_member(circle, create_account("meera", PASSWORD, "facilitator", "Meera"), "facilitator")
        add_member(circle, create_account("asha", PASSWORD, display_name="आशा"))
        add_member(circle, create_account("ravi", PASSWORD, display_name="रवि"))
        db.session.commit()
        db.session.remove()
    contexts = []

    def person():
        context = browser.new_context(
            java_script_enabled=False, locale="en-US", accept_downloads=True
        )
        contexts.append(context)
        return context.new_page()

    live_server.person = person
    live_server.en, live_server.hi = Words(app, "en"), Words(app, "hi")
    try:
        yield live_server
    finally:
        for context in contexts:
            context.close()


def click(page, locator):
    """Click what leads to another page, and wait for that page."""
    with page.expect_navigation() as navigation:
        locator.click()
    return navigation.value


def sign_in(site, page, username: str) -> None:
    page.goto(f"{site.url}/")
    click(page, page.get_by_role("link", name="Sign in").first)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    click(page, page.get_by_role("button", name="Sign in"))
    assert urlsplit(page.url).path == "/"


def sample_picture(path):
    """A small painting: a yellow sun over a blue sky, saved as a real JPEG."""
    picture = Image.new("RGB", (640, 480), (40, 90, 200))
    picture.paste((250, 210, 40), (260, 140, 380, 260))
    picture.save(path, "JPEG", quality=85)
    return path


# --- 1. a participant in Hindi -----------------------------------------------------------------


def test_participant_shares_edits_compares_and_narrows_a_hindi_poem(site):
    hi = site.hi
    page = site.person()
    sign_in(site, page, "asha")
    click(page, page.get_by_role("button", name="हिन्दी"))
    assert page.get_attribute("html", "lang") == "hi"

    # from the home page to her circle, and the form to share something
    click(page, page.get_by_role("link", name="साथ-साथ"))
    click(page, page.get_by_role("link", name=hi("Share something")))
    page.get_by_role("radio", name=hi("A poem")).check()
    page.get_by_label(hi("Title"), exact=True).fill(UDASI)
    page.get_by_label(hi("Your words")).fill("\n".join(POEM_LINES))
    page.get_by_label(hi("Written in")).select_option(label="हिन्दी")
    page.get_by_role("radio", name=hi("My circle: the members of this circle")).check()
    receipt = click(page, page.get_by_role("button", name=hi("Share it")))
    assert receipt.status == 200, page.locator("main").inner_text()
    expect(page.get_by_role("heading", level=1)).to_have_text(hi("Consent receipt"))
    code = page.locator(".withdrawal-code code").inner_text().strip()
    assert CODE.match(code), code

    # the poem keeps its line break
    click(page, page.get_by_role("link", name=hi("See the piece")))
    item_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(UDASI)
    poem = page.locator("article div.text")
    assert [nfc(line) for line in poem.inner_text().splitlines()] == list(POEM_LINES)

    # another member of the circle can read it for now
    ravi = site.person()
    sign_in(site, ravi, "ravi")
    assert ravi.goto(item_url).status == 200
    expect(ravi.get_by_role("heading", level=1)).to_have_text(UDASI)

    # she edits one word, then reads what changed
    click(page, page.get_by_role("link", name=hi("Edit"), exact=True))
    page.get_by_label(hi("Your words")).fill("\n".join(POEM_LINES).replace(UDASI, KHUSHI))
    page.get_by_label(hi("What did you change? (optional)")).fill("एक शब्द बदला")
    click(page, page.get_by_role("button", name=hi("Save as a new version")))
    assert page.url == item_url
    expect(page.get_by_role("status")).to_contain_text(hi("Saved as a new version."))
    assert KHUSHI in nfc(poem.inner_text())
    click(page, page.get_by_role("link", name=hi("History of this piece")))
    expect(page.locator("ol.history > li")).to_have_count(2)
    click(page, page.get_by_role("link", name=hi("What changed")))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        hi("Changes from version %(a)d to %(b)d", a=1, b=2)
    )
    diff = page.locator(".diff-view")
    assert [nfc(word) for word in diff.locator("del").all_inner_texts()] == [UDASI]
    assert [nfc(word) for word in diff.locator("ins").all_inner_texts()] == [KHUSHI]
    assert nfc(diff.inner_text()).count("कल फिर सुबह होगी") == 1, "unchanged words stay plain"

    # she narrows it to herself alone
    page.goto(item_url)
    click(page, page.get_by_role("link", name=hi("Change who can see it")))
    only_me = hi("Only me (and, for someone without an account, the circle's facilitators)")
    page.get_by_role("radio", name=only_me).check()
    click(page, page.get_by_role("button", name=hi("Save my choices")))
    assert page.url == item_url
    expect(page.locator(".consent-links")).to_contain_text(
        hi("Shared with: %(audience)s", audience=only_me)
    )

    # ravi's next look: the piece is not there, not even on the circle's page
    assert ravi.goto(item_url).status == 404
    assert UDASI not in nfc(ravi.locator("main").inner_text())
    ravi.goto(f"{site.url}/circles/saath")
    expect(ravi.get_by_role("link", name=KHUSHI)).to_have_count(0)
    expect(ravi.get_by_role("link", name=UDASI)).to_have_count(0)
    # and she still has it
    assert page.goto(item_url).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(UDASI)


# --- 2–4. facilitator, advocate, withdrawal ---------------------------------------------------


def record_artwork_for_someone_without_an_account(site, page, picture) -> tuple[str, str]:
    """Meera records the artwork; returns the item's address and the withdrawal code."""
    sign_in(site, page, "meera")
    click(page, page.get_by_role("link", name="My circles"))
    click(page, page.get_by_role("link", name="साथ-साथ"))
    click(page, page.get_by_role("link", name="Share something"))
    page.get_by_label("Whose piece is this?").select_option(
        label="Someone without an account (give a pseudonym below)"
    )
    page.get_by_label("Pseudonym for someone without an account").fill(PSEUDONYM)
    page.get_by_role("radio", name="They gave consent aloud, and I am recording it").check()
    page.get_by_role("radio", name="Artwork: a photo of something made").check()
    page.get_by_label("Title", exact=True).fill(ARTWORK_TITLE)
    page.get_by_label("Your words").fill(ARTWORK_BODY)
    page.get_by_label("Written in").select_option(label="हिन्दी")
    page.get_by_label("Photo of the artwork").set_input_files(str(picture))
    page.get_by_label("Describe the artwork for someone who cannot see it").fill(ALT_TEXT)
    page.get_by_role("radio", name="Everyone: anyone on the internet may read it").check()
    for permission in (
        "It may be part of collections the circle makes",
        "Advocates may quote it or show it on their own websites",
        "It may go into offline packs (a zip people keep on their phones)",
    ):
        page.get_by_label(permission).check()
    receipt = click(page, page.get_by_role("button", name="Share it"))
    assert receipt.status == 200, page.locator("main").inner_text()

    # the receipt to hand over: the code once, and how consent was given
    expect(page.get_by_role("heading", name="Your withdrawal code")).to_be_visible()
    code = page.locator(".withdrawal-code code").inner_text().strip()
    assert CODE.match(code), code
    receipt_text = page.locator("dl.receipt").inner_text()
    assert ARTWORK_TITLE in nfc(receipt_text) and "recorded by Meera" in receipt_text
    click(page, page.get_by_role("link", name="See the piece"))
    item_url = page.url
    assert f"by {PSEUDONYM}" in page.locator(".byline").inner_text()
    expect(page.get_by_role("img", name=ALT_TEXT)).to_be_visible()
    page.goto(f"{item_url}/receipt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consent receipt")
    assert code in page.content(), "the receipt keeps its code a while, for her alone"
    click(page, page.get_by_role("button", name="I have kept my code"))
    assert code not in page.content(), "once kept, the site lets go of it"
    return item_url, code


def publish_a_collection(site, page) -> str:
    click(page, page.get_by_role("link", name="Collections"))
    click(page, page.get_by_role("link", name="A new collection for साथ-साथ"))
    page.get_by_label("Title", exact=True).fill("रंगों की बातें")
    page.get_by_label("Short name for links").fill("rangon-ki-baatein")
    page.get_by_label("Introduction (optional)").fill("सत्रों में बनी तस्वीरें, उनकी सहमति से।")
    click(page, page.get_by_role("button", name="Make the collection"))
    collection_url = page.url
    assert urlsplit(collection_url).path == "/collections/rangon-ki-baatein"
    assert page.locator("p.meta").first.inner_text().endswith("· draft")

    page.get_by_label("Piece to add").select_option(label=ARTWORK_TITLE)
    page.get_by_label("Your note about it (optional)").fill("पहले सत्र से")
    click(page, page.get_by_role("button", name="Add to the collection"))
    entries = page.locator("ol.entries")
    expect(entries.get_by_role("link", name=ARTWORK_TITLE)).to_be_visible()

    page.get_by_role("radio", name="Public: anyone may read it (only public pieces)").check()
    click(
        page,
        page.locator("#curate form")
        .filter(
            has=page.get_by_role("radio", name="Public: anyone may read it (only public pieces)")
        )
        .get_by_role("button", name="Save"),
    )
    assert page.locator("p.meta").first.inner_text().endswith("· public")
    return collection_url


def feed_titles(page, collection_url: str) -> list[str]:
    href = page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    feed = page.request.get(f"{collection_url}{href[len(urlsplit(collection_url).path) :]}")
    assert feed.status == 200 and "atom" in feed.headers["content-type"]
    root = ElementTree.fromstring(feed.body())
    return [nfc(entry.findtext(f"{ATOM}title")) for entry in root.iter(f"{ATOM}entry")]


def search_for(page, words: str):
    click(page, page.get_by_role("link", name="Search", exact=True))
    page.get_by_label("Words to look for").fill(words)
    click(page, page.get_by_role("search").get_by_role("button", name="Search"))
    return page.locator("ol.results")


class Blog(ThreadingHTTPServer):
    """The advocate's own website: another origin on 127.0.0.1, serving one page whose HTML
    the test sets (``.html``)."""

    html = ""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), BlogPage)
        self.url = f"http://127.0.0.1:{self.server_port}/notes"


class BlogPage(BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.html.encode()
        self.send_response(200 if self.path == "/notes" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def blog():
    server = Blog()
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="blog")
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def blog_with(page, blog: Blog, snippet: str):
    """The advocate's page with the embed pasted in, as a reader of her blog sees it."""
    blog.html = (
        f"<!doctype html><html lang=en><title>My blog</title>"
        f"<h1>Notes from our circle</h1>{snippet}</html>"
    )
    page.goto(blog.url)
    page.wait_for_load_state("load")
    return page.frame_locator("iframe")


def download_pack(page, tmp_path) -> zipfile.ZipFile:
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download for reading offline (zip)").click()
    download = waiting.value
    assert download.failure() is None
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == "rangon-ki-baatein.zip"
    return zipfile.ZipFile(io.BytesIO(saved.read_bytes()))


def pack_text(pack: zipfile.ZipFile) -> str:
    assert pack.testzip() is None
    return nfc(
        " ".join(pack.read(name).decode() for name in pack.namelist() if name.endswith(".html"))
    )


def test_facilitator_records_advocate_shares_participant_takes_it_back(site, blog, tmp_path):
    # 2. the facilitator records, hands over the receipt, curates and publishes
    meera = site.person()
    item_url, code = record_artwork_for_someone_without_an_account(
        site, meera, sample_picture(tmp_path / "painting.jpg")
    )
    collection_url = publish_a_collection(site, meera)

    # 3. an advocate, signed out, finds the collection and the piece in it
    advocate = site.person()
    advocate.goto(f"{site.url}/")
    click(advocate, advocate.get_by_role("link", name="Collections"))
    click(advocate, advocate.get_by_role("link", name="रंगों की बातें"))
    assert advocate.url == collection_url
    expect(advocate.locator("ol.entries").get_by_role("link", name=ARTWORK_TITLE)).to_be_visible()
    assert f"by {PSEUDONYM}" in advocate.locator("ol.entries").inner_text()
    assert feed_titles(advocate, collection_url) == [ARTWORK_TITLE]

    results = search_for(advocate, "udasi")
    expect(results.get_by_role("link", name=ARTWORK_TITLE)).to_be_visible()
    assert UDASI in nfc(results.inner_text())

    click(advocate, results.get_by_role("link", name=ARTWORK_TITLE))
    assert advocate.url == item_url
    snippet = advocate.get_by_label("Copy this code into your page").input_value()
    assert snippet.startswith("<iframe ") and "/embed/items/" in snippet
    reader = site.person()
    card = blog_with(reader, blog, snippet)
    expect(card.get_by_role("heading", name=ARTWORK_TITLE)).to_be_visible()
    expect(card.get_by_role("img", name=ALT_TEXT)).to_be_visible()
    assert reader.frames[1].evaluate("document.querySelector('img').naturalWidth") > 0

    advocate.goto(collection_url)
    pack = download_pack(advocate, tmp_path)
    assert "index.html" in pack.namelist()
    assert ARTWORK_TITLE in pack_text(pack) and ALT_TEXT in pack_text(pack)
    assert any(name.endswith(".webp") for name in pack.namelist())

    # 4. the participant, with no account, takes it back with the code from her receipt
    participant = site.person()
    participant.goto(f"{site.url}/")
    click(participant, participant.get_by_role("link", name="Take something back"))
    participant.get_by_label("Withdrawal code from the receipt").fill(code.lower())
    click(participant, participant.get_by_role("button", name="Continue"))
    expect(participant.get_by_role("heading", level=1)).to_have_text(
        f"Take “{ARTWORK_TITLE}” back?"
    )
    click(participant, participant.get_by_role("button", name="Erase it everywhere"))
    expect(participant.get_by_role("heading", level=1)).to_have_text("It has been taken back")

    # the advocate's next visit: gone from every place she had seen it
    assert advocate.goto(collection_url).status == 200
    expect(advocate.get_by_role("link", name=ARTWORK_TITLE)).to_have_count(0)
    expect(advocate.locator("main")).to_contain_text("Nothing here yet that you can see.")
    assert feed_titles(advocate, collection_url) == []
    results = search_for(advocate, "udasi")
    expect(advocate.get_by_role("status")).to_contain_text("0 pieces found")
    assert ARTWORK_TITLE not in nfc(advocate.locator("main").inner_text())
    assert advocate.goto(item_url).status == 410
    assert ARTWORK_TITLE not in nfc(advocate.content())
    card = blog_with(reader, blog, snippet)
    expect(card.get_by_text("No longer shared by its author")).to_be_visible()
    expect(card.get_by_text("The person who shared it has taken it back.")).to_be_visible()
    assert ARTWORK_TITLE not in nfc(reader.frames[1].content())
    advocate.goto(collection_url)
    pack = download_pack(advocate, tmp_path)
    assert ARTWORK_TITLE not in pack_text(pack) and ALT_TEXT not in pack_text(pack)
    assert not any(name.endswith(".webp") for name in pack.namelist())
