"""One live site per test worker, filled once with what the accessibility, weight and language
tests read: a circle, a participant and a facilitator, a Hindi poem in two versions and an
artwork (both behind content notes), an English know-how and a Marathi story, and a public
collection. Tests here only read it; a test that changes something makes its own piece."""

from __future__ import annotations

import fcntl
import io
import json
from dataclasses import asdict, dataclass

import pytest
from PIL import Image

from archive import create_app
from archive.db import commit, db
from archive.operations import collections as collection_ops
from archive.operations import consent as consent_ops
from archive.operations import items as item_ops
from archive.operations.accounts import create_account, create_password_reset
from archive.operations.circles import add_member, create_circle
from archive.operations.consent import ConsentChoice
from tests.browser.conftest import LiveServer
from tests.conftest import PASSWORD, config_for_tests

#: Playwright locales: each sends its language first in Accept-Language
BROWSER_LOCALES = {"en": "en-US", "hi": "hi-IN", "mr": "mr-IN"}
POEM_V1 = "आज मन में उदासी है\nकल फिर सुबह होगी"
POEM_V2 = "आज मन में ख़ुशी है\nकल फिर सुबह होगी"


@dataclass
class Site:
    url: str
    app: object
    poem: str  # public ids
    artwork: str
    artwork_plain: str  # an artwork without a content note
    knowhow: str
    story: str
    other: str  # a piece in a language the archive does not name (Urdu)
    proposal: str  # a poem Meera recorded for Asha, waiting for her to agree
    poem_code: str  # the poem's withdrawal code (never used to erase it here)
    reset: str  # a link Meera made for Asha to choose a new password (never used)
    signed_in: dict  # username -> Playwright storage state
    words: frozenset  # every Latin word of the content and names the site was filled with


def artwork_png(size=(1400, 1000)) -> bytes:
    picture = Image.new("RGB", size, (230, 200, 120))
    picture.paste((40, 90, 160), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


SEED_TEXT = {
    "circle": ("ghar", "घर के लोग"),
    "asha": ("asha", "Asha Pawar"),
    "meera": ("meera", "Meera Joshi"),
    "knowhow": (
        "Small mercies at bedtime",
        "When the evening is hard, we read one short story and switch the lights "
        "off together. It helped us both.",
    ),
    "story": ("पतंग", "आम्ही संध्याकाळी पतंग उडवली. आकाश निळं होतं."),
    "artwork": ("नीली खिड़की", "एक नीली खिड़की, जो मैंने सत्र में बनाई।"),
    "alt": "आधा नीला और आधा पीला रंग, बीच में एक सीधी रेखा",
    "collection": (
        "screen-time",
        "After the phone",
        "What families tried when screens ran the evening.",
    ),
    "tags": ("उम्मीद", "bedtime", "नींद"),
}


def seed(app) -> dict:
    with app.app_context(), app.test_request_context():
        circle = create_circle(SEED_TEXT["circle"][0], SEED_TEXT["circle"][1], languages="hi mr en")
        asha = create_account("asha", PASSWORD, "participant", SEED_TEXT["asha"][1], None)
        meera = create_account("meera", PASSWORD, "facilitator", SEED_TEXT["meera"][1], None)
        add_member(circle, asha, "participant")
        add_member(circle, meera, "facilitator")
        commit()
        me = item_ops.contributor_for(asha)

        def share(kind, title, body, language, audience, notes=(), image=None, alt=""):
            draft = item_ops.Draft(
                kind=kind,
                title=title,
                body=body,
                language=language,
                tags=list(SEED_TEXT["tags"]),
                image=image,
                alt_text=alt,
            )
            choice = ConsentChoice(
                audience=audience,
                attribution="name",
                collections=True,
                embeds=audience == "public",
                packs=True,
                content_notes=list(notes),
                method="self",
            )
            result = item_ops.contribute(asha, circle, me, draft, choice)
            commit()
            return result

        poem = share("poem", "उदासी", POEM_V1, "hi", "circle", notes=["grief"])
        item_ops.revise(
            asha,
            poem.item,
            item_ops.Draft(
                kind="poem",
                title="उदासी",
                body=POEM_V2,
                language="hi",
                tags=list(SEED_TEXT["tags"]),
                note="एक शब्द बदला",
            ),
        )
        commit()
        art = share(
            "artwork",
            *SEED_TEXT["artwork"],
            "hi",
            "public",
            notes=["illness"],
            image=artwork_png(),
            alt=SEED_TEXT["alt"],
        )
        plain = share(
            "artwork",
            "खिड़की के बाहर",
            "",
            "hi",
            "public",
            image=artwork_png((1000, 1400)),
            alt=SEED_TEXT["alt"],
        )
        knowhow = share("knowhow", *SEED_TEXT["knowhow"], "en", "public")
        story = share("story", *SEED_TEXT["story"], "mr", "public")
        other = share("story", "شام کی چائے", "ہم نے ساتھ چائے پی۔", "other", "public")
        small = share("poem", "छोटी बात", "एक छोटी सी बात", "hi", "circle")
        narrower = consent_ops.current_choice(small.item.consent)
        narrower.collections, narrower.content_notes = False, ["grief"]
        consent_ops.change(small.item, narrower, meera, reason="in-person")
        proposal = item_ops.contribute(
            meera,
            circle,
            me,
            item_ops.Draft(
                kind="poem", title="माँ की चिट्ठी", body="चिट्ठी आई है\nघर से", language="hi"
            ),
            ConsentChoice(audience="circle", attribution="name", method="verbal"),
        )
        commit()
        slug, title, intro = SEED_TEXT["collection"]
        collection = collection_ops.create(meera, circle, slug, title, intro)
        for result in (knowhow, art, story):
            collection_ops.add_entry(meera, collection, result.item, "")
        collection_ops.set_state(meera, collection, "public")
        commit()
        ids = {
            name: result.item.public_id
            for name, result in (
                ("poem", poem),
                ("artwork", art),
                ("artwork_plain", plain),
                ("knowhow", knowhow),
                ("story", story),
                ("other", other),
                ("proposal", proposal),
            )
        }
        ids["poem_code"] = poem.receipt.withdrawal_code
        ids["reset"] = create_password_reset(meera, asha)
        commit()
        db.session.remove()
    return ids


def seed_words() -> frozenset:
    import re

    text = " ".join(
        str(v)
        for value in SEED_TEXT.values()
        for v in (value if isinstance(value, tuple) else (value,))
    )
    return frozenset(word.lower() for word in re.findall(r"[A-Za-z]+", text))


def sign_in_state(browser, url: str, username: str) -> dict:
    context = browser.new_context(locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{url}/sign-in")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', PASSWORD)
        with page.expect_navigation():
            page.click('main form input[type="submit"]')
        assert page.locator("form[action='/sign-out']").count() == 1, "sign-in failed"
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture(scope="session")
def site(browser, tmp_path_factory):
    """The filled site on 127.0.0.1, shared by this worker's tests (read-only for them)."""
    root = tmp_path_factory.mktemp("a11y-site")
    app = create_app(config_for_tests(root, CODE_RATE_LIMIT="1000 per minute"))
    with app.app_context():
        db.create_all()
    ids = seed(app)
    with LiveServer(app) as server:
        states = {name: sign_in_state(browser, server.url, name) for name in ("asha", "meera")}
        yield Site(
            url=server.url,
            app=app,
            poem=ids["poem"],
            artwork=ids["artwork"],
            artwork_plain=ids["artwork_plain"],
            knowhow=ids["knowhow"],
            story=ids["story"],
            other=ids["other"],
            proposal=ids["proposal"],
            poem_code=ids["poem_code"],
            reset=ids["reset"],
            signed_in=states,
            words=seed_words(),
        )


@pytest.fixture(scope="session")
def _contexts(browser, site):
    """Browser contexts by (language, who, JavaScript on), kept for the worker's session:
    the tests here only read, so they can share cookies; each test opens its own page."""
    made = {}
    yield made
    for context in made.values():
        context.close()


@pytest.fixture
def open_page(browser, site, _contexts):
    """``open_page(lang, who=None, javascript=True)``: a new page in a browser in that
    language, signed in as ``who`` (or not signed in); closed after the test."""
    pages = []

    def make(lang="en", who=None, javascript=True):
        key = (lang, who, javascript)
        if key not in _contexts:
            _contexts[key] = browser.new_context(
                locale=BROWSER_LOCALES[lang],
                java_script_enabled=javascript,
                storage_state=site.signed_in[who] if who else None,
            )
        pages.append(_contexts[key].new_page())
        return pages[-1]

    yield make
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def _surveys(tmp_path_factory, worker_id):
    """Surveys of this run, kept in memory and in a folder all test workers share."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if worker_id != "master" else base) / "a11y-surveys"
    shared.mkdir(exist_ok=True)
    return {"folder": shared}


@pytest.fixture
def survey(open_page, site, _surveys):
    """``survey(main_page, lang)``: the page looked at once in the whole run (see survey.py).
    Whichever worker needs a page first looks at it, under a lock, and writes what it saw
    for the others: the page's tests may run on different workers."""
    from tests.browser.a11y.pages import AXE_CHECKED
    from tests.browser.a11y.survey import Survey, take

    def look(main_page, lang):
        key = (main_page.name, lang)
        if key not in _surveys:
            path = _surveys["folder"] / f"{main_page.name}-{lang}.json"
            with open(path.with_suffix(".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if path.exists():
                    _surveys[key] = Survey(**json.loads(path.read_text()))
                else:
                    _surveys[key] = take(
                        open_page(lang, main_page.who), site, main_page, key in AXE_CHECKED
                    )
                    path.write_text(json.dumps(asdict(_surveys[key])))
        return _surveys[key]

    return look
