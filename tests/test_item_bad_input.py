"""Bad input, through the web form and the API alike: a clear message, and NOTHING stored —
no item, revision, consent, ledger event, media row, contributor profile or file."""

from __future__ import annotations

import html as htmllib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional

import pytest

from archive import access
from archive.db import db
from archive.media.storage import LocalStorage
from archive.operations.accounts import create_token
from tests.items_helpers import (  # noqa: F401
    POEM_BODY,
    UDASI,
    api_headers,
    artwork_form,
    circle_people,
    contribute,
    gps_photo,
    media_files,
    multipart,
    only_item,
    piece_files,
    png_header,
    poem_form,
    post_multipart,
    row_counts,
    templates_compiled_once,
)


def truncated_jpeg() -> bytes:
    data = gps_photo()
    return data[: len(data) // 2]


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)


@dataclass(frozen=True)
class Bad:
    """One kind of bad input. ``web``/``api`` change a good Hindi poem (or, with ``image``, a
    good artwork); ``message`` is what the person reads (``api_message`` if the API says it
    differently)."""

    name: str
    web: dict
    message: str
    api: Optional[dict] = None
    api_message: Optional[str] = None
    image: Optional[Callable[[], bytes]] = None
    filename: str = "photo.jpg"
    who: str = "asha"
    consent: dict = field(default_factory=dict)


OPTIONS = "Please choose one of the options."
PAST = (access.today() - timedelta(days=1)).isoformat()
TODAY = access.today().isoformat()

CASES = [
    Bad(
        "empty title",
        {"title": ""},
        "Please fill this in.",
        {"title": ""},
        "'title' must not be empty.",
    ),
    Bad(
        "title of control characters",
        {"title": "\x00\x01\x7f"},
        "Please give it a title.",
        {"title": "\x00\x01\x7f"},
        "'title' must not be empty.",
    ),
    Bad(
        "title too long",
        {"title": "क" * 201},
        "Please keep this under 201 characters.",
        {"title": "क" * 201},
        "'title' may be at most 200 characters long.",
    ),
    Bad(
        "empty body for a poem",
        {"body": " \n \n"},
        "Please write something in the text box.",
        {"body": " \n \n"},
    ),
    Bad(
        "unknown kind",
        {"kind": "sonnet"},
        OPTIONS,
        {"kind": "sonnet"},
        "'kind' must be one of: knowhow, poem, story, artwork.",
    ),
    Bad(
        "unknown language",
        {"language": "xx"},
        OPTIONS,
        {"language": "xx"},
        "'language' must be one of: en, hi, mr, other.",
    ),
    Bad(
        "tags with markup",
        {"tags": "नींद, <script>alert(1)</script>"},
        "A tag is a word or a few words",
        {"tags": ["नींद", "<script>alert(1)</script>"]},
    ),
    Bad(
        "too many tags",
        {"tags": ", ".join(f"शब्द{n}" for n in range(13))},
        "Please use at most 12 tags.",
        {"tags": [f"शब्द{n}" for n in range(13)]},
        "'tags' may hold at most 12 entries.",
    ),
    Bad(
        "a 0-byte file",
        {},
        "This file is empty. Please choose your picture again.",
        image=lambda: b"",
    ),
    Bad(
        "a text file renamed .jpg",
        {},
        "We could not open this file as a picture.",
        image=lambda: "मेरी डायरी: आज अच्छा दिन था\n".encode() * 20,
        filename="photo.jpg",
    ),
    Bad(
        "an SVG",
        {},
        "SVG drawings cannot be added here.",
        image=lambda: SVG,
        filename="drawing.svg",
    ),
    Bad("a truncated JPEG", {}, "This picture seems incomplete or damaged", image=truncated_jpeg),
    Bad(
        "a 400-megapixel PNG header",
        {},
        "This picture is too big for us to work with.",
        image=lambda: png_header(20_000, 20_000),
        filename="huge.png",
    ),
    Bad(
        "a 22 MB picture",
        {},
        "This picture is too large. Please choose one smaller than 20 MB.",
        image=lambda: b"\xff\xd8\xff\xe0" + bytes(22 * 1024 * 1024),
    ),
    Bad(
        "artwork without a picture", {}, "Please choose a photo of the artwork.", image=lambda: None
    ),
    Bad(
        "a picture on a poem without alt text",
        {"kind": "poem", "body": POEM_BODY, "alt_text": ""},
        "Please describe the artwork in a sentence or two",
        image=gps_photo,
    ),
    Bad(
        "review date in the past",
        {"review_by": PAST},
        "A review date needs to be in the future.",
        consent={"review_by": PAST},
    ),
    Bad(
        "review date today",
        {"review_by": TODAY},
        "A review date needs to be in the future.",
        consent={"review_by": TODAY},
    ),
    Bad(
        "a pseudonym attribution without a pseudonym",
        {"attribution": "pseudonym", "pseudonym": "  "},
        "Please write the pseudonym to show.",
        consent={"attribution": "pseudonym", "pseudonym": "  "},
    ),
    Bad(
        "an audience not in the list",
        {"audience": "everyone"},
        OPTIONS,
        api_message="'consent.audience' must be one of: private, circle, public.",
        consent={"audience": "everyone"},
    ),
    Bad(
        "an attribution not in the list",
        {"attribution": "real-name"},
        OPTIONS,
        api_message="'consent.attribution' must be one of: name, pseudonym, anonymous.",
        consent={"attribution": "real-name"},
    ),
    Bad(
        "an unknown content note",
        {"content_notes": "gossip"},
        OPTIONS,
        {"content_notes": ["gossip"]},
        "'content_notes' must be one of: grief, self-harm, suicide, abuse, violence, illness, "
        "substance-use.",
    ),
    Bad(
        "a facilitator's method 'self' for someone else",
        {"contributor": "new", "new_pseudonym": "छाया", "method": "self"},
        OPTIONS,
        {"contributor": {"pseudonym": "छाया"}},
        "Please say how the person gave their consent.",
        who="meera",
        consent={"method": "self"},
    ),
    Bad(
        "a facilitator recording for someone without saying how they consented",
        {"contributor": "new", "new_pseudonym": "छाया", "method": None},
        "Please say how the person gave their consent.",
        {"contributor": {"pseudonym": "छाया"}},
        who="meera",
    ),
    Bad(
        "someone new without a pseudonym",
        {"contributor": "new", "new_pseudonym": " ", "method": "verbal"},
        "Please give a pseudonym of up to 80 characters.",
        {"contributor": {"pseudonym": " "}},
        who="meera",
        consent={"method": "verbal"},
    ),
]


def web_form(case: Bad) -> dict:
    if case.image is None:
        return poem_form(**case.web)
    return artwork_form(case.image(), filename=case.filename, **case.web)


def api_request(case: Bad) -> dict:
    payload = {
        "kind": "poem",
        "title": UDASI,
        "body": POEM_BODY,
        "language": "hi",
        "tags": ["उम्मीद"],
        "circle": "ghar",
        "consent": {
            "audience": "circle",
            "attribution": "anonymous",
            "method": "self",
            **case.consent,
        },
    }
    if case.who != "asha" and "method" not in case.consent:
        del payload["consent"]["method"]
    if case.image is not None:
        payload.update(kind="artwork", body="", alt_text="एक चित्र")
    payload.update(case.api if case.api is not None else {})
    payload.update(
        {
            k: v
            for k, v in case.web.items()
            if k in ("kind", "body", "alt_text") and case.image is not None
        }
    )
    if case.image is None:
        return {"json": payload}
    image = case.image()
    data = {"item": json.dumps(payload, ensure_ascii=False)}
    if image is not None:
        data["image"] = (io.BytesIO(image), case.filename, "application/octet-stream")
    return multipart(data)


@pytest.fixture
def nothing_stored(app):
    """Checks, after the test body, that no row and no file was added."""
    before = row_counts()
    yield
    assert row_counts() == before
    assert piece_files(app) == []  # a good photo is only kept for its session to send again


def page_text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_is_refused_on_the_web_and_the_api(
    app, circle_people, signed_in, nothing_stored, case
):
    person = circle_people[case.who]
    token = create_token(person)
    db.session.commit()
    before = row_counts()  # the token is not what we are counting

    response = contribute(signed_in(person), "ghar", web_form(case))
    assert response.status_code == 422, page_text(response)[:2000]
    html = response.get_data(as_text=True)
    assert case.message in page_text(response), "web"
    assert 'class="error"' in html or 'class="flash' in html  # next to its field, or on top
    assert "<script>alert" not in html
    assert row_counts() == before and piece_files(app) == [], "web"

    response = app.test_client().post(
        "/api/v1/items", headers=api_headers(token), **api_request(case)
    )
    # 422: not as the API's document says; 409: as it says, but a rule of the archive refuses it
    assert response.status_code in (400, 409, 422), response.get_data(as_text=True)[:500]
    assert response.is_json
    assert (case.api_message or case.message) in response.json["error"], "API"
    assert row_counts() == before and piece_files(app) == [], "API"


# --- too large for a request at all -----------------------------------------------------------

SIXTY_MB = 60 * 1024 * 1024


def test_a_60_mb_upload_gets_the_friendly_413_page(app, circle_people, signed_in, nothing_stored):
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", artwork_form(b"\xff\xd8\xff\xe0" + bytes(SIXTY_MB)))
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "That file is too large" in text and "Please choose a smaller file." in text
    assert "Request Entity Too Large" not in text  # the site's own page, not Werkzeug's


def test_a_60_mb_upload_to_the_api_is_413_json(app, circle_people, client, nothing_stored):
    token = create_token(circle_people["asha"])
    db.session.commit()
    before = row_counts()
    case = Bad("huge", {}, "", image=lambda: b"\xff\xd8\xff\xe0" + bytes(SIXTY_MB))
    response = client.post("/api/v1/items", headers=api_headers(token), **api_request(case))
    assert response.status_code == 413
    assert response.is_json and response.json["error"] == "That file is too large"
    assert row_counts() == before


# --- accepted, but cleaned ------------------------------------------------------------------


def test_a_jpeg_with_html_appended_is_stored_without_the_html(app, circle_people, signed_in):
    html = b"<html><body><script>alert(document.cookie)</script>PAYLOAD-MARKER</body></html>"
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", artwork_form(gps_photo() + html))
    assert response.status_code == 200
    files = media_files(app)
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"PAYLOAD-MARKER" not in data and b"<script" not in data and b"<html" not in data
        webp = data.startswith(b"RIFF") and data[8:12] == b"WEBP"
        jpeg_preview = path.suffix == ".jpg" and data.startswith(b"\xff\xd8\xff")
        assert webp or jpeg_preview, path.name  # re-encoded from the pixels alone


# --- storage failing half-way -----------------------------------------------------------------


@pytest.fixture
def storage_fails_on_second_put(monkeypatch):
    real_put = LocalStorage.put
    calls = []

    def put(self, key, data, content_type):
        calls.append(key)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_put(self, key, data, content_type)

    monkeypatch.setattr(LocalStorage, "put", put)
    return calls


def test_storage_failing_half_way_leaves_nothing_web(
    app, circle_people, signed_in, storage_fails_on_second_put, nothing_stored
):
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", artwork_form(gps_photo()))
    assert response.status_code == 507
    assert "There is no room to store your picture just now, so nothing was saved." in page_text(
        response
    )
    assert len(storage_fails_on_second_put) == 2  # the first file was written, then removed


def test_storage_failing_half_way_leaves_nothing_api(
    app, circle_people, client, storage_fails_on_second_put, nothing_stored
):
    token = create_token(circle_people["asha"])
    db.session.commit()
    before = row_counts()
    case = Bad("artwork", {}, "", image=gps_photo)
    response = client.post("/api/v1/items", headers=api_headers(token), **api_request(case))
    assert response.status_code == 507 and response.is_json and response.json["error"]
    assert len(storage_fails_on_second_put) == 2
    assert row_counts() == before


def test_a_database_failure_after_the_files_are_written_removes_them(
    app, circle_people, signed_in, monkeypatch, nothing_stored
):
    from archive.operations import items as ops

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ops, "_new_revision", fail)
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", artwork_form(gps_photo()))
    assert response.status_code == 500


def test_a_failed_edit_leaves_no_new_file(app, circle_people, signed_in):
    """Replacing the artwork with something that is not a picture keeps everything as it was."""
    client = signed_in(circle_people["asha"])
    assert contribute(client, "ghar", artwork_form(gps_photo())).status_code == 200
    item = only_item()
    files, rows = media_files(app), row_counts()
    for upload in (SVG, truncated_jpeg(), b""):
        response = post_multipart(
            client,
            f"/items/{item.public_id}/edit",
            {
                "title": "नया",
                "body": "",
                "language": "hi",
                "alt_text": "एक चित्र",
                "image": (io.BytesIO(upload), "x.jpg", "image/jpeg"),
            },
        )
        assert response.status_code == 422
        assert 'id="image-error"' in response.get_data(as_text=True)
        assert media_files(app) == files and row_counts() == rows
