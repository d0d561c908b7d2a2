"""Search as every kind of viewer sees it, through the search page (/search) and the JSON
API (/api/v1/search) at once: the access rule inside the index and again on every hit,
facet counts from the permitted set only, withdrawal and narrowing at once, escaped snippets
from the current revision, query syntax that never errors, ordering, pages, facets, and the
upkeep of the index (check, reindex, left-over tasks, compaction after erasure)."""

from __future__ import annotations

import html as html_lib
import random
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete, func, select, update
from whoosh.query import And, Term
from whoosh.writing import OPTIMIZE

from archive import access, purge
from archive.db import commit, db, utcnow
from archive.models import Account, Circle, Consent, IndexTask, Item
from archive.operations import items as item_ops
from archive.operations.accounts import create_token
from archive.operations.consent import ConsentChoice
from archive.search import compaction, index, rebuild, sync
from tests.conftest import BrowserLikeClient, sign_in
from tests.erasure_helpers import Viewer, World
from tests.search_helpers import in_index, remove_from_index, segments

NOTHING = "Nothing found that you can see."
FACET_NAMES = {"Kind": "kind", "Language": "language", "Circle": "circle", "Tags": "tags"}
LINK_ARG = {"kind": "kind", "language": "language", "circle": "circle", "tags": "tag"}


# --- a small world (Viewer and World as in tests/erasure_helpers.py) -------------------------

#: everyone who looks; "author" contributes in the home circle unless a test says otherwise
VIEWERS = ("author", "facilitator", "member", "stranger", "other facilitator", "admin", "anonymous")
HOME_NAME = "Zqxhomecircle Ghar"


@pytest.fixture
def world(app, make_circle, make_account, make_client) -> World:
    home = make_circle("ghar", HOME_NAME)
    elsewhere = make_circle("bahar", "Bahar circle")
    people = {
        "author": make_account("kavita", circle=home, display_name="Kavita"),
        "facilitator": make_account("meenal", role="facilitator", circle=home),
        "member": make_account("rohan", circle=home),
        "stranger": make_account("sahil", circle=elsewhere),
        "other facilitator": make_account("farida", role="facilitator", circle=elsewhere),
        "admin": make_account("root", role="admin"),
    }
    viewers = {}
    for name, account in people.items():
        client = make_client()
        sign_in(client, account.username)
        secret = create_token(account, "search tests")
        commit()
        viewers[name] = Viewer(name, client, {"Authorization": f"Bearer {secret}"}, account)
    viewers["anonymous"] = Viewer("anonymous", make_client(), {})
    return World(home, elsewhere, people, viewers)


@dataclass
class Piece:
    id: int
    public_id: str
    title: str

    def item(self) -> Item:
        db.session.expire_all()
        return db.session.get(Item, self.id)


def share(
    by: Account,
    circle: Circle,
    *,
    title: str,
    body: str,
    tags=(),
    kind="story",
    language="en",
    audience="public",
    contributor=None,
    method="self",
    review_by=None,
    now: bool = True,
) -> Piece:
    """Contribute through the operations and commit, as one request would (the index task
    is applied after commit)."""
    contributor = contributor or item_ops.contributor_for(by)
    draft = item_ops.Draft(kind=kind, title=title, body=body, language=language, tags=list(tags))
    result = item_ops.contribute(
        by,
        circle,
        contributor,
        draft,
        ConsentChoice(audience=audience, method=method, review_by=review_by),
    )
    if now:
        commit()
    return Piece(result.item.id, result.item.public_id, title)


# --- looking: the page and the API, which must agree ------------------------------------------


@dataclass
class Found:
    total: int
    pages: int
    ids: list[str]
    facets: dict[str, dict[str, int]]
    snippets: dict[str, str]
    main: str
    aside: str


def _main(page: str) -> str:
    start = page.index('<main id="main"')
    return page[start : page.index("</main>", start)]


def _html_facets(aside: str) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    for title, entries in re.findall(r"<h2>(.*?)</h2>\s*<ul>(.*?)</ul>", aside, re.S):
        name = FACET_NAMES[title]
        for href, count in re.findall(
            r'<a href="([^"]+)">.*?</a> <span class="muted">'
            r"\((\d+)\)</span>",
            entries,
            re.S,
        ):
            args = parse_qs(urlsplit(html_lib.unescape(href)).query)
            facets.setdefault(name, {})[args[LINK_ARG[name]][0]] = int(count)
    return facets


def look(viewer: Viewer, q: str, **args) -> Found:
    """Search as ``viewer`` on the page and through the API; both must say the same."""
    query = {"q": q, **{name: value for name, value in args.items() if value is not None}}
    page = viewer.client.get("/search", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    api = viewer.client.get("/api/v1/search", query_string=query, headers=viewer.headers)
    assert api.status_code == 200, api.get_data(as_text=True)[:2000]
    data = api.get_json()
    main = _main(page.get_data(as_text=True))
    results = re.search(r'<ol class="results">(.*?)</ol>', main, re.S)
    html_ids = re.findall(r'<li>\s*<a href="/items/([^"]+)"', results.group(1)) if results else []
    aside = re.search(r'<aside class="facets".*?</aside>', main, re.S)
    aside = aside.group(0) if aside else ""
    facets = {
        name: {entry["value"]: entry["count"] for entry in values}
        for name, values in data["facets"].items()
        if values
    }
    found = Found(
        total=data["total"],
        pages=data["pages"],
        ids=[entry["id"] for entry in data["results"]],
        facets=facets,
        snippets={entry["id"]: entry["snippet"] for entry in data["results"]},
        main=main,
        aside=aside,
    )
    assert html_ids == found.ids
    if q.strip():
        status = re.search(r'role="status">(\d+) pieces? found', main)
        assert status and int(status.group(1)) == found.total
    if found.ids:
        assert _html_facets(aside) == found.facets
    else:
        assert NOTHING in main or not q.strip()
    return found


def assert_nothing(found: Found, *secrets: str) -> None:
    assert (found.total, found.pages, found.ids, found.facets) == (0, 0, [], {})
    for secret in secrets:
        assert secret not in found.main


# --- the access rule: private, circle, stewarded, review dates --------------------------------

PRIVATE_WORDS = ("zqxsecret", "गुप्तशब्द", "Zqxprivtitle")


@pytest.fixture
def private_and_public(world):
    """A private Marathi story of the author's in the home circle, and a public poem in the
    other circle; both say "river"."""
    private = share(
        world["author"],
        world.home,
        title="Zqxprivtitle मनातले",
        body="zqxsecret गुप्तशब्द river. audience private contributor steward",
        tags=("zqxprivtag",),
        kind="story",
        language="mr",
        audience="private",
    )
    public = share(
        world["other facilitator"],
        world.elsewhere,
        title="River song",
        body="The river flows past the school",
        tags=("nadi",),
        kind="poem",
    )
    return private, public


@pytest.mark.parametrize(
    "who", ["stranger", "anonymous", "member", "facilitator", "other facilitator", "admin"]
)
def test_a_private_item_is_found_by_nobody_else(world, private_and_public, who):
    """Not even a member or facilitator of its circle (its contributor has an account), nor
    an admin: no hit, no total, no facet value or count."""
    private, public = private_and_public
    viewer = world.viewers[who]
    for word in PRIVATE_WORDS:
        assert_nothing(look(viewer, word), private.public_id, "zqxprivtag", private.title)

    shared = look(viewer, "river")

    assert shared.ids == [public.public_id] and shared.total == 1
    assert shared.facets == {
        "kind": {"poem": 1},
        "language": {"en": 1},
        "circle": {str(world.elsewhere.id): 1},
        "tags": {"nadi": 1},
    }
    for secret in (private.public_id, "zqxprivtag", HOME_NAME, "Story", "मनातले"):
        assert secret not in shared.main


def test_the_author_finds_their_private_item(world, private_and_public):
    private, public = private_and_public
    author = world.viewers["author"]
    for word in PRIVATE_WORDS:
        assert look(author, word).ids == [private.public_id]
    both = look(author, "river")
    assert sorted(both.ids) == sorted([private.public_id, public.public_id])
    assert both.facets["kind"] == {"poem": 1, "story": 1}
    assert both.facets["tags"] == {"nadi": 1, "zqxprivtag": 1}
    assert both.facets["circle"] == {str(world.home.id): 1, str(world.elsewhere.id): 1}


@pytest.mark.parametrize(
    "who, finds",
    [
        ("author", True),
        ("facilitator", True),
        ("member", True),
        ("stranger", False),
        ("other facilitator", False),
        ("admin", False),
        ("anonymous", False),
    ],
)
def test_circle_items_are_found_by_members_only(world, who, finds):
    piece = share(
        world["author"],
        world.home,
        title="Circle know-how",
        body="zqxcircleword नींद आती नहीं",
        tags=("zqxcircletag",),
        kind="knowhow",
        audience="circle",
    )
    for word in ("zqxcircleword", "नींद", "neend"):
        found = look(world.viewers[who], word)
        if finds:
            assert found.ids == [piece.public_id]
            assert found.facets["tags"] == {"zqxcircletag": 1}
        else:
            assert_nothing(found, piece.public_id, "zqxcircletag")


@pytest.mark.parametrize(
    "who, finds",
    [
        ("facilitator", True),
        ("second facilitator", True),
        ("member", False),
        ("author", False),
        ("stranger", False),
        ("other facilitator", False),
        ("admin", False),
        ("anonymous", False),
    ],
)
def test_a_private_item_of_someone_without_an_account_is_found_by_its_stewards(
    world, make_account, who, finds
):
    """Someone who shared in a session and has no account: the circle's facilitators
    steward their items, so they find even the private ones; nobody else does."""
    if who == "second facilitator":
        account = make_account("anjali", role="facilitator", circle=world.home)
        viewer = Viewer(who, _signed_in_client(account), _token(account), account)
    else:
        viewer = world.viewers[who]
    profile = item_ops.create_profile(world["facilitator"], world.home, "Zqxpenname")
    piece = share(
        world["facilitator"],
        world.home,
        title="Spoken in the session",
        body="zqxstewardword उदासी",
        contributor=profile,
        method="verbal",
        audience="private",
        tags=("zqxstewardtag",),
    )
    for word in ("zqxstewardword", "udasi"):
        found = look(viewer, word)
        if finds:
            assert found.ids == [piece.public_id]
        else:
            assert_nothing(found, piece.public_id, "zqxstewardtag")


def _signed_in_client(account: Account) -> BrowserLikeClient:
    from flask import current_app

    client = BrowserLikeClient(current_app.test_client())
    sign_in(client, account.username)
    return client


def _token(account: Account) -> dict:
    secret = create_token(account, "search tests")
    commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_passed_review_date_hides_an_item_as_time_passes(world, monkeypatch):
    """The index holds the review date; once it is past, the filter itself leaves the item
    out (no re-indexing, no scheduled job): totals and facets too."""
    tomorrow = access.today() + timedelta(days=1)
    piece = share(
        world["author"],
        world.home,
        title="Review me",
        body="zqxreviewword",
        tags=("zqxreviewtag",),
        review_by=tomorrow,
    )
    for who in ("anonymous", "stranger", "member"):
        assert look(world.viewers[who], "zqxreviewword").ids == [piece.public_id]

    monkeypatch.setattr(access, "today", lambda: tomorrow + timedelta(days=1))

    for who in ("anonymous", "stranger", "member", "facilitator", "admin"):
        assert_nothing(look(world.viewers[who], "zqxreviewword"), piece.public_id, "zqxreviewtag")
    assert look(world.viewers["author"], "zqxreviewword").ids == [piece.public_id]


def test_a_review_date_set_in_the_past_in_the_database_hides_the_hit_at_once(world):
    """The database says the review date passed yesterday, the index was not told: the
    re-check with the access rule still keeps the item from everyone but its author."""
    piece = share(
        world["author"], world.home, title="Review me", body="zqxreviewword", tags=("zqxreviewtag",)
    )
    db.session.execute(
        update(Consent)
        .where(Consent.item_id == piece.id)
        .values(review_by=access.today() - timedelta(days=1))
    )
    db.session.commit()
    assert not sync.Mark.read().behind(), "no task waits: the index was not told"

    for who in ("anonymous", "stranger", "member", "facilitator", "admin"):
        found = look(world.viewers[who], "zqxreviewword")
        assert found.ids == []
        assert piece.public_id not in found.main and "Review me" not in found.main
    assert look(world.viewers["author"], "zqxreviewword").ids == [piece.public_id]


def test_every_hit_is_checked_again_against_the_database(world, monkeypatch):
    """Make the index stale on purpose (narrow in the database, queue nothing): the index
    still lets the member's query match, and ``may_view_item`` drops the hit."""
    piece = share(
        world["author"], world.home, title="Circle piece", body="zqxstaleword", audience="circle"
    )
    member = world.viewers["member"]
    assert look(member, "zqxstaleword").ids == [piece.public_id]

    db.session.execute(
        update(Consent).where(Consent.item_id == piece.id).values(audience="private")
    )
    db.session.commit()
    with index.get_index().searcher() as s:
        stale = s.search(And([Term("id", piece.public_id), Term("audience", "circle")]))
        assert len(stale) == 1, "the index should still say circle"
    checked = []
    real = access.may_view_item

    def spy(viewer, item):
        allowed = real(viewer, item)
        checked.append((item.public_id, allowed))
        return allowed

    monkeypatch.setattr(access, "may_view_item", spy)

    found = look(member, "zqxstaleword")

    assert found.ids == []
    assert (piece.public_id, False) in checked
    assert "Circle piece" not in found.main and piece.public_id not in found.main
    assert look(world.viewers["author"], "zqxstaleword").ids == [piece.public_id]


def narrowed_without_applying(world, word: str, tag: str) -> None:
    """A circle piece narrowed to private, its index task committed but not yet applied."""
    piece = share(
        world["author"], world.home, title="Circle piece", body=word, tags=(tag,), audience="circle"
    )
    db.session.execute(
        update(Consent).where(Consent.item_id == piece.id).values(audience="private")
    )
    db.session.add(IndexTask(item_public_id=piece.public_id))
    db.session.commit()


def test_a_stale_entry_is_not_counted_either(world):
    """A narrowing whose index task was not applied (the worker died after commit): the
    search catches the index up before counting, so neither the total nor a facet shows
    the piece or its tag."""
    narrowed_without_applying(world, "zqxstaleword", "zqxstaletag")

    found = look(world.viewers["member"], "zqxstaleword")

    assert found.ids == []
    assert_nothing(found, "zqxstaletag")


def test_a_stale_entry_is_not_counted_while_the_writer_is_busy(world, monkeypatch):
    """A search never waits for the writer: the entries of items changed since the index
    last caught up are left out until another worker has applied the change."""
    from whoosh.index import LockError

    narrowed_without_applying(world, "zqxbusyword", "zqxbusytag")

    def busy(*args, **kwargs):
        raise LockError("held by another worker")

    monkeypatch.setattr(index, "writer", busy)
    found = look(world.viewers["member"], "zqxbusyword")

    assert found.ids == []
    assert_nothing(found, "zqxbusytag")


# --- withdrawal and narrowing take effect at once ----------------------------------------------

LATIN_MARKER = "zqxvanish"
DEVANAGARI_MARKER = "ज़्क्षगायब"


def index_bytes(app) -> dict[Path, bytes]:
    root = Path(app.config["INDEX_DIR"])
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def holding(app, marker: str) -> list[str]:
    encoded = marker.encode("utf-8")
    return [path.name for path, data in index_bytes(app).items() if encoded in data]


def test_a_withdrawn_item_leaves_search_at_once_and_its_words_leave_the_files(app, world):
    piece = share(
        world["author"],
        world.home,
        title=f"Garden {LATIN_MARKER}",
        body=f"{LATIN_MARKER} {DEVANAGARI_MARKER} roses",
        tags=(LATIN_MARKER,),
    )
    keep = share(world["member"], world.home, title="Another garden", body="roses too")
    anonymous = world.viewers["anonymous"]
    assert look(anonymous, LATIN_MARKER).ids == [piece.public_id]
    assert look(anonymous, DEVANAGARI_MARKER).ids == [piece.public_id]

    done = world.viewers["author"].client.post_form(
        f"/items/{piece.public_id}/withdraw", {"sure": "y"}
    )
    assert done.status_code == 303

    for who in ("anonymous", "author", "member", "facilitator"):
        for word in (LATIN_MARKER, DEVANAGARI_MARKER, "zqxvanish", "garden"):
            found = look(world.viewers[who], word)
            assert piece.public_id not in found.ids and piece.public_id not in found.main
            assert LATIN_MARKER not in found.facets.get("tags", {})
    assert look(anonymous, "roses").ids == [keep.public_id]
    assert not in_index(piece.public_id)

    # the deleted document's terms are still in a segment file until it is rewritten
    assert holding(app, LATIN_MARKER) and holding(app, DEVANAGARI_MARKER), (
        "the test would be blind: the markers were never in the index files"
    )
    purge.COMPACTORS["index"]()

    assert holding(app, LATIN_MARKER) == []
    assert holding(app, DEVANAGARI_MARKER) == []
    assert look(anonymous, "roses").ids == [keep.public_id]
    assert rebuild.check() == {"missing": [], "extra": []}


def test_a_compaction_leaves_the_writer_free_and_keeps_what_changed_meanwhile(
    app, world, monkeypatch
):
    """A segment holding a removed entry is rewritten aside (a large one takes a minute):
    saves and removals go on meanwhile, a removal made then is carried into the new segment
    and compacted in turn, and no copy of the text is left anywhere in the index folder."""
    gone = share(world["author"], world.home, title="Gone", body=f"{LATIN_MARKER} roses")
    meanwhile = share(
        world["author"], world.home, title="Goes meanwhile", body=f"{DEVANAGARI_MARKER} roses"
    )
    stays = share(world["member"], world.home, title="Stays", body="roses stay")
    rebuild.reindex()  # the three in one segment
    author = world.viewers["author"].client
    assert author.post_form(f"/items/{gone.public_id}/withdraw", {"sure": "y"}).status_code == 303
    rewrite, saved = compaction._without_deletions, []

    def slowly(ix, segment, aside):
        fresh = rewrite(ix, segment, aside)
        with index.writing(ix, timeout=0):  # LockError if the compaction held the writer
            pass
        if not saved:  # the first pass
            assert (
                author.post_form(
                    f"/items/{meanwhile.public_id}/withdraw", {"sure": "y"}
                ).status_code
                == 303
            )
            saved.append(share(world["member"], world.home, title="New", body="roses anew"))
        return fresh

    monkeypatch.setattr(compaction, "_without_deletions", slowly)
    assert compaction.compact().startswith("rewrote 2 segment(s)")

    assert holding(app, LATIN_MARKER) == [] and holding(app, DEVANAGARI_MARKER) == []
    assert not list(Path(app.config["INDEX_DIR"]).glob(compaction.ASIDE_PREFIX + "*"))
    assert not any(segment.has_deletions() for segment in segments())
    anonymous = world.viewers["anonymous"]
    assert sorted(look(anonymous, "roses").ids) == sorted([stays.public_id, saved[0].public_id])
    assert rebuild.check() == {"missing": [], "extra": []}


def _one_withdrawn_from_a_rebuilt_segment(world):
    """Two pieces in one segment, the first withdrawn (its entry now a deletion there);
    returns the one that stays."""
    gone = share(world["author"], world.home, title="Gone", body=f"{LATIN_MARKER} roses")
    stays = share(world["member"], world.home, title="Stays", body="roses stay")
    rebuild.reindex()
    assert (
        world.viewers["author"]
        .client.post_form(f"/items/{gone.public_id}/withdraw", {"sure": "y"})
        .status_code
        == 303
    )
    return stays


def test_a_compaction_outrun_by_a_rebuild_leaves_the_rebuilt_index_alone(app, world, monkeypatch):
    stays = _one_withdrawn_from_a_rebuilt_segment(world)
    rewrite = compaction._without_deletions

    def outrun(ix, segment, aside):
        fresh = rewrite(ix, segment, aside)
        rebuild.reindex()  # the segment being rewritten is gone with the old folder
        return fresh

    monkeypatch.setattr(compaction, "_without_deletions", outrun)
    assert compaction.compact() == "no segment holds deleted documents"

    assert holding(app, LATIN_MARKER) == []
    assert look(world.viewers["anonymous"], "roses").ids == [stays.public_id]
    assert rebuild.check() == {"missing": [], "extra": []}


def test_a_compaction_of_a_segment_merged_away_before_it_was_read_leaves_it_alone(
    app, world, monkeypatch
):
    stays = _one_withdrawn_from_a_rebuilt_segment(world)
    rewrite = compaction._without_deletions

    def merged_first(ix, segment, aside):
        with index.writing(ix, mergetype=OPTIMIZE):  # another worker's merge, just before
            pass
        return rewrite(ix, segment, aside)

    monkeypatch.setattr(compaction, "_without_deletions", merged_first)
    assert compaction.compact() == "no segment holds deleted documents"

    assert holding(app, LATIN_MARKER) == []
    assert look(world.viewers["anonymous"], "roses").ids == [stays.public_id]
    assert rebuild.check() == {"missing": [], "extra": []}


def test_a_narrowed_item_leaves_anonymous_search_at_once(world):
    piece = share(
        world["author"],
        world.home,
        title="Open know-how",
        body="zqxnarrowword",
        tags=("zqxnarrowtag",),
        kind="knowhow",
    )
    anonymous = world.viewers["anonymous"]
    assert look(anonymous, "zqxnarrowword").ids == [piece.public_id]

    response = world.viewers["author"].client.post_form(
        f"/items/{piece.public_id}/consent",
        {"audience": "circle", "attribution": "anonymous", "pseudonym": "", "review_by": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    assert_nothing(look(anonymous, "zqxnarrowword"), piece.public_id, "zqxnarrowtag")
    assert_nothing(look(world.viewers["stranger"], "zqxnarrowword"), piece.public_id)
    assert look(world.viewers["member"], "zqxnarrowword").ids == [piece.public_id]


# --- snippets ----------------------------------------------------------------------------------


def test_snippets_are_escaped_and_mark_the_hit(world):
    piece = share(
        world["author"],
        world.home,
        title="Careful",
        body="Before <script>alert(1)</script> the zqxsnip word & more",
    )
    for who in ("anonymous", "author"):
        found = look(world.viewers[who], "zqxsnip")
        snippet = found.snippets[piece.public_id]
        assert "&lt;script&gt;" in snippet and "<script" not in snippet
        assert "<mark>zqxsnip</mark>" in snippet
        assert "<script>alert(1)" not in found.main
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in found.main
        assert "<mark>zqxsnip</mark>" in found.main


def test_a_romanized_query_marks_the_devanagari_word(world):
    piece = share(world["author"], world.home, title="Poem", body="आज मन में उदासी है", language="hi")
    snippet = look(world.viewers["anonymous"], "udasi").snippets[piece.public_id]
    assert "<mark>उदासी</mark>" in snippet


SNIPPET_WORDS = [
    "Sleeping",
    "sleep",
    "SLEEPS",
    "don't",
    "rock'n'roll",
    "roll",
    "n'roll",
    "tablet’s",
    "उदासी",
    "ख़ुशी",
    "ख\u093cुशी",
    "\u0959ुशी",
    "नींद",
    "माझ्या",
    "ज़िंदगी",
    "क्ष\u200dमा",
    "Über",
    "über",
    "café",
    "cafe\u0301",
    "**hope**",
    "> hope",
    "_rain_",
    "2026",
    "K\u212aelvin",
    "ſleep",
    "école",
    "l’école",
    "a",
    "I",
    "।",
    "॥",
    "—",
    "x'कि",
    "उदासी।",
    "asleep",
    "उम्मीद",
    "नाउम्मीद",
]


def test_a_snippet_marks_the_words_a_word_by_word_reading_would():
    """Snippets look for the query's words only where the regex engine finds words that
    may be one (`_candidates`); reading every word of the text and comparing it must mark
    exactly the same passages and words."""
    from archive.search.analyzer import normal_word
    from archive.search.query import _WORDS, _candidates, _found, _passages

    rng = random.Random(5)
    for _ in range(400):
        text = " ".join(rng.choice(SNIPPET_WORDS) for _ in range(rng.randint(1, 120)))
        text = unicodedata.normalize("NFC", text)  # as `snippet` reads it
        wanted = frozenset(
            normal_word(word.strip("*_> ")) for word in rng.sample(SNIPPET_WORDS, rng.randint(1, 4))
        )
        wanted = frozenset(word for word in wanted if word)
        if not wanted:
            continue
        fast = _passages(text, wanted, {}, _found, _candidates(wanted))
        every_word = _passages(text, wanted, {}, _found, _WORDS)
        assert fast == every_word, (text, wanted)


def _random_word(rng) -> str:
    """Words of every shape a romanized form is read from: Devanagari syllables with nukta
    (either way), conjuncts (ज्ञ), signs and marks, independent vowels, Latin words as
    typed (capitals, doubled vowels, w z f q), words of both scripts, and odd starts."""
    from archive.search.analyzer import CONSONANTS, MARKS, SIGNS, VOWELS

    def syllable():
        part = rng.choice(list(CONSONANTS))
        if rng.random() < 0.2:
            part += "\u093c"
        if rng.random() < 0.2:
            part += "\u094d" + rng.choice(["ञ", "न", *CONSONANTS])
        return part + rng.choice(["", "", *SIGNS, *MARKS])

    shape = rng.randrange(7)
    if shape == 0:
        return rng.choice(list(VOWELS)) + "".join(syllable() for _ in range(rng.randint(0, 2)))
    if shape == 1:
        latin = "".join(rng.choice("aeioujnszwfqkhdtgpr") for _ in range(rng.randint(1, 6)))
        latin = rng.choice(["", "ee", "oo", "aa", "sh", "jh", "jn"]) + latin
        return latin.capitalize() if rng.random() < 0.3 else latin
    if shape == 2:
        return rng.choice(["jn", "Jn", "w", "zh", "q"]) + syllable()
    if shape == 3:
        return (
            rng.choice(
                [
                    "\u0958",
                    "\u095b",
                    "\u095e",
                    "\u0929",
                    "\u0901",
                    "\u200d",
                    "\u0966",
                    "é",
                    "ü",
                    "7",
                    "_",
                ]
            )
            + syllable()
        )
    if shape == 4:
        return unicodedata.normalize("NFC", "".join(syllable() for _ in range(rng.randint(1, 3))))
    return "".join(syllable() for _ in range(rng.randint(1, 4)))


def test_romanized_forms_start_with_the_letters_their_first_letter_allows():
    from archive.search.analyzer import roman_first_letters, word_roman_forms

    rng = random.Random(8)
    for _ in range(20_000):
        word = _random_word(rng)
        allowed = roman_first_letters(word[0])
        if allowed is None:
            continue
        for form in word_roman_forms(word):
            assert not form or form[0] in allowed, (word, form, allowed)


def test_a_romanized_snippet_marks_the_words_a_word_by_word_reading_would():
    from archive.search.analyzer import word_roman_forms
    from archive.search.query import _WORDS, _found_romanized, _passages, _roman_candidates

    rng = random.Random(9)
    for _ in range(300):
        words = [_random_word(rng) for _ in range(rng.randint(1, 60))]
        text = unicodedata.normalize(
            "NFC", " ".join(word + rng.choice(["", "", ",", "'s", "।"]) for word in words)
        )
        roman = set()
        for word in rng.sample(words, min(len(words), rng.randint(1, 3))):
            roman |= set(word_roman_forms(word))
        roman = frozenset(form for form in roman if form)
        if not roman:
            continue
        fast = _passages(text, roman, {}, _found_romanized, _roman_candidates(roman))
        every_word = _passages(text, roman, {}, _found_romanized, _WORDS)
        assert fast == every_word, (text, roman)


def test_snippets_come_from_the_current_revision(world):
    piece = share(world["author"], world.home, title="Changing", body="zqxoldword stays here")
    anonymous = world.viewers["anonymous"]
    assert look(anonymous, "zqxoldword").ids == [piece.public_id]

    item = piece.item()
    item_ops.revise(
        world["author"],
        item,
        item_ops.Draft(
            kind=item.kind,
            title="Changing",
            body="zqxnewword stays here",
            language=item.current.language,
        ),
    )
    commit()

    assert_nothing(look(anonymous, "zqxoldword"), piece.public_id)
    found = look(anonymous, "zqxnewword")
    assert found.ids == [piece.public_id]
    assert "<mark>zqxnewword</mark>" in found.snippets[piece.public_id]
    assert "zqxoldword" not in found.main
    # also through the stays-the-same word: the snippet is the new text
    assert "zqxoldword" not in look(anonymous, "stays").snippets[piece.public_id]


# --- query syntax never errors -------------------------------------------------------------------

ODD_QUERIES = [
    '"unclosed',
    "AND OR NOT (",
    "title:secret",
    "audience:private",
    "*",
    "???",
    "x" * 500,
    "उदासी " * 100,
    "!@#$%^&*()_+-=[]{};':\",./<>?\\|`~",
    "😀🙏🏽",
    "\x00",
    "a\x00b",
    "NOT",
    "(((",
    ")",
    "zqx~2",
    "[a TO z]",
    "body:zqxsecret",
    "contributor:1",
    "steward:1",
    "review:[0 TO 99999999]",
    "circle:1",
    "kind:story",
    "id:*",
    "  ",
    "-river",
    "+river",
    "river^10",
    "ri*",
    "\u200d",
    "।॥",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_odd_query_syntax_never_errors_and_never_widens(world, private_and_public, who):
    """Every odd query in one world (setting one up costs more than the searches)."""
    private, public = private_and_public
    for q in ODD_QUERIES:
        found = look(world.viewers[who], q)
        assert private.public_id not in found.ids and private.public_id not in found.main, q
        assert set(found.ids) <= {public.public_id}, q
        assert "zqxprivtag" not in found.main and "<script>alert" not in found.main, q
        if found.total == 0 and q.strip():
            assert NOTHING in found.main and "Try fewer words" in found.main, q


def test_field_syntax_cannot_filter_on_hidden_fields(world, private_and_public):
    """audience:, contributor:, steward: are not fields a query may name: the words are
    searched as words, and the permitted set is all anyone gets."""
    private, public = private_and_public
    contributor_id = private.item().contributor_id
    for who in ("anonymous", "member", "admin"):
        viewer = world.viewers[who]
        for q in (
            "audience:private",
            f"contributor:{contributor_id}",
            "steward:0",
            "audience:private OR audience:public",
            f"circle:{world.home.id}",
        ):
            found = look(viewer, q)
            assert private.public_id not in found.ids
            assert found.total <= 1
    # the author may see it, and "audience private" is in its body: plain words, found
    assert private.public_id in look(world.viewers["author"], "audience:private").ids


def test_search_engine_syntax_is_read_as_plain_words(world):
    """Quotes, wildcards, ranges and "everything" are not offered: typed by habit, their
    words are searched as words and nothing more is found (a boost only weighs a word)."""
    piece = share(
        world["author"], world.home, title="उदासी की शाम", body="zqxplain river", language="hi"
    )
    share(world["author"], world.home, title="Other", body="another river")
    anonymous = world.viewers["anonymous"]
    for q in ("'उदासी'", "'zqxplain'", "zqxplain^10", "zqxplain*"):
        assert look(anonymous, q).ids == [piece.public_id], q
    for q in ("*:*", "*", "[a TO z]", "title:[a TO z]"):
        assert look(anonymous, q).total == 0, q


def test_an_odd_query_gets_a_helpful_empty_state(world):
    anonymous = world.viewers["anonymous"].client
    page = anonymous.get("/search", query_string={"q": '"unclosed'}).get_data(as_text=True)
    assert "Try fewer words, or another spelling." in page
    assert "udasi for उदासी" in page
    empty = anonymous.get("/search?q=").get_data(as_text=True)
    assert "pieces found" not in empty and NOTHING not in empty
    assert anonymous.get("/search?q=%00&page=-3&order=zzz&kind=%00").status_code == 200
    assert anonymous.get("/api/v1/search?q=%00").status_code == 200
    refused = anonymous.get("/api/v1/search?q=%00&page=abc")  # the document says: a number
    assert refused.status_code == 422 and refused.get_json()["field"] == "page"


# --- ordering, pages, facets ---------------------------------------------------------------------


def _set_updated(piece: Piece, days_ago: int) -> None:
    db.session.execute(
        update(Item)
        .where(Item.id == piece.id)
        .values(updated_at=utcnow() - timedelta(days=days_ago))
    )


def test_newest_first_and_most_relevant_first(world):
    author, home = world["author"], world.home
    relevant = share(
        author,
        home,
        title="zqxorder zqxorder",
        body="zqxorder zqxorder zqxorder zqxorder",
        now=False,
    )
    middle = share(
        author,
        home,
        title="Middle",
        body="zqxorder once, and much more text around it so that it weighs less " * 3,
        now=False,
    )
    newest = share(
        author,
        home,
        title="Newest",
        body="zqxorder, a passing mention in a long text about other things entirely " * 3,
        now=False,
    )
    commit()
    for piece, days_ago in ((relevant, 30), (middle, 20), (newest, 10)):
        _set_updated(piece, days_ago)
    commit()
    for piece in (relevant, middle, newest):
        sync.queue(db.session.get(Item, piece.id))
    commit()
    sync.catch_up()

    anonymous = world.viewers["anonymous"]
    by_relevance = look(anonymous, "zqxorder")
    by_date = look(anonymous, "zqxorder", order="newest")

    assert by_relevance.ids[0] == relevant.public_id
    assert by_date.ids == [newest.public_id, middle.public_id, relevant.public_id]
    assert "Most relevant first" in by_date.main and "Newest first" in by_relevance.main


def test_pages_hold_every_result_once(world):
    for number in range(25):
        share(
            world["author"],
            world.home,
            title=f"Page piece {number}",
            body=f"zqxpaged number {number}",
            now=False,
        )
    commit()
    anonymous = world.viewers["anonymous"]
    for order in (None, "newest"):
        pages = [look(anonymous, "zqxpaged", page=n, order=order) for n in (1, 2, 3)]
        seen = [public_id for page in pages for public_id in page.ids]
        assert [len(page.ids) for page in pages] == [10, 10, 5]
        assert len(set(seen)) == 25 == len(seen)
        assert all(page.total == 25 and page.pages == 3 for page in pages)
        assert "Page 2 of 3" in pages[1].main
        assert look(anonymous, "zqxpaged", page=4, order=order).ids == []


@pytest.fixture
def faceted(world):
    """Items with the word zqxfacet across kinds, languages, circles, tags and audiences."""
    author, home, elsewhere = world["author"], world.home, world.elsewhere
    other = world["stranger"]
    pieces = {
        "home public poem": share(
            author,
            home,
            title="One",
            body="zqxfacet",
            kind="poem",
            tags=("nadi", "asha"),
            now=False,
        ),
        "home circle story": share(
            author,
            home,
            title="Two",
            body="zqxfacet",
            kind="story",
            language="hi",
            tags=("nadi",),
            audience="circle",
            now=False,
        ),
        "home private knowhow": share(
            author,
            home,
            title="Three",
            body="zqxfacet",
            kind="knowhow",
            language="mr",
            tags=("gupt",),
            audience="private",
            now=False,
        ),
        "elsewhere public knowhow": share(
            other,
            elsewhere,
            title="Four",
            body="zqxfacet",
            kind="knowhow",
            tags=("asha",),
            now=False,
        ),
        "elsewhere circle poem": share(
            other,
            elsewhere,
            title="Five",
            body="zqxfacet",
            kind="poem",
            language="mr",
            tags=("doosra",),
            audience="circle",
            now=False,
        ),
    }
    commit()
    return pieces


def expected_facets(viewer: Viewer, pieces: list[Piece]) -> dict[str, dict[str, int]]:
    """Counts computed from the access rule itself, over the items the viewer may see."""
    db.session.expire_all()
    facets: dict[str, dict[str, int]] = {}
    for piece in pieces:
        item = db.session.get(Item, piece.id)
        if not access.may_view_item(viewer.account, item):
            continue
        values = {
            "kind": [item.kind],
            "language": [item.current.language],
            "circle": [str(item.circle_id)],
            "tags": item.current.tags,
        }
        for name, listed in values.items():
            for value in listed:
                facets.setdefault(name, {}).setdefault(value, 0)
                facets[name][value] += 1
    return facets


@pytest.mark.parametrize("who", ["anonymous", "member", "stranger", "author", "admin"])
def test_facet_counts_come_from_the_permitted_set(world, faceted, who):
    viewer = world.viewers[who]
    found = look(viewer, "zqxfacet")
    assert found.facets == expected_facets(viewer, list(faceted.values()))
    assert found.total == len(found.ids) == sum(found.facets["kind"].values())


@pytest.mark.parametrize(
    "narrow, names",
    [
        ({"kind": "poem"}, {"home public poem"}),
        ({"kind": "knowhow"}, {"elsewhere public knowhow"}),
        ({"language": "hi"}, {"home circle story"}),
        ({"language": "mr"}, set()),
        ({"tag": "asha"}, {"home public poem", "elsewhere public knowhow"}),
        ({"tag": "nadi"}, {"home public poem", "home circle story"}),
        ({"tag": "gupt"}, set()),
        ({"tag": "doosra"}, set()),
        ({"circle": "home"}, {"home public poem", "home circle story"}),
        ({"circle": "elsewhere"}, {"elsewhere public knowhow"}),
        ({"kind": "poem", "tag": "asha"}, {"home public poem"}),
    ],
)
def test_facets_narrow_the_results(world, faceted, narrow, names):
    """As a member of the home circle: its circle items count, nobody's private ones do,
    nor the other circle's circle items."""
    member = world.viewers["member"]
    args = dict(narrow)
    if "circle" in args:
        args["circle"] = str((world.home if args["circle"] == "home" else world.elsewhere).id)
    found = look(member, "zqxfacet", **args)
    assert sorted(found.ids) == sorted(faceted[name].public_id for name in names)
    assert found.total == len(names)
    if names:
        assert found.facets == expected_facets(member, [faceted[name] for name in names])
        assert "Narrowed to:" in found.main
    else:
        assert_nothing(found)


def test_facet_links_search_within_a_tag_and_a_circle(world, faceted):
    member = world.viewers["member"].client
    page = member.get("/search", query_string={"q": "zqxfacet"}).get_data(as_text=True)
    tag_link = html_lib.unescape(re.search(r'href="([^"]*tag=asha[^"]*)"', page).group(1))
    circle_link = html_lib.unescape(
        re.search(rf'href="([^"]*circle={world.elsewhere.id}[^"]*)"', page).group(1)
    )

    within_tag = _main(member.get(tag_link).get_data(as_text=True))
    within_circle = _main(member.get(circle_link).get_data(as_text=True))

    assert "2 pieces found" in within_tag and "asha ✕" in within_tag
    assert "1 piece found" in within_circle and "Bahar circle ✕" in within_circle
    for name in ("home public poem", "elsewhere public knowhow"):
        assert faceted[name].public_id in within_tag
    assert faceted["elsewhere public knowhow"].public_id in within_circle
    assert faceted["elsewhere circle poem"].public_id not in within_circle


# --- upkeep: check, reindex, left-over tasks -----------------------------------------------------


def test_search_check_and_reindex(app, world):
    pieces = [
        share(world["author"], world.home, title=f"Kept {n}", body=f"zqxkept{n}") for n in range(3)
    ]
    runner = app.test_cli_runner()

    healthy = runner.invoke(args=["search", "check"])
    assert healthy.exit_code == 0, healthy.output
    assert (
        "missing from the index: 0; in the index but not active in the database: 0"
        in healthy.output
    )

    remove_from_index(pieces[1].public_id)
    broken = runner.invoke(args=["search", "check"])
    assert broken.exit_code == 1
    assert "missing from the index: 1;" in broken.output
    assert f"missing: {pieces[1].public_id}" in broken.output
    assert look(world.viewers["anonymous"], "zqxkept1").ids == []

    rebuilt = runner.invoke(args=["search", "reindex"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "indexed 3 items" in rebuilt.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    assert look(world.viewers["anonymous"], "zqxkept1").ids == [pieces[1].public_id]


def test_an_index_task_left_behind_is_applied_by_the_next_search(app, world):
    """A crash after commit, before the index was written: the task row stays; the next
    search (or any request's after-commit, or ``search check``) applies it."""
    author = world["author"]
    draft = item_ops.Draft(kind="story", title="Left behind", body="zqxleftword")
    result = item_ops.contribute(
        author,
        world.home,
        item_ops.contributor_for(author),
        draft,
        ConsentChoice(audience="public"),
    )
    public_id = result.item.public_id
    db.session.commit()  # committed, but the after-commit work is lost
    db.session.info.pop("after_commit", None)
    assert db.session.scalar(select(func.count()).select_from(IndexTask)) == 1
    assert not in_index(public_id)

    assert look(world.viewers["anonymous"], "zqxleftword").ids == [public_id]

    assert in_index(public_id)
    assert sync.catch_up() == 0, "applied once only"
    # kept for the other machines' indexes, until INDEX_TASK_DAYS have passed
    assert db.session.scalar(select(func.count()).select_from(IndexTask)) == 1
    assert rebuild.check() == {"missing": [], "extra": []}


def test_a_bare_index_task_row_is_applied_too(app, world):
    """A task for an item whose entry is gone (removed behind the index's back), and one for
    an item that no longer exists: applying both is harmless and fixes the first."""
    piece = share(world["author"], world.home, title="Bare", body="zqxbareword")
    remove_from_index(piece.public_id)
    db.session.add_all(
        [IndexTask(item_public_id=piece.public_id), IndexTask(item_public_id="no-such-item")]
    )
    db.session.commit()

    assert sync.catch_up() == 2

    assert rebuild.check() == {"missing": [], "extra": []}
    assert look(world.viewers["anonymous"], "zqxbareword").ids == [piece.public_id]
    assert sync.catch_up() == 0


@pytest.mark.parametrize("gaps_asked", [500, 0], ids=["by-number", "all-read"])
def test_the_items_of_unapplied_tasks_are_found_past_gaps_in_the_numbers(
    app, world, monkeypatch, gaps_asked
):
    """On PostgreSQL a later task can commit first: a mark may hold 1, 2 and 4 applied while
    3 waits. The search leaves out the items of 3 and of everything after 4."""
    monkeypatch.setattr(sync, "GAPS_ASKED", gaps_asked)
    db.session.execute(delete(IndexTask))
    tasks = [IndexTask(item_public_id=f"item-{n}") for n in range(1, 8)]
    db.session.add_all(tasks)
    db.session.commit()
    number = {task.item_public_id: task.id for task in tasks}
    applied = {number["item-1"], number["item-2"], number["item-4"]}
    mark = sync.Mark(settled=number["item-1"] - 1, recent=applied)
    assert sync._unapplied(mark) == {"item-3", "item-5", "item-6", "item-7"}
    mark = sync.Mark(settled=number["item-2"], recent={number["item-4"]})
    assert sync._unapplied(mark) == {"item-3", "item-5", "item-6", "item-7"}
    everything = sync.Mark(settled=number["item-7"])
    assert sync._unapplied(everything) == frozenset()


def test_a_failed_index_commit_never_leaves_the_lock_held(app, monkeypatch):
    """A commit that fails (a full disk) must not jam every later write for good."""
    from whoosh.writing import SegmentWriter

    def full_disk(self, *args, **kwargs):
        raise OSError("No space left on device")

    def remove_nothing():
        with index.writing() as w:
            w.delete_by_term("id", "nothing-here")

    monkeypatch.setattr(SegmentWriter, "commit", full_disk)
    with pytest.raises(OSError):
        remove_nothing()
    monkeypatch.undo()
    started = time.monotonic()
    remove_nothing()
    assert time.monotonic() - started < 5, "the index lock was left held"


def test_facet_and_pager_links_read_as_url_for_would_build_them(app):
    """The page's address is built once and each link adds its query: the same URL, byte
    for byte, that url_for gives (Devanagari, spaces, +, &, # and / in the words)."""
    from flask import url_for

    from archive.web.search import _link

    args = {
        "text": "उदासी a+b & c/d?",
        "order": "newest",
        "kind": "poem",
        "language": None,
        "circle": "3",
        "tag": "screen time",
    }
    kept = {
        "q": args["text"],
        "order": "newest",
        "kind": "poem",
        "language": None,
        "circle": "3",
        "tag": "screen time",
    }
    with app.test_request_context("/search"):
        link = _link(args)
        for changes in (
            {},
            {"page": 2},
            {"tag": None, "page": None},
            {"q": "ñ #x", "order": None, "language": "hi"},
            dict.fromkeys(kept),
        ):
            merged = {k: v for k, v in {**kept, **changes}.items() if v}
            assert link(**changes) == url_for("search.results", **merged)
