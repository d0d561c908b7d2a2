"""Consent receipts in the shape of the Kantara Initiative Consent Receipt v1.1, where its
fields apply to a peer archive. The withdrawal code is never part of it.

The field names and codes are the standard's; the words in them (purposes, how consent was
given, how to withdraw) are in the reader's language, and ``consentTime`` gives the moment
in the site's zone with its offset beside the standard's ``consentTimestamp`` (Unix time)."""

from __future__ import annotations

from datetime import UTC

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from archive import access
from archive.dates import iso
from archive.labels import audience_name
from archive.models import Item

PURPOSES = {
    "collections": _l("Include the piece in collections made by the circle"),
    "embeds": _l("Let advocates quote or embed the piece on other websites"),
    "packs": _l("Include the piece in offline packs"),
}
METHODS = {
    "self": _l("online form, by the contributor"),
    "written": _l("written consent, recorded by a facilitator"),
    "verbal": _l("verbal consent, recorded by a facilitator"),
}


def kantara_receipt(item: Item) -> dict:
    consent = item.consent
    assert consent is not None  # a receipt is made only for a piece that has its consent
    allowed = {
        "collections": consent.allow_collections,
        "embeds": consent.allow_embeds,
        "packs": consent.allow_packs,
    }
    audience = _(
        "Show the piece to the chosen audience (%(audience)s)",
        audience=audience_name(consent.audience),
    )
    purposes = [_purpose(audience, True)]
    purposes += [_purpose(str(PURPOSES[name]), False) for name, on in allowed.items() if on]
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "IN",
        "consentTimestamp": int(consent.created_at.replace(tzinfo=UTC).timestamp()),
        "consentTime": iso(consent.created_at),
        "collectionMethod": str(METHODS[consent.method]),
        "consentReceiptID": consent.receipt_id,
        "language": consent.language,
        "piiPrincipalId": access.byline(item) or _("anonymous"),
        "piiControllers": [
            {"piiController": _("Living Archive"), "url": url_for("pages.home", _external=True)}
        ],
        "policyUrl": url_for("pages.home", _external=True),
        "services": [
            {"service": _("Living Archive item %(id)s", id=item.public_id), "purposes": purposes}
        ],
        "sensitive": True,
        "spiCat": ["health"] if consent.content_notes else [],
        "withdrawal": {
            "url": url_for("consent.withdraw_by_code", _external=True),
            "how": _(
                "Enter the withdrawal code printed on the receipt; no "
                "account is needed. Withdrawal erases the piece everywhere."
            ),
        },
        "reviewBy": consent.review_by.isoformat() if consent.review_by else None,
    }


def _purpose(text: str, primary: bool) -> dict:
    return {
        "purpose": text,
        "purposeCategory": [_("sharing of personal writing and art")],
        "consentType": "EXPLICIT",
        "piiCategory": [_("personal narrative")],
        "primaryPurpose": primary,
        "termination": _("until withdrawn by the contributor"),
        "thirdPartyDisclosure": False,
    }
