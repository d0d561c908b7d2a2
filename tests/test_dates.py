"""One date style per language, times in the site's zone with the zone named, and an export
a person can read: times with their offset, folders named by title, and its README and
receipts in the person's own language."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC
from zoneinfo import ZoneInfo

from babel import dates as babel
from flask_babel import force_locale, gettext
from sqlalchemy import select

from archive.export import folder_name
from archive.models import ConsentEvent
from archive.operations.items import revisions
from tests.erasure_helpers import revise, share

KOLKATA = ZoneInfo("Asia/Kolkata")
#: Babel's 'short' dates, as history and the ledger showed them before (7/12/26)
SHORT_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b")


def in_kolkata(moment):
    return moment.replace(tzinfo=UTC).astimezone(KOLKATA)


def day(moment, locale: str) -> str:
    return babel.format_date(in_kolkata(moment).date(), "medium", locale=locale)


def day_and_time(moment, locale: str) -> str:
    """The one date-and-time style: the list's date, the time, and the zone named."""
    time = babel.format_time(in_kolkata(moment), "short", locale=locale)
    return f"{day(moment, locale)}, {time} IST"


def test_history_ledger_receipt_and_lists_share_one_date_style(
    make_circle, make_account, signed_in
):
    circle = make_circle()
    for locale, title in (("hi", "सुबह की धूप"), ("mr", "पावसाळी संध्याकाळ")):
        person = make_account(circle=circle, locale=locale)
        piece = share(
            person,
            circle,
            title=title,
            kind="poem",
            body="पहिली ओळ\nदुसरी ओळ",
            audience="circle",
            language=locale,
        )
        piece = revise(person, piece, body="पहिली ओळ\nतिसरी ओळ")
        item = piece.item()
        client = signed_in(person)
        pages = {
            path: client.get(path).get_data(as_text=True)
            for path in (
                f"/circles/{circle.slug}",
                f"{piece.url}/history",
                "/account/ledger",
                f"{piece.url}/receipt",
            )
        }

        assert day(item.updated_at, locale) in pages[f"/circles/{circle.slug}"]
        for rev in revisions(item):
            assert day_and_time(rev.created_at, locale) in pages[f"{piece.url}/history"]
        granted = db_events(piece.public_id)[0]
        assert day_and_time(granted.created_at, locale) in pages["/account/ledger"]
        assert day_and_time(item.consent.created_at, locale) in pages[f"{piece.url}/receipt"]
        for path, page in pages.items():
            assert not SHORT_DATE.search(page), (locale, path)


def db_events(public_id: str) -> list[ConsentEvent]:
    from archive.db import db

    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.item_public_id == public_id)
            .order_by(ConsentEvent.id)
        )
    )


def test_folders_are_named_by_a_readable_title_and_a_short_id():
    taken: set[str] = set()
    assert folder_name("उदासी की शाम", "AbCdEfGh12345678", taken) == "udasi-ki-sham-AbCdEfGh"
    assert folder_name("Café  days!", "x1y2z3w4q5r6s7t8", taken) == "cafe-days-x1y2z3w4"
    assert folder_name("شام کی چائے", "Qq11Ww22Ee33Rr44", taken) == "شام-کی-چائے-Qq11Ww22"
    assert folder_name("***", "Zz99Yy88Xx77Ww66", taken) == "Zz99Yy88"
    same = folder_name("उदासी की शाम", "abCdEfGhXXXXXXXX", taken)
    assert same == "udasi-ki-sham-abCdEfGhXXXXXXXX", "never two folders one name apart by case"
    assert len(folder_name("बहुत " * 40, "Mm00Nn00Oo00Pp00", taken)) <= 70


def test_a_marathi_export_speaks_marathi_and_gives_times_with_their_offset(
    app, make_circle, make_account, signed_in
):
    circle = make_circle()
    person = make_account(circle=circle, locale="mr")
    piece = share(
        person, circle, title="पाऊस", kind="poem", body="पाऊस आला", audience="circle", language="mr"
    )
    saved = in_kolkata(piece.item().current.created_at).isoformat(timespec="seconds")

    response = signed_in(person).get("/account/export")
    archive = zipfile.ZipFile(io.BytesIO(response.data))

    folder = f"paus-{piece.public_id[:8]}"
    assert f"{folder}/revision-1.md" in archive.namelist()
    front = archive.read(f"{folder}/revision-1.md").decode()
    assert saved.endswith("+05:30") and f'saved: "{saved}"' in front
    readme = archive.read("README.txt").decode()
    receipt = json.loads(archive.read(f"{folder}/receipt.json"))
    with app.test_request_context(), force_locale("mr"):
        heading = gettext("Living Archive: your own copy")
        how = gettext(
            "Enter the withdrawal code printed on the receipt; no account is "
            "needed. Withdrawal erases the piece everywhere."
        )
    assert heading != "Living Archive: your own copy" and heading in readme
    assert "your own copy" not in readme and "IST" in readme
    assert receipt["withdrawal"]["how"] == how
    assert receipt["consentTime"].endswith("+05:30")
