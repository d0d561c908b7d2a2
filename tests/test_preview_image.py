"""Link previews get a JPEG: some preview clients show nothing for WebP. Each new artwork gets
a JPEG preview derivative (longest side 1200, no metadata) beside its WebP sizes, kept in the
media row like every derivative, served by the same access-checked route, named first in
og:image, and erased with the piece. Artwork stored before it keeps its WebP preview."""

from __future__ import annotations

import html
import io
import re

from PIL import ExifTags, Image
from sqlalchemy import select

from archive.db import commit, db
from archive.media.images import PREVIEW, process_upload
from archive.models import MediaAsset
from tests.erasure_helpers import (
    CAMERA,
    MARKER,
    media_files,
    photo,
    share,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)
from tests.public_helpers import offer

BASE = "http://localhost"


def assert_clean_jpeg(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data), formats=["JPEG"])
    assert picture.format == "JPEG"
    assert not dict(picture.getexif())
    assert not picture.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(picture.info)
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", CAMERA.encode()):
        assert marker not in data, marker
    return picture


def test_the_pipeline_makes_a_clean_jpeg_preview_never_enlarged():
    processed = process_upload(photo(size=(2400, 1800)))
    preview = processed.preview
    assert preview.content_type == "image/jpeg" and PREVIEW[1] == 1200
    assert (preview.width, preview.height) == (1200, 900)
    assert assert_clean_jpeg(preview.data).size == (1200, 900)
    assert "preview" not in processed.derivatives, "srcset and packs keep their WebP sizes"

    small = process_upload(photo(size=(300, 200))).preview
    assert (small.width, small.height) == (300, 200)


def og_images(page: str) -> list[dict[str, str]]:
    """Each og:image with the structured properties that follow it, in page order."""
    found: list[dict[str, str]] = []
    for name, value in re.findall(r'<meta property="og:(image[:\w]*)" content="([^"]*)">', page):
        if name == "image":
            found.append({})
        found[-1][name] = html.unescape(value)
    return found


def test_a_new_artwork_has_a_jpeg_preview_that_follows_the_access_rule(app, world):
    me = world["contributor"]
    private = share(
        me,
        world.home,
        title=f"{MARKER} private kite",
        audience="private",
        image=photo(size=(1600, 1000)),
    )
    public = offer(
        me, world.home, title=f"{MARKER} open kite", kind="artwork", image=photo(size=(1600, 1000))
    )

    ((asset, derivatives),) = private.media.items()
    preview = derivatives["preview"]
    assert preview["content_type"] == "image/jpeg" and preview["key"].endswith(".jpg")
    assert (preview["width"], preview["height"]) == (1200, 750)
    url = f"/media/{asset}/preview"
    mine = world.viewers["contributor"].client.get(url)
    assert mine.status_code == 200 and mine.mimetype == "image/jpeg"
    assert mine.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in mine.headers["Content-Security-Policy"]
    assert_clean_jpeg(mine.data)
    for other in ("member", "stranger", "anonymous"):
        assert world.viewers[other].client.get(url).status_code == 404, other

    page = text(world.viewers["anonymous"].client.get(public.url))
    ((public_asset, public_derivatives),) = public.media.items()
    first, second = og_images(page)
    assert first == {
        "image": f"{BASE}/media/{public_asset}/preview",
        "image:type": "image/jpeg",
        "image:width": "1200",
        "image:height": "750",
        "image:alt": "A painting of a river",
    }
    assert second["image"] == f"{BASE}/media/{public_asset}/display"
    assert second["image:type"] == "image/webp"
    assert "/preview" not in page.split("<main", 1)[1], "pages and srcsets keep WebP"

    assert withdraw_signed_in(world.viewers["contributor"].client, private).status_code == 200
    assert preview["key"] not in media_files(app)
    assert world.viewers["contributor"].client.get(url).status_code == 404


def test_artwork_stored_before_previews_keeps_its_webp_preview(world):
    piece = offer(world["contributor"], world.home, title=f"{MARKER} older kite", kind="artwork")
    asset = db.session.scalar(select(MediaAsset).where(MediaAsset.item_id == piece.id))
    asset.derivatives = {
        name: entry for name, entry in asset.derivatives.items() if name != "preview"
    }
    commit()

    page = text(world.viewers["anonymous"].client.get(piece.url))
    [only] = og_images(page)
    assert only["image"] == f"{BASE}/media/{asset.public_id}/display"
    assert only["image:type"] == "image/webp"
