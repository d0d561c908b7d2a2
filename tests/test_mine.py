""" "My pieces" (/account/pieces): everything a person shared or that was recorded for them, in
one place — who may see each, how it is signed, its review date, where it appears (only the
collections they may open), what someone else changed — and the audience labels lists give
to pieces that are not public. The home page offers members "Share something"."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from archive import access
from archive.db import commit, db
from archive.models import Consent
from archive.operations import consent as consent_ops
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from archive.operations.withdraw import erase
from archive.web.mine import PAGE_SIZE
from tests.collections_helpers import make_collection
from tests.erasure_helpers import Piece, piece_of
from tests.items_helpers import circle_people, templates_compiled_once  # noqa: F401

pytestmark = pytest.mark.both_databases

PIECE = re.compile(r'<li id="piece-([^"]+)"[^>]*>(.*?)</li>', re.S)


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def pieces_on(page: str) -> dict[str, str]:
    """Each listed piece's public id and the words of its entry, in the order shown."""
    return {public_id: re.sub(r"\s+", " ", block) for public_id, block in PIECE.findall(page)}


def share(
    by,
    circle,
    title: str,
    *,
    contributor=None,
    audience="public",
    collections=True,
    embeds=False,
    packs=False,
    attribution="name",
    pseudonym="",
    method="self",
) -> Piece:
    draft = item_ops.Draft(kind="poem", title=title, body=f"{title}, line by line", language="hi")
    choice = ConsentChoice(
        audience=audience,
        attribution=attribution,
        pseudonym=pseudonym,
        collections=collections,
        embeds=embeds,
        packs=packs,
        method=method,
    )
    result = item_ops.contribute(
        by, circle, contributor or item_ops.contributor_for(by), draft, choice
    )
    return piece_of(result.item, result.receipt.withdrawal_code if result.receipt else "")


def narrow(by, piece: Piece, **changes) -> None:
    item = piece.item()
    choice = consent_ops.current_choice(item.consent)
    for name, value in changes.items():
        setattr(choice, name, value)
    consent_ops.change(item, choice, by, reason="in-person")


def review_passed(piece: Piece) -> None:
    db.session.execute(
        update(Consent)
        .where(Consent.item_id == piece.id)
        .values(review_by=access.today() - timedelta(days=1))
    )


@pytest.fixture
def world(circle_people):
    """Asha's pieces of every kind, and pieces of other people around them (in a few
    transactions: each commit brings the search index up to date, which takes its time)."""
    p = circle_people
    asha, meera, ravi, home = p["asha"], p["meera"], p["ravi"], p["home"]
    mine = {
        "public": share(asha, home, "खुला आँगन", embeds=True, packs=True),
        "circle": share(asha, home, "घर की बात", audience="circle"),
        "private": share(
            asha, home, "मन की डायरी", audience="private", attribution="pseudonym", pseudonym="सखी"
        ),
        "narrowed": share(asha, home, "बदली हुई कविता", embeds=True),
        "review": share(asha, home, "पुरानी याद", attribution="anonymous"),
        "gone": share(asha, home, "ली हुई वापस"),
    }
    narrow(meera, mine["narrowed"], audience="circle", embeds=False)
    review_passed(mine["review"])
    erase(mine["gone"].item(), asha)
    proposal = item_ops.contribute(
        meera,
        home,
        item_ops.contributor_for(asha),
        item_ops.Draft(kind="poem", title="माँ की चिट्ठी", body="चिट्ठी आई है", language="hi"),
        ConsentChoice(audience="circle", attribution="name", method="verbal"),
    )
    mine["proposal"] = piece_of(proposal.item)
    kamla = item_ops.create_profile(meera, home, "Kamla")
    others = {
        "ravi": share(ravi, home, "रवि की कविता", audience="circle"),
        "profile": share(
            meera, home, "कमला की कहानी", contributor=kamla, audience="private", method="verbal"
        ),
        "meera": share(meera, home, "मीरा की बात"),
    }
    make_collection(meera, home, "open-doc", [mine["public"]], "public", title="Open document")
    make_collection(
        meera,
        home,
        "circle-doc",
        [mine["public"], mine["circle"]],
        "circle",
        title="Circle document",
    )
    make_collection(
        meera,
        home,
        "draft-doc",
        [mine["public"], mine["circle"]],
        "draft",
        title="Unfinished draft",
    )
    return {"people": p, "mine": mine, "others": others}


def test_my_pieces_lists_exactly_mine_and_lists_label_who_sees_a_piece(
    app, world, signed_in, make_client
):
    """And members get "Share something" on the home page (one world for all of it: each
    world costs its set-up on two databases)."""
    mine, others, people = world["mine"], world["others"], world["people"]
    asha_client = signed_in(people["asha"])
    page = text(asha_client.get("/account/pieces"))
    listed = pieces_on(page)

    newest_first = ("proposal", "review", "narrowed", "private", "circle", "public")
    assert list(listed) == [mine[key].public_id for key in newest_first]
    for piece in others.values():
        assert piece.title not in page
    assert mine["gone"].title not in page and mine["gone"].public_id not in page

    public, circle = listed[mine["public"].public_id], listed[mine["circle"].public_id]
    assert "Everyone" in public and "by Asha Secretname" in public
    assert "Open document" in public and "Circle document" in public
    assert "Unfinished draft" not in page  # a draft collection is its curators' alone
    assert "Offline packs: yes" in public and "Other websites: yes" in public
    assert "Only the circle" in circle and "Circle document" in circle
    assert "Other websites: no" in circle and "Open document" not in circle
    private = listed[mine["private"].public_id]
    assert "Only you" in private and "by सखी" in private and "Only you and" not in private
    review = listed[mine["review"].public_id]
    assert "passed: only you see it now" in review and "Only you" in review
    assert "Shared anonymously" in review
    assert "passed" not in public

    narrowed = listed[mine["narrowed"].public_id]
    assert "Only the circle" in narrowed
    assert "1 change someone else made" in narrowed and 'href="/account/ledger"' in narrowed
    assert "change someone else made" not in public

    for key in ("public", "circle", "private", "narrowed", "review"):
        entry, url = listed[mine[key].public_id], mine[key].url
        assert f'href="{url}/consent"' in entry and f'href="{url}/withdraw"' in entry
        assert "Narrow" in entry and "Take back" in entry
        assert "Waiting for you" not in entry
    waiting = listed[mine["proposal"].public_id]
    assert "Waiting for you" in waiting and f'href="{mine["proposal"].url}"' in waiting
    assert "1 change someone else made" in waiting  # a facilitator recorded it
    assert "/withdraw" not in waiting and "/consent" not in waiting

    assert "Nothing yet" in text(signed_in(people["sunil"]).get("/account/pieces"))
    visitor = make_client().get("/account/pieces")
    assert visitor.status_code == 302 and "/sign-in" in visitor.headers["Location"]

    # lists elsewhere label what not everyone may read, as it reads to whoever looks
    asha = pieces_by_link(text(asha_client.get("/circles/ghar")))
    assert asha[mine["circle"].public_id].count("Only the circle") == 1
    assert "Only you" in asha[mine["private"].public_id]
    assert "Only you" in asha[mine["review"].public_id]  # its review date has passed
    assert "Only" not in asha[mine["public"].public_id]
    assert "Only the circle" in asha[others["ravi"].public_id]
    assert others["profile"].public_id not in asha

    meera = pieces_by_link(text(signed_in(people["meera"]).get("/")))
    assert "Only you and the facilitators" in meera[others["profile"].public_id]
    assert "Only the circle" in meera[mine["circle"].public_id]
    ravi = pieces_by_link(text(signed_in(people["ravi"]).get("/circles/ghar")))
    assert "Only the circle" in ravi[mine["circle"].public_id]
    assert mine["private"].public_id not in ravi

    # members get "Share something" on the home page; everyone signed in finds "My pieces"
    share_button = 'href="/contribute"'
    home = text(asha_client.get("/"))
    assert share_button in home and "Share something" in home
    assert 'href="/account/pieces"' in home  # in the navigation
    assert 'href="/account/pieces"' in text(asha_client.get("/account"))
    admin = text(signed_in(people["admin"]).get("/"))  # belongs to no circle
    assert share_button not in admin and 'href="/account/pieces"' in admin
    visitor = text(make_client().get("/"))
    assert share_button not in visitor and "/account/pieces" not in visitor


CARD = re.compile(r'<li>\s*<a href="/items/([^"]+)"(.*?)</li>', re.S)


def pieces_by_link(page: str) -> dict[str, str]:
    return {public_id: block for public_id, block in CARD.findall(page)}


def test_my_pieces_loads_in_the_same_number_of_queries_for_3_and_30(app, circle_people, signed_in):
    p = circle_people
    asha, meera, home = p["asha"], p["meera"], p["home"]
    client = signed_in(asha)
    made: list[Piece] = []

    def add(count: int) -> None:
        for n in range(len(made), len(made) + count):
            made.append(
                share(
                    asha,
                    home,
                    f"कविता {n}",
                    audience=("public", "circle")[n % 2],
                    attribution=("name", "pseudonym")[n % 2],
                    pseudonym=f"नाम {n}" if n % 2 else "",
                )
            )
            if n % 10 == 0:
                narrow(meera, made[-1], content_notes=["grief"])
        commit()
        make_collection(
            meera, home, f"doc-{len(made)}", made[-2:], "circle", title=f"Doc {len(made)}"
        )

    def queries() -> int:
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731 — the statement
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            response = client.get("/account/pieces")
            assert response.status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert len(pieces_on(text(response))) == min(len(made), PAGE_SIZE)
        return len(seen)

    add(3)
    few = queries()
    add(27)
    assert queries() == few
    later = pieces_on(text(client.get("/account/pieces?page=2")))
    assert list(later) == [piece.public_id for piece in made[::-1][PAGE_SIZE : 2 * PAGE_SIZE]]
