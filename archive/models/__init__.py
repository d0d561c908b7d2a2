"""Typed models, one module per aggregate. Importing this package registers them all."""

from archive.models.accounts import LOCALES, ROLES, Account, ApiToken, PasswordReset
from archive.models.circles import (
    CIRCLE_EVENTS,
    CIRCLE_ROLES,
    EVENT_ACTOR_ROLES,
    TAG_EVENTS,
    Circle,
    CircleEvent,
    Invite,
    Membership,
)
from archive.models.collections import STATES, Collection, CollectionIntro, Entry, ShareLink
from archive.models.consent import (
    ATTRIBUTIONS,
    AUDIENCES,
    CONSENT_ACTORS,
    CONSENT_EVENTS,
    CONTENT_NOTES,
    METHODS,
    Consent,
    ConsentEvent,
)
from archive.models.items import (
    ITEM_STATES,
    KINDS,
    LANGUAGES,
    Contributor,
    Item,
    MediaAsset,
    Revision,
    RevisionTag,
)
from archive.models.sent import SentForm
from archive.models.site import SiteFlag
from archive.models.tags import CONCEPT_LOCALES, ConceptTag, TagConcept
from archive.models.tasks import PURGE_KINDS, IndexTask, LedgerTask, PurgeTask

__all__ = [
    "Account",
    "ApiToken",
    "PasswordReset",
    "ROLES",
    "LOCALES",
    "Circle",
    "Invite",
    "Membership",
    "CIRCLE_ROLES",
    "CircleEvent",
    "CIRCLE_EVENTS",
    "EVENT_ACTOR_ROLES",
    "TAG_EVENTS",
    "SentForm",
    "SiteFlag",
    "ITEM_STATES",
    "KINDS",
    "LANGUAGES",
    "Contributor",
    "Item",
    "MediaAsset",
    "Revision",
    "RevisionTag",
    "CONCEPT_LOCALES",
    "ConceptTag",
    "TagConcept",
    "PURGE_KINDS",
    "IndexTask",
    "LedgerTask",
    "PurgeTask",
    "STATES",
    "Collection",
    "CollectionIntro",
    "Entry",
    "ShareLink",
    "ATTRIBUTIONS",
    "AUDIENCES",
    "CONSENT_ACTORS",
    "CONSENT_EVENTS",
    "CONTENT_NOTES",
    "METHODS",
    "Consent",
    "ConsentEvent",
]
