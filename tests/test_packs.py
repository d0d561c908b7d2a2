"""Offline packs: a public collection as a zip of static pages (design.md, Surfaces; "INVARIANT:
withdrawal erases" point 2, "cached packs dropped").

Only public entries whose authors agreed to packs; relative links, no script, no address of
any site, derivatives only; an "as of" line and a word about consent. Never stale: rebuilt when
anything in it changes, and dropped from the instance folder after a withdrawal.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from pathlib import Path

import pytest

from archive import packs
from tests.erasure_helpers import (
    CAMERA,
    CONTRIBUTOR_NAME,
    MARKER,
    change_consent,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.public_helpers import collection, curate, offer

LINK = re.compile(r'(?:href|src)="([^"]*)"')


@pytest.fixture
def shelf(world):
    """A public collection: a poem, an artwork, an anonymous story and a piece whose author
    said no to packs (in that order); plus a circle collection."""
    me = world["contributor"]
    pieces = {
        "poem": offer(
            me,
            world.home,
            title=f"{MARKER} first rain",
            kind="poem",
            body="Rain on the tin roof,\nmy daughter laughing.\n\n"
            "[our blog](https://example.org/blog)",
        ),
        "artwork": offer(
            me,
            world.home,
            title="Paper boats",
            kind="artwork",
            body="Made with the children.",
            language="hi",
        ),
        "anonymous": offer(
            me,
            world.home,
            title="Nights",
            kind="story",
            attribution="anonymous",
            content_notes=("grief",),
        ),
        "no packs": offer(me, world.home, title="zqxnopacks song", packs=False),
    }
    curator = world["facilitator"]
    curate(
        curator,
        world.home,
        "monsoon",
        list(pieces.values()),
        notes={pieces["poem"].public_id: "Read this one aloud."},
    )
    curate(
        curator,
        world.home,
        "inner-monsoon",
        [offer(me, world.home, title="zqxcircle piece", audience="circle")],
        state="circle",
    )
    return pieces


def download(client, slug: str = "monsoon"):
    with client.get(f"/collections/{slug}/pack.zip") as response:
        response.direct_passthrough = False
        return response, response.get_data()


def files_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        return {name: pack.read(name) for name in pack.namelist()}


def pages_of(files: dict[str, bytes]) -> dict[str, str]:
    return {
        name: data.decode("utf-8")
        for name, data in files.items()
        if name.endswith((".html", ".css"))
    }


def cached(app) -> list[Path]:
    folder = Path(app.config["INSTANCE_DIR"]) / "packs"
    return sorted(folder.glob("*.zip")) if folder.is_dir() else []


def holds_marker(path: Path, marker: str = MARKER) -> bool:
    """Whether a file holds the marker, looking inside a zip's members too."""
    data = path.read_bytes()
    if marker.encode() in data:
        return True
    if zipfile.is_zipfile(path):
        return any(marker.encode() in content for content in files_of(data).values())
    return False


# --- what is in a pack ------------------------------------------------------------------------


def test_a_pack_holds_only_public_entries_that_allow_packs(world, shelf):
    response, data = download(world.viewers["anonymous"].client)

    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == "attachment; filename=monsoon.zip"
    files = files_of(data)
    assert set(files) == {
        "index.html",
        "style.css",
        "pieces/1.html",
        "pieces/2.html",
        "pieces/3.html",
        "images/2.webp",
        "images/2-thumb.webp",
    }
    pages = pages_of(files)
    everything = "\n".join(pages.values())
    assert "zqxnopacks" not in everything and "zqxcircle" not in everything
    assert shelf["poem"].title in pages["pieces/1.html"]
    assert "Paper boats" in pages["pieces/2.html"] and "Nights" in pages["pieces/3.html"]
    for title in (shelf["poem"].title, "Paper boats", "Nights"):
        assert title in pages["index.html"]
    assert "Read this one aloud." in pages["index.html"]


def test_a_pack_has_no_script_and_no_address_of_any_site(world, shelf):
    files = files_of(download(world.viewers["anonymous"].client)[1])

    for name, page in pages_of(files).items():
        assert "<script" not in page.lower(), name
        assert "http:" not in page and "https:" not in page and "//" not in page, name
        assert "javascript:" not in page.lower()
    piece = pages_of(files)["pieces/1.html"]
    assert "our blog" in piece and "example.org" not in piece


def test_every_link_in_a_pack_is_relative_and_leads_inside_it(world, shelf):
    files = files_of(download(world.viewers["anonymous"].client)[1])

    for name, page in pages_of(files).items():
        for link in LINK.findall(page):
            assert not link.startswith("/") and ":" not in link, (name, link)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), link))
            assert target in files, (name, link)


@pytest.mark.media_backends
def test_pack_images_are_the_stored_derivatives_only(world, shelf):
    files = files_of(download(world.viewers["anonymous"].client)[1])

    ((_asset, derivatives),) = shelf["artwork"].media.items()
    assert hashlib.sha256(files["images/2.webp"]).hexdigest() == derivatives["display"]["sha256"]
    assert (
        hashlib.sha256(files["images/2-thumb.webp"]).hexdigest() == derivatives["thumb"]["sha256"]
    )
    for name in ("images/2.webp", "images/2-thumb.webp"):
        assert files[name][:4] == b"RIFF" and CAMERA.encode() not in files[name]
    assert max(derivatives["display"]["width"], derivatives["display"]["height"]) <= 1600


def test_a_pack_says_as_of_when_and_asks_for_respect(world, shelf):
    pages = pages_of(files_of(download(world.viewers["anonymous"].client)[1]))

    for name, page in pages.items():
        if not name.endswith(".html"):
            continue
        assert '<html lang="en">' in page
        assert re.search(r"As of \d{1,2} \w+ \d{4}\.", page), name  # the site's date style
        assert "never pass on anything they have taken back" in page
    assert '<h1 lang="hi">Paper boats</h1>' in pages["pieces/2.html"]
    assert "Content note: this piece speaks of grief" in pages["pieces/3.html"]
    assert "<details" in pages["pieces/3.html"]
    assert "Shared anonymously" in pages["pieces/3.html"]
    assert CONTRIBUTOR_NAME not in pages["pieces/3.html"]
    assert f"by {CONTRIBUTOR_NAME}" in pages["pieces/1.html"]


def test_a_pack_speaks_the_readers_language(world, shelf):
    client = world.viewers["anonymous"].client
    with client.get("/collections/monsoon/pack.zip", headers={"Accept-Language": "hi"}) as response:
        response.direct_passthrough = False
        index = files_of(response.get_data())["index.html"].decode()
    assert '<html lang="hi">' in index


@pytest.mark.parametrize(
    "slug, who",
    [("inner-monsoon", "member"), ("inner-monsoon", "facilitator"), ("no-such", "anonymous")],
)
def test_only_public_collections_have_packs(world, shelf, slug, who):
    assert world.viewers[who].client.get(f"/collections/{slug}/pack.zip").status_code == 404


def test_a_draft_collection_has_no_pack(world, shelf):
    curate(world["facilitator"], world.home, "draft-monsoon", [shelf["poem"]], state="draft")
    assert (
        world.viewers["facilitator"].client.get("/collections/draft-monsoon/pack.zip").status_code
        == 404
    )


# --- never stale ------------------------------------------------------------------------------


def test_a_pack_is_cached_until_something_in_it_changes(app, world, shelf):
    client = world.viewers["anonymous"].client
    first = download(client)[1]
    (path,) = cached(app)
    built = path.stat().st_mtime_ns

    assert download(client)[1] == first
    assert cached(app) == [path] and path.stat().st_mtime_ns == built


def test_a_consent_change_rebuilds_the_pack_without_the_narrowed_piece(app, world, shelf):
    client = world.viewers["anonymous"].client
    before = download(client)[1]
    (old,) = cached(app)

    response = change_consent(world.viewers["contributor"].client, shelf["poem"], packs=False)
    assert response.status_code == 302
    assert not old.exists(), "the consent change dropped the cached pack"

    after = download(client)[1]
    assert after != before
    assert MARKER not in "\n".join(pages_of(files_of(after)).values())
    assert len(cached(app)) == 1


def test_narrowing_to_the_circle_takes_the_piece_out_of_the_pack(app, world, shelf):
    client = world.viewers["anonymous"].client
    download(client)
    assert (
        change_consent(
            world.viewers["contributor"].client, shelf["poem"], audience="circle"
        ).status_code
        == 302
    )

    assert not any(holds_marker(path) for path in cached(app))
    files = files_of(download(client)[1])
    assert "pieces/3.html" not in files
    assert MARKER not in "\n".join(pages_of(files).values())


def test_a_curators_change_gives_a_fresh_pack_and_drops_the_old_one(app, world, shelf):
    client = world.viewers["anonymous"].client
    download(client)
    (old,) = cached(app)
    curator = world.viewers["facilitator"].client
    entry = collection("monsoon").entries[0]
    assert (
        curator.post_form(
            f"/collections/monsoon/entries/{entry.id}/remove", page="/collections/monsoon"
        ).status_code
        == 302
    )

    files = files_of(download(client)[1])
    assert MARKER not in "\n".join(pages_of(files).values())
    assert not old.exists() and len(cached(app)) == 1


# --- withdrawal -------------------------------------------------------------------------------


def test_withdrawal_drops_every_cached_pack_that_held_the_piece(app, world, shelf):
    client = world.viewers["anonymous"].client
    download(client)
    with client.get("/collections/monsoon/pack.zip", headers={"Accept-Language": "mr"}) as response:
        assert response.status_code == 200
    assert len(cached(app)) == 2
    assert all(holds_marker(path) for path in cached(app))

    assert withdraw_signed_in(world.viewers["contributor"].client, shelf["poem"]).status_code == 200

    folder = Path(app.config["INSTANCE_DIR"]) / "packs"
    for path in folder.rglob("*"):
        assert not (path.is_file() and holds_marker(path)), path
    assert MARKER not in "\n".join(pages_of(files_of(download(client)[1])).values())


def test_a_curator_taking_a_piece_out_drops_the_cached_packs_at_once(app, world, shelf):
    """Any change to a collection drops its cached packs (they hold its pieces' words);
    a withdrawal afterwards finds nothing left to remove."""
    download(world.viewers["anonymous"].client)
    assert any(holds_marker(path) for path in cached(app))
    entry = collection("monsoon").entries[0]
    curator = world.viewers["facilitator"].client
    assert (
        curator.post_form(
            f"/collections/monsoon/entries/{entry.id}/remove", page="/collections/monsoon"
        ).status_code
        == 302
    )
    folder = Path(app.config["INSTANCE_DIR"]) / "packs"
    assert not any(holds_marker(path) for path in folder.rglob("*") if path.is_file())

    assert withdraw_signed_in(world.viewers["contributor"].client, shelf["poem"]).status_code == 200
    assert not any(holds_marker(path) for path in folder.rglob("*") if path.is_file())


def test_withdrawal_reaches_a_pack_by_its_manifest(app, world, shelf):
    """The purge finds cached packs by what they hold (their manifest), not only by the
    collections the piece is in today."""
    from archive import packs

    download(world.viewers["anonymous"].client)
    item_id = shelf["poem"].item().id
    assert packs.holding(item_id)
    assert packs.drop(items=[item_id]) >= 1
    assert not packs.holding(item_id)


def test_the_pack_purge_is_idempotent_and_leaves_other_packs(app, world, shelf):
    other = offer(world["member"], world.home, title="zqxother lullaby")
    curate(world["facilitator"], world.home, "lullabies", [other])
    client = world.viewers["anonymous"].client
    download(client)
    download(client, "lullabies")
    monsoon = collection("monsoon").id

    assert packs.drop(collections=[monsoon]) == 1
    assert packs.drop(collections=[monsoon]) == 0
    (left,) = cached(app)
    assert holds_marker(left, "zqxother")


# --- the command line -------------------------------------------------------------------------


def test_the_cli_exports_a_public_collection(app, world, shelf, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["collections", "export", "monsoon", "--out", str(tmp_path / "out")]
    )

    assert result.exit_code == 0, result.output
    assert "3 pieces" in result.output
    files = files_of((tmp_path / "out" / "monsoon.zip").read_bytes())
    assert "pieces/3.html" in files and "zqxnopacks" not in files["index.html"].decode()


def test_the_cli_refuses_a_collection_that_is_not_public(app, world, shelf, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["collections", "export", "inner-monsoon", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0 and "no public collection" in result.output
    assert not list(tmp_path.glob("*.zip"))


def test_a_public_collection_page_offers_its_pack(world, shelf):
    response = world.viewers["anonymous"].client.get("/collections/monsoon")
    assert 'href="/collections/monsoon/pack.zip"' in text(response)
