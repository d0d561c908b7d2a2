"""A collection that cannot be made public says why: each piece that is not public and that the
curator may see, by title and audience (on the page, and as a list in the API's JSON error),
and only a count of those they may not see. The management page labels every entry with
who may see it."""

from __future__ import annotations

import html as htmllib
from datetime import timedelta

import pytest
from sqlalchemy import update

from archive import access
from archive.db import commit, db
from archive.models import Consent
from archive.operations import consent as consent_ops
from archive.operations import items as item_ops
from archive.operations.accounts import create_token
from archive.operations.consent import ConsentChoice
from tests.collections_helpers import collection, make_collection, snapshot
from tests.erasure_helpers import Piece, piece_of
from tests.items_helpers import circle_people, templates_compiled_once  # noqa: F401

pytestmark = pytest.mark.both_databases

HIDDEN = ("Asha's diary", "An old memory")


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def share(by, circle, title: str, audience: str = "public", contributor=None) -> Piece:
    """Contributed in the fixture's one transaction (``make_collection`` commits it)."""
    result = item_ops.contribute(
        by,
        circle,
        contributor or item_ops.contributor_for(by),
        item_ops.Draft(kind="knowhow", title=title, body=f"{title}: what helped"),
        ConsentChoice(
            audience=audience,
            attribution="name",
            collections=True,
            method="self" if contributor is None else "verbal",
        ),
    )
    return piece_of(result.item)


@pytest.fixture
def mixed(circle_people):
    """A circle collection holding a public piece, a circle piece, a private piece Meera
    stewards, and two of Asha's pieces Meera may no longer see (made private; review passed)."""
    p = circle_people
    asha, meera, home = p["asha"], p["meera"], p["home"]
    kamla = item_ops.create_profile(meera, home, "Kamla")
    pieces = {
        "public": share(asha, home, "Alpha know-how"),
        "circle": share(asha, home, "Circle-only know-how", audience="circle"),
        "steward": share(meera, home, "Kamla's story", "private", contributor=kamla),
        "diary": share(asha, home, HIDDEN[0], audience="circle"),
        "memory": share(asha, home, HIDDEN[1]),
    }
    slug = make_collection(meera, home, "mixed", list(pieces.values()), "circle")
    diary = pieces["diary"].item()
    choice = consent_ops.current_choice(diary.consent)
    choice.audience = "private"
    consent_ops.change(diary, choice, asha)
    db.session.execute(
        update(Consent)
        .where(Consent.item_id == pieces["memory"].id)
        .values(review_by=access.today() - timedelta(days=1))
    )
    commit()
    assert len(collection(slug).entries) == 5
    return pieces


def test_refusing_to_publish_names_the_pieces_that_are_not_public(
    app, circle_people, mixed, signed_in, client
):
    """On the page, and as data in the API's error (one set-up for both)."""
    meera = signed_in(circle_people["meera"])
    before = snapshot("mixed")

    response = meera.post_form(
        "/collections/mixed/state", {"state": "public"}, page="/collections/mixed"
    )

    assert response.status_code == 422
    page = text(response)
    refusal = page[page.index('id="not-public"') :]
    refusal = refusal[: refusal.index("</section>")]
    assert "Circle-only know-how" in refusal and "Only the circle" in refusal
    assert "Kamla's story" in refusal and "Only you and the facilitators" in refusal
    assert "Alpha know-how" not in refusal
    assert "2 pieces that you cannot see are not public" in refusal
    for title in HIDDEN:
        assert title not in page
    assert snapshot("mixed") == before and collection("mixed").state == "circle"

    managing = text(meera.get("/collections/mixed"))
    entries = managing[managing.index('class="cards entries"') : managing.index('id="curate"')]
    assert entries.count("Everyone") == 1 and entries.count("Only the circle") == 1
    assert entries.count("Only you and the facilitators") == 1

    tokens = {name: create_token(circle_people[name]) for name in ("meera", "admin")}
    commit()

    def publish(who):
        return client.post(
            "/api/v1/collections/mixed/state",
            json={"state": "public"},
            headers={"Authorization": f"Bearer {tokens[who]}"},
        )

    response = publish("meera")
    assert response.status_code == 409 and response.json["field"] == "state"
    assert response.json["not_public"] == [
        {"id": mixed["circle"].public_id, "title": "Circle-only know-how", "audience": "circle"},
        {"id": mixed["steward"].public_id, "title": "Kamla's story", "audience": "private"},
    ]
    assert response.json["not_public_hidden"] == 2
    assert "Circle-only know-how" in response.json["error"]
    for hidden in ("diary", "memory"):
        assert mixed[hidden].public_id not in text(response)
        assert mixed[hidden].title not in text(response)

    outsider = publish("admin")  # curates every circle, sees none of this one's pieces
    assert outsider.status_code == 409
    assert outsider.json["not_public"] == [] and outsider.json["not_public_hidden"] == 4
    assert "know-how" not in text(outsider) and "Kamla" not in text(outsider)
    assert collection("mixed").state == "circle"
