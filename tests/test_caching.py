"""Public pages a shared cache can keep (no cookie, ``Cache-Control: public``, an ETag and 304),
feeds a reader can poll cheaply, compression, and the tags a link preview reads; and that
nothing signed in is ever kept, and nothing withdrawn or narrowed is ever answered 304."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive.db import commit, db
from archive.models import Collection, Consent, ConsentEvent, Item
from tests.conftest import sign_in
from tests.erasure_helpers import CONTRIBUTOR_NAME, change_consent, revise, withdraw_signed_in
from tests.public_helpers import META, curate, offer

BASE = "http://localhost"
GZIP = {"Accept-Encoding": "gzip"}
CANONICAL = re.compile(r'<link rel="canonical" href="([^"]+)">')


@pytest.fixture
def site(app, make_circle, make_account, make_client):
    circle = make_circle("kshetra", "Kshetra circle")
    kavita = make_account("kavita", circle=circle, display_name=CONTRIBUTOR_NAME)
    poem = offer(kavita, circle, title="River at dawn", body="The river *knows*. " * 60)
    artwork = offer(kavita, circle, title="Kite", kind="artwork")
    meenal = make_account("meenal", role="facilitator", circle=circle)
    slug = curate(meenal, circle, "rivers", [poem, artwork])
    author = make_client()
    sign_in(author, "kavita")
    return {"poem": poem, "artwork": artwork, "slug": slug, "author": author, "kavita": kavita}


def public_pages(site) -> list[str]:
    slug = site["slug"]
    return [
        "/",
        site["poem"].url,
        f"{site['poem'].url}/history",
        f"{site['poem'].url}/versions/1",
        f"{site['poem'].url}/diff?from=1&to=1",
        "/collections/",
        f"/collections/{slug}",
        f"/collections/{slug}/read",
        "/tags/nadi",
        "/search?q=river",
        "/feeds/public.atom",
        f"/collections/{slug}/feed.atom",
        "/sitemap.xml",
    ]


def test_anonymous_public_pages_can_be_kept_and_asked_about_again(site, make_client):
    for url in public_pages(site):
        reader = make_client()  # a first visit: no cookie of ours at all
        page = reader.get(url, headers=GZIP)
        assert page.status_code == 200, url
        assert "Set-Cookie" not in page.headers, url
        assert page.headers["Cache-Control"].startswith("public,"), url
        assert "s-maxage=60" in page.headers["Cache-Control"], url
        vary = {name.strip().lower() for name in page.headers["Vary"].split(",")}
        assert "cookie" not in vary and {"accept-language", "accept-encoding"} <= vary, url
        etag = page.headers["ETag"]
        again = reader.get(url, headers={"If-None-Match": etag, **GZIP})
        assert again.status_code == 304 and again.data == b"", url
        assert again.headers["ETag"] == etag and "Set-Cookie" not in again.headers, url
        if url.endswith((".xml", ".atom")):
            continue
        # the same page in another language is another page
        hindi = reader.get(url, headers={"If-None-Match": etag, "Accept-Language": "hi", **GZIP})
        assert hindi.status_code == 200, url
        assert reader.get_cookie("session") is None, url

    html = make_client().get(site["poem"].url, headers=GZIP)
    assert html.headers["Content-Encoding"] == "gzip"
    assert "River at dawn" in gzip.decompress(html.data).decode()
    plain = make_client().get(site["poem"].url)
    assert "Content-Encoding" not in plain.headers
    assert plain.headers["ETag"] != html.headers["ETag"], "each encoding its own ETag"
    unchanged = make_client().get(
        site["poem"].url, headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    ((asset, _sizes),) = site["artwork"].media.items()
    picture = make_client().get(f"/media/{asset}/display", headers=GZIP)
    assert picture.status_code == 200 and "Content-Encoding" not in picture.headers
    pack = make_client().get(f"/collections/{site['slug']}/pack.zip", headers=GZIP)
    assert pack.status_code == 200 and "Content-Encoding" not in pack.headers
    pack.close()
    with make_client().get("/static/style.css", headers=GZIP) as sheet:
        assert sheet.headers["Content-Encoding"] == "gzip"
        assert b".languages" in gzip.decompress(sheet.data)


def test_a_chosen_language_keeps_pages_to_the_reader(site, make_client):
    reader = make_client()
    chosen = reader.get("/language/mr?next=/")
    assert chosen.status_code == 303 and reader.get_cookie("session") is None
    page = reader.get(site["poem"].url)
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert "Cookie" in page.headers["Vary"] and "Set-Cookie" not in page.headers
    assert '<html lang="mr">' in page.get_data(as_text=True)
    assert (
        reader.get(site["poem"].url, headers={"If-None-Match": page.headers["ETag"]}).status_code
        == 304
    )
    # the sign-in page needs its form's token, and so a session: never kept
    form = reader.get("/sign-in")
    assert form.headers["Cache-Control"] == "no-store" and "ETag" not in form.headers


def test_signed_in_pages_are_never_stored(site):
    author = site["author"]
    pages = public_pages(site) + [
        "/account",
        "/circles/",
        "/circles/kshetra",
        "/account/pieces",
        "/account/ledger",
        "/circles/kshetra/contribute",
        f"{site['poem'].url}/edit",
        f"{site['poem'].url}/consent",
        f"{site['poem'].url}/withdraw",
    ]
    for url in pages:
        page = author.get(url)
        assert page.status_code == 200, url
        assert page.headers["Cache-Control"] == "no-store", url
        assert "ETag" not in page.headers and "Cookie" in page.headers["Vary"], url


def test_a_withdrawn_or_narrowed_piece_is_never_answered_304(site, make_client):
    reader = make_client()
    urls = {name: site[name].url for name in ("poem", "artwork")}
    tags = {name: reader.get(url).headers["ETag"] for name, url in urls.items()}
    feed = reader.get("/feeds/public.atom")
    assert "Kite" in feed.get_data(as_text=True)

    assert withdraw_signed_in(site["author"], site["poem"]).status_code == 200
    assert change_consent(site["author"], site["artwork"], audience="circle").status_code == 302

    gone = reader.get(urls["poem"], headers={"If-None-Match": tags["poem"]})
    assert gone.status_code == 410 and "River at dawn" not in gone.get_data(as_text=True)
    narrowed = reader.get(urls["artwork"], headers={"If-None-Match": tags["artwork"]})
    assert narrowed.status_code in (302, 303, 404)
    assert "Kite" not in narrowed.get_data(as_text=True)
    for response in (gone, narrowed):
        assert "public" not in response.headers.get("Cache-Control", ""), response.status
    polled = reader.get("/feeds/public.atom", headers={"If-None-Match": feed.headers["ETag"]})
    assert polled.status_code == 200 and "Kite" not in polled.get_data(as_text=True)


def a_while_ago(earlier=timedelta(minutes=5)) -> None:
    """Every change made so far, moved back in time."""
    for row in db.session.scalars(select(Item)):
        row.updated_at -= earlier
    for row in [*db.session.scalars(select(Consent)), *db.session.scalars(select(Collection))]:
        row.updated_at -= earlier
    for row in db.session.scalars(select(ConsentEvent)):
        row.created_at -= earlier
    commit()


def test_feeds_answer_304_until_a_piece_in_them_changes(site, make_client):
    # the pieces were shared a while ago: a poll in the same second is not what is tested
    a_while_ago()
    reader = make_client()
    for url in ("/feeds/public.atom", f"/collections/{site['slug']}/feed.atom"):
        feed = reader.get(url)
        assert feed.headers["Access-Control-Allow-Origin"] == "*"
        etag, since = feed.headers["ETag"], feed.headers["Last-Modified"]
        assert reader.get(url, headers={"If-None-Match": etag}).status_code == 304, url
        assert reader.get(url, headers={"If-Modified-Since": since}).status_code == 304, url

    revise(site["kavita"], site["poem"], title="River at noon")
    for url in ("/feeds/public.atom", f"/collections/{site['slug']}/feed.atom"):
        fresh = reader.get(url, headers={"If-Modified-Since": since})
        assert fresh.status_code == 200 and "River at noon" in fresh.get_data(as_text=True), url
    a_while_ago()
    since = reader.get("/feeds/public.atom").headers["Last-Modified"]
    # withdrawn: the feed has only older pieces left, and still answers anew
    assert withdraw_signed_in(site["author"], site["artwork"]).status_code == 200
    after = reader.get("/feeds/public.atom", headers={"If-Modified-Since": since})
    assert after.status_code == 200 and "Kite" not in after.get_data(as_text=True)
    assert (
        reader.get("/oembed", query_string={"url": BASE + site["poem"].url}).headers[
            "Access-Control-Allow-Origin"
        ]
        == "*"
    )
    assert "Access-Control-Allow-Origin" not in reader.get("/").headers


def test_home_and_listings_carry_preview_tags_and_one_canonical_address(site, make_client):
    reader = make_client()
    slug = site["slug"]
    expected = {
        "/": ("Living Archive", f"{BASE}/"),
        "/collections/": ("Collections", f"{BASE}/collections/"),
        "/tags/nadi?utm_source=x": ("Tag: nadi", f"{BASE}/tags/nadi"),
        f"/collections/{slug}": ("Songs of the river", f"{BASE}/collections/{slug}"),
        f"/collections/{slug}/read": ("Songs of the river", f"{BASE}/collections/{slug}"),
        "/search?q=river&page=1&x=y": ("Search: river", f"{BASE}/search?q=river"),
    }
    for url, (title, address) in expected.items():
        page = reader.get(url).get_data(as_text=True)
        tags = dict(META.findall(page))
        assert tags["og:title"] == title, url
        assert tags["og:site_name"] == "Living Archive" and tags["og:description"], url
        assert tags["og:url"] == address and tags["twitter:card"] == "summary", url
        (canonical,) = CANONICAL.findall(page)
        assert canonical == (address if "/read" not in url else f"{address}/read"), url
    poem = reader.get(site["poem"].url + "?ref=mail").get_data(as_text=True)
    assert CANONICAL.findall(poem) == [BASE + site["poem"].url]
    missing = reader.get("/no/such/page")
    assert missing.status_code == 404 and not CANONICAL.search(missing.get_data(as_text=True))
