"""What PostgreSQL enforces and SQLite does not: the lengths of ``VARCHAR`` columns.

NFC can make Devanagari longer: क़ (U+0958) is never composed, so it is kept as क + ़, two
characters. A title of 100 such letters fills the 200-character column exactly; one more
letter must give a clear, translated message and store nothing (not a database error and
a 500 page), through the web form and the API alike, on both databases."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from archive.db import db
from archive.models import Item, Revision
from archive.operations.accounts import create_token
from tests.items_helpers import api_headers, circle_people, contribute, poem_form  # noqa: F401

pytestmark = pytest.mark.both_databases

QA = "\u0958"  # क़, which NFC spells with two characters


def items() -> int:
    return db.session.scalar(select(func.count()).select_from(Item))


def test_nfc_spells_the_letter_with_two_characters():
    assert len(unicodedata.normalize("NFC", QA * 100)) == 200


def test_a_title_that_fills_the_column_after_nfc_is_kept(app, circle_people, signed_in):
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", poem_form(title=QA * 100))
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.scalar(select(func.length(Revision.title))) == 200


def test_one_letter_more_is_refused_in_the_person_s_language(app, circle_people, signed_in):
    client = signed_in(circle_people["asha"])
    response = contribute(client, "ghar", poem_form(title=QA * 101))
    assert response.status_code == 422
    assert "Please keep the title under 201 characters." in response.get_data(as_text=True)
    db.session.expire_all()
    assert items() == 0


def test_the_api_refuses_it_too_and_keeps_nothing(app, client, circle_people):
    token = create_token(circle_people["asha"])
    db.session.commit()
    body = {
        "circle": "ghar",
        "kind": "poem",
        "title": QA * 101,
        "body": "एक पंक्ति",
        "language": "hi",
        "consent": {"audience": "circle"},
    }
    response = client.post("/api/v1/items", json=body, headers=api_headers(token))
    # 201 letters once normalised (each क़ becomes two), so a rule refuses it, not the document
    assert response.status_code == 409, response.get_data(as_text=True)[:2000]
    assert "201" in response.get_data(as_text=True)
    db.session.expire_all()
    assert items() == 0
