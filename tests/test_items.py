"""Living documents through the web: contributing (with the receipt), artwork without its
metadata, recording for someone, revisions, history, word diffs, restoring, and Markdown that
stays inert whoever wrote it."""

from __future__ import annotations

import html as htmllib
import io
import json
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image
from sqlalchemy import select

from archive import access
from archive.db import db
from archive.models import ConsentEvent, Contributor, Item, MediaAsset
from archive.operations.accounts import create_token
from archive.operations.consent import code_hash
from tests.items_helpers import (  # noqa: F401
    ALT_TEXT,
    CAMERA,
    KHUSHI,
    KHUSHI_TYPED,
    OWNER,
    POEM_BODY,
    POEM_LINES,
    UDASI,
    api_headers,
    artwork_form,
    assert_clean_webp,
    circle_people,
    contribute,
    corpus_gps_photo,
    gps_photo,
    image_urls,
    item_url,
    main_html,
    media_files,
    newest_item,
    only_item,
    parse,
    piece_files,
    poem_form,
    post_multipart,
    revision_rows,
    row_counts,
    sha256,
    templates_compiled_once,
    third_party_fetches,
)
from tests.services import postgres

pytestmark = pytest.mark.both_databases

CODE = re.compile(r'<p class="code"><code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){4})</code></p>')


@pytest.fixture
def people(circle_people):
    return circle_people


def text_of(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def edit(client, item, **fields):
    current = item.current
    form = {
        "title": current.title,
        "body": current.body,
        "language": current.language,
        "tags": ", ".join(current.tags),
        "alt_text": current.alt_text,
        "note": "",
    }
    form.update(fields)
    return post_multipart(client, f"{item_url(item)}/edit", form)


def database_text(app) -> str:
    """Everything the database holds, as SQL text, plus its raw files (WAL included)."""
    if postgres.backend() == "postgresql":
        return postgres.database_contents(app.config["DATABASE_URL"]).decode("latin-1")
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    connection = sqlite3.connect(path)
    try:
        dump = "\n".join(connection.iterdump())
    finally:
        connection.close()
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    return dump + raw.decode("latin-1")


# --- contributing -----------------------------------------------------------------------------


def test_a_participant_contributes_a_hindi_poem(app, people, signed_in):
    client = signed_in(people["asha"])
    form_page = client.get("/circles/ghar/contribute")
    assert form_page.status_code == 200
    assert 'enctype="multipart/form-data"' in form_page.get_data(as_text=True)
    assert 'name="contributor"' not in form_page.get_data(as_text=True)  # only for facilitators
    review_by = access.today() + timedelta(days=90)

    response = contribute(
        client,
        "ghar",
        poem_form(content_notes="grief", review_by=review_by.isoformat(), collections="y"),
    )

    assert response.status_code == 200, text_of(response)[:3000]
    html = response.get_data(as_text=True)
    code = CODE.search(html).group(1)
    assert html.count(code) == 1
    receipt = text_of(response)
    for words in (
        "Consent receipt",
        UDASI,
        "My circle: the members of this circle",
        "With my name",
        "Given by the author, signed in",
        "Your withdrawal code",
        "this page shows it for 30 minutes",
    ):
        assert words in receipt
    item = only_item()
    rev, consent = item.current, item.consent
    assert (item.kind, rev.number, rev.title, rev.body, rev.language, rev.tags) == (
        "poem",
        1,
        UDASI,
        POEM_BODY,
        "hi",
        ["उम्मीद", "नींद"],
    )
    assert (
        consent.audience,
        consent.attribution,
        consent.method,
        consent.review_by,
        consent.allow_collections,
        consent.allow_embeds,
        consent.content_notes,
    ) == ("circle", "name", "self", review_by, True, False, ["grief"])
    assert consent.receipt_id in html
    # only the hash of the code is kept: not the code, in any spelling, anywhere
    assert consent.withdrawal_code_hash == code_hash(code) == code_hash(code.lower())
    stored = database_text(app)
    for spelling in (code, code.replace("-", ""), code.lower()):
        assert spelling not in stored
    # the ledger holds no content
    for event in db.session.scalars(select(ConsentEvent)):
        stored = json.dumps(event.change, ensure_ascii=False)
        assert UDASI not in stored and "उम्मीद" not in stored

    page = client.get(item_url(item))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert code not in html
    assert f"<p>{POEM_LINES[0]}<br>\n{POEM_LINES[1]}</p>" in html
    content = [
        t
        for t in parse(html).tags
        if t.name == "div" and "text" in t.attrs.get("class", "").split()
    ]
    assert [t.attrs.get("lang") for t in content] == ["hi"]
    assert '<h1 lang="hi">उदासी</h1>' in html
    assert "Content note: this piece speaks of grief and loss" in text_of(page)


@pytest.mark.any_database
def test_the_receipt_code_is_shown_on_the_receipt_alone(app, people, signed_in):
    client = signed_in(people["asha"])
    code = CODE.search(contribute(client, "ghar", poem_form()).get_data(as_text=True)).group(1)
    item = only_item()
    assert code in client.get(item_url(item) + "/receipt").get_data(as_text=True)
    for path in ("", "/history", "/receipt.json", "/versions/1"):
        response = client.get(item_url(item) + path)
        assert response.status_code == 200, path
        assert code not in response.get_data(as_text=True), path
    # the API ignores the session cookie: it needs a token, and it has no code either
    assert client.get(f"/api/v1/items/{item.public_id}").status_code == 404
    token = create_token(people["asha"])
    db.session.commit()
    response = client.get(f"/api/v1/items/{item.public_id}", headers=api_headers(token))
    assert response.status_code == 200 and code not in response.get_data(as_text=True)


# --- artwork ----------------------------------------------------------------------------------


@pytest.mark.any_database
@pytest.mark.parametrize(
    "photo",
    [corpus_gps_photo, gps_photo],
    ids=["pillow-corpus exif_gps.jpg", "made with GPS and camera make"],
)
def test_artwork_is_served_without_its_metadata(app, people, signed_in, make_client, photo):
    upload = photo()
    client = signed_in(people["asha"])
    response = contribute(client, "ghar", artwork_form(upload, audience="public"))
    assert response.status_code == 200, text_of(response)[:3000]

    item = only_item()
    asset = item.current.media
    page = client.get(item_url(item)).get_data(as_text=True)
    urls = image_urls(page)
    preview = f"/media/{asset.public_id}/preview"  # the JPEG for link previews
    assert sorted(urls + [preview]) == sorted(
        f"/media/{asset.public_id}/{name}" for name in asset.derivatives
    )
    assert f'alt="{ALT_TEXT}"' in page
    served = set()
    for reader in (client, make_client()):  # its contributor, and anyone (it is public)
        for url in urls + [preview]:
            image = reader.get(url)
            assert image.status_code == 200, url
            assert image.mimetype == ("image/jpeg" if url == preview else "image/webp")
            assert image.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in image.headers["Content-Security-Policy"]
            assert_clean(image.data)
            served.add(sha256(image.data))

    files = media_files(app)
    assert len(files) == len(asset.derivatives)
    on_disk = {sha256(path.read_bytes()) for path in files}
    assert sha256(upload) not in on_disk
    assert on_disk == served
    for path in files:
        assert_clean(path.read_bytes())
        assert upload not in path.read_bytes()


def assert_clean(data: bytes) -> None:
    """A WebP, or the JPEG preview, that carries no EXIF, GPS, camera or owner's name."""
    if data.startswith(b"RIFF"):
        assert_clean_webp(data)
        return
    picture = Image.open(io.BytesIO(data), formats=["JPEG"])
    assert not dict(picture.getexif()) and not {"exif", "xmp", "icc_profile"} & set(picture.info)
    for marker in (b"Exif", b"GPS", b"XMP", CAMERA.encode(), OWNER.encode()):
        assert marker not in data, marker


@pytest.mark.any_database
def test_artwork_needs_alt_text(app, people, signed_in):
    client = signed_in(people["asha"])
    before = row_counts()
    response = contribute(client, "ghar", artwork_form(gps_photo(), alt_text=""))
    assert response.status_code == 422
    assert "Please describe the artwork in a sentence or two" in text_of(response)
    assert row_counts() == before
    assert piece_files(app) == []  # the photo is only kept for her, while she fixes it


# --- recording for someone --------------------------------------------------------------------


def test_a_facilitator_records_for_someone_without_an_account(app, people, signed_in):
    meera = people["meera"]
    client = signed_in(meera)
    form_page = client.get("/circles/ghar/contribute").get_data(as_text=True)
    assert 'value="new"' in form_page and f'value="account:{people["ravi"].id}"' in form_page
    assert f'value="account:{people["sunil"].id}"' not in form_page

    response = contribute(
        client,
        "ghar",
        poem_form(
            contributor="new",
            new_pseudonym="नीला आसमान",
            method="verbal",
            attribution="pseudonym",
            pseudonym="नीला",
        ),
    )

    assert response.status_code == 200, text_of(response)[:3000]
    receipt = text_of(response)
    assert "recorded by Meera Facilitator" in receipt
    assert "They gave consent aloud, and I am recording it" in receipt
    assert CODE.search(response.get_data(as_text=True))
    item = only_item()
    profile = item.contributor
    assert (profile.account_id, profile.pseudonym, profile.circle_id, profile.created_by_id) == (
        None,
        "नीला आसमान",
        people["home"].id,
        meera.id,
    )
    assert (item.consent.method, item.consent.recorded_by_id) == ("verbal", meera.id)
    event = db.session.scalar(select(ConsentEvent))
    assert (event.actor_id, event.actor_role) == (meera.id, "facilitator")
    assert item.current.author_id == meera.id
    # the profile is offered next time, so the same person's pieces stay together
    assert f'value="profile:{profile.id}"' in client.get("/circles/ghar/contribute").get_data(
        as_text=True
    )


@pytest.mark.any_database
@pytest.mark.parametrize("contributor", ["ravi", "new", "profile"])
def test_a_participant_cannot_record_for_someone_else(app, people, signed_in, contributor):
    from archive.operations.items import create_profile

    profile = create_profile(people["meera"], people["home"], "छाया")
    db.session.commit()
    value = {
        "ravi": f"account:{people['ravi'].id}",
        "new": "new",
        "profile": f"profile:{profile.id}",
    }[contributor]
    before = row_counts()
    response = contribute(
        signed_in(people["asha"]),
        "ghar",
        poem_form(contributor=value, new_pseudonym="कोई", method="written"),
    )
    assert response.status_code == 422
    assert '<a href="#contributor">Whose piece is this?</a>' in text_of(response)
    assert row_counts() == before


@pytest.mark.any_database
def test_a_facilitator_of_another_circle_cannot_record_here(app, people, signed_in):
    farah = signed_in(people["farah"])
    ravi = people["ravi"]
    before = row_counts()
    assert farah.get("/circles/ghar/contribute").status_code == 404
    response = contribute(
        farah, "ghar", poem_form(contributor=f"account:{ravi.id}", method="written")
    )
    assert response.status_code == 404
    response = contribute(
        farah, "elsewhere", poem_form(contributor=f"account:{ravi.id}", method="written")
    )
    assert response.status_code == 422
    assert "Please choose one of the options." in text_of(response)
    assert row_counts() == before


# --- revisions ------------------------------------------------------------------------------


@pytest.fixture
def poem(people, signed_in):
    """asha's Hindi poem, shared with her circle; (client, item)."""
    client = signed_in(people["asha"])
    assert contribute(client, "ghar", poem_form()).status_code == 200
    return client, only_item()


def test_edits_are_new_revisions_and_earlier_ones_never_change(app, poem):
    client, item = poem
    first = revision_rows(item.id)

    response = edit(client, item, body=POEM_BODY.replace(UDASI, KHUSHI_TYPED), note="एक शब्द बदला")
    assert response.status_code == 302 and response.location == item_url(item)
    second = revision_rows(item.id)
    assert len(second) == 2 and second[0] == first[0]
    assert second[1]["body"] == POEM_BODY.replace(UDASI, KHUSHI)  # NFC: one word, one spelling
    assert KHUSHI_TYPED not in second[1]["body"]

    db.session.expire_all()
    assert edit(client, item, tags="उम्मीद, सुबह").status_code == 302
    third = revision_rows(item.id)
    assert len(third) == 3 and third[:2] == second
    db.session.expire_all()
    assert (item.current.number, item.current.tags) == (3, ["उम्मीद", "सुबह"])

    history = client.get(f"{item_url(item)}/history")
    assert history.status_code == 200
    text = text_of(history)
    for n in (1, 2, 3):
        assert f"Version {n}" in text
    assert "एक शब्द बदला" in text and "edited by" not in text
    # the edit form does not carry the last edit's note into the next one
    form = client.get(f"{item_url(item)}/edit").get_data(as_text=True)
    assert "एक शब्द बदला" not in form


@pytest.mark.any_database
def test_a_diff_marks_whole_devanagari_words(app, poem):
    client, item = poem
    assert edit(client, item, body=POEM_BODY.replace(UDASI, KHUSHI_TYPED)).status_code == 302
    response = client.get(f"{item_url(item)}/diff?from=1&to=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<del>{UDASI}</del>" in html
    assert f"<ins>{KHUSHI}</ins>" in html
    assert "1 word added · 1 word removed" in html
    assert html.count("<del>") == html.count("<ins>") == 1  # आज मन में … है stays as it was
    assert f"{POEM_LINES[1]}</li>" in html
    # the default diff is the latest change, and the version page shows the old words
    assert (
        client.get(f"{item_url(item)}/diff").get_data(as_text=True).count(f"<del>{UDASI}</del>")
        == 1
    )
    assert UDASI in client.get(f"{item_url(item)}/versions/1").get_data(as_text=True)
    assert client.get(f"{item_url(item)}/diff?from=1&to=9").status_code == 404


def test_restore_copies_an_old_version_into_a_new_one(app, poem):
    client, item = poem
    assert edit(client, item, body="पूरी नई कविता", tags="सुबह").status_code == 302
    db.session.expire_all()
    assert edit(client, item, title="ख़ुशी", language="hi").status_code == 302
    before = revision_rows(item.id)
    history_url = f"{item_url(item)}/history"

    response = client.post_form(f"{item_url(item)}/versions/1/restore", {}, page=history_url)

    assert response.status_code == 302 and response.location == item_url(item)
    after = revision_rows(item.id)
    assert len(after) == len(before) + 1 and after[:-1] == before
    old, new = after[0], after[-1]
    copied = ("title", "body", "language", "tags", "media_asset_id", "alt_text")
    assert {k: new[k] for k in copied} == {k: old[k] for k in copied}
    assert (new["number"], new["restored_from"]) == (4, 1)
    db.session.expire_all()
    assert item.current.number == 4
    assert "Version 1 is back, saved as a new version." in text_of(client.get(item_url(item)))
    assert "brought back from version 1" in text_of(client.get(history_url))
    assert POEM_LINES[0] in client.get(item_url(item)).get_data(as_text=True)

    again = client.post_form(f"{item_url(item)}/versions/4/restore", {}, page=history_url)
    assert again.status_code == 302
    assert "This is already the current version." in text_of(client.get(history_url))
    assert len(revision_rows(item.id)) == 4
    assert (
        client.post_form(f"{item_url(item)}/versions/9/restore", {}, page=history_url).status_code
        == 302
    )
    assert len(revision_rows(item.id)) == 4


@pytest.mark.any_database
def test_saving_without_a_change_is_refused(app, poem):
    client, item = poem
    before = row_counts()
    response = edit(client, item)
    assert response.status_code == 422
    assert "Nothing has changed yet. Edit something, then save." in text_of(response)
    assert row_counts() == before
    # a different spelling of the same words is no change either
    response = edit(client, item, body=POEM_BODY.replace("\n", "\r\n"))
    assert response.status_code == 422
    assert row_counts() == before


@pytest.mark.any_database
def test_a_facilitators_edit_of_a_stewarded_item_is_theirs(app, people, signed_in):
    meera = people["meera"]
    client = signed_in(meera)
    assert (
        contribute(
            client,
            "ghar",
            poem_form(contributor="new", new_pseudonym="छाया", method="verbal", audience="private"),
        ).status_code
        == 200
    )
    item = only_item()
    assert edit(client, item, body="उन्होंने कहा: एक पंक्ति और").status_code == 302
    db.session.expire_all()
    assert item.current.author_id == meera.id
    history = text_of(client.get(f"{item_url(item)}/history"))
    assert history.count("edited by Meera Facilitator") == 2
    # asha's own edits of her own piece are not labelled
    asha = signed_in(people["asha"])
    assert contribute(asha, "ghar", poem_form()).status_code == 200
    own = newest_item()
    assert edit(asha, own, body="मेरी नई पंक्ति").status_code == 302
    assert "edited by" not in text_of(asha.get(f"{item_url(own)}/history"))


def test_replacing_the_artwork_keeps_the_old_version_viewable(app, people, signed_in, make_client):
    client = signed_in(people["asha"])
    assert contribute(client, "ghar", artwork_form(gps_photo())).status_code == 200
    item = only_item()
    old_urls = image_urls(client.get(item_url(item)).get_data(as_text=True))

    response = edit(
        client,
        item,
        image=(io.BytesIO(gps_photo(colour=(20, 160, 60))), "second.jpg", "image/jpeg"),
        note="नई फ़ोटो",
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert item.current.number == 2
    assets = list(db.session.scalars(select(MediaAsset).order_by(MediaAsset.id)))
    assert len(assets) == 2 and item.current.media_asset_id == assets[1].id
    new_urls = image_urls(client.get(item_url(item)).get_data(as_text=True))
    assert new_urls and not set(new_urls) & set(old_urls)
    assert sorted(
        image_urls(client.get(f"{item_url(item)}/versions/1").get_data(as_text=True))
    ) == sorted(old_urls)
    ravi, sunil, anonymous = (signed_in(people["ravi"]), signed_in(people["sunil"]), make_client())
    for url in old_urls + new_urls:
        for reader in (client, ravi):
            served = reader.get(url)
            assert served.status_code == 200 and served.mimetype == "image/webp", url
            assert_clean_webp(served.data)
        for outsider in (sunil, anonymous):
            assert outsider.get(url).status_code == 404, url
    assert len(media_files(app)) == sum(len(a.derivatives) for a in assets)
    # a diff between the two versions is fine (the words are the same, the picture is not)
    assert client.get(f"{item_url(item)}/diff?from=1&to=2").status_code == 200


@pytest.mark.any_database
def test_only_the_contributor_edits_their_own_piece(app, poem, people, signed_in):
    _client, item = poem
    for name in ("ravi", "meera"):
        other = signed_in(people[name])
        assert other.get(item_url(item)).status_code == 200
        assert other.get(f"{item_url(item)}/edit").status_code == 403
        before = row_counts()
        response = other.post_form(
            f"{item_url(item)}/edit",
            {"title": "मेरा", "body": "मेरा", "language": "hi"},
            page=item_url(item),
        )
        assert response.status_code == 403
        restore = other.post_form(f"{item_url(item)}/versions/1/restore", {}, page=item_url(item))
        assert restore.status_code == 403
        assert row_counts() == before


# --- hostile Markdown -----------------------------------------------------------------------

HOSTILE_BODY = "\n\n".join(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<iframe src=//evil.example></iframe>",
        "[x](javascript:alert(1))",
        '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
        "<svg onload=alert(1)><circle r=1 /></svg>",
        '<p style="background:url(https://evil.example/t.png)" onclick="alert(1)">शब्द</p>',
        "![tracker](https://evil.example/pixel.png)",
        "<object data=https://evil.example/x.swf></object><embed src=https://evil.example/y>",
        '<link rel=stylesheet href=https://evil.example/s.css><base href="https://evil.example/">',
        "सुरक्षित पंक्ति",
    ]
)


@pytest.mark.any_database
def test_hostile_markdown_renders_inert(app, people, signed_in, make_client):
    client = signed_in(people["asha"])
    response = contribute(client, "ghar", poem_form(body=HOSTILE_BODY, audience="public"))
    assert response.status_code == 200, text_of(response)[:3000]
    item = only_item()
    assert item.current.body == HOSTILE_BODY  # kept as written: it is made safe when shown

    for reader in (client, make_client()):
        html = reader.get(item_url(item)).get_data(as_text=True)
        content = main_html(html)
        tags = parse(content).tags
        names = {tag.name for tag in tags}
        assert not names & {
            "script",
            "img",
            "iframe",
            "svg",
            "object",
            "embed",
            "link",
            "base",
            "style",
            "form",
        }, names
        for tag in tags:
            for attribute, value in tag.attrs.items():
                assert not attribute.startswith("on"), (tag.name, attribute)
                assert attribute != "style", tag.name
                if attribute == "href":
                    assert not re.match(r"\s*(javascript|data|vbscript):", value, re.I), value
        assert "evil.example" not in "".join(value for tag in tags for value in tag.attrs.values())
        assert third_party_fetches(html) == []
        assert "सुरक्षित पंक्ति" in content
    api = make_client().get(f"/api/v1/items/{item.public_id}").json["html"]
    assert "<script" not in api and "onerror" not in api and "javascript:" not in api


@pytest.mark.any_database
@pytest.mark.parametrize(
    "title",
    [
        '"><script>alert(1)</script>',
        "<b>मोटा</b>",
        "</title><script>alert(1)</script>",
        "{{ 7*7 }} {% raw %}",
        "' onmouseover='alert(1)",
    ],
)
def test_hostile_titles_are_escaped_everywhere(app, people, signed_in, make_client, title):
    client = signed_in(people["asha"])
    response = contribute(client, "ghar", poem_form(title=title, audience="public", tags="भरोसा"))
    assert response.status_code == 200
    item = only_item()
    assert item.current.title == title.strip()
    assert edit(client, item, body="दूसरी बार").status_code == 302
    for path in (
        item_url(item),
        f"{item_url(item)}/history",
        f"{item_url(item)}/versions/1",
        f"{item_url(item)}/diff",
        "/tags/भरोसा",
        "/circles/ghar",
        "/",
        f"{item_url(item)}/edit",
        f"{item_url(item)}/receipt",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<script" not in html and "<b>" not in html, path
        assert "onmouseover='" not in html, path
        assert str(escape(title.strip())) in html, path


@pytest.mark.any_database
@pytest.mark.parametrize(
    "tags", ["<b>bold</b>", '"><script>alert(1)</script>', "ok, <i>", "a&b", "javascript:alert(1)"]
)
def test_hostile_tags_are_refused(app, people, signed_in, tags):
    client = signed_in(people["asha"])
    before = row_counts()
    response = contribute(client, "ghar", poem_form(tags=tags))
    assert response.status_code == 422
    assert "A tag is a word or a few words" in text_of(response)
    assert "<script>alert" not in response.get_data(as_text=True)
    assert row_counts() == before


@pytest.mark.any_database
def test_item_pages_are_not_cached_for_signed_in_readers(app, poem):
    client, item = poem
    for path in ("", "/history", "/edit", "/diff", "/versions/1"):
        assert client.get(item_url(item) + path).headers["Cache-Control"] == "no-store", path


def test_a_contributor_profile_is_made_once(app, people, signed_in):
    client = signed_in(people["asha"])
    for _ in range(2):
        assert contribute(client, "ghar", poem_form()).status_code == 200
    assert (
        db.session.scalar(select(Contributor.id).where(Contributor.account_id == people["asha"].id))
        is not None
    )
    assert len(list(db.session.scalars(select(Contributor)))) == 1
    assert len(list(db.session.scalars(select(Item)))) == 2


# --- two people editing at once ---------------------------------------------------------------


def test_a_save_based_on_an_older_version_keeps_the_text_and_shows_what_changed(
    app, people, signed_in
):
    asha = people["asha"]
    client = signed_in(asha)
    assert contribute(client, "ghar", poem_form()).status_code == 200
    item = only_item()
    page = text_of(client.get(f"{item_url(item)}/edit"))
    assert 'name="base" type="hidden" value="1"' in page
    # another tab (or the facilitator, for a steward) saves first
    assert edit(client, item, body="पहली पंक्ति बदली\nकल फिर सुबह होगी", base="1").status_code == 302
    mine = "मेरी अपनी पंक्ति\nकल फिर सुबह होगी"
    late = edit(client, only_item(), body=mine, base="1", note="मेरा बदलाव")
    assert late.status_code == 409
    shown = text_of(late)
    assert "Saved meanwhile: version 2" in shown and mine in shown  # nothing lost
    assert "<ins" in late.get_data(as_text=True) and "बदली" in shown  # their change, as a diff
    assert 'name="base" type="hidden" value="2"' in shown  # saving again: on top
    assert only_item().current.number == 2 and len(revision_rows(only_item().id)) == 2
    again = edit(client, only_item(), body=mine, base="2")
    assert again.status_code == 302
    assert only_item().current.body == mine and only_item().current.number == 3


def test_restoring_from_an_old_history_page_is_not_applied(app, people, signed_in):
    client = signed_in(people["asha"])
    contribute(client, "ghar", poem_form())
    item = only_item()
    assert edit(client, item, body="दूसरा रूप", base="1").status_code == 302
    history = client.get(f"{item_url(item)}/history").get_data(as_text=True)
    assert 'name="base" value="2"' in history
    assert edit(client, only_item(), body="तीसरा रूप", base="2").status_code == 302
    stale = client.post_form(
        f"{item_url(item)}/versions/1/restore", {"base": "2"}, page=f"{item_url(item)}/history"
    )
    assert stale.status_code == 302
    assert only_item().current.number == 3  # the restore did not land
    fresh = client.post_form(
        f"{item_url(item)}/versions/1/restore", {"base": "3"}, page=f"{item_url(item)}/history"
    )
    assert fresh.status_code == 302 and only_item().current.number == 4
    assert only_item().current.restored_from == 1
