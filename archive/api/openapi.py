"""The OpenAPI 3 document of API v1, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from flask import jsonify, url_for

from archive.api import bp
from archive.api.contract import VISIBLE
from archive.models import ATTRIBUTIONS, AUDIENCES, CONTENT_NOTES, KINDS, LANGUAGES, METHODS, STATES
from archive.numbers import MAX_PAGE
from archive.operations.items import MAX_BODY, MAX_TAG, MAX_TAGS, MAX_TITLE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


ERROR = {"description": "An error, explained", **_json(_ref("Error"))}
INVALID = {
    "description": "The request does not match this document; `problems` names every "
    "field that does not",
    **_json(_ref("Error")),
}
CONFLICT = {
    "description": "Well formed, but a rule of the archive refuses it as things stand "
    "(`field` and `error` say which): a slug already taken, nothing changed, an edit started "
    "from an older revision, a piece without the words, picture or description its kind "
    "needs, a facilitator acting without saying how the contributor asked, anyone but the "
    "contributor widening consent, a piece that may not go into a collection, …",
    **_json(_ref("Error")),
}
SEARCH_PARAMETERS: list[dict] = [
    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    },
    *(
        {"name": name, "in": "query", "schema": {"type": "string"}}
        for name in ("order", "kind", "language", "circle", "tag")
    ),
]
#: a date as YYYY-MM-DD (one that is not in the calendar, such as 30 February, is refused
#: as a rule: 409)
DAY = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
TOO_LARGE = {
    **ERROR,
    "description": "Too large to take: the request as a whole, or a part of a form",
}
#: text with something to read in it (not only spaces or invisible marks)
SOME_TEXT = {"type": "string", "minLength": 1, "pattern": VISIBLE}
ITEM_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
CONCEPT_ID = {
    "name": "concept_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
ENTRY_ID = {
    "name": "entry_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}

LABELS = {
    "type": "object",
    "description": "The concept's name in each language; at least one",
    "properties": {locale: {"type": "string", "maxLength": 40} for locale in ("en", "hi", "mr")},
}

SCHEMAS: dict[str, dict] = {
    "ConceptLabels": LABELS,
    "NewConcept": {
        "type": "object",
        "required": ["tags", "labels"],
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Tags of the circle's pieces you may see; a tag already in "
                "a concept brings that concept along",
            },
            "labels": LABELS,
        },
    },
    "Concept": {
        "type": "object",
        "required": ["id", "labels", "tags", "count"],
        "properties": {
            "id": {"type": "integer"},
            "labels": LABELS,
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Its tags on pieces you may see",
            },
            "count": {"type": "integer", "description": "Pieces you may see that carry it"},
        },
    },
    "Vocabulary": {
        "type": "object",
        "required": ["circle", "tags", "concepts"],
        "properties": {
            "circle": {"type": "string", "description": "The circle's slug"},
            "tags": {
                "type": "array",
                "description": "The tags of the pieces you may see, with how many carry each",
                "items": {
                    "type": "object",
                    "required": ["tag", "count"],
                    "properties": {"tag": {"type": "string"}, "count": {"type": "integer"}},
                },
            },
            "concepts": {"type": "array", "items": _ref("Concept")},
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer"},
            "field": {"type": "string"},
            "problems": {
                "type": "array",
                "description": "Every problem found in the request at "
                "once (``error`` and ``field`` are the first of them)",
                "items": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"field": {"type": "string"}, "error": {"type": "string"}},
                },
            },
            "not_public": {
                "type": "array",
                "description": "A collection that cannot be made "
                "public: each piece keeping it back that you may see",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "audience": {"type": "string", "enum": ["private", "circle"]},
                    },
                },
            },
            "not_public_hidden": {
                "type": "integer",
                "description": "how many more, which you may not see",
            },
            "current_revision": {
                "type": "integer",
                "description": "An edit refused because it started from an older "
                "revision: the current one",
            },
        },
    },
    "Consent": {
        "type": "object",
        "properties": {
            "audience": {"type": "string", "enum": list(AUDIENCES)},
            "effective_audience": {
                "type": "string",
                "enum": list(AUDIENCES),
                "description": "private once the review date has passed",
            },
            "attribution": {"type": "string", "enum": list(ATTRIBUTIONS)},
            "pseudonym": {"type": ["string", "null"], "description": "null: none given"},
            "collections": {"type": "boolean"},
            "embeds": {"type": "boolean"},
            "packs": {"type": "boolean"},
            "review_by": {"type": ["string", "null"], "format": "date", "pattern": DAY},
            "content_notes": {"type": "array", "items": {"type": "string"}},
            "method": {"type": "string", "enum": list(METHODS)},
            "receipt_id": {"type": ["string", "null"]},
        },
    },
    "NewConsent": {
        "type": "object",
        "properties": {
            "audience": {"type": "string", "enum": list(AUDIENCES), "default": "private"},
            "attribution": {
                "type": "string",
                "enum": list(ATTRIBUTIONS),
                "default": "anonymous",
                "description": "pseudonym needs a pseudonym",
            },
            "pseudonym": {"type": "string", "maxLength": 80},
            "collections": {"type": "boolean", "default": False},
            "embeds": {"type": "boolean", "default": False},
            "packs": {"type": "boolean", "default": False},
            "review_by": {
                "type": ["string", "null"],
                "format": "date",
                "pattern": DAY,
                "description": "A day in the future, or null for none",
            },
            "method": {
                "type": "string",
                "enum": list(METHODS),
                "description": "How the contributor gave consent: self for your own piece; "
                "needed when recording for someone else",
            },
        },
    },
    "NewItem": {
        "type": "object",
        "required": ["kind", "title", "circle"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "title": {**SOME_TEXT, "maxLength": MAX_TITLE},
            "body": {
                "type": "string",
                "maxLength": MAX_BODY,
                "description": "Markdown; line breaks are kept. Needed, and not blank, for "
                "every kind but artwork",
            },
            "language": {"type": "string", "enum": list(LANGUAGES), "default": "en"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": MAX_TAG},
                "maxItems": MAX_TAGS,
            },
            "note": {"type": "string", "maxLength": 200, "description": "About this version"},
            "content_notes": {
                "type": "array",
                "items": {"type": "string", "enum": list(CONTENT_NOTES)},
            },
            "alt_text": {
                "type": "string",
                "maxLength": 1000,
                "description": "Required for artwork",
            },
            "circle": {"type": "string", "description": "Slug of a circle you belong to"},
            "contributor": {
                "description": "For a facilitator recording for someone: a "
                "member's username, {username}, {profile: id} or "
                "{pseudonym} for a new profile without an account",
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string"},
                            "profile": {"type": "integer"},
                            "pseudonym": {"type": "string", "maxLength": 80},
                        },
                    },
                ],
            },
            "consent": _ref("NewConsent"),
        },
    },
    "Created": {
        "type": "object",
        "required": ["id", "url", "revision", "state", "receipt"],
        "properties": {
            "id": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "revision": {"type": "integer"},
            "state": {
                "type": "string",
                "enum": ["active", "proposed"],
                "description": "proposed: recorded for a member with an account, waiting "
                "for them to agree; only they will receive its receipt",
            },
            "receipt": {"oneOf": [_ref("Receipt"), {"type": "null"}]},
        },
    },
    "Receipt": {
        "type": "object",
        "required": ["id", "withdrawal_code"],
        "properties": {
            "id": {"type": "string"},
            "withdrawal_code": {"type": "string", "description": "Shown only in this reply"},
        },
    },
    "ConsentChange": {
        "type": "object",
        "properties": {
            "audience": {"type": "string", "enum": list(AUDIENCES)},
            "attribution": {"type": "string", "enum": list(ATTRIBUTIONS)},
            "pseudonym": {"type": "string", "maxLength": 80},
            "collections": {"type": "boolean"},
            "embeds": {"type": "boolean"},
            "packs": {"type": "boolean"},
            "content_notes": {
                "type": "array",
                "items": {"type": "string", "enum": list(CONTENT_NOTES)},
            },
            "review_by": {"type": ["string", "null"], "format": "date", "pattern": DAY},
            "reason": {
                "type": "string",
                "enum": ["in-person", "phone-or-message", "in-writing"],
                "description": "How the contributor asked: needed when a facilitator "
                "acts on their request",
            },
        },
        "description": "The fields to change; the rest stay. Only the contributor may widen "
        "(audience up, a name or other pseudonym shown, a permission on, a "
        "review date later or removed, a content note removed); anyone else "
        "may only narrow, and is answered 409 naming the field.",
    },
    "ConsentChanged": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "consent": _ref("Consent"),
            "changed": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Agreement": {"type": "object", "properties": {"consent": _ref("ConsentChange")}},
    "Agreed": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "state": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "receipt": _ref("Receipt"),
        },
    },
    "Item": {
        "type": "object",
        "required": ["id", "url", "kind", "title", "revision"],
        "properties": {
            "id": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "kind": {"type": "string", "enum": list(KINDS)},
            "circle": {"type": "string"},
            "revision": {"type": "integer"},
            "current_revision": {"type": "integer"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "html": {"type": "string"},
            "language": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "content_notes": {"type": "array", "items": {"type": "string"}},
            "byline": {
                "type": ["string", "null"],
                "description": "null when the contributor chose anonymity",
            },
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "media": {"type": ["object", "null"]},
            "state": {
                "type": "string",
                "enum": ["proposed"],
                "description": "Only on a piece recorded for you, waiting for you to agree",
            },
            "consent": {"description": "Only for those who may edit the item", **_ref("Consent")},
        },
    },
    "RevisionEdit": {
        "type": "object",
        "description": "The fields to change; the rest stay as in the current revision",
        "properties": {
            "title": {**SOME_TEXT, "maxLength": MAX_TITLE},
            "body": {"type": "string", "maxLength": MAX_BODY},
            "language": {"type": "string", "enum": list(LANGUAGES)},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": MAX_TAG},
                "maxItems": MAX_TAGS,
            },
            "alt_text": {"type": "string", "maxLength": 1000},
            "note": {"type": "string", "maxLength": 200},
            "base_revision": {
                "type": "integer",
                "minimum": 1,
                "description": "The revision the edit started from: if another "
                "was saved since, nothing is saved (409)",
            },
        },
    },
    "Revisions": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "revisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "integer"},
                        "title": {"type": "string"},
                        "language": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "note": {"type": "string"},
                        "restored_from": {"type": ["integer", "null"]},
                        "created_at": {"type": "string"},
                    },
                },
            },
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["total", "results", "facets"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "kind": {"type": "string"},
                        "language": {"type": "string"},
                        "snippet": {
                            "type": "string",
                            "description": "HTML: escaped text, <mark> hits",
                        },
                        "content_notes": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Show these before the snippet and its piece",
                        },
                        "url": {"type": "string", "format": "uri"},
                    },
                },
            },
            "facets": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"value": {"type": "string"}, "count": {"type": "integer"}},
                    },
                },
            },
        },
    },
    "Withdrawal": {
        "type": "object",
        "properties": {
            "reason": {
                "type": "string",
                "enum": ["in-person", "phone-or-message", "in-writing"],
                "description": "Needed when a facilitator acts on the contributor's request",
            }
        },
    },
    "CollectionSummary": {
        "type": "object",
        "required": ["slug", "title", "state", "circle", "url"],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "state": {"type": "string", "enum": list(STATES)},
            "circle": {"type": "string", "description": "The circle's slug"},
            "url": {"type": "string", "format": "uri"},
            "updated_at": {"type": "string"},
        },
    },
    "Collections": {
        "type": "object",
        "required": ["collections"],
        "properties": {"collections": {"type": "array", "items": _ref("CollectionSummary")}},
    },
    "Entry": {
        "type": "object",
        "required": ["id", "note", "item"],
        "properties": {
            "id": {"type": "integer"},
            "note": {"type": "string", "description": "The curator's note"},
            "item": {
                "type": "object",
                "required": ["id", "url", "title", "kind", "language"],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "language": {"type": "string"},
                    "byline": {
                        "type": ["string", "null"],
                        "description": "null when the contributor chose anonymity",
                    },
                },
            },
        },
    },
    "Collection": {
        "allOf": [
            _ref("CollectionSummary"),
            {
                "type": "object",
                "required": ["intro", "entries"],
                "properties": {
                    "read_url": {
                        "type": "string",
                        "format": "uri",
                        "description": "The collective document: intro, then every piece",
                    },
                    "intro": {
                        "type": "object",
                        "properties": {
                            "markdown": {"type": "string"},
                            "html": {"type": "string"},
                            "version": {
                                "type": "integer",
                                "description": "Every edit is kept as a new version; 0: none",
                            },
                        },
                    },
                    "entries": {
                        "type": "array",
                        "items": _ref("Entry"),
                        "description": "In order; only those you may see",
                    },
                    "pieces_left": {
                        "type": "integer",
                        "description": "Curators only: how many pieces left because "
                        "their authors changed their consent",
                    },
                },
            },
        ]
    },
    "NewCollection": {
        "type": "object",
        "required": ["slug", "title", "circle"],
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"},
            "title": {**SOME_TEXT, "maxLength": 200},
            "intro": {"type": "string", "maxLength": 20000, "description": "Markdown"},
            "circle": {"type": "string", "description": "Slug of a circle you facilitate"},
            "state": {"type": "string", "enum": list(STATES), "default": "draft"},
        },
    },
    "CollectionEdit": {
        "type": "object",
        "properties": {
            "title": {**SOME_TEXT, "maxLength": 200},
            "intro": {
                "type": "string",
                "maxLength": 20000,
                "description": "Markdown; a changed intro is saved as a new version",
            },
        },
    },
    "NewEntry": {
        "type": "object",
        "required": ["item"],
        "properties": {
            "item": {
                "type": "string",
                "minLength": 1,
                "description": "The item's id; its author must have agreed to collections",
            },
            "note": {"type": "string", "maxLength": 500},
        },
    },
    "Move": {
        "type": "object",
        "required": ["direction"],
        "properties": {"direction": {"type": "string", "enum": ["up", "down"]}},
    },
    "CollectionState": {
        "type": "object",
        "required": ["state"],
        "properties": {
            "state": {
                "type": "string",
                "enum": list(STATES),
                "description": "public needs every piece to be public",
            }
        },
    },
    "Diff": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "words_added": {"type": "integer"},
            "words_removed": {"type": "integer"},
            "lines": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def _multipart(description: str, schema: str, required: bool) -> dict:
    return {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                **({"required": ["item"]} if required else {}),
                "properties": {
                    "item": {"description": f"{description} ({schema} as JSON)", **_ref(schema)},
                    "image": {"type": "string", "format": "binary"},
                },
            },
            "encoding": {"item": {"contentType": "application/json"}},
        }
    }


def document() -> dict:
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Living Archive API",
            "version": "1",
            "description": "Items, revisions, consent and collections. The same access "
            "rule as the site: you see only what you may see on the "
            "pages.",
        },
        "servers": [{"url": url_for("api.openapi_json", _external=True).rsplit("/", 1)[0]}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "flask --app archive tokens create USERNAME",
                }
            },
        },
        "paths": {
            "/items": {
                "post": {
                    "summary": "Contribute an item with its consent",
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _ref("NewItem")},
                            **_multipart("Artwork: the item fields", "NewItem", required=True),
                        },
                    },
                    "responses": {
                        "201": {"description": "Created", **_json(_ref("Created"))},
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "409": CONFLICT,
                        "413": TOO_LARGE,
                        "422": INVALID,
                    },
                }
            },
            "/items/{id}": {
                "get": {
                    "summary": "Read an item you may see",
                    "parameters": [ITEM_ID],
                    "responses": {
                        "200": {"description": "The item", **_json(_ref("Item"))},
                        "401": ERROR,
                        "404": ERROR,
                        "410": ERROR,
                    },
                }
            },
            "/items/{id}/revisions": {
                "get": {
                    "summary": "The item's history",
                    "parameters": [ITEM_ID],
                    "responses": {
                        "200": {"description": "Newest first", **_json(_ref("Revisions"))},
                        "401": ERROR,
                        "404": ERROR,
                        "410": ERROR,
                    },
                },
                "post": {
                    "summary": "Save an edit as a new revision",
                    "security": secured,
                    "parameters": [ITEM_ID],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _ref("RevisionEdit")},
                            **_multipart("Replacing the artwork", "RevisionEdit", required=False),
                        },
                    },
                    "responses": {
                        "201": {"description": "Saved"},
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                        "410": ERROR,
                        "409": CONFLICT,
                        "413": TOO_LARGE,
                        "422": INVALID,
                    },
                },
            },
            "/items/{id}/consent": {
                "patch": {
                    "summary": "Change the consent (only the contributor widens)",
                    "security": secured,
                    "parameters": [ITEM_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ConsentChange")}},
                    },
                    "responses": {
                        "200": {"description": "Changed", **_json(_ref("ConsentChanged"))},
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                        "410": ERROR,
                        "409": CONFLICT,
                        "413": TOO_LARGE,
                        "422": INVALID,
                    },
                }
            },
            "/items/{id}/agree": {
                "post": {
                    "summary": "Agree to a piece a facilitator recorded for you",
                    "security": secured,
                    "parameters": [ITEM_ID],
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _ref("Agreement")}},
                    },
                    "responses": {
                        "200": {
                            "description": "Shared; the receipt is yours",
                            **_json(_ref("Agreed")),
                        },
                        "400": ERROR,
                        "401": ERROR,
                        "404": ERROR,
                        "409": CONFLICT,
                        "413": TOO_LARGE,
                        "410": ERROR,
                        "422": INVALID,
                    },
                }
            },
            "/items/{id}/decline": {
                "post": {
                    "summary": "Decline a piece a facilitator recorded for you: it is erased",
                    "security": secured,
                    "parameters": [ITEM_ID],
                    "responses": {
                        "200": {"description": "Erased"},
                        "401": ERROR,
                        "404": ERROR,
                        "409": {**ERROR, "description": "It is not waiting for you to agree"},
                        "410": ERROR,
                    },
                }
            },
            "/items/{id}/withdraw": {
                "post": {
                    "summary": "Withdraw: erase the item everywhere, for good",
                    "security": secured,
                    "parameters": [ITEM_ID],
                    "requestBody": {
                        "required": False,
                        "content": {"application/json": {"schema": _ref("Withdrawal")}},
                    },
                    "responses": {
                        "200": {"description": "Erased"},
                        "400": ERROR,
                        "401": ERROR,
                        "404": ERROR,
                        "409": CONFLICT,
                        "413": TOO_LARGE,
                        "410": ERROR,
                        "422": INVALID,
                    },
                }
            },
            "/search": {
                "get": {
                    "summary": "Search what you may see (Latin letters find Devanagari too)",
                    "parameters": SEARCH_PARAMETERS,
                    "responses": {
                        "200": {"description": "Results", **_json(_ref("SearchResults"))},
                        "401": ERROR,
                        "422": INVALID,
                    },
                }
            },
            "/items/{id}/diff": {
                "get": {
                    "summary": "Word-level differences between two revisions",
                    "parameters": [
                        ITEM_ID,
                        {
                            "name": "from",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                    "responses": {
                        "200": {"description": "The diff", **_json(_ref("Diff"))},
                        "400": ERROR,
                        "401": ERROR,
                        "404": ERROR,
                        "410": ERROR,
                    },
                }
            },
            **_collection_paths(secured),
            **_tag_paths(secured),
        },
    }


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


def _collection_paths(secured: list) -> dict:
    shown = {"description": "The collection as you may see it", **_json(_ref("Collection"))}
    refusals = {
        "400": ERROR,
        "401": ERROR,
        "403": ERROR,
        "404": ERROR,
        "409": CONFLICT,
        "413": TOO_LARGE,
        "422": INVALID,
    }
    return {
        "/collections": {
            "get": {
                "summary": "Collections you may open",
                "responses": {
                    "200": {"description": "Newest first", **_json(_ref("Collections"))},
                    "401": ERROR,
                },
            },
            "post": {
                "summary": "Make a collection (a facilitator of its circle)",
                "security": secured,
                "requestBody": _body("NewCollection"),
                "responses": {"201": {**shown, "description": "Created"}, **refusals},
            },
        },
        "/collections/{slug}": {
            "get": {
                "summary": "A collection and the entries you may see",
                "parameters": [SLUG],
                "responses": {"200": shown, "401": ERROR, "404": ERROR},
            },
            "patch": {
                "summary": "Change the title or the introduction",
                "security": secured,
                "parameters": [SLUG],
                "requestBody": _body("CollectionEdit"),
                "responses": {"200": shown, **refusals},
            },
        },
        "/collections/{slug}/entries": {
            "post": {
                "summary": "Add a piece (its author agreed to collections)",
                "security": secured,
                "parameters": [SLUG],
                "requestBody": _body("NewEntry"),
                "responses": {"201": {"description": "Added", **_json(_ref("Entry"))}, **refusals},
            }
        },
        "/collections/{slug}/entries/{entry_id}/move": {
            "post": {
                "summary": "Move an entry one place up or down",
                "security": secured,
                "parameters": [SLUG, ENTRY_ID],
                "requestBody": _body("Move"),
                "responses": {"200": shown, **refusals},
            }
        },
        "/collections/{slug}/entries/{entry_id}": {
            "delete": {
                "summary": "Take an entry out",
                "security": secured,
                "parameters": [SLUG, ENTRY_ID],
                "responses": {"200": shown, "401": ERROR, "403": ERROR, "404": ERROR},
            }
        },
        "/collections/{slug}/state": {
            "post": {
                "summary": "Draft, circle or public",
                "security": secured,
                "parameters": [SLUG],
                "requestBody": _body("CollectionState"),
                "responses": {"200": shown, **refusals},
            }
        },
    }


def _tag_paths(secured: list) -> dict:
    refusals = {"400": ERROR, "401": ERROR, "404": ERROR, "409": CONFLICT, "422": INVALID}
    concept = {"description": "The concept as you may see it", **_json(_ref("Concept"))}
    vocabulary = {"description": "The circle's tags", **_json(_ref("Vocabulary"))}
    return {
        "/circles/{slug}/tags": {
            "get": {
                "summary": "A circle's tags and concepts (its facilitators and admins)",
                "security": secured,
                "parameters": [SLUG],
                "responses": {"200": vocabulary, "401": ERROR, "404": ERROR},
            }
        },
        "/circles/{slug}/concepts": {
            "post": {
                "summary": "Join tags that mean the same into one concept",
                "security": secured,
                "parameters": [SLUG],
                "requestBody": _body("NewConcept"),
                "responses": {"201": {**concept, "description": "Joined"}, **refusals},
            }
        },
        "/circles/{slug}/concepts/{concept_id}/labels": {
            "post": {
                "summary": "Rename a concept",
                "security": secured,
                "parameters": [SLUG, CONCEPT_ID],
                "requestBody": _body("ConceptLabels"),
                "responses": {"200": concept, **refusals},
            }
        },
        "/circles/{slug}/concepts/{concept_id}/split": {
            "post": {
                "summary": "Split a concept: its tags are each their own again",
                "security": secured,
                "parameters": [SLUG, CONCEPT_ID],
                "responses": {"200": vocabulary, "401": ERROR, "404": ERROR},
            }
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
