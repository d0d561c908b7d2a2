"""The pages people open most load what they show in a fixed number of SQL statements, and
never convert Markdown on a read (a revision keeps its HTML, excerpt and description).

One site, asked twice: with 3 pieces and with 30 (and one piece with 3 and with 30
versions). A page whose statements grow with what it lists loads something per piece."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from archive import text
from archive.db import commit, db
from archive.operations import collections as collection_ops
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from tests.erasure_helpers import photo


@pytest.fixture
def world(app, make_circle, make_account, signed_in):
    circle = make_circle("nadi", "Nadi circle")
    asha = make_account("asha", role="facilitator", circle=circle, display_name="आशा")
    collection = collection_ops.create(asha, circle, "river", "River", "What *we* know.")
    commit()
    return circle, asha, collection, signed_in(asha)


def share(world, first: int, count: int) -> list:
    """``count`` public pieces in the circle and its collection, by several people, named,
    pseudonymous and with a content note by turns; the first of all an artwork."""
    circle, asha, collection, _client = world
    from archive.operations.accounts import create_account
    from archive.operations.circles import add_member

    made = []
    for n in range(first, first + count):
        by = asha
        if n % 3 == 1:
            by = create_account(f"sakhi{n}", "a calm river at dawn", "participant", f"सखी {n}")
            add_member(circle, by, "participant")
        draft = item_ops.Draft(
            kind="artwork" if n % 9 == 0 else ("poem", "story")[n % 2],
            title=f"नदी {n}",
            body=f"नदी *बहती* है {n}\nपानी",
            language="hi",
            tags=["nadi", f"tag{n}"],
            alt_text="A river in blue" if n % 9 == 0 else "",
            image=photo() if n % 9 == 0 else None,
        )
        choice = ConsentChoice(
            audience="public",
            attribution=("name", "pseudonym", "anonymous")[n % 3],
            pseudonym=f"नाम {n}" if n % 3 == 1 else "",
            content_notes=["grief"] if n % 5 == 2 else [],
            collections=True,
            embeds=True,
            packs=True,
        )
        made.append(
            item_ops.contribute(by, circle, item_ops.contributor_for(by), draft, choice).item
        )
    for item in made:
        collection_ops.add_entry(asha, collection, item, f"note {item.id}")
    if collection.state != "public":
        collection_ops.set_state(asha, collection, "public")
    commit()
    return made


def statements(client, url: str) -> int:
    seen = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731 — the statement
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen)


def test_hot_pages_load_what_they_show_in_a_fixed_number_of_statements(
    world, make_client, monkeypatch
):
    circle, asha, _collection, member = world
    made = share(world, 0, 3)
    piece = made[1].public_id
    anyone = make_client()
    pages = {
        (anyone, "/"),
        (member, "/"),
        (anyone, f"/items/{piece}"),
        (anyone, f"/items/{piece}/history"),
        (anyone, "/tags/nadi"),
        (member, "/circles/nadi"),
        (anyone, "/collections/river"),
        (member, "/collections/river"),
        (anyone, "/collections/river/read"),
        (member, "/collections/river/read"),
        (anyone, "/search?q=नदी"),
        (member, "/search?q=नदी"),
        (anyone, "/feeds/public.atom"),
        (anyone, "/collections/river/feed.atom"),
        (member, "/account/pieces"),
        (member, "/account/export"),
    }

    def counted() -> dict[str, int]:
        # a read never converts Markdown: every piece's words were rendered when saved
        monkeypatch.setattr(text, "_converter", _no_conversion)
        try:
            return {
                f"{'member' if client is member else 'anyone'} {url}": statements(client, url)
                for client, url in sorted(pages, key=lambda page: page[1])
            }
        finally:
            monkeypatch.undo()

    few = counted()
    share(world, 3, 27)
    for n in range(27):
        item = made[1]
        db.session.refresh(item)
        draft = item_ops.Draft(
            kind="story", title=f"नदी 1, {n}", body=f"नदी {n}", language="hi", tags=["nadi"]
        )
        item_ops.revise(item.contributor.account, item, draft)
        commit()
    again = counted()
    read = anyone.get("/collections/river/read").get_data(as_text=True)
    assert all(f"नदी {n}<" in read for n in range(30) if n != 1), "the 30 pieces are listed"
    grown = {page: (few[page], again[page]) for page in few if again[page] != few[page]}
    assert not grown, grown


def _no_conversion():
    raise AssertionError("a page converted Markdown on a read")
