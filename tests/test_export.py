"""A participant's own export (`/account/export`): only their own active pieces, every revision
as Markdown, the artwork as WebP without its metadata, and receipts without the code."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import ExifTags, Image

from tests.erasure_helpers import (
    CAMERA,
    MARKER,
    photo,
    revise,
    share,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)


def export_of(client) -> zipfile.ZipFile:
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.data))


def folders(archive: zipfile.ZipFile) -> set[str]:
    return {name.split("/")[0] for name in archive.namelist() if "/" in name}


@pytest.fixture
def pieces(world):
    me = world["contributor"]
    artwork = share(
        me,
        world.home,
        title=f"{MARKER} mural",
        tags=("deewar",),
        body="First words on the wall.",
        audience="private",
        image=photo(),
    )
    artwork = revise(me, artwork, body="Second words on the wall.", image=photo((20, 160, 60)))
    artwork = revise(me, artwork, body="Third words on the wall.", title=f"{MARKER} mural 3")
    poem = share(
        me,
        world.home,
        title="zqxtaken poem",
        kind="poem",
        tags=("kavita",),
        body="A poem I took back.",
        audience="public",
    )
    theirs = share(
        world["member"],
        world.home,
        title="zqxtheirs story",
        kind="story",
        tags=("kahani",),
        body="Someone else's story.",
        audience="public",
    )
    assert withdraw_signed_in(world.viewers["contributor"].client, poem).status_code == 200
    return {"artwork": artwork, "withdrawn": poem, "theirs": theirs}


def test_the_export_holds_only_my_active_pieces(world, pieces):
    archive = export_of(world.viewers["contributor"].client)

    [folder] = folders(archive)
    assert folder.endswith(pieces["artwork"].public_id[:8])  # the title, then a short id
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for other in ("withdrawn", "theirs"):
        assert pieces[other].public_id.encode() not in everything
    for gone in (b"zqxtaken", b"A poem I took back", b"zqxtheirs", b"Someone else"):
        assert gone not in everything


def test_every_revision_is_there_as_markdown(world, pieces):
    archive = export_of(world.viewers["contributor"].client)
    folder = f"{next(iter(folders(archive)))}"

    texts = {n: archive.read(f"{folder}/revision-{n}.md").decode("utf-8") for n in (1, 2, 3)}

    assert "First words on the wall." in texts[1]
    assert "Second words on the wall." in texts[2]
    assert "Third words on the wall." in texts[3]
    assert texts[3].startswith("---\n") and f'title: "{MARKER} mural 3"' in texts[3]
    assert f'title: "{MARKER} mural"' in texts[1]
    assert "version: 3" in texts[3]


@pytest.mark.media_backends
def test_the_artwork_is_webp_without_its_metadata(world, pieces):
    archive = export_of(world.viewers["contributor"].client)
    pictures = [name for name in archive.namelist() if name.endswith(".webp")]

    assert len(pictures) == 3, pictures  # one for each version
    colours = set()
    for name in pictures:
        data = archive.read(name)
        picture = Image.open(io.BytesIO(data), formats=["WEBP"])
        assert picture.format == "WEBP"
        assert not dict(picture.getexif())
        assert not picture.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in picture.info and "xmp" not in picture.info
        for marker in (b"Exif", b"GPS", CAMERA.encode()):
            assert marker not in data
        colours.add(picture.convert("RGB").getpixel((picture.width - 1, picture.height - 1)))
    assert len(colours) == 2, "the first and the replaced artwork are both there"


def test_the_receipt_is_there_without_the_code(world, pieces):
    archive = export_of(world.viewers["contributor"].client)
    [name] = [n for n in archive.namelist() if n.endswith("receipt.json")]
    data = archive.read(name).decode("utf-8")
    receipt = json.loads(data)

    assert receipt["version"] == "KI-CR-v1.1.0"
    assert pieces["artwork"].public_id in receipt["services"][0]["service"]
    code = pieces["artwork"].code
    for form in (code, code.replace("-", ""), code.lower()):
        assert form not in data
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert code.encode() not in everything and code.replace("-", "").encode() not in everything


def test_an_empty_export_still_explains_itself(world):
    archive = export_of(world.viewers["stranger"].client)
    assert archive.namelist() == ["README.txt"]


def test_signed_out_people_are_sent_to_sign_in(world):
    response = world.viewers["anonymous"].client.get("/account/export")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
