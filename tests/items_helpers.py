"""Helpers for the living-document tests: pictures with GPS in them, a Hindi poem as the form
sends it, row counts and files on disk (to prove that nothing was stored), and a small HTML
reader for the tags and attributes a page really carries."""

from __future__ import annotations

import hashlib
import io
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import pytest
from jinja2 import BytecodeCache
from PIL import ExifTags, Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from archive.db import db
from archive.media.storage import media_folder
from archive.models import (
    Consent,
    ConsentEvent,
    Contributor,
    Item,
    MediaAsset,
    Revision,
    RevisionTag,
)
from tests.conftest import csrf_token

CORPUS = Path("/work/shared/corpora/pillow-malformed")
EXIF_GPS_JPEG = CORPUS / "exif_gps.jpg"
CAMERA = "Secretphone X9"
OWNER = "Asha Secretname"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


#: ख़ुशी typed with the precomposed letter U+0959, as some keyboards do; the archive keeps NFC
KHUSHI_TYPED = "\u0959\u0941\u0936\u0940"
KHUSHI = nfc(KHUSHI_TYPED)
UDASI = "उदासी"
POEM_LINES = ("आज मन में उदासी है", "कल फिर सुबह होगी")
POEM_BODY = "\n".join(POEM_LINES)


# --- pictures ---------------------------------------------------------------------------------


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Model] = "Model 12"
    exif[ExifTags.Base.Artist] = OWNER
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (18.0, 31.0, 12.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (73.0, 51.0, 24.0),
        }
    )
    return exif


def gps_photo(size=(1000, 750), colour=(200, 40, 40)) -> bytes:
    """A JPEG 'photo of an artwork' carrying GPS, camera make and the owner's name in EXIF."""
    picture = Image.new("RGB", size, colour)
    picture.paste((30, 30, 220), (0, 0, size[0] // 3, size[1]))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, exif=gps_exif().tobytes())
    data = buffer.getvalue()
    assert b"Exif" in data and CAMERA.encode() in data  # the upload really carries it
    return data


def corpus_gps_photo() -> bytes:
    return EXIF_GPS_JPEG.read_bytes()


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: an IHDR and an IEND, no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def assert_clean_webp(data: bytes) -> None:
    """Served artwork: a WebP that carries no EXIF, GPS, camera or owner's name."""
    picture = Image.open(io.BytesIO(data), formats=["WEBP"])
    assert picture.format == "WEBP"
    assert not dict(picture.getexif())
    assert not picture.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in picture.info and "xmp" not in picture.info
    for marker in (b"Exif", b"GPS", b"XMP", CAMERA.encode(), OWNER.encode(), b"<script"):
        assert marker not in data, marker


# --- what is stored ---------------------------------------------------------------------------

COUNTED = (Item, Revision, Consent, MediaAsset, ConsentEvent, Contributor, RevisionTag)


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def media_files(app) -> list[Path]:
    root = media_folder(app.config)
    return sorted(path for path in root.rglob("*") if path.is_file())


def piece_files(app) -> list[Path]:
    """The media files of pieces: all but the photos a form keeps while the rest of it is
    fixed (one session's drafts, under ``drafts/``)."""
    return [path for path in media_files(app) if path.parent.name != "drafts"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def only_item() -> Item:
    db.session.expire_all()
    items = list(db.session.scalars(select(Item)))
    assert len(items) == 1, items
    return items[0]


def newest_item() -> Item:
    db.session.expire_all()
    return db.session.scalars(select(Item).order_by(Item.id.desc())).first()


def revision_rows(item_id: int) -> list[dict]:
    """Every stored column of an item's revisions, and their tags, as plain values, oldest
    first."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Revision.__table__).where(Revision.item_id == item_id).order_by(Revision.number)
    ).mappings()
    return [
        {
            **row,
            "tags": list(
                db.session.scalars(
                    select(RevisionTag.tag)
                    .where(RevisionTag.revision_id == row["id"])
                    .order_by(RevisionTag.position)
                )
            ),
        }
        for row in rows
    ]


# --- the contribute form ----------------------------------------------------------------------


def poem_form(**overrides) -> dict:
    """The contribute form as a participant's browser sends it for a Hindi poem (there is
    no "contributor" field on a participant's page; facilitators add it)."""
    form = {
        "kind": "poem",
        "title": UDASI,
        "body": POEM_BODY,
        "language": "hi",
        "tags": "उम्मीद, नींद",
        "audience": "circle",
        "attribution": "name",
        "pseudonym": "",
        "review_by": "",
        "alt_text": "",
    }
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


ALT_TEXT = "नीले और लाल रंग की एक पेंटिंग"


def artwork_form(image: Optional[bytes], filename="photo.jpg", **overrides) -> dict:
    """The contribute form for a photo of an artwork (``image=None``: no file chosen)."""
    fields = {"kind": "artwork", "title": "मेरी पेंटिंग", "body": "", "alt_text": ALT_TEXT, **overrides}
    form = poem_form(**fields)
    if image is not None:
        form["image"] = (io.BytesIO(image), filename, "image/jpeg")
    return form


def multipart(fields: dict) -> dict:
    """Keyword arguments for a test-client request with ``fields`` as multipart/form-data,
    encoded in memory: (stream, filename, content type) tuples are files, lists repeat a
    field. (Werkzeug's own encoder spools large bodies to a temporary file that it never
    closes, which is a ResourceWarning, and warnings are errors here.)"""
    values = MultiDict()
    for name, value in fields.items():
        if isinstance(value, tuple):
            stream, filename, content_type = value
            values.add(name, FileStorage(stream, filename=filename, content_type=content_type))
        else:
            for each in value if isinstance(value, list) else [value]:
                values.add(name, each)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def post_multipart(
    client, url: str, fields: dict, page: Optional[str] = None, follow_redirects: bool = False
):
    """Like ``client.post_form``: open the page first and send its CSRF token along."""
    token = csrf_token(client.get(page or url).get_data(as_text=True))
    return client.post(
        url, follow_redirects=follow_redirects, **multipart({"csrf_token": token, **fields})
    )


def contribute(client, slug: str, form: dict):
    """Share a piece as a browser does: the form's answer is a redirect to the receipt
    (which shows the code to this client), followed; a refused form answers 4xx itself."""
    return post_multipart(client, f"/circles/{slug}/contribute", form, follow_redirects=True)


def item_url(item_or_id) -> str:
    public_id = getattr(item_or_id, "public_id", item_or_id)
    return f"/items/{public_id}"


def api_headers(token: Optional[str]) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


# --- reading pages ----------------------------------------------------------------------------


@dataclass
class Tag:
    name: str
    attrs: dict[str, str]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(Tag(tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def image_urls(html: str) -> list[str]:
    """Every URL an <img> on the page points to (src and each srcset candidate)."""
    urls: list[str] = []
    for tag in parse(html).tags:
        if tag.name != "img":
            continue
        if tag.attrs.get("src"):
            urls.append(tag.attrs["src"])
        for candidate in tag.attrs.get("srcset", "").split(","):
            if candidate.strip():
                urls.append(candidate.split()[0])
    return list(dict.fromkeys(urls))


#: attributes that make a browser fetch something by itself
FETCHING = {"src", "srcset", "poster", "data", "background", "action", "formaction"}


def third_party_fetches(html: str) -> list[str]:
    """Every address the page would make a browser request that is not on this site."""
    found = []
    for tag in parse(html).tags:
        wanted = [value for name, value in tag.attrs.items() if name in FETCHING]
        if tag.name == "link" and tag.attrs.get("rel") != "canonical":  # names, fetches nothing
            wanted.append(tag.attrs.get("href", ""))
        for value in wanted:
            for candidate in value.split(","):
                url = candidate.strip().split(" ")[0]
                if url and (
                    urlsplit(url).netloc
                    or url.startswith("//")
                    or urlsplit(url).scheme not in ("", "http", "https")
                ):
                    found.append(f"<{tag.name}> {url}")
    return found


def main_html(html: str) -> str:
    start = html.index('<main id="main"')
    return html[start : html.index("</main>", start)]


@pytest.fixture
def circle_people(make_circle, make_account):
    """A circle (home) and another one (elsewhere), with everyone the tests need."""
    home = make_circle("ghar", "घर के लोग")
    elsewhere = make_circle("elsewhere", "Elsewhere")
    people = {
        "home": home,
        "elsewhere": elsewhere,
        "asha": make_account("ashaunique", circle=home, display_name=OWNER),
        "meera": make_account(
            "meera", role="facilitator", circle=home, display_name="Meera Facilitator"
        ),
        "ravi": make_account("ravi", circle=home, display_name="Ravi Member"),
        "sunil": make_account("sunil", circle=elsewhere, display_name="Sunil Outsider"),
        "farah": make_account(
            "farah", role="facilitator", circle=elsewhere, display_name="Farah Elsewhere"
        ),
        "admin": make_account("root", role="admin", display_name="Site Admin"),
    }
    return people


# --- speed ----------------------------------------------------------------------------------


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept across the many apps a test run builds (one per test), so each
    app does not lex, parse and compile every template again. A changed template has another
    checksum and is compiled afresh."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _MemoryBytecodeCache()


@pytest.fixture(autouse=True)
def templates_compiled_once(request):
    """For a test that uses the ``app`` fixture; imported by the item test modules."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").jinja_env.bytecode_cache = TEMPLATE_CACHE
    yield
