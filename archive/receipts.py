"""Consent receipts in the shape of the Kantara Initiative Consent Receipt v1.1, where its
fields apply to a peer archive. The withdrawal code is never part of it."""
from __future__ import annotations

from flask import url_for

from archive import access
from archive.models import Item

PURPOSES = {
    "audience": "Show the piece to the chosen audience ({value})",
    "collections": "Include the piece in collections made by the circle",
    "embeds": "Let advocates quote or embed the piece on other websites",
    "packs": "Include the piece in offline packs",
}


def kantara_receipt(item: Item) -> dict:
    consent = item.consent
    allowed = {"collections": consent.allow_collections, "embeds": consent.allow_embeds,
               "packs": consent.allow_packs}
    purposes = [_purpose(PURPOSES["audience"].format(value=consent.audience), True)]
    purposes += [_purpose(PURPOSES[name], False) for name, on in allowed.items() if on]
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "IN",
        "consentTimestamp": int(consent.created_at.timestamp()),
        "collectionMethod": {"self": "online form, by the contributor",
                             "written": "written consent, recorded by a facilitator",
                             "verbal": "verbal consent, recorded by a facilitator"
                             }[consent.method],
        "consentReceiptID": consent.receipt_id,
        "language": consent.language,
        "piiPrincipalId": access.byline(item) or "anonymous",
        "piiControllers": [{"piiController": "Living Archive",
                            "url": url_for("pages.home", _external=True)}],
        "policyUrl": url_for("pages.home", _external=True),
        "services": [{"service": "Living Archive item " + item.public_id,
                      "purposes": purposes}],
        "sensitive": True,
        "spiCat": ["health"] if consent.content_notes else [],
        "withdrawal": {"url": url_for("consent.withdraw_by_code", _external=True),
                       "how": "Enter the withdrawal code printed on the receipt; no account "
                              "is needed. Withdrawal erases the piece everywhere."},
        "reviewBy": consent.review_by.isoformat() if consent.review_by else None,
    }


def _purpose(text: str, primary: bool) -> dict:
    return {"purpose": text, "purposeCategory": ["sharing of personal writing and art"],
            "consentType": "EXPLICIT", "piiCategory": ["personal narrative"],
            "primaryPurpose": primary, "termination": "until withdrawn by the contributor",
            "thirdPartyDisclosure": False}
