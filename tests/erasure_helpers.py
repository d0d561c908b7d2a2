"""Helpers for the withdrawal, erasure and surface tests: a small world of people, pieces
contributed through the operations (as the web, API and CLI all do), a look at every row and
file a piece leaves behind, and the promise that withdrawal erases.

Shared by test_surfaces, test_withdrawal, test_erasure_*, test_backup_restore and test_export.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from archive import ledger_file
from archive.db import commit, db
from archive.models import (
    Account,
    Circle,
    Consent,
    ConsentEvent,
    Item,
    MediaAsset,
    PurgeTask,
    Revision,
    RevisionTag,
)
from archive.operations import items as item_ops
from archive.operations.accounts import create_token
from archive.operations.consent import ConsentChoice
from tests.conftest import BrowserLikeClient, csrf_token, sign_in
from tests.services.seaweed import stored_media

#: words that occur nowhere but in the piece under test
MARKER = "zqxmarker"
DEVANAGARI_MARKER = unicodedata.normalize("NFC", "ज़्क्षमार्कर")
PSEUDONYM = "zqxpenname"
CAMERA = "Zqxcamera Model"
CONTRIBUTOR_NAME = "Kavita Zqxbyname"


def photo(colour=(180, 60, 40), size=(900, 600)) -> bytes:
    """A JPEG 'photo of an artwork' that carries a camera name and GPS in its EXIF."""
    picture = Image.new("RGB", size, colour)
    picture.paste((20, 90, 200), (0, 0, size[0] // 2, size[1] // 3))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (18.0, 31.0, 12.0)}
    )
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


# --- pieces -----------------------------------------------------------------------------------


@dataclass
class Piece:
    """What a test knows about one contributed item (all plain values, no ORM objects)."""

    id: int
    public_id: str
    code: str
    title: str
    tag: str
    circle_slug: str
    kind: str
    media: dict[str, dict] = field(default_factory=dict)  # asset public id -> derivatives

    @property
    def url(self) -> str:
        return f"/items/{self.public_id}"

    @property
    def media_urls(self) -> list[str]:
        return [
            f"/media/{asset}/{name}"
            for asset, derivatives in self.media.items()
            for name in derivatives
        ]

    @property
    def media_keys(self) -> list[str]:
        return [
            entry["key"] for derivatives in self.media.values() for entry in derivatives.values()
        ]

    def item(self) -> Item:
        db.session.expire_all()
        return db.session.get(Item, self.id)


def share(
    by: Account,
    circle: Circle,
    *,
    title: str,
    kind: str = "artwork",
    body: str = "",
    tags: tuple[str, ...] = ("zqxtag",),
    alt_text: str = "A painting of a river",
    audience: str = "public",
    attribution: str = "name",
    pseudonym: str = "",
    image: Optional[bytes] = None,
    contributor=None,
    method: str = "self",
    language: str = "en",
) -> Piece:
    """Contribute and commit, as one request would; returns what the test needs to know."""
    contributor = contributor or item_ops.contributor_for(by)
    if kind == "artwork" and image is None:
        image = photo()
    draft = item_ops.Draft(
        kind=kind,
        title=title,
        body=body or f"{title} in words",
        language=language,
        tags=list(tags),
        alt_text=alt_text if kind == "artwork" else "",
        image=image,
    )
    choice = ConsentChoice(
        audience=audience, attribution=attribution, pseudonym=pseudonym, method=method
    )
    result = item_ops.contribute(by, circle, contributor, draft, choice)
    commit()
    return piece_of(result.item, result.receipt.withdrawal_code)


def piece_of(item: Item, code: str = "") -> Piece:
    media = {
        asset.public_id: asset.derivatives
        for asset in db.session.scalars(select(MediaAsset).where(MediaAsset.item_id == item.id))
    }
    return Piece(
        id=item.id,
        public_id=item.public_id,
        code=code,
        title=item.current.title,
        tag=(item.current.tags or [""])[0],
        circle_slug=item.circle.slug,
        kind=item.kind,
        media=media,
    )


def revise(by: Account, piece: Piece, **changes) -> Piece:
    """Save a new revision (``image=`` replaces the artwork) and commit."""
    item = piece.item()
    current = item.current
    values = {
        "title": current.title,
        "body": current.body,
        "language": current.language,
        "tags": current.tags,
        "alt_text": current.alt_text,
        **changes,
    }
    item_ops.revise(by, item, item_ops.Draft(kind=item.kind, **values))
    commit()
    return piece_of(piece.item(), piece.code)


# --- people -----------------------------------------------------------------------------------


@dataclass
class Viewer:
    """Someone looking: a web client (signed in or not) and the API headers of the same
    person (a bearer token, or none)."""

    name: str
    client: BrowserLikeClient
    headers: dict
    account: Optional[Account] = None


@dataclass
class World:
    home: Circle
    elsewhere: Circle
    people: dict[str, Account]
    viewers: dict[str, Viewer]

    def __getitem__(self, name: str) -> Account:
        return self.people[name]


#: who looks, and how they relate to a piece contributed by "contributor" in the home circle
ROLES = ("contributor", "facilitator", "member", "stranger", "other facilitator", "anonymous")


@pytest.fixture
def world(app, make_circle, make_account, make_client):
    home = make_circle("kshetra", "Kshetra circle")
    elsewhere = make_circle("doosra", "Doosra circle")
    people = {
        "contributor": make_account("kavita", circle=home, display_name=CONTRIBUTOR_NAME),
        "facilitator": make_account("meenal", role="facilitator", circle=home),
        "member": make_account("rohan", circle=home),
        "stranger": make_account("sahil", circle=elsewhere),
        "other facilitator": make_account("farida", role="facilitator", circle=elsewhere),
    }
    viewers = {}
    for name, account in people.items():
        client = make_client()
        sign_in(client, account.username)
        viewers[name] = Viewer(name, client, {"Authorization": "Bearer " + token(account)}, account)
    viewers["anonymous"] = Viewer("anonymous", make_client(), {})
    return World(home, elsewhere, people, viewers)


def token(account: Account) -> str:
    secret = create_token(account, "tests")
    commit()
    return secret


# --- forms ------------------------------------------------------------------------------------


def consent_form(piece: Piece, **changes) -> dict:
    """The consent form as it stands for ``piece``, with ``changes`` applied."""
    consent = piece.item().consent
    form = {
        "audience": consent.audience,
        "attribution": consent.attribution,
        "pseudonym": consent.pseudonym or "",
        "review_by": consent.review_by.isoformat() if consent.review_by else "",
        "collections": consent.allow_collections,
        "embeds": consent.allow_embeds,
        "packs": consent.allow_packs,
        "content_notes": consent.content_notes,
    }
    form.update(changes)
    return {
        name: ("y" if value is True else value)
        for name, value in form.items()
        if value is not False
    }


def change_consent(client, piece: Piece, **changes):
    return client.post_form(f"{piece.url}/consent", consent_form(piece, **changes))


def withdraw_signed_in(client, piece: Piece, reason: Optional[str] = None, sure: bool = True):
    """Take a piece back from its withdraw page; the answer's redirect is followed."""
    data = {"sure": "y"} if sure else {}
    if reason:
        data["reason"] = reason
    return client.post_form(f"{piece.url}/withdraw", data, follow_redirects=True)


HIDDEN_CODE = re.compile(
    r'<input id="confirm-code" name="confirm-code" type="hidden" '
    r'value="([^"]*)"'
)


def enter_code(client, code: str):
    """Step 1 of the door without an account."""
    return client.post_form("/withdraw", {"code": code})


def confirm_code(client, confirm_page: str, follow_redirects: bool = False):
    """Step 2: send the confirm form the page carries, as a browser would."""
    match = HIDDEN_CODE.search(confirm_page)
    assert match, "the confirm page carries no code"
    return client.raw.post(
        "/withdraw",
        follow_redirects=follow_redirects,
        data={
            "csrf_token": csrf_token(confirm_page),
            "confirm-code": match.group(1),
            "confirm-submit": "Erase it everywhere",
        },
    )


# --- what is left -----------------------------------------------------------------------------


def rows_of(item_id: int) -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(
            select(func.count()).select_from(model).where(item_rows(model, item_id))
        )
        for model in (Revision, RevisionTag, MediaAsset, Consent)
    }


def item_rows(model, item_id: int):
    """The condition picking ``model``'s rows of one item (a tag's, through its revision)."""
    if model is RevisionTag:
        return RevisionTag.revision_id.in_(select(Revision.id).where(Revision.item_id == item_id))
    return model.item_id == item_id


def events_of(piece: Piece, event: Optional[str] = None) -> list[ConsentEvent]:
    db.session.expire_all()
    query = select(ConsentEvent).where(ConsentEvent.item_public_id == piece.public_id)
    if event:
        query = query.where(ConsentEvent.event == event)
    return list(db.session.scalars(query.order_by(ConsentEvent.id)))


def ledger_file_lines(app, piece: Piece) -> list[dict]:
    with app.app_context():
        return [line for line in ledger_file.read() if line["item"] == piece.public_id]


def pending_purges() -> list[PurgeTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(PurgeTask).order_by(PurgeTask.id)))


def media_files(app) -> set[str]:
    """The names of every file in the media store (every version of each, on S3)."""
    return stored_media(app)


def snapshot(app, piece: Piece) -> dict:
    """Everything a refused or repeated withdrawal must leave exactly as it was."""
    item = piece.item()
    return {
        "state": item.state,
        "rows": rows_of(piece.id),
        "events": [(e.event, e.change) for e in events_of(piece)],
        "ledger": ledger_file_lines(app, piece),
        "files": sorted(media_files(app) & set(piece.media_keys)),
        "purges": [(t.kind, t.payload) for t in pending_purges()],
    }


def secrets_of(piece: Piece, extra: tuple[str, ...] = ()) -> list[str]:
    """Text that must never reach the ledger: the title and its words, tag, pseudonym."""
    words = [piece.title, piece.tag, MARKER, DEVANAGARI_MARKER, PSEUDONYM, *extra]
    words += [word for word in piece.title.split() if len(word) > 4]
    return [word for word in words if word]


def assert_erased(app, piece: Piece, role: str) -> None:
    """The promise of design.md "INVARIANT: withdrawal erases", checked row by row."""
    assert rows_of(piece.id) == {"Revision": 0, "RevisionTag": 0, "MediaAsset": 0, "Consent": 0}
    item = piece.item()
    assert (item.public_id, item.state) == (piece.public_id, "withdrawn")
    assert (item.kind, item.circle_id, item.contributor_id, item.current_revision_id) == (
        None,
        None,
        None,
        None,
    )
    assert item.withdrawn_at is not None
    withdrawn = events_of(piece, "withdrawn")
    assert len(withdrawn) == 1, withdrawn
    assert withdrawn[0].actor_role == role
    for event in events_of(piece):
        for secret in secrets_of(piece):
            stored = json.dumps(event.change, ensure_ascii=False).lower()
            assert secret.lower() not in stored, (event.event, secret)
    in_file = [line for line in ledger_file_lines(app, piece) if line["event"] == "withdrawn"]
    assert len(in_file) == 1 and in_file[0]["actor_role"] == role
    assert in_file[0]["change"] == withdrawn[0].change
    assert not media_files(app) & set(piece.media_keys), "artwork files are still on disk"
    assert pending_purges() == []


def text(response) -> str:
    return response.get_data(as_text=True)


def json_text(response) -> str:
    """A JSON body as the characters it means (no \\u escapes hiding a name)."""
    return json.dumps(response.get_json(silent=True), ensure_ascii=False)
