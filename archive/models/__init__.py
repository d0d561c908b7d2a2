"""Typed models, one module per aggregate. Importing this package registers them all."""
from archive.models.accounts import ROLES, Account, ApiToken, PasswordReset
from archive.models.circles import (
                                    CIRCLE_EVENTS,
                                    CIRCLE_ROLES,
                                    EVENT_ACTOR_ROLES,
                                    Circle,
                                    CircleEvent,
                                    Invite,
                                    Membership,
)
from archive.models.collections import STATES, Collection, CollectionIntro, Entry, ShareLink
from archive.models.consent import (
                                    ATTRIBUTIONS,
                                    AUDIENCES,
                                    CONTENT_NOTES,
                                    METHODS,
                                    Consent,
                                    ConsentEvent,
)
from archive.models.items import KINDS, LANGUAGES, Contributor, Item, ItemTag, MediaAsset, Revision
from archive.models.sent import SentForm
from archive.models.site import SiteFlag
from archive.models.tasks import IndexTask, LedgerTask, PurgeTask

__all__ = [
    "Account", "ApiToken", "PasswordReset", "ROLES",
    "Circle", "Invite", "Membership", "CIRCLE_ROLES", "CircleEvent", "CIRCLE_EVENTS",
    "EVENT_ACTOR_ROLES",
    "SentForm", "SiteFlag",
    "KINDS", "LANGUAGES", "Contributor", "Item", "ItemTag", "MediaAsset", "Revision",
    "IndexTask", "LedgerTask", "PurgeTask",
    "STATES", "Collection", "CollectionIntro", "Entry", "ShareLink",
    "ATTRIBUTIONS", "AUDIENCES", "CONTENT_NOTES", "METHODS", "Consent", "ConsentEvent",
]
