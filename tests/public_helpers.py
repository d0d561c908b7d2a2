"""Helpers for the public-surface tests (feeds, sitemap, Open Graph, embeds, packs): pieces
shared with the permissions advocates need, and collections curated through the operations.

Shared by test_public_pages, test_embeds, test_packs, test_surfaces and the offline-pack
browser test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Optional

from sqlalchemy import select

from archive.db import commit, db
from archive.models import Account, Circle, Collection
from archive.operations import collections as collection_ops
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from tests.erasure_helpers import Piece, photo, piece_of

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
META = re.compile(r'<meta (?:property|name)="((?:og|twitter):[\w:]+)" content="([^"]*)">')


def offer(
    by: Account,
    circle: Circle,
    *,
    title: str,
    kind: str = "poem",
    body: str = "",
    audience: str = "public",
    attribution: str = "name",
    pseudonym: str = "",
    collections: bool = True,
    embeds: bool = True,
    packs: bool = True,
    content_notes: tuple[str, ...] = (),
    alt_text: str = "A painting of a river",
    language: str = "en",
    image: Optional[bytes] = None,
) -> Piece:
    """Contribute a piece whose author said yes (or no) to collections, embeds and packs."""
    if kind == "artwork" and image is None:
        image = photo()
    draft = item_ops.Draft(
        kind=kind,
        title=title,
        body=body or f"{title} in words",
        language=language,
        tags=["nadi"],
        alt_text=alt_text if kind == "artwork" else "",
        image=image,
    )
    choice = ConsentChoice(
        audience=audience,
        attribution=attribution,
        pseudonym=pseudonym,
        collections=collections,
        embeds=embeds,
        packs=packs,
        content_notes=list(content_notes),
    )
    result = item_ops.contribute(by, circle, item_ops.contributor_for(by), draft, choice)
    commit()
    return piece_of(result.item, result.receipt.withdrawal_code)


def curate(
    by: Account,
    circle: Circle,
    slug: str,
    pieces: list[Piece],
    *,
    state: str = "public",
    title: str = "Songs of the river",
    intro: str = "What our circle *knows* about rivers.",
    notes: Optional[dict[str, str]] = None,
) -> str:
    """A collection holding ``pieces`` in order, then set to ``state``; returns its slug."""
    items = [piece.item() for piece in pieces]  # (Piece.item expires the session)
    collection = collection_ops.create(by, circle, slug, title, intro)
    db.session.flush()
    for piece, item in zip(pieces, items, strict=True):
        collection_ops.add_entry(by, collection, item, (notes or {}).get(piece.public_id, ""))
    if state != "draft":
        collection_ops.set_state(by, collection, state)
    commit()
    return slug


def share_link(by: Account, slug: str, days: int = 7) -> str:
    """A live share link's path for the collection ``slug``."""
    token = collection_ops.create_share_link(by, collection(slug), days)
    commit()
    return f"/shared/{token}"


def collection(slug: str) -> Collection:
    db.session.expire_all()
    return db.session.scalar(select(Collection).where(Collection.slug == slug))


def open_graph(page: str) -> dict[str, str]:
    """The Open Graph and Twitter card tags of a page, by property."""
    return {name: value for name, value in META.findall(page)}


def atom(response) -> ElementTree.Element:
    """A feed parsed as XML (fails the test if it is not well-formed)."""
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ElementTree.fromstring(response.data)


def entry_titles(feed: ElementTree.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
