"""What the whole world may see, in the forms advocates pass on: Atom feeds, the sitemap,
embed cards and oEmbed, offline packs, and the helpers behind Open Graph tags and sharing.

Every surface here asks ``archive.access`` (``is_public``, ``may_embed``, ``shown_entries``,
and ``may_republish`` and ``noted`` for what of a piece may travel); none decides on its own.
Every answer is made anew for every question (`archive.caching`: a shared cache keeps a
public one a minute at most, a browser asks again every time), so a withdrawal or a
narrowing shows at once to anyone who asks.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Optional
from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from archive import access, packs
from archive.db import db, utcnow
from archive.labels import content_note
from archive.models import Collection, ConsentEvent, Item

bp = Blueprint("public", __name__)
#: the site feed's newest pieces: each entry carries its whole text, rendered from Markdown
#: (about a millisecond each); with 50 the feed was the slowest page under load
FEED_SIZE = 20
SITEMAP_SIZE = 45_000
LANGUAGES = ("en", "hi", "mr")
OG_LOCALES = {"en": "en_IN", "hi": "hi_IN", "mr": "mr_IN"}
#: (widest, height) of an embed card: its frame follows the width of the page it is put in
#: up to the widest (the card's own max-width in embed.css), at the height given
EMBED_SIZES = {"artwork": (480, 330)}
EMBED_SIZE = (480, 250)
ITEM_PATH = re.compile(r"/(?:embed/)?items/([A-Za-z0-9_-]{1,24})/?")


# --- template helpers -----------------------------------------------------------------------


@bp.app_template_global()
def og_locale(language: str) -> str:
    return OG_LOCALES.get(language) or OG_LOCALES.get(str(get_locale() or "en"), "en_IN")


@bp.app_template_global()
def embed_code(item: Item, height: Optional[int] = None) -> Markup:
    """The iframe an advocate pastes into a page: as wide as the place it is put (no pixel
    width, so a phone never scrolls sideways; the card inside keeps to its own max-width),
    with no border (a border would add to that full width) and no inline style (the
    advocate's page may not allow it)."""
    return Markup(
        '<iframe src="{}" width="100%" height="{}" frameborder="0" title="{}" '
        'loading="lazy"></iframe>'
    ).format(
        url_for("public.embed_item", public_id=item.public_id, _external=True),
        height or EMBED_SIZES.get(item.kind or "", EMBED_SIZE)[1],
        item.current.title if item.current else "",
    )


@bp.app_template_global()
def oembed_url(item: Item) -> str:
    """The oEmbed discovery address of an item page, its ``url`` percent-encoded whole (a
    consumer that reads the link without decoding it still finds the item's address)."""
    page = url_for("items.show", public_id=item.public_id, _external=True)
    return f"{url_for('public.oembed', _external=True)}?url={quote(page, safe='')}&format=json"


#: the query arguments that make a page another page (a search, a page of a listing, the
#: versions a diff compares); any other (a tracking tag, a stray argument) is left out of
#: its canonical address
CANONICAL_ARGS = ("q", "order", "kind", "language", "circle", "tag", "page", "from", "to")


@bp.app_template_global()
def canonical_url() -> str:
    """This page's one address, for ``rel=canonical`` and ``og:url``: from the base URL
    (`archive.canonical`), with only the arguments that choose what the page shows."""
    if request.url_rule is None or request.endpoint is None:
        return ""
    chosen = {name: request.args.get(name, "") for name in CANONICAL_ARGS}
    chosen = {
        name: value
        for name, value in chosen.items()
        if value and (name, value) not in {("page", "1"), ("order", "relevance")}
    }
    return url_for(request.endpoint, **{**chosen, **(request.view_args or {})}, _external=True)


# --- Atom feeds -----------------------------------------------------------------------------


@bp.get("/feeds/public.atom")
def site_feed():
    """The newest public pieces of the whole archive."""
    found = db.session.scalars(
        access.select_visible(None, listed=True).order_by(Item.updated_at.desc()).limit(FEED_SIZE)
    )
    entries = [_entry(item) for item in found if access.is_public(item)]
    return _atom(
        entries,
        title=_("Living Archive"),
        subtitle=_("Shared with everyone"),
        self_url=url_for(".site_feed", _external=True),
        page_url=url_for("pages.home", _external=True),
    )


@bp.get("/collections/<slug>/feed.atom")
def collection_feed(slug: str):
    """A public collection's pieces, in the collection's order."""
    collection = _public_collection(slug)
    entries = [
        _entry(entry.item, entry.note)
        for entry in access.shown_entries(None, collection, public_only=True)
    ]
    return _atom(
        entries,
        title=collection.title,
        subtitle=collection.intro.description if collection.intro else "",
        self_url=url_for(".collection_feed", slug=slug, _external=True),
        page_url=url_for("collections.show", slug=slug, _external=True),
        updated=collection.updated_at,
    )


def _entry(item: Item, note: str = "") -> dict:
    """One piece in a feed: its words and picture only where they may be re-published
    (``access.may_republish``); else its title, content notes and a link."""
    rev, consent = item.current, item.consent
    assert rev is not None and consent is not None  # feeds list only pieces that may be seen
    url = url_for("items.show", public_id=item.public_id, _external=True)
    return {
        "url": url,
        "title": rev.title,
        "author": access.byline(item),
        "tags": rev.tags,
        "lang": rev.language if rev.language in LANGUAGES else None,
        "published": _stamp(item.created_at),
        "updated": _stamp(max(item.updated_at, consent.updated_at)),
        "changed": max(item.updated_at, consent.updated_at),
        "content": render_template(
            "public/_feed_content.html",
            rev=rev,
            url=url,
            words=access.may_republish(item),
            notes=access.noted(item),
            note=note,
        ).strip(),
    }


def _atom(entries: list[dict], *, updated: Optional[datetime] = None, **feed) -> Response:
    newest = max((entry["updated"] for entry in entries), default=None)
    if updated is not None:
        newest = max(filter(None, (newest, _stamp(updated))))
    body = render_template(
        "public/feed.xml",
        entries=entries,
        site_name=_("Living Archive"),
        updated=newest or _stamp(utcnow()),
        lang=str(get_locale() or "en"),
        **feed,
    )
    response = Response(body, mimetype="application/atom+xml")
    response.last_modified = _last_change([entry["changed"] for entry in entries], updated)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _last_change(moments: list[datetime], updated: Optional[datetime]) -> datetime:
    """When the feed last changed, for readers that ask "anything since?" (If-Modified-Since;
    the ETag, made from the feed itself, is the exact answer). A piece withdrawn or narrowed
    leaves the feed with older pieces only, so the newest consent event counts too, and so
    does the start of the day: a review date that passed takes a piece out with no event."""
    latest_event = db.session.scalar(
        select(ConsentEvent.created_at).order_by(ConsentEvent.id.desc()).limit(1)
    )
    today = datetime.combine(access.today(), time.min)
    return max(filter(None, (*moments, updated, latest_event, today)))


def _stamp(moment: datetime) -> str:
    """RFC 3339 in UTC (times are stored as naive UTC)."""
    return moment.replace(microsecond=0).isoformat() + "Z"


# --- sitemap --------------------------------------------------------------------------------


@bp.get("/sitemap.xml")
def sitemap():
    """The home page, public pieces and public collections; never anything else."""
    items = [
        item
        for item in db.session.scalars(
            access.select_visible(None).order_by(Item.updated_at.desc()).limit(SITEMAP_SIZE)
        )
        if access.is_public(item)
    ]
    collections = db.session.scalars(
        access.visible_collections(None).order_by(Collection.updated_at.desc())
    )
    urls = [
        (
            url_for("pages.home", _external=True),
            items[0].updated_at.date().isoformat() if items else None,
        )
    ]
    urls += [
        (
            url_for("items.show", public_id=item.public_id, _external=True),
            item.updated_at.date().isoformat(),
        )
        for item in items
    ]
    urls += [
        (url_for("collections.show", slug=c.slug, _external=True), c.updated_at.date().isoformat())
        for c in collections
        if access.may_view_collection(None, c)
    ]
    return Response(render_template("public/sitemap.xml", urls=urls), mimetype="application/xml")


# --- embeds and oEmbed ----------------------------------------------------------------------


@bp.get("/robots.txt")
def robots():
    """Search engines: the sitemap lists what is public; unlisted links stay unlisted."""
    lines = [
        "User-agent: *",
        "Disallow: /shared/",
        "Disallow: /withdraw",
        "Disallow: /join/",
        "Disallow: /api/",
        f"Sitemap: {url_for('public.sitemap', _external=True)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/embed/items/<public_id>")
def embed_item(public_id: str):
    """A small card for other sites' pages, only while its author allows embedding; after
    that a "no longer shared" card: 410 once withdrawn, so the embedding page can tell, and
    otherwise 404, the very answer for an id that never existed (a piece not shared here is
    not revealed)."""
    item = db.session.scalar(select(Item).where(Item.public_id == public_id))
    if access.may_embed(item):
        page, status = render_template("public/embed.html", item=item), 200
    else:
        withdrawn = item is not None and item.state == "withdrawn"
        status = 410 if withdrawn else 404
        page = render_template("public/embed_gone.html", withdrawn=withdrawn)
    return page, status, {"Cache-Control": "no-cache", "X-Robots-Tag": "noindex"}


@bp.get("/oembed")
def oembed():
    """oEmbed (https://oembed.com) for embeddable items: JSON only, to be read from any
    site's scripts too (CORS). It carries no words of the piece (the card it embeds shows
    them, behind any content note), an artwork's thumbnail only where it may be shown away
    from the archive, and answers 404 alike for an unknown, hidden or not embeddable piece.
    ``width`` is the widest the card gets (or ``maxwidth``); its html, like the snippet,
    follows the page."""
    if request.args.get("format", "json") != "json":
        abort(501)
    item = _item_at(request.args.get("url", ""))
    if item is None or item.current is None or not access.may_embed(item):
        abort(404)
    width, height = EMBED_SIZES.get(item.kind or "", EMBED_SIZE)
    width = _at_most(width, request.args.get("maxwidth", type=int))
    height = _at_most(height, request.args.get("maxheight", type=int))
    answer = {
        "version": "1.0",
        "type": "rich",
        "html": str(embed_code(item, height)),
        "width": width,
        "height": height,
        "title": item.current.title,
        "provider_name": _("Living Archive"),
        "provider_url": url_for("pages.home", _external=True),
    }
    name = access.byline(item)
    if name:
        answer["author_name"] = name
    notes = access.noted(item)
    if notes:  # never a thumbnail or a description: the card inside keeps them behind it
        answer["content_note"] = content_note(notes)
    answer.update(
        _thumbnail(
            item, request.args.get("maxwidth", type=int), request.args.get("maxheight", type=int)
        )
    )
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


#: the pictures an oEmbed answer may name as its thumbnail, first choice first: the JPEG link
#: preview (every client shows it), then the small WebP (artwork stored before previews)
THUMBNAILS = ("preview", "thumb")


def _thumbnail(item: Item, max_width: Optional[int], max_height: Optional[int]) -> dict:
    """An artwork's picture for the consumer's preview, only where it may be shown away from
    the archive (``access.may_republish``: public, embeds allowed, no content note, which a
    preview could not show first), and within the size asked for where one fits."""
    media = item.current.media if item.current else None
    if item.kind != "artwork" or media is None or not access.may_republish(item):
        return {}
    sizes = [(name, media.derivatives[name]) for name in THUMBNAILS if name in media.derivatives]
    fitting = [
        (name, size)
        for name, size in sizes
        if (not max_width or size["width"] <= max_width)
        and (not max_height or size["height"] <= max_height)
    ]
    if not sizes:
        return {}
    name, size = (fitting or sizes[-1:])[0]
    return {
        "thumbnail_url": url_for(
            "items.media", asset_id=media.public_id, name=name, _external=True
        ),
        "thumbnail_width": size["width"],
        "thumbnail_height": size["height"],
    }


def _item_at(url: str) -> Optional[Item]:
    """The item an item page (or embed) address of this site names, else None."""
    parts = urlsplit(url.strip())
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path
    if request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]
    match = ITEM_PATH.fullmatch(path)
    if match is None:
        return None
    return db.session.scalar(select(Item).where(Item.public_id == match.group(1)))


def _at_most(value: int, limit: Optional[int]) -> int:
    return max(min(value, limit), 100) if limit and limit > 0 else value


# --- offline packs --------------------------------------------------------------------------


@bp.get("/collections/<slug>/pack.zip")
def pack(slug: str):
    """A public collection as a zip to read offline, rebuilt whenever anything in it changed."""
    collection = _public_collection(slug)
    response = send_file(
        packs.cached_pack(collection),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{collection.slug}.zip",
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def _public_collection(slug: str) -> Collection:
    collection = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None or collection.state != "public":
        abort(404)
    return collection
