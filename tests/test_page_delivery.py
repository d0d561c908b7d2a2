"""What makes a page quick on a thin connection and clear in a search result: static files under
fingerprinted addresses kept a year, a meta description that says only what may be public, and
the artwork a page is about loaded at once (unless a content note keeps it closed)."""

from __future__ import annotations

import hashlib
import html
import re

from tests.erasure_helpers import world  # noqa: F401  (fixture)
from tests.public_helpers import curate, offer

STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/style\.css\?v=([0-9a-f]{12}))">')
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')
SITE_DESCRIPTION = (
    "A home for the know-hows, poems, stories and artwork of our peer circles, "
    "kept with care and shared only as their authors wish."
)


def description(client, url: str) -> str:
    found = DESCRIPTION.findall(client.get(url).get_data(as_text=True))
    assert len(found) == 1, found
    return html.unescape(found[0])


def test_static_files_are_kept_a_year_under_their_fingerprint(world, app):
    for viewer in ("anonymous", "member"):
        client = world.viewers[viewer].client
        address, version = STYLESHEET.search(client.get("/").get_data(as_text=True)).groups()
        with client.get(address) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["Content-Type"].startswith("text/css")
        # an old or made-up fingerprint, or none, is asked about again every time
        for stale in ("/static/style.css?v=000000000000", "/static/style.css"):
            with client.get(stale) as response:
                assert response.headers["Cache-Control"] == "no-cache", stale
    stylesheet = app.static_folder + "/style.css"
    with open(stylesheet, "rb") as handle:
        assert version == hashlib.sha256(handle.read()).hexdigest()[:12]


def test_every_page_has_a_description_and_only_public_words_go_in_it(world):
    me = world["contributor"]
    public = offer(
        me,
        world.home,
        title="River song",
        body="The river *knows* my name.\n\nIt carries it to the sea.",
    )
    circle_only = offer(
        me,
        world.home,
        title="Kitchen table",
        audience="circle",
        body="Only my circle reads this line.",
    )
    noted = offer(
        me,
        world.home,
        title="After the hospital",
        body="Words behind a note.",
        content_notes=("illness",),
    )
    curate(world["facilitator"], world.home, "rivers", [public])
    anonymous, member = world.viewers["anonymous"].client, world.viewers["member"].client

    assert description(anonymous, "/") == SITE_DESCRIPTION
    assert description(anonymous, "/search") == SITE_DESCRIPTION
    assert (
        description(anonymous, public.url) == "The river knows my name. / It carries it to the sea."
    )  # a poem's lines, kept apart
    assert description(member, circle_only.url) == SITE_DESCRIPTION
    noted_text = description(anonymous, noted.url)
    assert "illness" in noted_text and "Words behind" not in noted_text
    assert description(anonymous, "/collections/rivers") == "What our circle knows about rivers."


def test_the_artwork_a_page_is_about_loads_at_once_unless_a_note_keeps_it_closed(world):
    me = world["contributor"]
    open_piece = offer(me, world.home, title="Open painting", kind="artwork")
    closed = offer(
        me, world.home, title="Closed painting", kind="artwork", content_notes=("grief",)
    )
    client = world.viewers["anonymous"].client
    shown = re.search(r"<img [^>]*>", client.get(open_piece.url).get_data(as_text=True)).group()
    assert 'fetchpriority="high"' in shown and "loading=" not in shown
    kept = re.search(r"<img [^>]*>", client.get(closed.url).get_data(as_text=True)).group()
    assert 'loading="lazy"' in kept and "fetchpriority" not in kept


# --- lists of items: a few queries per page, not a few per item ------------------------------


def test_lists_of_items_cost_the_same_queries_for_two_items_or_ten(
    app, make_circle, make_account, signed_in
):
    from sqlalchemy import event

    from archive.db import commit, db
    from archive.operations import items as item_ops
    from archive.operations.consent import ConsentChoice

    circle = make_circle(slug="shaam")
    author = make_account(circle=circle)
    item_ops.contributor_for(author)
    client = signed_in(author)

    def share(count: int) -> None:
        for n in range(count):
            draft = item_ops.Draft(
                kind="poem",
                title=f"शाम {n}",
                body=f"धीरे धीरे **शाम** {n}",
                language="hi",
                tags=["शाम"],
            )
            choice = ConsentChoice(
                audience="public",
                attribution="name" if n % 2 else "pseudonym",
                pseudonym="" if n % 2 else f"सखी {n}",
            )
            # named pieces by people of their own: each byline names another account
            by = make_account(circle=circle, display_name=f"सखी {n}") if n % 2 else author
            item_ops.contribute(by, circle, item_ops.contributor_for(by), draft, choice)
        commit()

    def queries(url: str) -> int:
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731 — the statement
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            with client.get(url) as response:
                assert response.status_code == 200, url
                assert "शाम" in response.get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        return len(seen)

    pages = ["/", "/circles/shaam", "/tags/शाम", "/feeds/public.atom", "/search?q=शाम"]
    share(2)
    few = {url: queries(url) for url in pages}
    share(8)
    assert {url: queries(url) for url in pages} == few


def test_a_list_loads_each_item_whole_while_another_worker_erases(
    app, make_circle, make_account, signed_in
):
    """An erasure committed by another worker while a list is being read: each item comes
    with its consent and text in the statement that lists it, so nothing half-gone is shown
    (the feed once failed: a listed item's current version was erased before it loaded)."""
    import sqlite3

    from sqlalchemy import event

    from archive.db import commit, db
    from archive.models import Item
    from archive.operations import items as item_ops
    from archive.operations.consent import ConsentChoice

    circle = make_circle(slug="raat")
    author = make_account(circle=circle)
    named = item_ops.contributor_for(author)
    client = signed_in(author)
    for n in range(3):
        draft = item_ops.Draft(
            kind="poem", title=f"रात {n}", body=f"चाँद {n}", language="hi", tags=["रात"]
        )
        item_ops.contribute(author, circle, named, draft, ConsentChoice(audience="public"))
    commit()
    gone_id = db.session.scalars(db.select(Item.id).order_by(Item.id.desc())).first()
    path = db.engine.url.database

    def erase_meanwhile(_conn, _cursor, statement, *_args):
        # the other worker: its erasure lands right after the list's first statement
        if "FROM item" in statement and erase_meanwhile.pending:
            erase_meanwhile.pending = False
            other = sqlite3.connect(path)
            other.execute("DELETE FROM revision WHERE item_id = ?", (gone_id,))
            other.commit()
            other.close()

    for url in ["/", "/circles/raat", "/tags/रात", "/feeds/public.atom"]:
        erase_meanwhile.pending = True
        event.listen(db.engine, "after_cursor_execute", erase_meanwhile)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "after_cursor_execute", erase_meanwhile)
        # listed as it was when listed, or not at all; never half
        assert response.status_code == 200, url
        assert not erase_meanwhile.pending, url


def test_a_changed_static_file_gets_its_new_fingerprint_soon(app, tmp_path, monkeypatch):
    from archive import assets

    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "style.css").write_text("body { color: black }")
    monkeypatch.setattr(app, "static_folder", str(folder))
    clock = [1000.0]
    monkeypatch.setattr(assets.time, "monotonic", lambda: clock[0])
    with app.test_request_context():
        first = assets.fingerprint("style.css")
        assert first == hashlib.sha256(b"body { color: black }").hexdigest()[:12]
        (folder / "style.css").write_text("body { color: navy }")
        clock[0] += assets.RECHECK_SECONDS / 2
        assert assets.fingerprint("style.css") == first  # trusted for a moment
        clock[0] += assets.RECHECK_SECONDS
        assert (
            assets.fingerprint("style.css")
            == hashlib.sha256(b"body { color: navy }").hexdigest()[:12]
        )
        assert assets.fingerprint("../secret.txt") is None
        for number in range(assets.KEPT * 2):  # made-up addresses do not grow it unbounded
            assert assets.fingerprint(f"made-up-{number}.css") is None
        assert len(assets._known) <= assets.KEPT
